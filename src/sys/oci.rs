//! Files OCI runtimes keep about running containers: a bundle's config.json (its Kubernetes
//! annotations name the pod and the container: containerd's CRI plugin and CRI-O write them
//! there) and runc's state.json (which process is a runc container's init).

use super::error::{SysError, SysResult};
use crate::model::containers::{RuncRecord, Runtime};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Annotations longer than this (CRI-O stores whole JSON documents in some) are left out: they
/// are no names.
const MAX_ANNOTATION: usize = 256;

/// The `io.kubernetes.*` annotations of the OCI bundle config at `path`.
pub fn read_bundle_annotations(path: &Path) -> SysResult<BTreeMap<String, String>> {
    let text = std::fs::read(path).map_err(|e| SysError::io(path, e))?;
    parse_bundle_annotations(&text).map_err(|reason| SysError::parse(path, reason))
}

/// `{"annotations": {"io.kubernetes.cri.container-name": "nginx", ...}, ...}` (OCI runtime
/// spec, config.md "Annotations"): the short `io.kubernetes.*` ones.
pub fn parse_bundle_annotations(text: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let v: Value = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    if !v.is_object() {
        return Err("not an object".into());
    }
    Ok(super::docker::labels(v.get("annotations"))
        .into_iter()
        .filter(|(k, v)| k.starts_with("io.kubernetes.") && v.len() <= MAX_ANNOTATION)
        .collect())
}

/// The image a Kubernetes container was made from, as its runtime's annotations name it.
pub fn annotated_image(annotations: &BTreeMap<String, String>) -> Option<String> {
    [
        "io.kubernetes.cri.image-name",
        "io.kubernetes.cri-o.ImageName",
    ]
    .iter()
    .find_map(|k| annotations.get(*k).cloned())
}

/// Every runc container whose state.json is in a directory below `root` (runc's `--root`,
/// /run/runc by default): `<root>/<id>/state.json`. Unreadable entries are skipped.
pub fn read_runc_states(root: &Path, runtime: Runtime) -> SysResult<Vec<RuncRecord>> {
    let entries = std::fs::read_dir(root).map_err(|e| SysError::io(root, e))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Ok(text) = std::fs::read(entry.path().join("state.json")) else {
            continue;
        };
        if let Ok(r) = parse_runc_state(&text, runtime) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// runc's state.json (libcontainer's State): `{"id", "init_process_pid", "config": {"cgroups":
/// {"path": "/nsview-test-1/c1"}}}`; the cgroup only when absolute (a relative one is below
/// runc's own cgroup, which nsview does not know).
pub fn parse_runc_state(text: &[u8], runtime: Runtime) -> Result<RuncRecord, String> {
    let v: Value = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    let id = v.get("id").and_then(Value::as_str).ok_or("no id")?;
    let pid = v
        .get("init_process_pid")
        .and_then(Value::as_i64)
        .and_then(|p| i32::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or("no init_process_pid")?;
    let cgroup = v
        .pointer("/config/cgroups/path")
        .and_then(Value::as_str)
        .filter(|p| p.starts_with('/'))
        .map(str::to_string);
    Ok(RuncRecord {
        runtime,
        id: id.to_string(),
        init_pid: pid,
        cgroup,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_annotations() {
        let blob = format!("{{\\\"x\\\":\\\"{}\\\"}}", "a".repeat(300));
        let text = format!(
            r#"{{"ociVersion":"1.0.2-dev","process":{{"args":["/pause"]}},"annotations":{{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"nginx","io.kubernetes.cri.image-name":"docker.io/library/nginx:1.25","io.kubernetes.cri.sandbox-name":"web-7d9f","io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri-o.Labels":"{blob}","org.opencontainers.image.ref.name":"x"}}}}"#
        );
        let a = parse_bundle_annotations(text.as_bytes()).unwrap();
        assert_eq!(a.len(), 5);
        assert_eq!(a["io.kubernetes.cri.container-name"], "nginx");
        assert_eq!(
            annotated_image(&a).as_deref(),
            Some("docker.io/library/nginx:1.25")
        );
        assert!(
            parse_bundle_annotations(br#"{"process":{}}"#)
                .unwrap()
                .is_empty()
        );
        assert!(parse_bundle_annotations(b"[]").is_err());
    }

    #[test]
    fn runc_state() {
        let text = br#"{"id":"c1","init_process_pid":4242,"init_process_start":123456,"created":"2024-01-01T00:00:00Z","config":{"rootfs":"/tmp/b/rootfs","cgroups":{"path":"/nsview-test-9/c1","resources":{}}},"cgroup_paths":{"memory":"/sys/fs/cgroup/memory/nsview-test-9/c1"}}"#;
        let r = parse_runc_state(text, Runtime::Runc).unwrap();
        assert_eq!(r.id, "c1");
        assert_eq!(r.init_pid, 4242);
        assert_eq!(r.cgroup.as_deref(), Some("/nsview-test-9/c1"));
        let relative = br#"{"id":"c2","init_process_pid":7,"config":{"cgroups":{"path":"c2"}}}"#;
        assert_eq!(
            parse_runc_state(relative, Runtime::Runc).unwrap().cgroup,
            None
        );
        assert!(parse_runc_state(br#"{"id":"c3","init_process_pid":0}"#, Runtime::Runc).is_err());
        assert!(parse_runc_state(b"{}", Runtime::Runc).is_err());
    }
}
