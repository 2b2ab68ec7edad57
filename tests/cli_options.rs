//! The conventions of the command line (issue 16, item 6): `-d` takes a duration as well as
//! seconds, and `--config`, `--read-only` and `--no-mouse` are accepted anywhere on the line,
//! also after a subcommand (`nsview set --config FILE ...`). Run by the real binary against a
//! fixture host (`--root`), whose cgroup files show whether a write happened.

mod common;

use common::scenarios::writes_host::*;
use common::*;
use std::path::PathBuf;

/// The v2 fixture host of fixture_writes.rs, a state directory and a config file.
struct Line {
    fx: Fixture,
    state: tempfile::TempDir,
}

impl Line {
    fn new() -> Line {
        Line {
            fx: v2_web_scope().build(),
            state: tempfile::tempdir().expect("state dir"),
        }
    }

    fn weight(&self) -> String {
        let p: PathBuf = (self.fx.root().join("sys/fs/cgroup"))
            .join(WEB.trim_start_matches('/'))
            .join("cpu.weight");
        std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
            .trim_end()
            .to_string()
    }

    fn config(&self, text: &str) -> String {
        let path = self.state.path().join("config.toml");
        std::fs::write(&path, text).expect("write config");
        path.display().to_string()
    }

    fn nsview(&self, args: &[&str]) -> Run {
        let state = self.state.path().to_str().expect("utf-8 temp path");
        let mut all = vec!["--state-dir", state];
        all.extend_from_slice(args);
        self.fx.run_with(&all, |_| {})
    }
}

#[test]
fn config_after_the_subcommand_is_read() {
    let l = Line::new();
    let before = l.weight();
    let read_only = l.config("read_only = true\n");
    let out = l.nsview(&["set", "--config", &read_only, WEB, "cpu.weight=50"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("read-only"), "{}", out.describe());
    assert_eq!(l.weight(), before, "a read-only config let set write");

    // The same file given last, and a writable one: set writes.
    let out = l.nsview(&["set", WEB, "cpu.weight=50", "--config", &read_only]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let writable = l.config("read_only = false\ninterval = \"500ms\"\n");
    l.nsview(&["set", "--config", &writable, WEB, "cpu.weight=50"])
        .assert_success();
    assert_eq!(l.weight(), "50");
}

#[test]
fn read_only_and_no_mouse_after_the_subcommand() {
    let l = Line::new();
    let before = l.weight();
    let out = l.nsview(&["set", WEB, "cpu.weight=60", "--read-only"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert_eq!(l.weight(), before);
    l.nsview(&["list", "--json", "--no-mouse"]).assert_success();
    l.nsview(&["containers", "--no-mouse", "--read-only"])
        .assert_success();
}

#[test]
fn delay_takes_durations_and_seconds() {
    let l = Line::new();
    for delay in ["500ms", "2s", "2", "0.5", "1m"] {
        l.nsview(&["-d", delay, "list", "--json"]).assert_success();
        l.nsview(&["--delay", delay, "list", "--json"])
            .assert_success();
    }
    for (delay, why) in [
        ("fast", "not a number of seconds or a duration"),
        ("100ms", "between 0.2 and 60 seconds"),
        ("61", "between 0.2 and 60 seconds"),
        ("2min", "between 0.2 and 60 seconds"),
    ] {
        let out = l.nsview(&["-d", delay, "list"]);
        assert_eq!(out.code, Some(2), "-d {delay}: {}", out.describe());
        assert!(out.stderr.contains(why), "-d {delay}: {}", out.describe());
    }
}
