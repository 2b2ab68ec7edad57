//! The helper's command line: the plan written out by the caller and read back by the helper.

use super::error::EnterError;
use super::plan::{Credentials, EnterSpec, NsJoin, NsSource};
use crate::model::NsType;
use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The hidden subcommand that runs the helper.
pub const HELPER_SUBCOMMAND: &str = "__enter";

impl EnterSpec {
    /// The helper's command line (after the subcommand name).
    pub fn helper_args(&self, report_fd: Option<RawFd>) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec!["--target".into(), self.target.clone().into()];
        if let Some(pid) = self.pid {
            a.extend(["--pid".into(), pid.to_string().into()]);
        }
        if let Some(t) = self.start_time {
            a.extend(["--start-time".into(), t.to_string().into()]);
        }
        for n in &self.namespaces {
            match &n.source {
                NsSource::Process => {
                    a.extend(["--ns".into(), format!("{}:{}", n.ns_type, n.inode).into()]);
                }
                NsSource::BindMount(paths) => {
                    for p in paths {
                        let mut v = OsString::from(format!("{}:{}:", n.ns_type, n.inode));
                        v.push(p);
                        a.extend(["--ns-path".into(), v]);
                    }
                }
            }
        }
        if !self.join_cgroups {
            a.push("--no-cgroup".into());
        }
        if !self.thaw_as.is_empty() {
            a.extend(["--thaw-as".into(), self.thaw_as.clone().into()]);
        }
        if let Some(wd) = &self.wd {
            a.extend(["--wd".into(), wd.clone().into()]);
        }
        a.extend(["--creds".into(), creds_arg(&self.creds).into()]);
        if self.env_from_target {
            a.push("--env-from-target".into());
        }
        if let Some(fd) = report_fd {
            a.extend(["--report-fd".into(), fd.to_string().into()]);
        }
        a.push("--".into());
        a.extend(self.command.iter().map(OsString::from));
        a
    }
}

/// The helper's command line, written by [`EnterSpec::helper_args`]. Not for people.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct HelperArgs {
    /// What is entered, for messages.
    #[arg(long)]
    pub target: String,
    /// The process entered through.
    #[arg(long)]
    pub pid: Option<i32>,
    /// Its start time when the plan was made.
    #[arg(long)]
    pub start_time: Option<u64>,
    /// TYPE:INODE, joined through the process.
    #[arg(long = "ns", value_name = "TYPE:INODE")]
    pub ns: Vec<String>,
    /// TYPE:INODE:PATH, a bind mount holding a namespace (repeated for each candidate path).
    #[arg(long = "ns-path", value_name = "TYPE:INODE:PATH")]
    pub ns_path: Vec<OsString>,
    #[arg(long)]
    pub no_cgroup: bool,
    /// What `nsview thaw` takes for the target's cgroups, for the message when one is frozen.
    #[arg(long, value_name = "TARGET", default_value = "")]
    pub thaw_as: String,
    #[arg(long, value_name = "DIR")]
    pub wd: Option<PathBuf>,
    /// `target`, `privileged` or `user:UID[:GID]`.
    #[arg(long, value_name = "WHOSE")]
    pub creds: String,
    #[arg(long)]
    pub env_from_target: bool,
    /// Write a one-line error here instead of printing it (close-on-exec for the command).
    #[arg(long, value_name = "FD")]
    pub report_fd: Option<RawFd>,
    /// A socket to send the master of the command's own pty over (the caller's stdin is a
    /// terminal); written by the caller before the other arguments.
    #[arg(long, value_name = "FD")]
    pub pty_socket: Option<RawFd>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

