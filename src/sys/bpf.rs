//! The bpf(2) system calls nsview makes.
//!
//! BPF programs attached to a cgroup v2 directory: v2 has no devices.list, its device rules are
//! BPF_CGROUP_DEVICE programs (cgroup-v2.rst, "Device controller"), listed with bpf(2)
//! BPF_PROG_QUERY on the cgroup's directory fd.
//!
//! BPF iterators (Documentation/bpf/bpf_iterators.rst): load a TRACING program, attach it as an
//! iterator (a link), and create the file that runs it when read; [`super::task_iter`] assembles
//! the program.

use super::error::{SysError, SysResult};
use nix::libc;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// bpf(2) command and attach type numbers (include/uapi/linux/bpf.h).
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_LINK_CREATE: libc::c_int = 28;
const BPF_ITER_CREATE: libc::c_int = 33;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_ITER: u32 = 28;

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

/// One BPF instruction (struct bpf_insn, include/uapi/linux/bpf.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    pub code: u8,
    /// Source register in the high nibble, destination in the low one.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// Why BPF_PROG_LOAD refused a program.
#[derive(Debug)]
pub enum ProgLoadError {
    /// The call failed (EPERM: not root), and the verifier said nothing.
    Call(std::io::Error),
    /// The verifier refused the program; the last lines of its log.
    Verifier(String),
}

/// The BPF_PROG_LOAD part of `union bpf_attr`, up to attach_prog_fd.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
    _pad: u32,
}

/// The BPF_LINK_CREATE part of `union bpf_attr` for an iterator.
#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    iter_info: u64,
    iter_info_len: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Default)]
struct IterCreateAttr {
    link_fd: u32,
    flags: u32,
}

/// bpf(cmd, attr): a new file descriptor.
fn bpf_fd<T>(cmd: libc::c_int, attr: &mut T) -> std::io::Result<OwnedFd> {
    // SAFETY: bpf(2) reads (and for some commands writes back) at most size_of::<T>() bytes of
    // `attr`, a live repr(C) value laid out as the kernel's union bpf_attr prefix for `cmd`;
    // pointers inside it (instructions, license, log) point to buffers that outlive the call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: on success these commands return a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) })
}

/// Load `insns` as a TRACING program for a BPF iterator (`attach_btf_id`: the kernel's
/// `bpf_iter_*` function it attaches to), named `name` (at most 15 bytes are kept). Without
/// permission it fails at once; otherwise it loads again with the verifier's log to say why.
pub fn load_iter_program(
    insns: &[Insn],
    attach_btf_id: u32,
    name: &[u8],
) -> Result<OwnedFd, ProgLoadError> {
    let license = c"GPL";
    let mut prog_name = [0u8; 16];
    for (d, s) in prog_name.iter_mut().zip(name) {
        *d = *s;
    }
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_TRACING,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name,
        expected_attach_type: BPF_TRACE_ITER,
        attach_btf_id,
        ..ProgLoadAttr::default()
    };
    match bpf_fd(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Err(ProgLoadError::Call(e)),
        Err(e) => {
            // Load again with the verifier's log, to say why.
            let mut log = vec![0u8; 1 << 20];
            let mut attr = ProgLoadAttr {
                log_level: 1,
                log_size: log.len() as u32,
                log_buf: log.as_mut_ptr() as u64,
                ..attr
            };
            if let Ok(fd) = bpf_fd(BPF_PROG_LOAD, &mut attr) {
                // The first failure was passing (ENOMEM, EAGAIN).
                return Ok(fd);
            }
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            let tail: Vec<&str> = text.lines().rev().take(6).collect();
            let why = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
            if why.is_empty() {
                Err(ProgLoadError::Call(e))
            } else {
                Err(ProgLoadError::Verifier(why))
            }
        }
    }
}

/// Attach a loaded iterator program (BPF_LINK_CREATE with BPF_TRACE_ITER): the link that
/// [`iter_create`] makes files of.
pub fn link_create_iter(prog: &OwnedFd) -> std::io::Result<OwnedFd> {
    let mut attr = LinkCreateAttr {
        prog_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_TRACE_ITER,
        ..LinkCreateAttr::default()
    };
    bpf_fd(BPF_LINK_CREATE, &mut attr)
}

/// A new file of the iterator `link` (BPF_ITER_CREATE): reading it runs the program.
pub fn iter_create(link: &OwnedFd) -> std::io::Result<OwnedFd> {
    let mut attr = IterCreateAttr {
        link_fd: link.as_raw_fd() as u32,
        flags: 0,
    };
    bpf_fd(BPF_ITER_CREATE, &mut attr)
}
