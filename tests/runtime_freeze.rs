//! `nsview freeze` / `thaw` of a real Docker or podman container (issue 14 item 3): through the
//! runtime's API (pause, unpause), so that `docker ps` and `docker unpause` agree with the
//! kernel; undo goes back the same way; `--direct` writes the freezer file, says in one line that
//! the runtime will disagree, and the views then show the disagreement
//! ("frozen (Docker says running)").

mod common;

use common::runtimes::{self, PodmanService, docker_run, podman_run};
use common::*;
use std::process::Command;
use tempfile::TempDir;

/// nsview with a journal of the test's own.
struct Nsview {
    state: TempDir,
}

impl Nsview {
    fn new() -> Nsview {
        Nsview {
            state: tempfile::tempdir().expect("state dir"),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        run_with_timeout(
            Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(self.state.path())
                .args(args),
            NSVIEW_TIMEOUT,
        )
    }

    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        r.assert_success();
        r
    }

    /// The container's entry in `nsview containers --json`.
    fn container_json(&self, name: &str) -> serde_json::Value {
        let v = self.ok(&["containers", "--json"]).json();
        array(&v, "containers")
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in nsview containers: {v:#}"))
    }
}

/// `docker inspect` / `podman inspect` of State.Paused.
fn runtime_paused(c: &runtimes::RuntimeContainer) -> bool {
    let mut args: Vec<&str> = match c.runtime {
        "podman" => runtimes::PODMAN_GLOBAL_ARGS.to_vec(),
        _ => Vec::new(),
    };
    args.extend(["inspect", "-f", "{{.State.Paused}}", &c.name]);
    match run_ok(c.runtime, &args).trim() {
        "true" => true,
        "false" => false,
        other => panic!("{} inspect printed {other:?}", c.runtime),
    }
}

/// The kernel's freezer.state of the container.
fn freezer(c: &runtimes::RuntimeContainer) -> String {
    let path = format!("{CGROUP_ROOT}/freezer{}/freezer.state", c.cgroup);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .trim()
        .to_string()
}

/// Leave the container unpaused whatever happened, so that its guard can remove it.
struct Unpause<'a>(&'a runtimes::RuntimeContainer);

impl Drop for Unpause<'_> {
    fn drop(&mut self) {
        let c = self.0;
        let mut args: Vec<&str> = match c.runtime {
            "podman" => runtimes::PODMAN_GLOBAL_ARGS.to_vec(),
            _ => Vec::new(),
        };
        args.extend(["unpause", &c.name]);
        let _ = run(c.runtime, &args);
        let path = format!("{CGROUP_ROOT}/freezer{}/freezer.state", c.cgroup);
        if std::fs::read_to_string(&path).is_ok_and(|s| s.trim() != "THAWED") {
            let _ = std::fs::write(&path, "THAWED");
        }
    }
}

#[test]
fn docker_pause_then_nsview_thaw_leaves_docker_saying_running() {
    let test = "docker_pause_then_nsview_thaw";
    let Some(guard) = docker_run(test, "thaw-api", &[], &[]) else {
        return;
    };
    let c = &guard.c;
    let _unpause = Unpause(c);
    let nsview = Nsview::new();

    // The story: docker pause, then nsview thaw. Docker must agree afterwards.
    run_ok("docker", &["pause", &c.name]);
    assert_eq!(freezer(c), "FROZEN");
    let r = nsview.ok(&["thaw", &c.name]);
    assert!(r.stdout.contains("Docker's API (unpause)"), "{}", r.stdout);
    assert_eq!(freezer(c), "THAWED");
    assert!(
        !runtime_paused(c),
        "Docker still says paused after nsview thaw"
    );
    // No `docker unpause` needed: Docker knows it is not paused.
    let unpause = run("docker", &["unpause", &c.name]);
    assert!(!unpause.status.success(), "{}", unpause.describe());

    // nsview freeze: Docker says paused too.
    let r = nsview.ok(&["freeze", &c.name]);
    assert!(r.stdout.contains("Docker's API (pause)"), "{}", r.stdout);
    assert_eq!(freezer(c), "FROZEN");
    assert!(
        runtime_paused(c),
        "Docker does not say paused after nsview freeze"
    );
    let entry = nsview.ok(&["journal", "--json"]).json()["entries"][1].clone();
    assert_eq!(entry["action"], "freeze", "{entry:#}");
    assert_eq!(entry["changes"][0]["via"], "docker-api", "{entry:#}");
    assert_eq!(nsview.container_json(&c.name)["state"], "paused");

    // Undo goes back through Docker: the freeze, then the thaw.
    nsview.ok(&["undo"]);
    assert_eq!(freezer(c), "THAWED");
    assert!(
        !runtime_paused(c),
        "undo of the freeze left Docker saying paused"
    );
    nsview.ok(&["undo"]);
    assert_eq!(freezer(c), "FROZEN");
    assert!(
        runtime_paused(c),
        "undo of the thaw did not pause through Docker"
    );
    run_ok("docker", &["unpause", &c.name]);
}

