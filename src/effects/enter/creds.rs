//! The command's credentials: the target's (from /proc/PID/status, adopted in runc's order), or
//! root of a joined user namespace.

use super::dumpable::stay_undumpable;
use super::error::EnterError;
use super::open::Opened;
use super::plan::EnterSpec;
use super::report::warn;
use crate::model::NsType;
use crate::sys::SysError;
use crate::sys::proc_handle::StatusCreds;
use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

/// The credentials the command runs with. With `--as-target`, the target's, read now (after
/// joining its user namespace, so the IDs are translated into it); after joining a user namespace
/// without it, that namespace's root, as nsenter does. Returns whether no_new_privs is to be set,
/// which the caller does last, right before exec.
pub(super) fn take_credentials(spec: &EnterSpec, o: &Opened) -> Result<bool, EnterError> {
    if spec.as_target {
        let process = o.process.as_ref().ok_or_else(|| {
            EnterError::Invalid("--as-target needs a process to take credentials from".into())
        })?;
        let creds = process.read_status_creds().map_err(|e| match e {
            SysError::Parse { .. } => {
                spec.failed("cannot parse its credentials in /proc/PID/status".into())
            }
            _ => EnterError::TargetGone(format!("{} exited", spec.target)),
        })?;
        adopt_creds(spec, &creds)?;
        return Ok(creds.no_new_privs);
    }
    if o.ns.iter().any(|n| n.ns_type == NsType::User && !n.ours) {
        become_user_ns_root();
        stay_undumpable(spec)?;
    }
    Ok(false)
}

/// Take the target's credentials, in runc's order: bounding set, keep-caps, setgroups / setgid /
/// setuid, capabilities (then ambient). no_new_privs is set last, right before exec.
fn adopt_creds(spec: &EnterSpec, c: &StatusCreds) -> Result<(), EnterError> {
    use rustix::thread::{CapabilitySet, CapabilitySets};
    let denied = |what: &str, e: &dyn std::fmt::Display| {
        EnterError::PermissionDenied(format!("{what} for --as-target ({e})"))
    };
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
        // Denied in a user namespace with setgroups "deny": fine when nothing would change.
        let current = nix::unistd::getgroups().unwrap_or_default();
        if !(e == Errno::EPERM && (groups.is_empty() || groups == current)) {
            return Err(denied("setgroups", &e));
        }
    }
    stay_undumpable(spec)?;
    let [rg, eg, sg] = c.gid.map(Gid::from_raw);
    nix::unistd::setresgid(rg, eg, sg).map_err(|e| denied("setresgid", &e))?;
    stay_undumpable(spec)?;
    let [ru, eu, su] = c.uid.map(Uid::from_raw);
    nix::unistd::setresuid(ru, eu, su).map_err(|e| denied("setresuid", &e))?;
    stay_undumpable(spec)?;
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::from_bits_retain(c.effective),
            permitted: CapabilitySet::from_bits_retain(c.permitted),
            inheritable: CapabilitySet::from_bits_retain(c.inheritable),
        },
    )
    .map_err(|e| denied("capset", &e))?;
    stay_undumpable(spec)?;
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
    stay_undumpable(spec)?;
    rustix::thread::set_keep_capabilities(false)
        .map_err(|e| spec.failed(format!("PR_SET_KEEPCAPS: {e}")))?;
    Ok(())
}

/// After joining a user namespace without --as-target: become its root, as nsenter does.
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
