//! The command's credentials: the target's (from /proc/PID/status, adopted in runc's order, and
//! its seccomp filter), another user's with the target's bounds (`--user`), or root
//! (`--privileged`; of a joined user namespace, as nsenter).

use super::dumpable::stay_undumpable;
use super::error::EnterError;
use super::open::Opened;
use super::plan::{Credentials, EnterSpec};
use super::report::warn;
use super::seccomp::SeccompFilters;
use super::target_fs::{passwd_field, read_regular_at, supplementary_groups};
use crate::model::NsType;
use crate::sys::SysError;
use crate::sys::proc_handle::StatusCreds;
use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

/// What is left to do right before exec: no_new_privs, then the seccomp filter when it could not
/// go in earlier.
pub(super) struct LastSteps<'a> {
    no_new_privs: bool,
    seccomp: Option<&'a SeccompFilters>,
}

impl LastSteps<'_> {
    /// Set no_new_privs and install the filter: the last system calls before exec (which the
    /// target's filter must allow, as it does for the target's own execs).
    pub(super) fn apply(&self, spec: &EnterSpec) -> Result<(), EnterError> {
        if self.no_new_privs {
            nix::sys::prctl::set_no_new_privs()
                .map_err(|e| spec.failed(format!("no_new_privs: {e}")))?;
        }
        if let Some(filters) = self.seccomp {
            filters.install(spec)?;
        }
        Ok(())
    }
}

/// Take the credentials the plan asks for. The target's are read now (after joining its user
/// namespace, so the IDs are translated into it). The seccomp filter goes in as runc puts it:
/// with no_new_privs, last, right before exec; without, before the capabilities are dropped (a
/// filter needs CAP_SYS_ADMIN then), so the credential changes themselves pass through it.
pub(super) fn take_credentials<'a>(
    spec: &EnterSpec,
    o: &'a Opened,
) -> Result<LastSteps<'a>, EnterError> {
    if spec.creds == Credentials::Privileged {
        if o.ns.iter().any(|n| n.ns_type == NsType::User && !n.ours) {
            become_user_ns_root();
            stay_undumpable(spec)?;
        }
        return Ok(LastSteps {
            no_new_privs: false,
            seccomp: None,
        });
    }
    let process = o.process.as_ref().ok_or_else(|| {
        EnterError::Invalid("there is no process to take credentials from".into())
    })?;
    let mut creds = process.read_status_creds().map_err(|e| match e {
        SysError::Parse { .. } => {
            spec.failed("cannot parse its credentials in /proc/PID/status".into())
        }
        _ => EnterError::TargetGone(format!("{} exited", spec.target)),
    })?;
    if let Credentials::User { uid, gid } = spec.creds {
        as_other_user(&mut creds, uid, gid);
    }
    let late = creds.no_new_privs;
    if !late && !o.seccomp.is_empty() {
        o.seccomp.install(spec)?;
    }
    adopt_creds(&creds)?;
    stay_undumpable(spec)?;
    Ok(LastSteps {
        no_new_privs: creds.no_new_privs,
        seccomp: (late && !o.seccomp.is_empty()).then_some(&o.seccomp),
    })
}

/// The target's credentials turned into `uid`'s, as `docker exec -u` does: the group given, else
/// the user's in the passwd of the root the command runs in, else 0; as supplementary groups that
/// group and those the root's /etc/group makes the user a member of; the target's bounding set;
/// the other capability sets only for uid 0.
fn as_other_user(c: &mut StatusCreds, uid: u32, gid: Option<u32>) {
    let passwd = read_regular_at(rustix::fs::CWD, "/etc/passwd", false);
    let gid = gid.unwrap_or_else(|| {
        passwd
            .as_deref()
            .and_then(|p| passwd_field(p, uid, 3).and_then(|g| g.parse().ok()))
            .unwrap_or(0)
    });
    let group = read_regular_at(rustix::fs::CWD, "/etc/group", false);
    c.uid = [uid; 3];
    c.gid = [gid; 3];
    c.groups = supplementary_groups(passwd.as_deref(), group.as_deref(), uid, gid);
    if uid != 0 {
        c.effective = 0;
        c.permitted = 0;
        c.inheritable = 0;
        c.ambient = 0;
    }
}

