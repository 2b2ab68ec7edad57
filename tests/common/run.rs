//! Running commands to completion: the nsview binary and every helper (ip, unshare, nsenter,
//! mknod, tmux, the container runtimes' CLIs) go through [`try_run_with_timeout`], which kills a
//! command that outruns its timeout by its PID and reports the command with what it printed.
//!
//! stdout and stderr go to unnamed temporary files, not pipes: a command may hand its stdio to a
//! process that outlives it (`runc run -d` gives it to the container, podman's conmon and LXC's
//! monitor keep theirs), and a pipe would then never reach EOF. With files, the wait ends when the
//! command itself ends, and a killed command's output so far is still there to show.
//!
//! Long-lived processes a test starts on purpose (a `sleep` in new namespaces, a tmux server) are
//! not run to completion: [`super::ChildGuard`] and [`super::TmuxGuard`] own them and kill them
//! when the test ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::try_poll;

/// How long one `nsview` run (or one helper command) may take before the test fails; it should
/// take well under a second.
pub const NSVIEW_TIMEOUT: Duration = Duration::from_secs(60);

/// The result of one finished command.
#[derive(Debug)]
pub struct Run {
    /// The command as `Command`'s Debug prints it (program and arguments, quoted).
    pub cmdline: String,
    pub status: ExitStatus,
    /// The exit code, or None when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panic (showing the command and its stderr) unless it exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "`{}` failed with {}\nstdout:\n{}\nstderr:\n{}",
            self.cmdline,
            self.status,
            truncate(&self.stdout, 4000),
            self.stderr
        );
        self
    }

    /// stdout parsed as JSON; panics with the command and output when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` did not print JSON ({e})\nstdout:\n{}\nstderr:\n{}",
                self.cmdline,
                truncate(&self.stdout, 4000),
                self.stderr
            )
        })
    }

    /// The non-empty lines of stderr.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// The command, its exit code and its output, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "`{}` exited {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmdline,
            self.code,
            truncate(&self.stdout, 4000),
            truncate(&self.stderr, 4000)
        )
    }
}

/// `s` cut to at most `max` bytes (at a character boundary), saying how long it was.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &s[..end], s.len())
}

/// Everything written to `file` so far, as text.
fn read_back(file: &mut File) -> String {
    let mut buf = Vec::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Run `cmd` to completion (stdin closed, stdout and stderr collected) within `timeout`. A
/// command still running then is killed by its PID (SIGKILL) and reaped, and the error names it
/// with what it printed so far. Never panics: guards' `Drop` use it.
pub fn try_run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<Run, String> {
    let cmdline = format!("{cmd:?}");
    let (Ok(mut out), Ok(mut err)) = (tempfile::tempfile(), tempfile::tempfile()) else {
        return Err(format!("`{cmdline}`: cannot create temporary files"));
    };
    let (Ok(out_w), Ok(err_w)) = (out.try_clone(), err.try_clone()) else {
        return Err(format!("`{cmdline}`: cannot duplicate temporary files"));
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out_w)
        .stderr(err_w)
        .spawn()
        .map_err(|e| format!("cannot start `{cmdline}`: {e}"))?;
    let finished = try_poll(timeout, || child.try_wait().ok().flatten());
    let Some(status) = finished else {
        // Child::kill is kill(2) of the child's PID; it is ours and unreaped, so the PID is
        // still the child's.
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "`{cmdline}` did not finish within {timeout:?} and was killed\nstdout so far:\n{}\n\
             stderr so far:\n{}",
            truncate(&read_back(&mut out), 4000),
            truncate(&read_back(&mut err), 4000)
        ));
    };
    Ok(Run {
        cmdline,
        status,
        code: status.code(),
        stdout: read_back(&mut out),
        stderr: read_back(&mut err),
    })
}

/// Like [`try_run_with_timeout`], but a command that cannot start or outruns `timeout` fails the
/// test (naming the command and its output).
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Run {
    try_run_with_timeout(cmd, timeout).unwrap_or_else(|e| panic!("{e}"))
}

/// Run a helper program (ip, lsns, ...) and return its result, whatever the exit status.
pub fn run(program: &str, args: &[&str]) -> Run {
    run_with_timeout(Command::new(program).args(args), NSVIEW_TIMEOUT)
}

/// Run a helper program that must succeed; returns its stdout.
pub fn run_ok(program: &str, args: &[&str]) -> String {
    let r = run(program, args);
    r.assert_success();
    r.stdout
}

/// The nsview binary built by cargo for this test run.
pub fn nsview_bin() -> &'static str {
    env!("CARGO_BIN_EXE_nsview")
}

/// `nsview ARGS...` as user and group nobody (65534), without supplementary groups or
/// capabilities (setpriv(1)): what an unprivileged admin sees.
pub fn nsview_as_nobody(args: &[&str]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
    ])
    .arg(nsview_bin())
    .args(args);
    cmd
}

/// Run `nsview ARGS...`, whatever the exit status.
pub fn nsview(args: &[&str]) -> Run {
    run_with_timeout(Command::new(nsview_bin()).args(args), NSVIEW_TIMEOUT)
}

/// Run `nsview ARGS...`, require exit 0, and parse stdout as JSON (pass `--json` in `args`).
pub fn nsview_json(args: &[&str]) -> Value {
    let r = nsview(args);
    r.assert_success();
    r.json()
}

/// Call `f`, which starts `program` itself and waits for it (a library function such as
/// `effects::enter::run_with_binary`, whose child the harness cannot run), with a timeout. When
/// `f` has not returned after `timeout`, the processes running `program` that this test process
/// started during the call are killed by their PIDs, and the test fails naming `what`.
///
/// Tests of one binary share the process: a parallel test's own run of `program` started during
/// the call would be killed too, which only happens when this test is failing anyway.
pub fn call_with_timeout<T: Send + 'static>(
    what: &str,
    program: &str,
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let me = std::process::id() as i32;
    let before = super::children_of(me);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    if let Ok(value) = rx.recv_timeout(timeout) {
        return value;
    }
    let program = std::fs::canonicalize(program).unwrap_or_else(|_| program.into());
    let mut killed = Vec::new();
    for pid in super::children_of(me) {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"));
        if !before.contains(&pid) && exe.is_ok_and(|exe| exe == program) {
            // Our own child, started during the call and not reaped (the call is still waiting
            // for it), so the PID is still its.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            killed.push(pid);
        }
    }
    panic!(
        "{what} did not finish within {timeout:?}; killed its {} processes {killed:?}",
        program.display()
    );
}
