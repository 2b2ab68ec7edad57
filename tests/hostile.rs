//! nsview against names an attacker chose (issue 12, item 1): a process in a UTS namespace of
//! its own sets a hostname and a process name full of terminal escape sequences, a cgroup is
//! named with ESC and a C1 CSI; the admin's text output must show them escaped (`\x1b`) and
//! never carry a raw control character to the terminal, while `--json` gives the real value
//! back.
//!
//! Everything here is created by the test: the namespace (unshare), the process (ours, killed by
//! its guard), the cgroups under nsview-test-<pid>, the journal in a temporary XDG_STATE_HOME.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

/// A hostname that would retitle the window (OSC 0), ring the bell and clear the screen, with a
/// tab (which would break a table row) and a C1 CSI (U+009B) that some terminals obey.
const EVIL_HOSTNAME: &str = "evil\x1b]0;pwn\x07\x1b[2J\t\u{9b}x";
/// How it must appear in text output.
const EVIL_HOSTNAME_SHOWN: &str = r"evil\x1b]0;pwn\x07\x1b[2J\x09\xc2\x9bx";

/// A process name (at most 15 bytes) that clears the screen, with a C1 CSI.
const EVIL_COMM: &str = "x\x1b[2J\u{9b}y";
const EVIL_COMM_SHOWN: &str = r"x\x1b[2J\xc2\x9by";

/// A cgroup name that turns the terminal red, with a C1 CSI.
const EVIL_CGROUP: &str = "a\x1b[31mb\u{9b}c";
const EVIL_CGROUP_SHOWN: &str = r"a\x1b[31mb\xc2\x9bc";

/// Fail when `text` holds a character that acts on a terminal: C0 other than newline, DEL, C1.
fn assert_printable(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("{what} carries the raw control character {c:?}:\n{text:?}");
    }
}

/// `nsview ARGS` must succeed with printable stdout and stderr; returns stdout.
fn printable_output(args: &[&str]) -> String {
    let r = nsview(args);
    r.assert_success();
    assert_printable(&format!("stdout of nsview {args:?}"), &r.stdout);
    assert_printable(&format!("stderr of nsview {args:?}"), &r.stderr);
    r.stdout
}

/// `nsview ARGS --json`: the raw text has no raw control character (C0 by serde_json, DEL and
/// C1 by nsview's formatter), and parses.
fn json_output(args: &[&str]) -> Value {
    let r = nsview(args);
    r.assert_success();
    assert_printable(&format!("JSON of nsview {args:?}"), &r.stdout);
    r.json()
}

/// A process in a new UTS namespace with the evil hostname and comm; its command line holds the
/// raw escape sequences too (they are in the script). `unshare` without `--fork` execs the shell,
/// so that the shell is the namespace's first process (its isolation group is named after its
/// comm); `; :` keeps dash from exec'ing sleep, which would reset comm. Returns the guard (which
/// kills the process group) and the shell's PID.
fn evil_process() -> (ChildGuard, i32) {
    let script = format!(
        "printf '%s' '{EVIL_HOSTNAME}' > /proc/sys/kernel/hostname && \
         printf '%s' '{EVIL_COMM}' > /proc/self/comm && sleep 100000; :"
    );
    let guard = ChildGuard::spawn(Command::new("unshare").args(["--uts", "sh", "-c", &script]));
    let pid = guard.pid();
    poll("the shell to rename itself", POLL_TIMEOUT, || {
        assert!(!guard.exited(), "unshare --uts sh exited early");
        (comm(pid).as_deref() == Some(EVIL_COMM)).then_some(())
    });
    (guard, pid)
}

