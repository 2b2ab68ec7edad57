//! The helper's forked child: root and cwd, credentials, environment, the command; exec.

use super::creds::take_credentials;
use super::error::EnterError;
use super::inherit::{close_fds_above_2, set_disposition};
use super::open::Opened;
use super::plan::EnterSpec;
use super::pty::become_session_leader;
use super::report::{Reporter, warn};
use super::target_fs::{passwd_field, read_regular_at};
use crate::model::NsType;
use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{SigHandler, SigSet, Signal};
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// PATH for the command when the target's environment has none (or cannot be read).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the child execs.
struct Exec {
    path: CString,
    argv: Vec<CString>,
    env: Vec<CString>,
}

/// The forked child: finish entering, then exec the command; never returns. It is a fork of the
/// single-threaded helper, so it may allocate and use the standard library (a fork of the
/// multithreaded caller could not: see `spawn`, which only execs). It leads a session of its own,
/// with `terminal` (its own pty's slave, when the caller has a terminal) as controlling terminal.
pub(super) fn child_main(
    spec: &EnterSpec,
    opened: Opened,
    report: Reporter,
    terminal: Option<OwnedFd>,
) -> ! {
    let result = become_session_leader(spec, terminal).and_then(|()| prepare_child(spec, &opened));
    // Nothing below uses these fds; close_fds_above_2 closes them (no double close on drop).
    std::mem::forget(opened);
    let e = match result {
        Ok(exec) => {
            close_fds_above_2(report.fd);
            let err = nix::unistd::execve(&exec.path, &exec.argv, &exec.env)
                .err()
                .unwrap_or(Errno::UnknownErrno);
            exec_error(spec, &exec.path, err)
        }
        Err(e) => e,
    };
    report.send(&e);
    // SAFETY: _exit(2) ends the process at once, without running destructors or atexit handlers
    // that belong to the parent's state.
    unsafe { libc::_exit(e.exit_code()) }
}

fn exec_error(spec: &EnterSpec, path: &CString, e: Errno) -> EnterError {
    let command = spec.command.first().cloned().unwrap_or_default();
    match e {
        Errno::ENOENT => EnterError::CommandMissing {
            command: format!(
                "{command} (found at {}, but its interpreter or loader is missing)",
                path.to_string_lossy()
            ),
            suggest: missing_suggestion(spec),
        },
        Errno::EACCES | Errno::EPERM => EnterError::CommandNotExecutable {
            command,
            reason: "permission denied".into(),
        },
        Errno::ENOEXEC => EnterError::CommandNotExecutable {
            command,
            reason: "not an executable format".into(),
        },
        e => EnterError::CommandNotExecutable {
            command,
            reason: e.desc().to_string(),
        },
    }
}

