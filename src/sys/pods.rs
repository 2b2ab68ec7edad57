//! Kubernetes pods as the kubelet's log directories show them: /var/log/pods/<namespace>_<pod
//! name>_<pod uid>/<container name>/. The kubelet makes one per pod on the node whatever the
//! container runtime, so they name the pods of cgroup paths (kubepods.../pod<uid>/...) without
//! asking the API server.

use super::error::{SysError, SysResult};
use crate::model::containers::PodRecord;
use std::path::Path;

/// Every pod below `dir` (/var/log/pods).
pub fn read_pod_log_dirs(dir: &Path) -> SysResult<Vec<PodRecord>> {
    let entries = std::fs::read_dir(dir).map_err(|e| SysError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Some((namespace, name, uid)) = entry.file_name().to_str().and_then(parse_pod_dir_name)
        else {
            continue;
        };
        // A pod removed meanwhile, or unreadable: known by name, without its containers.
        let mut containers: Vec<String> = std::fs::read_dir(entry.path())
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        containers.sort();
        out.push(PodRecord {
            namespace,
            name,
            uid,
            containers,
        });
    }
    Ok(out)
}

/// `<namespace>_<name>_<uid>`. Namespaces and pod names are DNS names (RFC 1123: no
/// underscore), so the two underscores are the separators.
pub fn parse_pod_dir_name(s: &str) -> Option<(String, String, String)> {
    let mut parts = s.split('_');
    let (ns, name, uid) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || ns.is_empty() || name.is_empty() || uid.is_empty() {
        return None;
    }
    Some((ns.to_string(), name.to_string(), uid.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_dir_names() {
        assert_eq!(
            parse_pod_dir_name(
                "kube-system_coredns-5d78c9869d-x2x7k_2f4b7d1e-8c3a-4e5f-9b6d-0a1c2e3f4a5b"
            ),
            Some((
                "kube-system".into(),
                "coredns-5d78c9869d-x2x7k".into(),
                "2f4b7d1e-8c3a-4e5f-9b6d-0a1c2e3f4a5b".into()
            ))
        );
        assert_eq!(parse_pod_dir_name("a_b"), None);
        assert_eq!(parse_pod_dir_name("a_b_c_d"), None);
        assert_eq!(parse_pod_dir_name("_b_c"), None);
    }

    #[test]
    fn log_directories() {
        let dir = tempfile::tempdir().unwrap();
        let pod = dir
            .path()
            .join("shop_web-7d9f_2f4b7d1e-8c3a-4e5f-9b6d-0a1c2e3f4a5b");
        std::fs::create_dir_all(pod.join("nginx")).unwrap();
        std::fs::create_dir_all(pod.join("sidecar")).unwrap();
        std::fs::write(pod.join("nginx/0.log"), "").unwrap();
        std::fs::create_dir_all(dir.path().join("not-a-pod")).unwrap();
        let pods = read_pod_log_dirs(dir.path()).unwrap();
        assert_eq!(pods.len(), 1);
        assert_eq!(pods[0].namespace, "shop");
        assert_eq!(pods[0].name, "web-7d9f");
        assert_eq!(pods[0].containers, vec!["nginx", "sidecar"]);
        assert!(read_pod_log_dirs(&dir.path().join("none")).is_err_and(|e| e.is_vanished()));
    }
}
