//! BPF programs attached to a cgroup v2 directory: v2 has no devices.list, its device rules are
//! BPF_CGROUP_DEVICE programs (cgroup-v2.rst, "Device controller"), listed with bpf(2)
//! BPF_PROG_QUERY on the cgroup's directory fd.

use super::error::{SysError, SysResult};
use nix::libc;
use std::os::fd::AsRawFd;
use std::path::Path;

/// bpf(2) command and attach type numbers (include/uapi/linux/bpf.h).
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_CGROUP_DEVICE: u32 = 6;

/// The leading fields of `union bpf_attr` used by BPF_PROG_QUERY; the kernel accepts a shorter
/// attr than its own and treats the rest as zero.
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

/// IDs of the BPF_CGROUP_DEVICE programs attached directly to the cgroup directory `dir`.
pub fn cgroup_device_programs(dir: &Path) -> SysResult<Vec<u32>> {
    let file = std::fs::File::open(dir).map_err(|e| SysError::io(dir, e))?;
    let mut ids = [0u32; 64];
    let mut attr = QueryAttr {
        target_fd: file.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..QueryAttr::default()
    };
    // SAFETY: bpf(2) reads `size_of::<QueryAttr>()` bytes of `attr`, a live, properly laid out
    // (repr(C)) value, and writes at most `prog_cnt` u32s to `ids`, which has that many; both
    // outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_QUERY,
            &mut attr as *mut QueryAttr,
            std::mem::size_of::<QueryAttr>(),
        )
    };
    if rc < 0 {
        return Err(SysError::io(dir, std::io::Error::last_os_error()));
    }
    let n = (attr.prog_cnt as usize).min(ids.len());
    Ok(ids[..n].to_vec())
}
