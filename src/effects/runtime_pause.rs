//! `freeze` and `thaw` of a Docker or podman container through its runtime's Engine API
//! (POST /containers/{id}/pause and /unpause; podman answers the same calls on its
//! Docker-compatible socket, /run/podman/podman.sock when `podman system service` runs), so that
//! `docker ps` / `podman ps` and later `docker unpause` agree with the kernel's freezer. The
//! journal records the call (`{"id", "runtime", "old": {"Paused"}, "new": {"Paused"}}`) and undo
//! makes the opposite one ([`revert`]).

use super::cgroup::{CgroupError, RuntimePause};
use crate::model::containers::Runtime;
use crate::model::containers::cgroup_path::is_id;
use crate::sys::{Roots, http};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// Pausing makes the daemon call runc, which waits for every task to stop.
const PAUSE_TIMEOUT: Duration = Duration::from_secs(30);

/// A container paused and unpaused through its runtime's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineApi {
    /// Docker or podman.
    pub runtime: Runtime,
    /// The full container id (64 hex digits).
    pub id: String,
    /// The API socket.
    pub sock: PathBuf,
}

impl EngineApi {
    /// The runtime's API for container `id` of `runtime`, when it is one nsview pauses through.
    pub fn of(roots: &Roots, runtime: Runtime, id: &str) -> Option<EngineApi> {
        let sock = match runtime {
            Runtime::Docker => roots.docker_sock(),
            Runtime::Podman => roots.podman_sock(),
            _ => return None,
        };
        Some(EngineApi {
            runtime,
            id: id.to_string(),
            sock,
        })
    }

    fn short(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// `/containers/{id}/{what}`, for a container id only: an id is never a path.
    fn path(&self, what: &str) -> Result<String, CgroupError> {
        if !is_id(&self.id) {
            return Err(CgroupError::Unsupported {
                what: format!("{:?} is not a container id (64 hex digits)", self.id),
            });
        }
        Ok(format!("/containers/{}/{what}", self.id))
    }

    /// One call; the daemon unreachable and its refusals are one line each.
    fn call(&self, method: &str, what: &str) -> Result<(u16, Vec<u8>), CgroupError> {
        let (code, body) =
            http::request_unix(&self.sock, method, &self.path(what)?, None, PAUSE_TIMEOUT)
                .map_err(|e| self.unreachable(&e.to_string()))?;
        if code >= 300 {
            return Err(self.refused(code, &body));
        }
        Ok((code, body))
    }

    fn unreachable(&self, why: &str) -> CgroupError {
        let name = self.name();
        let start = match self.runtime {
            Runtime::Podman => " (is `podman system service` running?)",
            _ => "",
        };
        CgroupError::Unsupported {
            what: format!(
                "cannot reach {name}'s API at {}{start}: {why}; nothing changed (`nsview \
                 freeze|thaw --direct` writes the freezer file instead; {name} then disagrees \
                 with the kernel)",
                self.sock.display()
            ),
        }
    }

    fn refused(&self, code: u16, body: &[u8]) -> CgroupError {
        let message = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
        CgroupError::Unsupported {
            what: format!(
                "{} refused (HTTP {code}) for container {}: {}; nothing changed",
                self.name(),
                self.short(),
                crate::model::format::printable(&message)
            ),
        }
    }
}

impl RuntimePause for EngineApi {
    fn name(&self) -> &str {
        match self.runtime {
            Runtime::Podman => "podman",
            _ => "Docker",
        }
    }

    /// GET /containers/{id}/json's State.Paused.
    fn is_paused(&self) -> Result<bool, CgroupError> {
        let (_, body) = self.call("GET", "json")?;
        let v: Value = serde_json::from_slice(&body).map_err(|e| CgroupError::Unsupported {
            what: format!(
                "{}'s answer about {} is not JSON: {e}",
                self.name(),
                self.short()
            ),
        })?;
        Ok(v.pointer("/State/Paused")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    fn set_paused(&self, paused: bool) -> Result<(), CgroupError> {
        self.call("POST", if paused { "pause" } else { "unpause" })
            .map(drop)
    }

    fn via(&self) -> &'static str {
        match self.runtime {
            Runtime::Podman => "podman-api",
            _ => "docker-api",
        }
    }

    fn record(&self, paused: bool) -> Value {
        json!({
            "id": self.id,
            "runtime": self.runtime.name(),
            "old": {"Paused": !paused},
            "new": {"Paused": paused},
        })
    }

    fn boxed(&self) -> Box<dyn RuntimePause> {
        Box::new(self.clone())
    }
}

/// Undo of a pause or unpause journaled with `api` (see the module documentation): the opposite
/// call, through the runtime that made it. None when the record is not a pause's (a `set`'s
/// HostConfig update, reverted by [`super::docker::revert`]).
pub fn revert(api: &Value, roots: &Roots) -> Option<Result<(), CgroupError>> {
    let paused = api.pointer("/old/Paused")?.as_bool()?;
    let runtime = match api.get("runtime").and_then(Value::as_str) {
        Some("podman") => Runtime::Podman,
        _ => Runtime::Docker,
    };
    let id = api.get("id").and_then(Value::as_str).unwrap_or_default();
    let engine = EngineApi::of(roots, runtime, id)?;
    Some(engine.set_paused(paused))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_is_journaled_so_that_undo_unpauses() {
        let roots = Roots::default();
        let id = "ab".repeat(32);
        let podman = EngineApi::of(&roots, Runtime::Podman, &id).expect("podman pauses");
        let record = podman.record(true);
        assert_eq!(record["runtime"], "podman");
        assert_eq!(record["old"]["Paused"], false);
        assert_eq!(podman.via(), "podman-api");
        assert!(EngineApi::of(&roots, Runtime::Lxc, &id).is_none());
        // A set's record is not a pause's.
        let set = json!({"id": id, "old": {"Memory": 1}, "new": {"Memory": 2}});
        assert!(revert(&set, &roots).is_none());
        // An id that is not one is never put in a path.
        let bad = EngineApi::of(&roots, Runtime::Docker, "../x").expect("docker");
        assert!(bad.set_paused(true).is_err());
    }
}