#[test]
fn direct_freeze_warns_and_the_views_show_docker_disagreeing() {
    let test = "direct_freeze_warns";
    let Some(guard) = docker_run(test, "freeze-direct", &[], &[]) else {
        return;
    };
    let c = &guard.c;
    let _unpause = Unpause(c);
    let nsview = Nsview::new();

    let r = nsview.ok(&["freeze", "--direct", &c.name]);
    let warnings: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("--direct"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", r.stdout);
    assert!(warnings[0].contains("Docker was not told"), "{}", r.stdout);
    assert_eq!(freezer(c), "FROZEN");
    assert!(!runtime_paused(c));

    // The disagreement, in every view.
    let line = nsview.ok(&["containers"]).stdout;
    let line = line
        .lines()
        .find(|l| l.starts_with(c.name.as_str()))
        .unwrap_or_else(|| panic!("{} not in nsview containers:\n{line}", c.name))
        .to_string();
    assert!(line.contains("frozen (Docker says running)"), "{line}");
    let show = nsview.ok(&["show", &c.name]).stdout;
    assert!(
        show.contains("state: frozen (Docker says running)"),
        "{show}"
    );
    let j = nsview.container_json(&c.name);
    assert_eq!(j["state"], "frozen", "{j:#}");
    assert_eq!(j["runtime_state"], "running", "{j:#}");

    // A thaw through Docker, which already says running: the kernel is brought in line.
    let r = nsview.ok(&["thaw", &c.name]);
    assert!(r.stdout.contains("already said running"), "{}", r.stdout);
    assert_eq!(freezer(c), "THAWED");
    let j = nsview.container_json(&c.name);
    assert_eq!(j["state"], "running", "{j:#}");
    assert!(j.get("runtime_state").is_none(), "{j:#}");

    // The other way round: Docker paused, thawed behind its back.
    run_ok("docker", &["pause", &c.name]);
    let r = nsview.ok(&["thaw", "--direct", &c.name]);
    assert!(r.stdout.contains("Docker was not told"), "{}", r.stdout);
    let show = nsview.ok(&["show", &c.name]).stdout;
    assert!(
        show.contains("state: running (Docker says paused)"),
        "{show}"
    );
}

#[test]
fn podman_freeze_goes_through_its_api_service_or_is_refused() {
    let test = "podman_freeze_through_its_api";
    let Some(guard) = podman_run(test, "freeze-api", &[], &[]) else {
        return;
    };
    let c = &guard.c;
    let _unpause = Unpause(c);
    let nsview = Nsview::new();

    // Without podman's service: one line saying so, nothing changed; --direct still works.
    if runtimes::podman_sock_answers() {
        eprintln!("{test}: a podman service is running already: the refusal is not tested");
    } else {
        let r = nsview.run(&["freeze", &c.name]);
        assert_eq!(r.code, Some(1), "{}", r.describe());
        assert_eq!(r.stderr_lines().len(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(runtimes::PODMAN_SOCK), "{}", r.stderr);
        assert_eq!(freezer(c), "THAWED");
        let r = nsview.ok(&["freeze", "--direct", &c.name]);
        assert!(r.stdout.contains("podman was not told"), "{}", r.stdout);
        assert_eq!(freezer(c), "FROZEN");
        nsview.ok(&["thaw", "--direct", &c.name]);
        assert_eq!(freezer(c), "THAWED");
    }

    // With it: podman pauses and unpauses, and says so; undo goes back through it.
    let Some(_service) = PodmanService::start(test) else {
        return;
    };
    let r = nsview.ok(&["freeze", &c.name]);
    assert!(r.stdout.contains("podman's API (pause)"), "{}", r.stdout);
    assert_eq!(freezer(c), "FROZEN");
    assert!(runtime_paused(c), "podman does not say paused");
    assert_eq!(nsview.container_json(&c.name)["state"], "paused");
    nsview.ok(&["undo"]);
    assert_eq!(freezer(c), "THAWED");
    assert!(!runtime_paused(c), "podman still says paused after undo");

    // Frozen behind podman's back: shown, and a thaw through podman brings the kernel in line.
    nsview.ok(&["freeze", "--direct", &c.name]);
    let j = nsview.container_json(&c.name);
    assert_eq!(j["runtime_state"], "running", "{j:#}");
    nsview.ok(&["thaw", &c.name]);
    assert_eq!(freezer(c), "THAWED");
}