#[test]
fn escape_sequences_in_hostname_comm_and_command_line_are_shown_escaped() {
    let test = "escape_sequences_in_hostname_comm_and_command_line_are_shown_escaped";
    if !require_root_and_tools(test, &["unshare"]) {
        return;
    }
    let (_guard, inner) = evil_process();
    let pid = inner.to_string();
    let uts = ns_inode(inner, "uts").expect("uts inode");

    // list: the NAME column has the hostname, escaped, in one row.
    let list = printable_output(&["list", "--type", "uts"]);
    let row = list
        .lines()
        .find(|l| l.trim_start().starts_with(&uts.to_string()))
        .unwrap_or_else(|| panic!("no row for uts:[{uts}] in\n{list}"));
    assert!(
        row.contains(&format!("hostname={EVIL_HOSTNAME_SHOWN}")),
        "{row}"
    );
    let doc = json_output(&["list", "--type", "uts", "--json"]);
    let ns = get_ns(&doc, "uts", uts);
    assert_eq!(ns["hostname"], EVIL_HOSTNAME, "JSON keeps the real value");

    // ps: the command line (which holds the raw sequences) escaped; JSON gives it back.
    let ps = printable_output(&["ps"]);
    let row = ps
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{pid} ")))
        .unwrap_or_else(|| panic!("no row for {pid} in ps"));
    assert!(row.contains(EVIL_HOSTNAME_SHOWN), "{row}");
    assert!(row.contains(EVIL_COMM_SHOWN), "{row}");
    let doc = json_output(&["ps", "--json"]);
    let proc = get_process(&doc, inner);
    assert_eq!(proc["comm"], EVIL_COMM);
    let cmdline = proc["cmdline"].as_str().expect("cmdline");
    assert!(cmdline.contains(EVIL_HOSTNAME), "{cmdline:?}");

    // show: the process's comm in its heading, the namespace's hostname.
    let show = printable_output(&["show", &pid]);
    assert!(
        show.contains(&format!("process {pid} ({EVIL_COMM_SHOWN})")),
        "{show}"
    );
    let show_ns = printable_output(&["show", &format!("uts:[{uts}]")]);
    assert!(
        show_ns.contains(&format!("hostname: {EVIL_HOSTNAME_SHOWN}")),
        "{show_ns}"
    );
    let doc = json_output(&["show", &pid, "--json"]);
    assert_eq!(doc["comm"], EVIL_COMM, "{doc}");

    // containers: the process leads an isolation group named after its comm.
    let containers = printable_output(&["containers"]);
    assert!(
        containers.contains(&format!("{EVIL_COMM_SHOWN}[{pid}]")),
        "{containers}"
    );
    let doc = json_output(&["containers", "--json"]);
    let group = array(&doc, "containers")
        .iter()
        .find(|c| c["init_pid"] == inner)
        .unwrap_or_else(|| panic!("no group of {pid} in {doc}"));
    assert_eq!(group["name"], format!("{EVIL_COMM}[{pid}]"));
}

#[test]
fn errors_and_the_enter_helper_quote_hostile_names_escaped() {
    let test = "errors_and_the_enter_helper_quote_hostile_names_escaped";
    if !require_root_and_tools(test, &["unshare"]) {
        return;
    }
    // An unknown TARGET is quoted in the error line.
    let r = nsview(&["show", EVIL_CGROUP]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert_printable("the error line", &r.stderr);
    assert!(r.stderr.contains(EVIL_CGROUP_SHOWN), "{}", r.describe());

    // The enter helper's "command not found" names the command.
    let (_guard, inner) = evil_process();
    let pid = inner.to_string();
    let missing = format!("/nonexistent/{EVIL_COMM}");
    let r = nsview(&["enter", &pid, "--ns", "uts", "--", &missing]);
    assert_eq!(r.code, Some(127), "{}", r.describe());
    assert_printable("enter's error", &r.stderr);
    assert!(r.stderr.contains(EVIL_COMM_SHOWN), "{}", r.describe());
}

#[test]
fn a_hostile_cgroup_name_is_escaped_in_set_cgroups_and_the_journal() {
    let test = "a_hostile_cgroup_name_is_escaped_in_set_cgroups_and_the_journal";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    let parent = match CgroupGuard::create("pids", "hostile") {
        Ok(g) => g,
        Err(e) => return skip(test, &format!("no pids hierarchy: {e}")),
    };
    let evil = parent.create_child(EVIL_CGROUP).expect("create the cgroup");
    let target = evil.rel.clone();
    let shown = format!("{}/{EVIL_CGROUP_SHOWN}", parent.rel);
    let state = tempfile::tempdir().expect("state dir");
    let run = |args: &[&str]| {
        let r = run_with_timeout(
            Command::new(nsview_bin())
                .args(args)
                .env("XDG_STATE_HOME", state.path())
                .env("HOME", state.path()),
            NSVIEW_TIMEOUT,
        );
        r.assert_success();
        assert_printable(&format!("stdout of nsview {args:?}"), &r.stdout);
        assert_printable(&format!("stderr of nsview {args:?}"), &r.stderr);
        r.stdout
    };

    let set = run(&["set", &target, "pids.max=42"]);
    assert_eq!(evil.read("pids.max").expect("pids.max"), "42");
    assert!(set.contains(&shown), "{set}");

    let cgroups = run(&["cgroups"]);
    assert!(cgroups.contains(&shown), "{cgroups}");
    let tree = run(&["cgroups", "--tree"]);
    assert!(tree.contains(EVIL_CGROUP_SHOWN), "{tree}");
    let show = run(&["show", &target]);
    assert!(show.contains(&format!("cgroup {shown}")), "{show}");

    let journal = run(&["journal"]);
    assert!(journal.contains(&format!("set {shown}")), "{journal}");
    let doc: Value = serde_json::from_str(&run(&["journal", "--json"])).expect("journal JSON");
    let entry = array(&doc, "entries").last().expect("one entry").clone();
    assert_eq!(entry["target"], target, "JSON keeps the real path");
    let cgroup = &entry["changes"][0]["cgroup"];
    assert_eq!(cgroup, &Value::from(target.clone()), "{entry}");
    drop(evil);
}
