//! What a local user or a container controls must not steer nsview running as root (issue 12,
//! items 7 and 8), tried as an attacker would on the real kernel:
//! - root's journal: HOME and XDG_STATE_HOME pointing at a user's directory (with a symlink there
//!   to a file of root's) are ignored, the journal lives in /var/lib/nsview (a tmpfs in a private
//!   mount namespace here, never the machine's own), a state directory someone else controls is
//!   refused, root without HOME works, and undo replays only what nsview itself writes;
//! - bounds: a 400 KB command line is cut to 64 KiB with a marker; a FIFO bind-mounted over an
//!   nsfs mount in a private mount namespace neither hangs the collector nor shows as a
//!   namespace.

mod common;

use common::fake_docker::FakeDocker;
use common::scenarios::writes_host::{WEB, v2_web_scope};
use common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

const NOBODY: u32 = 65534;

/// Every path below `dir` with its owner, mode, size and (for symlinks) target.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let link = std::fs::read_link(&p).ok();
            out.insert(
                p.display().to_string(),
                format!("{} {:o} {} {link:?}", m.uid(), m.mode(), m.len()),
            );
            if m.is_dir() {
                todo.push(p);
            }
        }
    }
    out
}

/// A directory a local user (nobody) owns, laid out as that user would to catch root's journal:
/// `nsview/journal.jsonl` and `.local/state/nsview/journal.jsonl` are symlinks to `victim`.
fn users_trap(victim: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("user dir");
    for sub in ["nsview", ".local/state/nsview"] {
        let d = dir.path().join(sub);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::os::unix::fs::symlink(victim, d.join("journal.jsonl")).expect("symlink");
    }
    for p in tree(dir.path())
        .keys()
        .map(String::from)
        .chain([dir.path().display().to_string()])
    {
        std::os::unix::fs::lchown(&p, Some(NOBODY), Some(NOBODY)).expect("chown");
    }
    dir
}

/// A file of root's that a journal entry must never land in.
fn victim() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("victim dir");
    let file = dir.path().join("shadow");
    std::fs::write(&file, "root's own file\n").expect("write");
    (dir, file)
}

/// `sh -c script` in a private mount namespace whose /var/lib is an empty tmpfs: nsview's state
/// directory there is created fresh and vanishes with the namespace (the machine's own
/// /var/lib/nsview is never touched). `$NSVIEW` is the binary.
fn in_private_var_lib(script: &str) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "sh",
        "-c",
        &format!(
            "mount --make-rprivate / && mount -t tmpfs -o mode=0755 nsview-test /var/lib && {script}"
        ),
    ])
    .env("NSVIEW", nsview_bin());
    cmd
}

#[test]
fn root_journal_ignores_a_users_home_and_state_home() {
    let test = "root_journal_ignores_a_users_home_and_state_home";
    if !require_root_and_tools(test, &["unshare", "mount", "stat"]) {
        return;
    }
    let cg = CgroupGuard::create("cpu", "home").expect("cgroup");
    let (_vdir, victim) = victim();
    let user = users_trap(&victim);
    let before = tree(user.path());
    let r = run_with_timeout(
        in_private_var_lib(
            "\"$NSVIEW\" set \"$CG\" cpu.shares=2048 >/dev/null && stat -c '%u %a' /var/lib/nsview \
             /var/lib/nsview/journal.jsonl && cat /var/lib/nsview/journal.jsonl",
        )
        .env("CG", &cg.rel)
        .env("HOME", user.path())
        .env("XDG_STATE_HOME", user.path()),
        NSVIEW_TIMEOUT,
    );
    r.assert_success();
    assert_eq!(cg.read("cpu.shares").expect("read").trim(), "2048");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines.get(..2),
        Some(&["0 700", "0 600"][..]),
        "{}",
        r.describe()
    );
    assert!(
        lines.get(2).is_some_and(|l| l.contains(&cg.rel)),
        "{}",
        r.describe()
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "root's own file\n"
    );
    assert_eq!(
        tree(user.path()),
        before,
        "nothing written in the user's dir"
    );
}

