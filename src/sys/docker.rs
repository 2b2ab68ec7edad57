//! Docker's records of its containers: the Engine API's container list (GET /containers/json on
//! /var/run/docker.sock), or, when the daemon does not answer, each container's
//! /var/lib/docker/containers/<id>/config.v2.json; a container's init (State.Pid) from GET
//! /containers/<id>/json, which the list lacks, or config.v2.json. Names and that PID only: what
//! runs is read from the kernel.

use super::error::{SysError, SysResult};
use super::http;
use crate::model::containers::{Runtime, RuntimeRecord};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// How long the daemon may take per read or write (see [`http::get_unix`]).
pub const API_TIMEOUT: Duration = Duration::from_millis(300);

/// Every container the daemon knows (`all=1`: a container being created or restarting has
/// processes before Docker calls it running), by id.
pub fn read_containers_api(sock: &Path) -> SysResult<Vec<(String, RuntimeRecord)>> {
    let body = http::get_unix(sock, "/containers/json?all=1", API_TIMEOUT)?;
    parse_containers_json(&body).map_err(|reason| SysError::parse(sock, reason))
}

/// The Engine API's answer to GET /containers/json: `[{"Id", "Names": ["/web-1"], "Image",
/// "State", "Labels"}, ...]`.
pub fn parse_containers_json(body: &[u8]) -> Result<Vec<(String, RuntimeRecord)>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let list = v.as_array().ok_or("not a list")?;
    Ok(list
        .iter()
        .filter_map(|c| {
            let id = c.get("Id")?.as_str()?.to_string();
            let name = c
                .get("Names")
                .and_then(Value::as_array)
                .and_then(|names| names.first())
                .and_then(Value::as_str)
                .map(|n| n.trim_start_matches('/').to_string());
            Some((
                id,
                RuntimeRecord {
                    runtime: Runtime::Docker,
                    name,
                    image: string(c.get("Image")),
                    state: string(c.get("State")),
                    labels: labels(c.get("Labels")),
                    init_pid: None,
                },
            ))
        })
        .collect())
}

/// One container as the daemon knows it (GET /containers/<id>/json, what `docker inspect`
/// shows), with its init's PID. `id` is a full id (64 hex digits).
pub fn read_container_api(sock: &Path, id: &str) -> SysResult<RuntimeRecord> {
    if !crate::model::containers::cgroup_path::is_id(id) {
        return Err(SysError::parse(sock, format!("not a container id: {id:?}")));
    }
    let body = http::get_unix(sock, &format!("/containers/{id}/json"), API_TIMEOUT)?;
    parse_config_v2(&body).map_err(|reason| SysError::parse(sock, reason))
}

/// /var/lib/docker/containers/<id>/config.v2.json below `containers_dir`.
pub fn read_config_v2(containers_dir: &Path, id: &str) -> SysResult<RuntimeRecord> {
    let path = containers_dir.join(id).join("config.v2.json");
    let text = std::fs::read(&path).map_err(|e| SysError::io(&path, e))?;
    parse_config_v2(&text).map_err(|reason| SysError::parse(&path, reason))
}

/// Docker's own record of a container: `{"Name": "/web-1", "Config": {"Image", "Labels"},
/// "State": {"Running", "Paused", "Restarting", "Pid"}}`, as config.v2.json holds it and the
/// API's GET /containers/<id>/json answers it. The init's PID only while it runs.
pub fn parse_config_v2(text: &[u8]) -> Result<RuntimeRecord, String> {
    let v: Value = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    if !v.is_object() {
        return Err("not an object".into());
    }
    let config = v.get("Config");
    let st = v.get("State");
    let flag = |k: &str| {
        st.and_then(|s| s.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let state = st.map(|_| {
        if flag("Paused") {
            "paused"
        } else if flag("Restarting") {
            "restarting"
        } else if flag("Running") {
            "running"
        } else {
            "exited"
        }
        .to_string()
    });
    Ok(RuntimeRecord {
        runtime: Runtime::Docker,
        name: string(v.get("Name")).map(|n| n.trim_start_matches('/').to_string()),
        image: string(config.and_then(|c| c.get("Image"))),
        state,
        labels: labels(config.and_then(|c| c.get("Labels"))),
        init_pid: st
            .and_then(|s| s.get("Pid"))
            .and_then(Value::as_i64)
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| *p > 0 && (flag("Running") || flag("Paused") || flag("Restarting"))),
    })
}

fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A JSON object of strings (Docker labels), other values left out.
pub(crate) fn labels(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_api_list() {
        // As dockerd 20.10 answers (abridged).
        let body = br#"[{"Id":"4653218bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123456789abcdef","Names":["/web-1"],"Image":"nginx:1.25","ImageID":"sha256:0d4f","Command":"nginx -g 'daemon off;'","Created":1700000000,"Ports":[],"Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"web"},"State":"running","Status":"Up 2 hours","HostConfig":{"NetworkMode":"default"},"NetworkSettings":{"Networks":{}},"Mounts":[]},{"Id":"b1","Names":[],"Image":"","State":"exited","Labels":null}]"#;
        let list = parse_containers_json(body).unwrap();
        assert_eq!(list.len(), 2);
        let (id, r) = &list[0];
        assert!(id.starts_with("4653218bbd17"));
        assert_eq!(r.name.as_deref(), Some("web-1"));
        assert_eq!(r.image.as_deref(), Some("nginx:1.25"));
        assert_eq!(r.state.as_deref(), Some("running"));
        assert_eq!(r.labels["com.docker.compose.project"], "shop");
        assert_eq!(list[1].1.name, None);
        assert_eq!(list[1].1.image, None);
        assert!(list[1].1.labels.is_empty());
        assert!(parse_containers_json(b"{}").is_err());
        assert!(parse_containers_json(b"").is_err());
    }

    #[test]
    fn config_v2() {
        let text = br#"{"StreamConfig":{},"State":{"Running":true,"Paused":true,"Restarting":false,"OOMKilled":false,"Pid":7146,"ExitCode":0},"ID":"4653","Created":"2024-01-01T00:00:00Z","Path":"sleep","Args":["100000"],"Config":{"Hostname":"4653218bbd17","Image":"busybox-test","Labels":{"a":"b"}},"Image":"sha256:1234","Name":"/batch","Driver":"overlay2"}"#;
        let r = parse_config_v2(text).unwrap();
        assert_eq!(r.name.as_deref(), Some("batch"));
        assert_eq!(r.image.as_deref(), Some("busybox-test"));
        assert_eq!(r.state.as_deref(), Some("paused"));
        assert_eq!(r.labels["a"], "b");
        assert_eq!(r.init_pid, Some(7146));
        let r = parse_config_v2(br#"{"State":{"Running":false,"Pid":0}}"#).unwrap();
        assert_eq!(r.state.as_deref(), Some("exited"));
        assert_eq!(r.init_pid, None);
        // A stopped container's record may keep a PID: not its init any more.
        let r = parse_config_v2(br#"{"State":{"Running":false,"Pid":7}}"#).unwrap();
        assert_eq!(r.init_pid, None);
        assert_eq!(r.name, None);
        assert!(parse_config_v2(b"[]").is_err());
        assert!(parse_config_v2(b"{").is_err());
    }
}
