//! Shared harness for tests that run the real `nsview` binary against the real kernel.
//!
//! Everything a test creates (processes, named network namespaces, cgroups) is owned by a guard
//! whose `Drop` removes it, also when the test panics. The safety rules of
//! shared/docs/testing.md are enforced here rather than left to each test:
//! - cgroups are only ever created, written and removed under `/sys/fs/cgroup/<hier>/nsview-test-<pid>/`
//!   where `<pid>` is this test process;
//! - only processes this test started are signalled (by the process group we created, or, for
//!   stragglers left in one of our own cgroups, through a pidfd checked against that cgroup);
//! - named network namespaces are `nsview-test-<pid>-<name>`.
//!
//! Tests of one binary run as parallel threads of one process: every name a test passes in must
//! be unique among the tests of that binary (use the test's own name).
//!
//! The one harness of every test file (`mod common;`, then `use common::*;`):
//! - [`run`]: every command a test runs to completion (nsview and helpers) has a timeout;
//! - [`fixture`]: fake hosts (/proc and /sys/fs/cgroup trees) for `nsview --root DIR`;
//! - [`scenarios`]: the named fixture hosts the test files share (v1, v2, hybrid, Docker's
//!   cgroupfs and systemd drivers, Kubernetes, ...);
//! - [`fake_docker`]: a Docker Engine API on a fixture's socket;
//! - [`kernel`]: the kernel's truth from /proc and mountinfo;
//! - [`processes`], [`netns`], [`cgroups`]: guards for what a test creates on the real kernel;
//! - [`runtimes`]: containers from real runtimes (Docker, podman, runc, LXC);
//! - [`json`]: lookups in nsview's JSON; [`tmux`]: a terminal for the TUI;
//! - [`churn`]: a storm of short-lived processes at a set rate;
//! - here: skipping ([`skip`], a failure under CI=true), names and polling.

#![allow(dead_code)]

pub mod cgroups;
pub mod churn;
pub mod fake_docker;
pub mod fixture;
pub mod json;
pub mod kernel;
pub mod netns;
pub mod processes;
pub mod run;
pub mod runtimes;
pub mod scenarios;
pub mod tmux;

// Each test binary uses a part of the harness.
#[allow(unused_imports)]
pub use fixture::*;
#[allow(unused_imports)]
pub use run::*;
#[allow(unused_imports)]
pub use {cgroups::*, churn::*, json::*, kernel::*, netns::*, processes::*, tmux::*};

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

/// The namespace types of namespaces(7), in nsview's (and lsns's) order.
pub const NS_TYPES: [&str; 8] = ["mnt", "uts", "ipc", "pid", "net", "user", "cgroup", "time"];

/// Where the cgroup hierarchies are mounted on the machines these tests run on.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// How long any single wait for the kernel (a process to appear, a link to come up) may take.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Skipping
// ---------------------------------------------------------------------------------------------

/// True when running under CI, where a skipped test counts as a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// Report that `test` cannot run and why. Under CI (CI=true) this panics: a skip is a failure.
pub fn skip(test: &str, reason: &str) {
    if under_ci() {
        panic!("{test}: cannot run under CI: {reason}");
    }
    eprintln!("SKIPPED {test}: {reason}");
}

/// True when the tests may touch the real kernel: we are root and every tool in `tools` is on
/// PATH. Otherwise prints why the test is skipped and returns false (panics under CI).
pub fn require_root_and_tools(test: &str, tools: &[&str]) -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip(test, "needs root (creates namespaces and cgroups)");
        return false;
    }
    for tool in tools {
        if which(tool).is_none() {
            skip(test, &format!("needs `{tool}` on PATH"));
            return false;
        }
    }
    true
}

/// The full path of `tool` if it is an executable on PATH.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| {
            fs::metadata(p)
                .map(|m| m.is_file() && m.mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// This test process's PID: the `<pid>` in every name the harness creates.
pub fn test_pid() -> u32 {
    std::process::id()
}

/// `nsview-test-<pid>`: the parent cgroup of everything this process creates in a hierarchy.
pub fn cgroup_parent_name() -> String {
    format!("nsview-test-{}", test_pid())
}

/// `nsview-test-<pid>-<name>`: a name that is unique for this process and test.
pub fn unique_name(name: &str) -> String {
    format!("nsview-test-{}-{}", test_pid(), name)
}

// ---------------------------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------------------------

/// Call `f` until it returns `Some`, backing off from 2 ms to 50 ms; panic naming `what` after
/// `timeout`. Use instead of fixed sleeps.
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    match try_poll(timeout, &mut f) {
        Some(v) => v,
        None => panic!("timed out after {timeout:?} waiting for {what}"),
    }
}

/// Like [`poll`] but returns `None` on timeout.
pub fn try_poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
