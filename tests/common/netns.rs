//! Named network namespaces a test creates ([`NetnsGuard`]), deleted when the test ends.

use std::fs;
use std::process::Command;

use serde_json::Value;

use super::{NSVIEW_TIMEOUT, run_ok, stat_inode, try_run_with_timeout, unique_name};

/// Serialises `ip netns add/del` across test processes (nextest runs each test in a process of
/// its own): concurrent first uses of /run/netns can race in iproute2 (both bind-mount /run/netns
/// onto itself). An flock, released when the file is closed.
const NETNS_LOCK: &str = "/run/nsview-test-netns.lock";

fn netns_lock() -> Option<fs::File> {
    let file = (fs::OpenOptions::new().append(true).create(true))
        .open(NETNS_LOCK)
        .ok()?;
    file.lock().ok()?;
    Some(file)
}

/// A named network namespace `nsview-test-<pid>-<name>` (`ip netns add`), deleted on drop.
pub struct NetnsGuard {
    pub name: String,
}

impl NetnsGuard {
    pub fn create(name: &str) -> NetnsGuard {
        let name = unique_name(name);
        let _lock = netns_lock();
        run_ok("ip", &["netns", "add", &name]);
        NetnsGuard { name }
    }

    /// /run/netns/NAME, the bind mount that holds the namespace.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// The namespace's inode (`stat -L -c %i /run/netns/NAME`).
    pub fn inode(&self) -> u64 {
        stat_inode(self.path())
    }

    /// Run `ip -n NAME ARGS...`, which must succeed; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run_ok("ip", &all)
    }

    /// `ip -n NAME -j -d addr show` parsed: one object per link, with linkinfo and addr_info.
    pub fn ip_links_json(&self) -> Vec<Value> {
        let out = self.ip(&["-j", "-d", "addr", "show"]);
        match serde_json::from_str(&out) {
            Ok(Value::Array(links)) => links,
            other => panic!("unexpected `ip -j addr` output {other:?}: {out}"),
        }
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let _lock = netns_lock();
        let r = try_run_with_timeout(
            Command::new("ip").args(["netns", "del", &self.name]),
            NSVIEW_TIMEOUT,
        );
        match r {
            Ok(r) if r.status.success() => {}
            Ok(r) => eprintln!(
                "warning: could not delete netns {}: {}",
                self.name,
                r.describe()
            ),
            Err(e) => eprintln!("warning: could not delete netns {}: {e}", self.name),
        }
    }
}
