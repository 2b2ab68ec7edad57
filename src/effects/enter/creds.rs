//! The target's credentials: read from /proc/PID/status, adopted in runc's order.

use super::error::EnterError;
use super::plan::EnterSpec;
use super::report::warn;
use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

/// Credentials read from /proc/PID/status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TargetCreds {
    /// Real, effective, saved.
    pub(super) uid: [u32; 3],
    pub(super) gid: [u32; 3],
    pub(super) groups: Vec<u32>,
    pub(super) inheritable: u64,
    pub(super) permitted: u64,
    pub(super) effective: u64,
    pub(super) bounding: u64,
    pub(super) ambient: u64,
    pub(super) no_new_privs: bool,
}

pub(super) fn parse_creds(status: &str) -> Option<TargetCreds> {
    let mut uid = None;
    let mut gid = None;
    let mut groups = Vec::new();
    let mut caps = [None::<u64>; 5];
    let mut no_new_privs = false;
    let ids = |v: &str| -> Option<[u32; 3]> {
        let v: Vec<u32> = v
            .split_ascii_whitespace()
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        Some([*v.first()?, *v.get(1)?, *v.get(2)?])
    };
    for line in status.lines() {
        let Some((key, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        let cap = |i: usize, caps: &mut [Option<u64>; 5]| caps[i] = u64::from_str_radix(v, 16).ok();
        match key {
            "Uid" => uid = ids(v),
            "Gid" => gid = ids(v),
            "Groups" => {
                groups = v
                    .split_ascii_whitespace()
                    .filter_map(|g| g.parse().ok())
                    .collect()
            }
            "CapInh" => cap(0, &mut caps),
            "CapPrm" => cap(1, &mut caps),
            "CapEff" => cap(2, &mut caps),
            "CapBnd" => cap(3, &mut caps),
            "CapAmb" => cap(4, &mut caps),
            "NoNewPrivs" => no_new_privs = v == "1",
            _ => {}
        }
    }
    Some(TargetCreds {
        uid: uid?,
        gid: gid?,
        groups,
        inheritable: caps[0]?,
        permitted: caps[1]?,
        effective: caps[2]?,
        bounding: caps[3]?,
        ambient: caps[4].unwrap_or(0),
        no_new_privs,
    })
}

/// Take the target's credentials, in runc's order: bounding set, keep-caps, setgroups / setgid /
/// setuid, capabilities (then ambient). no_new_privs is set last, right before exec.
pub(super) fn adopt_creds(spec: &EnterSpec, c: &TargetCreds) -> Result<(), EnterError> {
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
    let [rg, eg, sg] = c.gid.map(Gid::from_raw);
    nix::unistd::setresgid(rg, eg, sg).map_err(|e| denied("setresgid", &e))?;
    let [ru, eu, su] = c.uid.map(Uid::from_raw);
    nix::unistd::setresuid(ru, eu, su).map_err(|e| denied("setresuid", &e))?;
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::from_bits_retain(c.effective),
            permitted: CapabilitySet::from_bits_retain(c.permitted),
            inheritable: CapabilitySet::from_bits_retain(c.inheritable),
        },
    )
    .map_err(|e| denied("capset", &e))?;
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
    rustix::thread::set_keep_capabilities(false).map_err(|e| EnterError::Failed {
        target: spec.target.clone(),
        reason: format!("PR_SET_KEEPCAPS: {e}"),
    })?;
    Ok(())
}

/// After joining a user namespace without --as-target: become its root, as nsenter does.
pub(super) fn become_user_ns_root() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creds_from_status() {
        let status = "Name:\tsleep\nUid:\t1000\t1001\t1002\t1001\nGid:\t50\t51\t52\t51\n\
                      Groups:\t4 24 \nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\n\
                      CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n\
                      CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n";
        let c = parse_creds(status).expect("parses");
        assert_eq!(c.uid, [1000, 1001, 1002]);
        assert_eq!(c.gid, [50, 51, 52]);
        assert_eq!(c.groups, vec![4, 24]);
        assert_eq!(c.bounding, 0xa80425fb);
        assert!(c.no_new_privs);
    }
}