impl HelperArgs {
    /// Back to the plan ([`EnterSpec::helper_args`] in reverse).
    pub fn into_spec(self) -> Result<EnterSpec, EnterError> {
        let mut namespaces: Vec<NsJoin> = Vec::new();
        for s in &self.ns {
            let (t, inode) = type_and_inode(s).ok_or_else(|| bad_arg(s))?;
            namespaces.push(NsJoin {
                ns_type: t,
                inode,
                source: NsSource::Process,
            });
        }
        for v in &self.ns_path {
            add_bind_mount_path(&mut namespaces, v)?;
        }
        namespaces.sort_by_key(|n| n.ns_type);
        if self.command.is_empty() {
            return Err(bad_arg("(no command)"));
        }
        Ok(EnterSpec {
            target: self.target,
            pid: self.pid,
            start_time: self.start_time,
            namespaces,
            join_cgroups: !self.no_cgroup,
            thaw_as: self.thaw_as,
            wd: self.wd,
            creds: parse_creds(&self.creds).ok_or_else(|| bad_arg(&self.creds))?,
            env_from_target: self.env_from_target,
            command: self.command,
        })
    }
}

fn creds_arg(c: &Credentials) -> String {
    match c {
        Credentials::Target => "target".into(),
        Credentials::Privileged => "privileged".into(),
        Credentials::User { uid, gid: None } => format!("user:{uid}"),
        Credentials::User { uid, gid: Some(g) } => format!("user:{uid}:{g}"),
    }
}

fn parse_creds(s: &str) -> Option<Credentials> {
    match s {
        "target" => Some(Credentials::Target),
        "privileged" => Some(Credentials::Privileged),
        _ => Credentials::parse_user(s.strip_prefix("user:")?),
    }
}

fn bad_arg(what: &str) -> EnterError {
    EnterError::Invalid(format!("bad helper argument {what}"))
}

/// `TYPE:INODE`.
fn type_and_inode(s: &str) -> Option<(NsType, u64)> {
    let (t, ino) = s.split_once(':')?;
    Some((NsType::parse(t)?, ino.parse().ok()?))
}

/// One `--ns-path TYPE:INODE:PATH`: a further candidate path of a namespace already listed, or a
/// new namespace held by a bind mount. The path may be any bytes.
fn add_bind_mount_path(namespaces: &mut Vec<NsJoin>, arg: &OsStr) -> Result<(), EnterError> {
    let bytes = arg.as_bytes();
    let text = String::from_utf8_lossy(bytes);
    let mut it = bytes.splitn(3, |b| *b == b':');
    let (Some(t), Some(ino), Some(path)) = (it.next(), it.next(), it.next()) else {
        return Err(bad_arg(&text));
    };
    let key = format!(
        "{}:{}",
        String::from_utf8_lossy(t),
        String::from_utf8_lossy(ino)
    );
    let (t, inode) = type_and_inode(&key).ok_or_else(|| bad_arg(&text))?;
    let path = PathBuf::from(OsStr::from_bytes(path));
    match namespaces
        .iter_mut()
        .find(|n| n.ns_type == t && n.inode == inode)
    {
        Some(NsJoin {
            source: NsSource::BindMount(paths),
            ..
        }) => paths.push(path),
        Some(_) => return Err(bad_arg(&text)),
        None => namespaces.push(NsJoin {
            ns_type: t,
            inode,
            source: NsSource::BindMount(vec![path]),
        }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: HelperArgs,
    }

    fn spec() -> EnterSpec {
        EnterSpec {
            target: "PID 7146".into(),
            pid: Some(7146),
            start_time: Some(123456),
            namespaces: vec![
                NsJoin {
                    ns_type: NsType::Mnt,
                    inode: 4026532385,
                    source: NsSource::Process,
                },
                NsJoin {
                    ns_type: NsType::Net,
                    inode: 4026532390,
                    source: NsSource::BindMount(vec![
                        "/run/netns/a:b".into(),
                        "/proc/1/root/run/netns/a:b".into(),
                    ]),
                },
            ],
            join_cgroups: false,
            thaw_as: "web-1".into(),
            wd: Some("/srv".into()),
            creds: Credentials::User {
                uid: 65534,
                gid: Some(7),
            },
            env_from_target: false,
            command: vec!["sh".into(), "-c".into(), "echo --ns $$".into()],
        }
    }

    #[test]
    fn helper_args_round_trip() {
        let s = spec();
        let mut argv: Vec<OsString> = vec!["nsview".into()];
        argv.extend(s.helper_args(Some(9)));
        let parsed = Wrap::try_parse_from(argv).expect("parses").args;
        assert_eq!(parsed.report_fd, Some(9));
        assert_eq!(parsed.into_spec(), Ok(s));
    }
}