/// For a missing command with the mount namespace joined: the other types, to suggest.
fn missing_suggestion(spec: &EnterSpec) -> Option<String> {
    let types = spec.types();
    types.contains(&NsType::Mnt).then(|| {
        types
            .iter()
            .filter(|t| **t != NsType::Mnt)
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Everything the child does before exec, in order: signals back to their defaults, root and
/// cwd, credentials, environment, the command's path; no_new_privs last.
fn prepare_child(spec: &EnterSpec, o: &Opened) -> Result<Exec, EnterError> {
    reset_signals();
    enter_root_and_cwd(spec, o)?;
    let last_steps = take_credentials(spec, o)?;
    let env = build_env(
        spec.env_from_target,
        spec.types().contains(&NsType::Mnt),
        o.environ.as_deref(),
        std::env::var("TERM").ok(),
        home_in_current_root(),
    );
    if !env.dropped.is_empty() {
        warn(&format!(
            "the mount namespace is not joined: left out of the target's environment, as they \
             would run its code on the host: {}",
            env.dropped.join(" ")
        ));
    }
    let command = spec
        .command
        .first()
        .ok_or_else(|| EnterError::Invalid("no command".into()))?;
    let path = find_command(spec, command, &env.path)?;
    let exec = Exec::new(spec, &path, &env.vars)?;
    // Last of the privilege changes, as runc does.
    last_steps.apply(spec)?;
    Ok(exec)
}

/// Dispositions the helper ignored (and the runtime's SIGPIPE) must not reach the command; nor
/// may a blocked signal.
fn reset_signals() {
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            set_disposition(sig, SigHandler::SigDfl);
        }
    }
    let _ = SigSet::empty().thread_set_mask();
}

/// HOME of the current uid from the passwd of the root the command runs in.
fn home_in_current_root() -> Option<String> {
    let uid = nix::unistd::getuid().as_raw();
    read_regular_at(rustix::fs::CWD, "/etc/passwd", false)
        .and_then(|p| passwd_field(&p, uid, 5).map(str::to_string))
        .filter(|h| h.starts_with('/'))
}

impl Exec {
    /// The command at `path` with the plan's arguments and environment `env`, as C strings.
    fn new(spec: &EnterSpec, path: &Path, env: &[Vec<u8>]) -> Result<Exec, EnterError> {
        let cstr = |s: &str| {
            CString::new(s).map_err(|_| EnterError::Invalid(format!("NUL byte in argument {s:?}")))
        };
        let argv = spec
            .command
            .iter()
            .map(|a| cstr(a))
            .collect::<Result<Vec<_>, _>>()?;
        let env = env
            .iter()
            .map(|e| CString::new(e.as_slice()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| spec.failed("NUL byte in the environment".into()))?;
        let path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| spec.failed("NUL byte in the command's path".into()))?;
        Ok(Exec { path, argv, env })
    }
}

/// Whether the cwd is reachable from the current root (the kernel's getcwd says "(unreachable)"
/// otherwise, which the C library turns into ENOENT).
fn cwd_inside_root() -> bool {
    nix::unistd::getcwd().is_ok_and(|p| p.is_absolute())
}

/// After joining the mount namespace: chroot to the process's root, chdir to its cwd (or --wd),
/// and refuse a cwd outside the new root.
fn enter_root_and_cwd(spec: &EnterSpec, o: &Opened) -> Result<(), EnterError> {
    let joins_mnt = spec.types().contains(&NsType::Mnt);
    if joins_mnt {
        if let Some(root) = &o.root {
            nix::unistd::fchdir(root)
                .map_err(|e| spec.failed(format!("fchdir to its root: {e}")))?;
            nix::unistd::chroot(".").map_err(|e| match e {
                Errno::EPERM => {
                    EnterError::PermissionDenied(format!("chroot to the root of {}", spec.target))
                }
                e => spec.failed(format!("chroot to its root: {e}")),
            })?;
        }
        // setns into a mount namespace already moved root and cwd to its root.
        nix::unistd::chdir("/").map_err(|e| spec.failed(format!("chdir /: {e}")))?;
    }
    if let Some(wd) = &spec.wd {
        nix::unistd::chdir(wd.as_path()).map_err(|e| {
            EnterError::Invalid(format!(
                "--wd {}: {}{}",
                wd.display(),
                e.desc(),
                if joins_mnt { " (in the target)" } else { "" }
            ))
        })?;
    } else if joins_mnt
        && let Some(cwd) = &o.cwd
        && (nix::unistd::fchdir(cwd).is_err() || !cwd_inside_root())
    {
        warn("the target's working directory is outside its root: starting in /");
        nix::unistd::chdir("/").map_err(|e| spec.failed(format!("chdir /: {e}")))?;
    }
    if !cwd_inside_root() {
        return Err(spec.failed(
            "the working directory is outside the root; refusing to run the command there".into(),
        ));
    }
    Ok(())
}

/// Variables of the target's environment that would make a host program run code the target
/// chose: the loader's, the shells' start-up files and options, the interpreters' search paths
/// and glibc's list of variables unsafe for setuid programs. Dropped when mnt is not joined.
const HOST_UNSAFE_VARS: &[&str] = &[
    "PATH",
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "IFS",
    "CDPATH",
    "GLOBIGNORE",
    "GCONV_PATH",
    "GETCONF_DIR",
    "HOSTALIASES",
    "LOCALDOMAIN",
    "LOCPATH",
    "MALLOC_TRACE",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "RUBYLIB",
    "RUBYOPT",
    "NODE_OPTIONS",
    "NODE_PATH",
    "GIT_EXEC_PATH",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "LESSOPEN",
    "LESSCLOSE",
];

/// Whether `name` is one of [`HOST_UNSAFE_VARS`], a loader variable (`LD_*`) or an exported
/// shell function (`BASH_FUNC_*`).
fn unsafe_on_host(name: &[u8]) -> bool {
    name.starts_with(b"LD_")
        || name.starts_with(b"BASH_FUNC_")
        || HOST_UNSAFE_VARS.iter().any(|v| v.as_bytes() == name)
}

/// The command's environment.
struct Environment {
    vars: Vec<Vec<u8>>,
    /// The PATH the command is looked up in.
    path: String,
    /// Names of the target's variables left out because they are unsafe on the host.
    dropped: Vec<String>,
}

/// The command's environment and the PATH it is looked up in. Minimal: TERM (the caller's
/// terminal), PATH, HOME (from the passwd of the root the command runs in, else the target's).
/// With `from_target`: the target's whole environment (plus the caller's TERM when it has none).
/// PATH is the target's when `in_target_root` (the mount namespace is joined), else always
/// [`DEFAULT_PATH`]; then the target's variables that would run its code on the host are dropped.
fn build_env(
    from_target: bool,
    in_target_root: bool,
    environ: Option<&[u8]>,
    term: Option<String>,
    home: Option<String>,
) -> Environment {
    let target: Vec<&[u8]> = environ
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty() && e.contains(&b'='))
        .collect();
    let name_of = |e: &[u8]| e.split(|b| *b == b'=').next().unwrap_or_default().to_vec();
    let get = |name: &str| {
        let prefix = format!("{name}=");
        target
            .iter()
            .find_map(|e| e.strip_prefix(prefix.as_bytes()))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let path = get("PATH")
        .filter(|p| !p.is_empty() && in_target_root)
        .unwrap_or_else(|| DEFAULT_PATH.to_string());
    let mut env = Environment {
        vars: Vec::new(),
        path,
        dropped: Vec::new(),
    };
    if from_target {
        for e in &target {
            let name = name_of(e);
            if !in_target_root && unsafe_on_host(&name) {
                env.dropped
                    .push(String::from_utf8_lossy(&name).into_owned());
            } else {
                env.vars.push(e.to_vec());
            }
        }
        if !in_target_root {
            env.vars.push(format!("PATH={}", env.path).into_bytes());
        }
        if get("TERM").is_none()
            && let Some(t) = term
        {
            env.vars.push(format!("TERM={t}").into_bytes());
        }
    } else {
        if let Some(t) = term {
            env.vars.push(format!("TERM={t}").into_bytes());
        }
        env.vars.push(format!("PATH={}", env.path).into_bytes());
        let home = home.or_else(|| get("HOME")).unwrap_or_else(|| "/".into());
        env.vars.push(format!("HOME={home}").into_bytes());
    }
    env
}

/// Look `command` up as execvp(3) would, in `path_var`, inside the current root and with the
/// current credentials.
fn find_command(spec: &EnterSpec, command: &str, path_var: &str) -> Result<PathBuf, EnterError> {
    let missing = || EnterError::CommandMissing {
        command: command.to_string(),
        suggest: missing_suggestion(spec),
    };
    let not_exec = |reason: &str| EnterError::CommandNotExecutable {
        command: command.to_string(),
        reason: reason.to_string(),
    };
    let executable = |p: &Path| nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).is_ok();
    if command.is_empty() {
        return Err(missing());
    }
    if command.contains('/') {
        let p = PathBuf::from(command);
        return match std::fs::metadata(&p) {
            Err(_) => Err(missing()),
            Ok(m) if m.is_dir() => Err(not_exec("it is a directory")),
            Ok(m) if m.file_type().is_fifo() => Err(not_exec("it is a FIFO")),
            Ok(_) if !executable(&p) => Err(not_exec("permission denied")),
            Ok(_) => Ok(p),
        };
    }
    let mut saw_noexec = false;
    for dir in path_var.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let p = Path::new(dir).join(command);
        if std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
            if executable(&p) {
                return Ok(p);
            }
            saw_noexec = true;
        }
    }
    Err(if saw_noexec {
        not_exec("permission denied")
    } else {
        missing()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(env: Environment) -> Vec<String> {
        env.vars
            .into_iter()
            .map(|e| String::from_utf8(e).expect("utf8"))
            .collect()
    }

    #[test]
    fn minimal_and_full_environments() {
        let environ = b"PATH=/opt/bin:/bin\0SECRET=1\0HOME=/home/app\0\0";
        let env = build_env(false, true, Some(environ), Some("xterm".into()), None);
        assert_eq!(env.path, "/opt/bin:/bin");
        assert_eq!(
            strings(env),
            ["TERM=xterm", "PATH=/opt/bin:/bin", "HOME=/home/app"]
        );
        let env = build_env(true, true, Some(environ), Some("xterm".into()), None);
        assert_eq!(env.vars.len(), 4);
        let env = build_env(false, true, None, None, Some("/root".into()));
        assert_eq!(env.path, DEFAULT_PATH);
        assert_eq!(env.vars.len(), 2);
    }

    #[test]
    fn without_mnt_the_targets_path_and_loader_variables_never_reach_the_host() {
        let environ = b"PATH=/evil\0LD_PRELOAD=/evil.so\0BASH_ENV=/x\0KEEP=1\0\
                        BASH_FUNC_ls%%=() { :; }\0";
        let env = build_env(false, false, Some(environ), None, None);
        assert_eq!(env.path, DEFAULT_PATH);
        assert!(env.dropped.is_empty());
        let env = build_env(true, false, Some(environ), None, None);
        assert_eq!(env.path, DEFAULT_PATH);
        assert_eq!(
            env.dropped,
            ["PATH", "LD_PRELOAD", "BASH_ENV", "BASH_FUNC_ls%%"]
        );
        assert_eq!(strings(env), ["KEEP=1", &format!("PATH={DEFAULT_PATH}")]);
    }
}