/// Take the target's credentials, in runc's order: bounding set, keep-caps, setgroups / setgid /
/// setuid, capabilities (then ambient). no_new_privs is set last, right before exec.
fn adopt_creds(c: &StatusCreds) -> Result<(), EnterError> {
    use rustix::thread::{CapabilitySet, CapabilitySets};
    let denied = |what: &str, e: &dyn std::fmt::Display| {
        EnterError::PermissionDenied(format!("{what} for the target's credentials ({e})"))
    };
    // Every credential change resets the dumpable flag to fs.suid_dumpable (see dumpable.rs).
    let undumpable =
        || nix::sys::prctl::set_dumpable(false).map_err(|e| denied("PR_SET_DUMPABLE", &e));
    for cap in 0..64u32 {
        if c.bounding & (1 << cap) != 0 {
            continue;
        }
        match rustix::thread::remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(
            1 << cap,
        )) {
            Ok(()) => {}
            // Past the kernel's last capability.
            Err(rustix::io::Errno::INVAL) => break,
            Err(e) => return Err(denied("dropping capabilities from the bounding set", &e)),
        }
    }
    rustix::thread::set_keep_capabilities(true).map_err(|e| denied("PR_SET_KEEPCAPS", &e))?;
    let groups: Vec<Gid> = c.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    if let Err(e) = nix::unistd::setgroups(&groups) {
        // Denied in a user namespace with setgroups "deny" (where runc leaves the groups as
        // they are too), or fine when nothing would change.
        let current = nix::unistd::getgroups().unwrap_or_default();
        if !(e == Errno::EPERM && (groups.is_empty() || groups == current || setgroups_denied())) {
            return Err(denied("setgroups", &e));
        }
    }
    undumpable()?;
    let [rg, eg, sg] = c.gid.map(Gid::from_raw);
    nix::unistd::setresgid(rg, eg, sg).map_err(|e| denied("setresgid", &e))?;
    undumpable()?;
    let [ru, eu, su] = c.uid.map(Uid::from_raw);
    nix::unistd::setresuid(ru, eu, su).map_err(|e| denied("setresuid", &e))?;
    undumpable()?;
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::from_bits_retain(c.effective),
            permitted: CapabilitySet::from_bits_retain(c.permitted),
            inheritable: CapabilitySet::from_bits_retain(c.inheritable),
        },
    )
    .map_err(|e| denied("capset", &e))?;
    undumpable()?;
    rustix::thread::clear_ambient_capability_set().map_err(|e| denied("ambient set", &e))?;
    for cap in 0..64u32 {
        if c.ambient & (1 << cap) != 0 {
            rustix::thread::configure_capability_in_ambient_set(
                CapabilitySet::from_bits_retain(1 << cap),
                true,
            )
            .map_err(|e| denied("raising an ambient capability", &e))?;
        }
    }
    rustix::thread::set_keep_capabilities(false).map_err(|e| denied("PR_SET_KEEPCAPS", &e))?;
    Ok(())
}

/// Whether this process's user namespace forbids setgroups(2) (/proc/self/setgroups "deny").
fn setgroups_denied() -> bool {
    read_regular_at(rustix::fs::CWD, "/proc/self/setgroups", false)
        .is_some_and(|s| s.trim() == "deny")
}

/// After joining a user namespace with --privileged: become its root, as nsenter does.
fn become_user_ns_root() {
    // Denied when the namespace's setgroups is "deny"; the groups are then unmapped anyway.
    let _ = nix::unistd::setgroups(&[]);
    let root_gid = Gid::from_raw(0);
    let root_uid = Uid::from_raw(0);
    if nix::unistd::setresgid(root_gid, root_gid, root_gid).is_err()
        || nix::unistd::setresuid(root_uid, root_uid, root_uid).is_err()
    {
        warn("uid or gid 0 is not mapped in the target's user namespace: running unmapped");
    }
}
