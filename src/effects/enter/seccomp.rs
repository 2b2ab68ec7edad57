//! The target's seccomp filters: read by the helper through ptrace before it joins anything
//! (PTRACE_SECCOMP_GET_FILTER, which needs CONFIG_CHECKPOINT_RESTORE and a tracee in a
//! ptrace-stop), installed by the child around its credential change, as runc does.

use super::error::EnterError;
use super::plan::EnterSpec;
use nix::libc;

/// One classic-BPF seccomp filter, as the kernel gives it back.
#[derive(Debug, Clone)]
pub(super) struct SeccompFilter(Vec<libc::sock_filter>);

/// The filters of a target, oldest first (the order to install them in).
#[derive(Debug, Clone, Default)]
pub(super) struct SeccompFilters(Vec<SeccompFilter>);

/// PTRACE_SECCOMP_GET_FILTER (linux/ptrace.h).
const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
/// The longest classic-BPF program the kernel accepts (linux/bpf_common.h).
const BPF_MAXINSNS: usize = 4096;
/// At most this many filters are read (the kernel caps a chain at MAX_INSNS_PER_PATH anyway).
const MAX_FILTERS: usize = 1024;

impl SeccompFilters {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Read every filter of `pid` (mode 2): attach with PTRACE_SEIZE, stop it with
    /// PTRACE_INTERRUPT, read filter 0.. until ENOENT (newest first), detach.
    pub(super) fn read(spec: &EnterSpec, pid: i32) -> Result<SeccompFilters, EnterError> {
        let cannot = |what: String| {
            EnterError::PermissionDenied(format!(
                "cannot read the seccomp filter of PID {pid} ({what}); only --privileged can \
                 enter it without"
            ))
        };
        let tracee = Tracee::seize(pid).map_err(|e| cannot(format!("ptrace: {}", e.desc())))?;
        let mut newest_first = Vec::new();
        loop {
            if newest_first.len() >= MAX_FILTERS {
                return Err(spec.failed("more than 1024 seccomp filters".into()));
            }
            match tracee.filter(newest_first.len()) {
                Ok(f) => newest_first.push(f),
                Err(nix::errno::Errno::ENOENT) => break,
                Err(nix::errno::Errno::EINVAL) if newest_first.is_empty() => {
                    return Err(cannot(
                        "this kernel has no PTRACE_SECCOMP_GET_FILTER: CONFIG_CHECKPOINT_RESTORE"
                            .into(),
                    ));
                }
                Err(e) => return Err(cannot(format!("PTRACE_SECCOMP_GET_FILTER: {}", e.desc()))),
            }
        }
        drop(tracee);
        newest_first.reverse();
        Ok(SeccompFilters(newest_first))
    }

    /// Install the filters, oldest first, in the calling thread (needs no_new_privs or
    /// CAP_SYS_ADMIN). Every system call after this is subject to them.
    pub(super) fn install(&self, spec: &EnterSpec) -> Result<(), EnterError> {
        for f in &self.0 {
            let prog = libc::sock_fprog {
                len: u16::try_from(f.0.len())
                    .map_err(|_| spec.failed("a seccomp filter too long".into()))?,
                filter: f.0.as_ptr().cast_mut(),
            };
            // SAFETY: `prog` points at `f.0`, which lives across the call; the kernel copies it.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &prog as *const libc::sock_fprog,
                )
            };
            if r != 0 {
                let e = nix::errno::Errno::last();
                return Err(EnterError::PermissionDenied(format!(
                    "installing the target's seccomp filter ({})",
                    e.desc()
                )));
            }
        }
        Ok(())
    }
}

/// A process seized with ptrace and held in a ptrace-stop; detached on drop.
struct Tracee {
    pid: libc::pid_t,
    /// A signal whose delivery stop was taken for the interrupt: passed on at detach.
    pending: libc::c_int,
}

impl Tracee {
    fn seize(pid: i32) -> Result<Tracee, nix::errno::Errno> {
        // SAFETY: ptrace requests on a PID with null address and data; no memory is passed.
        let r = unsafe {
            libc::ptrace(
                libc::PTRACE_SEIZE,
                pid,
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            )
        };
        if r == -1 {
            return Err(nix::errno::Errno::last());
        }
        let mut t = Tracee { pid, pending: 0 };
        // SAFETY: as above.
        let r = unsafe {
            libc::ptrace(
                libc::PTRACE_INTERRUPT,
                pid,
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            )
        };
        if r == -1 {
            return Err(nix::errno::Errno::last());
        }
        t.pending = t.wait_for_stop()?;
        Ok(t)
    }

    /// Wait until the tracee is in a ptrace-stop; returns the signal of a signal-delivery stop
    /// (0 for the interrupt's own stop).
    fn wait_for_stop(&self) -> Result<libc::c_int, nix::errno::Errno> {
        loop {
            let mut status: libc::c_int = 0;
            // SAFETY: waitpid writes the status into a local.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) };
            if r == -1 {
                let e = nix::errno::Errno::last();
                if e == nix::errno::Errno::EINTR {
                    continue;
                }
                return Err(e);
            }
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                return Err(nix::errno::Errno::ESRCH);
            }
            if libc::WIFSTOPPED(status) {
                let sig = libc::WSTOPSIG(status);
                let event = status >> 16;
                // An event stop (the interrupt's or a group stop: PTRACE_EVENT_STOP) delivers
                // nothing; any other stop is a signal on its way to the tracee.
                return Ok(if event != 0 { 0 } else { sig });
            }
        }
    }

    /// Filter `index` (0 is the newest).
    fn filter(&self, index: usize) -> Result<SeccompFilter, nix::errno::Errno> {
        // The kernel copies the whole filter without knowing the buffer's size, and another
        // thread of the target may replace the chain between two calls: the buffer has room for
        // the longest filter the kernel accepts, never just the length it reported before.
        let mut insns = vec![
            libc::sock_filter {
                code: 0,
                jt: 0,
                jf: 0,
                k: 0
            };
            BPF_MAXINSNS
        ];
        // SAFETY: the buffer holds BPF_MAXINSNS instructions, more than any filter can have.
        let got = unsafe {
            libc::ptrace(
                // glibc declares the request a c_uint, musl a c_int (the static build).
                PTRACE_SECCOMP_GET_FILTER as _,
                self.pid,
                index as *mut libc::c_void,
                insns.as_mut_ptr().cast::<libc::c_void>(),
            )
        };
        if got < 0 {
            return Err(nix::errno::Errno::last());
        }
        insns.truncate((got as usize).min(BPF_MAXINSNS));
        Ok(SeccompFilter(insns))
    }
}

impl Drop for Tracee {
    fn drop(&mut self) {
        // SAFETY: detach from the tracee, handing it the signal its stop held back, if any.
        unsafe {
            libc::ptrace(
                libc::PTRACE_DETACH,
                self.pid,
                std::ptr::null_mut::<libc::c_void>(),
                self.pending as usize as *mut libc::c_void,
            );
        }
    }
}
