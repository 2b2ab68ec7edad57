//! `nsview enter` gives the command the target's credentials and nothing of the host's that the
//! target could abuse (issue 12, items 3 and 4), on the real kernel, as root.
//!
//! The targets are made here: `unshare --uts --net` processes with reduced capabilities, a uid of
//! their own, no_new_privs, and a seccomp filter installed before exec by the test (the filter
//! answers mkdir(2) and mkdirat(2) with EPERM and allows everything else, so it can be seen at
//! work in the entered command). What is checked: the entered command's /proc/self/status and
//! what it may do; a fake `id` in the target's PATH and a target's LD_PRELOAD never reaching the
//! host when its mount namespace is not joined. Safety rules: shared/docs/testing.md.

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::process::Command;

use common::*;
use nix::libc;

fn can_run(test: &str) -> bool {
    if !cfg!(target_arch = "x86_64") {
        skip(
            test,
            "the test's seccomp filter uses x86_64 system call numbers",
        );
        return false;
    }
    require_root_and_tools(test, &["unshare", "setpriv", "sleep", "cat", "mkdir"])
}

/// The test's filter: mkdir (83) and mkdirat (258) fail with EPERM, everything else is allowed.
fn mkdir_denying_filter() -> Vec<libc::sock_filter> {
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jeq = |k: u32, jt: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf: 0,
        k,
    };
    vec![
        // seccomp_data.nr
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
        jeq(83, 2),
        jeq(258, 1),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
    ]
}

/// A target: `unshare --uts --net` running `sh -c SCRIPT` (which ends in `exec ... sleep`) with
/// the test's seccomp filter and `env`; returns its guard and the PID of the sleeping process.
fn start_target(script: &str, env: &[(&str, &str)]) -> (ChildGuard, i32) {
    let filter = mkdir_denying_filter();
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--fork",
        "--kill-child",
        "--uts",
        "--net",
        "sh",
        "-c",
        script,
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: between fork and exec only syscall(2) is called, on memory prepared before fork
    // (the filter lives until the Command is dropped, after spawn).
    let (addr, len) = (filter.as_ptr() as usize, filter.len() as u16);
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len,
                filter: addr as *mut libc::sock_filter,
            };
            let r = libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            );
            if r != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let guard = ChildGuard::spawn(&mut cmd);
    drop(cmd);
    let inner = guard.single_child();
    poll(&format!("{inner} to sleep"), POLL_TIMEOUT, || {
        assert!(!guard.exited(), "the target exited early");
        (comm(inner).as_deref() == Some("sleep")).then_some(())
    });
    (guard, inner)
}

fn enter(args: &[&str]) -> Run {
    let mut all = vec!["enter"];
    all.extend_from_slice(args);
    nsview(&all)
}

fn enter_ok(args: &[&str]) -> String {
    let r = enter(args);
    r.assert_success();
    r.stdout
}

const CRED_FIELDS: [&str; 10] = [
    "Uid",
    "Gid",
    "Groups",
    "CapInh",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "CapAmb",
    "NoNewPrivs",
    "Seccomp",
];

/// The entered command's credential fields equal the target's, its filter is at work; with
/// `--privileged` it is root with every capability and no filter.
fn assert_like_target(pid: i32) {
    let p = pid.to_string();
    let target = fs::read_to_string(format!("/proc/{pid}/status")).expect("target status");
    assert_eq!(status_field(&target, "Seccomp"), "2");
    let cmd = enter_ok(&[&p, "--no-cgroup", "--", "cat", "/proc/self/status"]);
    for key in CRED_FIELDS.into_iter().chain(["Seccomp_filters"]) {
        assert_eq!(
            status_field(&cmd, key),
            status_field(&target, key),
            "{key} of the entered command"
        );
    }
    let dir = format!("/tmp/nsview-test-{}-{pid}", std::process::id());
    let r = enter(&[&p, "--no-cgroup", "--", "mkdir", &dir]);
    assert_ne!(r.code, Some(0), "mkdir passed the target's filter");
    assert!(r.stderr.contains("not permitted"), "{}", r.stderr);
    assert!(!std::path::Path::new(&dir).exists());

    let cmd = enter_ok(&[
        &p,
        "--no-cgroup",
        "--privileged",
        "--",
        "cat",
        "/proc/self/status",
    ]);
    let own = fs::read_to_string("/proc/self/status").expect("own status");
    assert_eq!(status_field(&cmd, "Uid"), "0\t0\t0\t0");
    assert_eq!(status_field(&cmd, "CapEff"), status_field(&own, "CapEff"));
    assert_eq!(status_field(&cmd, "CapBnd"), status_field(&own, "CapBnd"));
    assert_eq!(status_field(&cmd, "NoNewPrivs"), "0");
    assert_eq!(status_field(&cmd, "Seccomp"), "0");
    enter_ok(&[&p, "--no-cgroup", "--privileged", "--", "mkdir", &dir]);
    fs::remove_dir(&dir).expect("remove the test's directory");
}

