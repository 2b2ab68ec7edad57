//! Why entering failed, and how the error travels from the helper back to the caller.

use crate::model::NsType;
use nix::libc;
use std::io;

/// Why entering failed. Each message is one line for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnterError {
    /// The target exited, or its PID now names another process.
    #[error("the target is gone: {0}")]
    TargetGone(String),
    /// The kernel has no namespaces of this type (no /proc/self/ns/TYPE).
    #[error("namespace type {0} is not supported by this kernel")]
    Unsupported(NsType),
    /// The kernel refused (not root, or a security module said no).
    #[error("permission denied: {0} (nsview enter needs root)")]
    PermissionDenied(String),
    /// The command does not exist where it would run. `suggest` is set when the target's mount
    /// namespace was joined: the other types, to suggest entering without mnt (images without a
    /// shell).
    #[error("{}", missing_message(.command, .suggest.as_deref()))]
    CommandMissing {
        command: String,
        suggest: Option<String>,
    },
    /// The command exists but cannot be executed.
    #[error("cannot run {command} in the target: {reason}")]
    CommandNotExecutable { command: String, reason: String },
    /// The request does not make sense for this target (e.g. `--user` on a namespace that no
    /// process is in).
    #[error("{0}")]
    Invalid(String),
    /// A cgroup the command would join is frozen: joining it would stop the helper (and the
    /// command) until it is thawed. `cgroup` names the group (`freezer:/docker/<id>`), `state`
    /// the file that says so, `thaw` what `nsview thaw` is to be given.
    #[error(
        "cannot enter {target}: its cgroup {cgroup} is frozen ({state}) and the command would \
         stop with it; thaw it first: nsview thaw {thaw}"
    )]
    Frozen {
        target: String,
        cgroup: String,
        state: String,
        thaw: String,
    },
    /// The caller was interrupted (Ctrl-C, SIGTERM) before the command started and the helper
    /// did not end when told to.
    #[error("{0}")]
    Interrupted(String),
    /// Anything else, with the step that failed.
    #[error("cannot enter {target}: {reason}")]
    Failed { target: String, reason: String },
}

fn missing_message(command: &str, suggest: Option<&str>) -> String {
    match suggest {
        None => format!("command not found: {command}"),
        Some("") => format!(
            "command not found in the target: {command} (an image without a shell can be entered \
             without its mount namespace: --ns with other types, e.g. --ns net,pid,uts,ipc, runs \
             the host's command inside them)"
        ),
        Some(types) => format!(
            "command not found in the target: {command} (an image without a shell can be entered \
             without its mount namespace: --ns {types} runs the host's command in the target's \
             other namespaces)"
        ),
    }
}

impl EnterError {
    /// The exit status the CLI uses: 127 for a missing command, 126 for one that cannot be
    /// executed (as shells do), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            EnterError::CommandMissing { .. } => 127,
            EnterError::CommandNotExecutable { .. } => 126,
            _ => 1,
        }
    }

    /// One line for the pipe from the helper: a kind, then tab-separated fields.
    pub(super) fn encode(&self) -> String {
        let f = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        match self {
            EnterError::TargetGone(m) => format!("gone\t{}", f(m)),
            EnterError::Unsupported(t) => format!("unsupported\t{t}"),
            EnterError::PermissionDenied(m) => format!("permission\t{}", f(m)),
            EnterError::CommandMissing { command, suggest } => match suggest {
                Some(s) => format!("missing\t{}\t{}", f(command), f(s)),
                None => format!("missing\t{}", f(command)),
            },
            EnterError::CommandNotExecutable { command, reason } => {
                format!("noexec\t{}\t{}", f(command), f(reason))
            }
            EnterError::Invalid(m) => format!("invalid\t{}", f(m)),
            EnterError::Failed { target, reason } => {
                format!("failed\t{}\t{}", f(target), f(reason))
            }
            EnterError::Frozen {
                target,
                cgroup,
                state,
                thaw,
            } => format!(
                "frozen\t{}\t{}\t{}\t{}",
                f(target),
                f(cgroup),
                f(state),
                f(thaw)
            ),
            EnterError::Interrupted(m) => format!("interrupted\t{}", f(m)),
        }
    }

    /// The inverse of [`EnterError::encode`]; anything unrecognised becomes [`EnterError::Failed`].
    pub(super) fn decode(line: &str) -> EnterError {
        let mut parts = line.splitn(3, '\t');
        let kind = parts.next().unwrap_or_default();
        let a = parts.next().unwrap_or_default().to_string();
        let b = parts.next();
        match (kind, b) {
            ("gone", _) => EnterError::TargetGone(a),
            ("unsupported", _) => match NsType::parse(&a) {
                Some(t) => EnterError::Unsupported(t),
                None => EnterError::Invalid(format!("unknown namespace type {a}")),
            },
            ("permission", _) => EnterError::PermissionDenied(a),
            ("missing", suggest) => EnterError::CommandMissing {
                command: a,
                suggest: suggest.map(str::to_string),
            },
            ("noexec", Some(reason)) => EnterError::CommandNotExecutable {
                command: a,
                reason: reason.to_string(),
            },
            ("invalid", _) => EnterError::Invalid(a),
            ("failed", Some(reason)) => EnterError::Failed {
                target: a,
                reason: reason.to_string(),
            },
            ("frozen", Some(rest)) => {
                let mut f = rest.splitn(3, '\t').map(str::to_string);
                EnterError::Frozen {
                    target: a,
                    cgroup: f.next().unwrap_or_default(),
                    state: f.next().unwrap_or_default(),
                    thaw: f.next().unwrap_or_default(),
                }
            }
            ("interrupted", _) => EnterError::Interrupted(a),
            _ => EnterError::Failed {
                target: "the target".into(),
                reason: format!("the helper reported {line:?}"),
            },
        }
    }
}

pub(super) fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_survive_the_pipe_and_keep_their_exit_codes() {
        let all = [
            EnterError::TargetGone("process 12 exited".into()),
            EnterError::Unsupported(NsType::Time),
            EnterError::PermissionDenied("joining the net namespace of PID 1".into()),
            EnterError::CommandMissing {
                command: "bash".into(),
                suggest: Some("uts,ipc,pid,net".into()),
            },
            EnterError::CommandMissing {
                command: "nosuch".into(),
                suggest: None,
            },
            EnterError::CommandNotExecutable {
                command: "x".into(),
                reason: "permission denied".into(),
            },
            EnterError::Invalid("--wd /x: No such file".into()),
            EnterError::Failed {
                target: "PID 1".into(),
                reason: "fork: again".into(),
            },
            EnterError::Frozen {
                target: "container web-1 (PID 7146)".into(),
                cgroup: "freezer:/docker/4653".into(),
                state: "freezer.state FROZEN".into(),
                thaw: "web-1".into(),
            },
            EnterError::Interrupted("interrupted".into()),
        ];
        for e in all {
            assert_eq!(EnterError::decode(&e.encode()), e);
            assert!(!e.to_string().contains('\n'));
        }
        let missing = EnterError::CommandMissing {
            command: "bash".into(),
            suggest: Some("uts,pid".into()),
        };
        assert_eq!(missing.exit_code(), 127);
        assert!(missing.to_string().contains("--ns uts,pid"));
        assert_eq!(EnterError::TargetGone(String::new()).exit_code(), 1);
    }
}
