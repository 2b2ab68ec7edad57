//! What a container runtime refuses on top of the kernel, checked before its API is asked (so
//! that a dry run and the TUI's form say it first): Docker's update (moby
//! daemon/daemon_unix.go, verifyPlatformContainerResources) refuses a memory limit or
//! reservation below 6 MB with "Minimum memory limit allowed is 6MB".

use super::convert::human_size;
use super::keys::*;

/// Docker's smallest memory limit and reservation (linuxMinMemory): 6 MiB.
pub const DOCKER_MIN_MEMORY: u64 = 6 * 1024 * 1024;

/// Refuse what Docker's update would refuse of `a`, as one line naming the key.
pub fn check_docker(a: &Assignment) -> Result<(), InputError> {
    let Value::Bytes(Some(b)) = a.value else {
        return Ok(());
    };
    let what = match a.key.knob {
        Knob::MemoryLimit => "memory limit",
        // 0 means no reservation.
        Knob::MemorySoftLimit if b > 0 => "memory reservation (soft limit)",
        _ => return Ok(()),
    };
    if b >= DOCKER_MIN_MEMORY {
        return Ok(());
    }
    Err(InputError::OutOfRange {
        key: a.key.name.to_string(),
        value: a.raw.clone(),
        range: format!(
            "a Docker container's {what} is at least {} ({DOCKER_MIN_MEMORY} bytes), Docker's \
             minimum (--direct writes the cgroup file without Docker)",
            human_size(DOCKER_MIN_MEMORY)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::limits::parse_assignment;

    #[test]
    fn dockers_minimum_memory() {
        let small = parse_assignment("memory.limit_in_bytes=100k").expect("valid");
        let e = check_docker(&small).unwrap_err().to_string();
        assert_eq!(
            e,
            "memory.limit_in_bytes: 100k is out of range: a Docker container's memory limit is at \
             least 6M (6291456 bytes), Docker's minimum (--direct writes the cgroup file without \
             Docker)"
        );
        for ok in [
            "memory.max=6m",
            "memory.max=max",
            "memory.soft_limit_in_bytes=0",
            "memory.swap.max=0",
            "cpu.shares=2",
        ] {
            let a = parse_assignment(ok).expect("valid");
            assert!(check_docker(&a).is_ok(), "{ok}");
        }
        let soft = parse_assignment("memory.soft_limit_in_bytes=1m").expect("valid");
        assert!(check_docker(&soft).is_err());
    }
}