#[test]
fn root_without_home_keeps_a_journal() {
    let test = "root_without_home_keeps_a_journal";
    if !require_root_and_tools(test, &["unshare", "mount"]) {
        return;
    }
    let cg = CgroupGuard::create("cpu", "nohome").expect("cgroup");
    let r = run_with_timeout(
        in_private_var_lib(
            "\"$NSVIEW\" set \"$CG\" cpu.shares=512 && \"$NSVIEW\" journal --json && \"$NSVIEW\" undo",
        )
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("NSVIEW", nsview_bin())
        .env("CG", &cg.rel),
        NSVIEW_TIMEOUT,
    );
    r.assert_success();
    assert!(r.stdout.contains(&cg.rel), "{}", r.describe());
    // The undo found the entry: the value is back.
    assert_eq!(cg.read("cpu.shares").expect("read").trim(), "1024");
}

#[test]
fn a_state_directory_someone_else_controls_is_refused() {
    let test = "a_state_directory_someone_else_controls_is_refused";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    let cg = CgroupGuard::create("cpu", "untrusted").expect("cgroup");
    let (_vdir, victim) = victim();
    let set = |state: &Path| {
        run_with_timeout(
            Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(state)
                .args(["set", &cg.rel, "cpu.shares=2048"]),
            NSVIEW_TIMEOUT,
        )
    };
    let refused = |state: &Path, why: &str| {
        let r = set(state);
        assert_eq!(r.code, Some(1), "{why}: {}", r.describe());
        assert!(r.stderr.contains("journal"), "{why}: {}", r.describe());
        assert_eq!(cg.read("cpu.shares").expect("read").trim(), "1024", "{why}");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("read"),
            "root's own file\n",
            "{why}"
        );
    };
    // Owned by a user.
    let users = tempfile::tempdir().expect("dir");
    std::os::unix::fs::lchown(users.path(), Some(NOBODY), Some(NOBODY)).expect("chown");
    refused(users.path(), "a user's directory");
    // Root's, but writable by everybody.
    let shared = tempfile::tempdir().expect("dir");
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod");
    refused(shared.path(), "a world-writable directory");
    // Root's, with the journal a symlink to a file of root's.
    let linked = tempfile::tempdir().expect("dir");
    std::os::unix::fs::symlink(&victim, linked.path().join("journal.jsonl")).expect("symlink");
    refused(linked.path(), "a symlinked journal");
    // The state directory itself a symlink to a user's directory.
    let holder = tempfile::tempdir().expect("dir");
    std::os::unix::fs::symlink(users.path(), holder.path().join("state")).expect("symlink");
    refused(&holder.path().join("state"), "a symlinked state directory");
    // A directory of root's, writable by root only: accepted.
    let good = tempfile::tempdir().expect("dir");
    set(good.path()).assert_success();
    assert_eq!(cg.read("cpu.shares").expect("read").trim(), "2048");
}

/// A journal entry edited to make undo post to another Docker endpoint (`kill`) through its
/// container id: refused before anything is sent or written.
#[test]
fn undo_replays_only_what_nsview_writes() {
    let fx = v2_web_scope().build();
    let api = FakeDocker::serve(&fx.root().join("var/run/docker.sock"), "[]".into());
    let state = tempfile::tempdir().expect("state dir");
    let state_arg = state.path().to_str().expect("utf-8").to_string();
    let nsview = |args: &[&str]| {
        let mut all = vec!["--state-dir", &state_arg];
        all.extend_from_slice(args);
        fx.run(&all)
    };
    let weight = || {
        std::fs::read_to_string(
            fx.root()
                .join("sys/fs/cgroup/system.slice/web.scope/cpu.weight"),
        )
        .expect("read")
    };
    nsview(&["set", WEB, "cpu.weight=200"]).assert_success();
    assert_eq!(weight().trim(), "200");
    let journal = state.path().join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).expect("journal");
    let mut entry: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
    let forged_id = format!("{}/kill?signal=KILL&x=", "ab".repeat(32));
    entry["changes"][0]["via"] = "docker-api".into();
    entry["api"] = serde_json::json!({"id": forged_id, "old": {"CpuShares": 1024}, "new": {}});
    std::fs::write(&journal, format!("{entry}\n")).expect("write");
    let r = nsview(&["undo"]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(r.stderr.contains("refusing"), "{}", r.describe());
    let sent = api.requests.lock().expect("requests").clone();
    assert!(
        sent.iter()
            .all(|q| !q.contains("kill") && !q.contains("update")),
        "{sent:?}"
    );
    assert_eq!(weight().trim(), "200");
}