#[test]
fn command_gets_the_targets_ids_capabilities_no_new_privs_and_seccomp() {
    if !can_run("command_gets_the_targets_ids_capabilities_no_new_privs_and_seccomp") {
        return;
    }
    // no_new_privs: the filter goes in last, right before exec.
    let (_g, pid) = start_target(
        "exec setpriv --reuid 1234 --regid 1234 --clear-groups --no-new-privs \
         --bounding-set -all,+chown,+kill --inh-caps -all sleep 100000",
        &[],
    );
    assert_like_target(pid);
    let status = enter_ok(&[
        &pid.to_string(),
        "--no-cgroup",
        "--",
        "cat",
        "/proc/self/status",
    ]);
    assert_eq!(status_field(&status, "Uid"), "1234\t1234\t1234\t1234");
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");

    // `--user`: that user, within the target's bounds and filter.
    let status = enter_ok(&[
        &pid.to_string(),
        "--no-cgroup",
        "--user",
        "65534:65534",
        "--",
        "cat",
        "/proc/self/status",
    ]);
    assert_eq!(status_field(&status, "Uid"), "65534\t65534\t65534\t65534");
    assert_eq!(status_field(&status, "Gid"), "65534\t65534\t65534\t65534");
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");
    assert_eq!(status_field(&status, "Seccomp"), "2");
}

#[test]
fn root_target_without_no_new_privs_keeps_its_reduced_bounding_set_and_filter() {
    if !can_run("root_target_without_no_new_privs_keeps_its_reduced_bounding_set_and_filter") {
        return;
    }
    // No no_new_privs: the filter goes in before the capabilities are dropped.
    let (_g, pid) = start_target(
        "exec setpriv --bounding-set -all,+chown,+setuid,+setgid --inh-caps -all sleep 100000",
        &[],
    );
    assert_like_target(pid);
    let status = enter_ok(&[
        &pid.to_string(),
        "--no-cgroup",
        "--user",
        "65534",
        "--",
        "cat",
        "/proc/self/status",
    ]);
    assert_eq!(status_field(&status, "Uid"), "65534\t65534\t65534\t65534");
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "CapBnd"), "00000000000000c1");
    assert_eq!(status_field(&status, "Seccomp"), "2");
}

#[test]
fn without_mnt_the_targets_path_and_loader_variables_never_run_on_the_host() {
    if !can_run("without_mnt_the_targets_path_and_loader_variables_never_run_on_the_host") {
        return;
    }
    // A fake `id` first in the target's PATH, which would leave a mark if it ever ran.
    let fake_id = FakeId::new();
    let path = fake_id.path();
    let (_g, pid) = start_target(
        "exec sleep 100000",
        &[
            ("PATH", &path),
            ("LD_PRELOAD", "/nonexistent/nsview-test-evil.so"),
            ("BASH_ENV", "/nonexistent/evil.sh"),
            ("NSVIEW_TEST_VAR", "kept"),
        ],
    );
    let p = pid.to_string();
    let out = enter_ok(&[&p, "--ns", "net", "--", "id", "-u"]);
    assert_eq!(out.trim(), "0");
    let out = enter_ok(&[&p, "--ns", "net", "--env-from-target", "--", "id", "-u"]);
    assert_eq!(out.trim(), "0");
    assert!(
        !fake_id.mark.exists(),
        "the target's fake id ran on the host"
    );

    let r = enter(&[&p, "--ns", "net", "--env-from-target", "--", "env"]);
    r.assert_success();
    let vars: Vec<&str> = r.stdout.lines().collect();
    assert!(vars.contains(&"NSVIEW_TEST_VAR=kept"), "{vars:?}");
    assert!(
        vars.contains(&"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "{vars:?}"
    );
    assert!(
        !vars.iter().any(|v| v.starts_with("LD_PRELOAD=")),
        "{vars:?}"
    );
    assert!(!vars.iter().any(|v| v.starts_with("BASH_ENV=")), "{vars:?}");
    assert!(
        r.stderr.contains("LD_PRELOAD") && r.stderr.contains("PATH"),
        "says what it left out: {}",
        r.stderr
    );
    // Without --env-from-target the minimal environment has the fixed PATH too.
    let env = enter_ok(&[&p, "--ns", "net", "--", "env"]);
    assert!(
        env.lines()
            .any(|l| l == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "{env}"
    );
}
