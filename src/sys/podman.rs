//! podman's records of its containers: the containers/storage list of containers
//! (/var/lib/containers/storage/<driver>-containers/containers.json), which podman writes
//! whether or not its API service runs.

use super::error::{SysError, SysResult};
use crate::model::containers::{Runtime, RuntimeRecord};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Every container in one containers.json, by id.
pub fn read_containers_json(path: &Path) -> SysResult<Vec<(String, RuntimeRecord)>> {
    let text = std::fs::read(path).map_err(|e| SysError::io(path, e))?;
    parse_containers_json(&text).map_err(|reason| SysError::parse(path, reason))
}

/// A pid file (podman's userdata/pidfile): one positive PID in decimal, at most 32 bytes.
pub fn read_pidfile(path: &Path) -> SysResult<i32> {
    use std::io::Read;
    let mut text = Vec::with_capacity(32);
    std::fs::File::open(path)
        .and_then(|f| f.take(32).read_to_end(&mut text))
        .map_err(|e| SysError::io(path, e))?;
    parse_pidfile(&text).ok_or_else(|| SysError::parse(path, "not a PID"))
}

/// The PID in a pid file's text (surrounding white space allowed).
pub fn parse_pidfile(text: &[u8]) -> Option<i32> {
    std::str::from_utf8(text)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 0)
}

/// containers/storage's list: `[{"id", "names": ["web"], "image": "<image id>", "metadata":
/// "<JSON text: {\"image-name\": \"docker.io/library/nginx:1.25\", \"name\": \"web\"}>"}]`. The
/// image's name is in the metadata (podman's); without it, the image id is shown short, as
/// `podman ps` does for an image that lost its name.
pub fn parse_containers_json(text: &[u8]) -> Result<Vec<(String, RuntimeRecord)>, String> {
    let v: Value = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    let list = v.as_array().ok_or("not a list")?;
    Ok(list
        .iter()
        .filter_map(|c| {
            let id = c.get("id")?.as_str()?.to_string();
            let metadata: Option<Value> = c
                .get("metadata")
                .and_then(Value::as_str)
                .and_then(|m| serde_json::from_str(m).ok());
            let meta_str = |k: &str| {
                metadata
                    .as_ref()
                    .and_then(|m| m.get(k))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let name = c
                .get("names")
                .and_then(Value::as_array)
                .and_then(|n| n.first())
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| meta_str("name"));
            let image = meta_str("image-name").or_else(|| {
                c.get("image")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.get(..12).unwrap_or(s).to_string())
            });
            Some((
                id,
                RuntimeRecord {
                    runtime: Runtime::Podman,
                    name,
                    image,
                    state: None,
                    labels: BTreeMap::new(),
                    init_pid: None,
                },
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pidfile() {
        assert_eq!(parse_pidfile(b"27503"), Some(27503));
        assert_eq!(parse_pidfile(b"27503\n"), Some(27503));
        assert_eq!(parse_pidfile(b"0"), None);
        assert_eq!(parse_pidfile(b"-1"), None);
        assert_eq!(parse_pidfile(b"12 34"), None);
        assert_eq!(parse_pidfile(b"\xff"), None);
        assert_eq!(parse_pidfile(b""), None);
    }

    #[test]
    fn storage_containers_json() {
        // As podman 4.3 writes it (one line, abridged).
        let text = br#"[{"id":"57656b20fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5","names":["sleepy"],"image":"97662d24417b316f60607afbca9f226a2ba58f09d642f27b8e197a89859ddc8e","layer":"2115060f","metadata":"{\"image-name\":\"localhost/nsview-busybox:latest\",\"image-id\":\"97662d24\",\"name\":\"sleepy\",\"created-at\":1760200649}","created":"2025-10-11T16:37:29.214855063Z","flags":{"MountLabel":"","ProcessLabel":""}},{"id":"b2","names":[],"image":"97662d24417b316f60607afbca9f226a2ba58f09d642f27b8e197a89859ddc8e","metadata":"not json"}]"#;
        let list = parse_containers_json(text).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            list[0].0,
            "57656b20fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5"
        );
        assert_eq!(list[0].1.name.as_deref(), Some("sleepy"));
        assert_eq!(
            list[0].1.image.as_deref(),
            Some("localhost/nsview-busybox:latest")
        );
        assert_eq!(list[0].1.runtime, Runtime::Podman);
        assert_eq!(list[1].1.name, None);
        assert_eq!(list[1].1.image.as_deref(), Some("97662d24417b"));
        assert!(parse_containers_json(b"null").is_err());
        assert_eq!(parse_containers_json(b"[]").unwrap(), vec![]);
    }
}