/// A process that makes its command line 400 KB long: nsview keeps at most 64 KiB of it and says
/// it was cut, in `ps --json` and in `show PID`.
#[test]
fn a_400_kb_command_line_is_cut_with_a_marker() {
    let test = "a_400_kb_command_line_is_cut_with_a_marker";
    if !require_root_and_tools(test, &["sh", "sleep"]) {
        return;
    }
    // `sh -c 'sleep 100000' sh ARGS...` waits for its sleep with all of ARGS in its cmdline.
    let args: Vec<String> = (0..40_000).map(|i| format!("arg{i:06}")).collect();
    let p = ChildGuard::spawn(
        Command::new("sh")
            .args(["-c", "sleep 100000", "sh"])
            .args(&args),
    );
    let pid = p.pid();
    let whole = poll("the long command line", POLL_TIMEOUT, || {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .ok()
            .filter(|b| b.len() > 400_000)
    });
    assert!(whole.len() > 400_000);
    const MARKER: &str = "[... cut by nsview: longer than 64 KiB or 4096 arguments]";
    let ps = nsview_json(&["ps", "--json"]);
    let row = ps["processes"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["pid"] == pid))
        .unwrap_or_else(|| panic!("pid {pid} in ps --json"));
    let cmdline = row["cmdline"].as_str().expect("cmdline");
    assert!(cmdline.ends_with(MARKER), "{}", truncate(cmdline, 200));
    assert!(cmdline.starts_with("sh -c sleep 100000 sh arg000000 "));
    assert!(
        cmdline.len() <= (64 << 10) + MARKER.len() + 1,
        "{}",
        cmdline.len()
    );
    let show = nsview(&["show", &pid.to_string()]);
    show.assert_success();
    assert!(
        show.stdout.contains(MARKER),
        "{}",
        truncate(&show.stdout, 400)
    );
    assert!(
        !show.stdout.contains("arg039999"),
        "the end of the command line is not shown"
    );
    assert!(show.stdout.len() < 2 * (64 << 10), "{}", show.stdout.len());
}

/// The inode of the namespace an nsfs mount at `mount_point` holds, from `pid`'s mountinfo.
fn nsfs_mount_ino(pid: i32, mount_point: &str) -> Option<(u64, usize)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).ok()?;
    let at: Vec<&str> = text
        .lines()
        .filter(|l| l.split(' ').nth(4) == Some(mount_point))
        .collect();
    let ino = at.iter().find_map(|l| {
        let root = l.split(' ').nth(3)?;
        root.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
    })?;
    Some((ino, at.len()))
}

/// In a private mount namespace, a network namespace held by an nsfs bind mount, and a FIFO
/// bind-mounted over it: mountinfo still names the namespace at that path, but the path leads to
/// the FIFO. The collector must neither block opening it nor list it as that namespace.
#[test]
fn a_fifo_over_an_nsfs_mount_neither_hangs_nor_shows() {
    let test = "a_fifo_over_an_nsfs_mount_neither_hangs_nor_shows";
    if !require_root_and_tools(test, &["unshare", "mount", "mkfifo", "sleep"]) {
        return;
    }
    let script = "mount --make-rprivate / && mount -t tmpfs nsview-test /mnt && touch /mnt/netns \
                  && unshare --net=/mnt/netns true && mkfifo /mnt/fifo \
                  && mount --bind /mnt/fifo /mnt/netns && exec sleep 100000";
    let p = ChildGuard::spawn(Command::new("unshare").args(["--mount", "sh", "-c", script]));
    let pid = p.pid();
    let (ino, _) = poll("the FIFO over the nsfs mount", POLL_TIMEOUT, || {
        nsfs_mount_ino(pid, "/mnt/netns").filter(|(_, mounts)| *mounts == 2)
    });
    assert!(!p.exited(), "the setup failed");
    // Without the FIFO, the namespace would be listed by its bind mount (no process is in it).
    let r = nsview(&["list", "--json"]);
    r.assert_success();
    assert!(
        !r.stdout.contains(&format!("{ino}")),
        "net:[{ino}] listed through a FIFO: {}",
        truncate(&r.stdout, 2000)
    );
    let r = nsview(&["list"]);
    r.assert_success();
    assert!(!r.stdout.contains("/mnt/netns"), "{}", r.stdout);
}
