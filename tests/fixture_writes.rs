//! `nsview set` on a cgroup v2 tree, which this (hybrid) machine cannot show with controllers:
//! a fixture host laid out like a v2-only systemd machine, written to by the real binary with
//! `--root DIR`. The same validation and v1 <-> v2 mapping as on the kernel, checked in the files.

mod common;

use common::scenarios::writes_host::*;
use common::*;
use std::path::{Path, PathBuf};

struct Writes {
    fx: Fixture,
    state: tempfile::TempDir,
}

impl Writes {
    fn new() -> Writes {
        Writes {
            fx: v2_web_scope().build(),
            state: tempfile::tempdir().expect("state dir"),
        }
    }

    fn file(&self, name: &str) -> String {
        let p: PathBuf = self
            .fx
            .root()
            .join("sys/fs/cgroup")
            .join(WEB.trim_start_matches('/'))
            .join(name);
        std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
            .trim_end()
            .to_string()
    }

    fn nsview(&self, args: &[&str]) -> Run {
        let state = self.state.path().to_str().expect("utf-8 temp path");
        let mut all = vec!["--state-dir", state];
        all.extend_from_slice(args);
        self.fx.run_with(&all, |_| {})
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.nsview(args);
        let stdout = out.stdout;
        assert!(
            out.status.success(),
            "{args:?} failed\nstdout:\n{stdout}\nstderr:\n{}",
            out.stderr
        );
        stdout
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.nsview(args);
        let stderr = out.stderr;
        assert_eq!(out.code, Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        stderr
    }
}

#[test]
fn v2_files_take_v2_and_converted_v1_values() {
    let w = Writes::new();
    let out = w.ok(&[
        "set",
        WEB,
        "cpu.shares=2048",
        "memory.limit_in_bytes=128m",
        "cpu.cfs_quota_us=50000",
    ]);
    assert!(
        out.contains("converted cpu.shares 2048 to cpu.weight 174"),
        "{out}"
    );
    assert_eq!(w.file("cpu.weight"), "174");
    assert_eq!(w.file("memory.max"), "134217728");
    assert_eq!(w.file("cpu.max"), "50000 100000");

    w.ok(&[
        "set",
        WEB,
        "cpu.weight=50",
        "memory.high=100m",
        "cpu.max=1.5",
        "pids.max=100",
        "cpuset.cpus=1",
    ]);
    assert_eq!(w.file("cpu.weight"), "50");
    assert_eq!(w.file("memory.high"), "104857600");
    assert_eq!(w.file("cpu.max"), "150000 100000");
    assert_eq!(w.file("pids.max"), "100");
    assert_eq!(w.file("cpuset.cpus"), "1");

    // memory + swap (v1's meaning) becomes swap alone on v2.
    let out = w.ok(&["set", WEB, "memory.memsw.limit_in_bytes=192m"]);
    assert!(out.contains("swap alone"), "{out}");
    assert_eq!(w.file("memory.swap.max"), "67108864");
    w.ok(&[
        "set",
        WEB,
        "memory.swap.max=max",
        "memory.max=max",
        "cpu.max=max 200000",
    ]);
    assert_eq!(w.file("memory.swap.max"), "max");
    assert_eq!(w.file("memory.max"), "max");
    assert_eq!(w.file("cpu.max"), "max 200000");

    // Undo walks back one set at a time.
    w.ok(&["undo"]);
    assert_eq!(w.file("memory.max"), "134217728");
    assert_eq!(w.file("cpu.max"), "150000 100000");
}

#[test]
fn v2_refusals_write_nothing() {
    let w = Writes::new();
    let before: Vec<String> = ["cpu.weight", "cpu.max", "memory.max", "cpuset.cpus"]
        .iter()
        .map(|f| w.file(f))
        .collect();
    let line = w.fails(&["set", WEB, "cpuset.cpus=2-3"]);
    assert!(
        line.contains("2 is not in the parent's cpuset.cpus (0-1)"),
        "{line}"
    );
    let line = w.fails(&["set", WEB, "memory.soft_limit_in_bytes=1g"]);
    assert!(line.contains("cgroup v1 only"), "{line}");
    let line = w.fails(&["set", WEB, "cpu.weight=20000"]);
    assert!(line.contains("1..10000"), "{line}");
    let line = w.fails(&["set", WEB, "cpu.weight=200", "memory.max=lots"]);
    assert!(line.contains("memory.max"), "{line}");
    let after: Vec<String> = ["cpu.weight", "cpu.max", "memory.max", "cpuset.cpus"]
        .iter()
        .map(|f| w.file(f))
        .collect();
    assert_eq!(before, after);
    // Device rules on v2 are BPF programs: explained, nothing written.
    let line = w.fails(&["devices", WEB, "deny", "c 1:3 rwm"]);
    assert!(line.contains("eBPF"), "{line}");
    assert!(
        !Path::new(
            &w.fx
                .root()
                .join("sys/fs/cgroup/system.slice/web.scope/devices.deny")
        )
        .exists()
    );
}
