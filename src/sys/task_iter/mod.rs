//! Every task's identity and namespaces in one read: a BPF task iterator (kernel/bpf/task_iter.c,
//! Documentation/bpf/bpf_iterators.rst).
//!
//! Reading /proc costs about 27 system calls per process (ten namespace links, stat or status,
//! cmdline, cgroup, each a path walk through procfs). The kernel can instead walk its task list
//! once and hand nsview fixed-size records: a small BPF program of type TRACING attached as
//! `iter/task` reads, for every thread-group leader, its PIDs (NSpid), parent, effective UID,
//! flags, comm, for each of its namespaces the inode, the owning user namespace and the parent
//! (pid and user namespaces) - exactly what /proc/PID/ns/* and the NS_GET_USERNS /
//! NS_GET_PARENT ioctls report - and its cgroup in each hierarchy (what /proc/PID/cgroup
//! resolves). Reading the iterator's file returns the records.
//!
//! The program is assembled here from member offsets found in the running kernel's BTF
//! (/sys/kernel/btf/vmlinux, see [`super::btf`]), so no compiler or object file is needed and
//! the layout always matches the kernel (the same idea as libbpf's CO-RE relocations). Loads
//! through kernel pointers are checked by the verifier against that BTF and are fault-safe (a
//! NULL pointer, for instance `nsproxy` of an exiting task, reads as 0, which this reader treats
//! as "absent", as /proc would fail the readlink).
//!
//! What the records do not settle is left to /proc by the caller: a record says when the task
//! changed namespaces or cgroups while the program read them (setns, unshare, exit and cgroup
//! moves free what it was reading without waiting for it: the reads cannot fault, but could see
//! reused memory); a task the iterator does not show (on this 6.18 kernel, PID 1) is read from
//! /proc. Unlike /proc, the program does not ask ptrace_may_access(): as root this differs only
//! where a security module denies root reading another process's /proc/PID/ns.
//!
//! Needs CAP_BPF and CAP_PERFMON (root) and a kernel with BTF and BPF iterators (5.8+; tested on
//! 6.18); callers fall back to /proc when [`TaskIter::load`] fails. The iterator lists tasks of
//! the caller's pid namespace with their PIDs as seen from the initial pid namespace: callers
//! use it only when they run in the initial pid namespace themselves.

mod asm;
mod error;
mod layout;
mod program;
mod record;

use super::bpf;
use super::btf::Btf;
use super::error::{SysError, SysResult};
use layout::Layout;
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;

pub use error::IterError;
pub use record::{Task, TaskNs, parse_records};

/// A loaded task iterator: the program and its iter link, ready to be read any number of times.
#[derive(Debug)]
pub struct TaskIter {
    _prog: OwnedFd,
    link: OwnedFd,
}

impl TaskIter {
    /// Assemble the program for the running kernel (its BTF at `btf_path`), load it and attach
    /// it as a task iterator.
    pub fn load(btf_path: &Path) -> Result<TaskIter, IterError> {
        // The instruction encoding below packs registers little-endian and the layout reads
        // pointers as 8 bytes.
        if cfg!(target_endian = "big") || !cfg!(target_pointer_width = "64") {
            return Err(IterError::Machine);
        }
        let btf = Btf::read(btf_path)?;
        let layout = Layout::find(&btf)?;
        let insns = program::assemble(&layout)?;
        let prog =
            bpf::load_iter_program(&insns, layout.attach_btf_id, b"nsview_tasks").map_err(|e| {
                match e {
                    bpf::ProgLoadError::Call(source) => IterError::Bpf {
                        cmd: "BPF_PROG_LOAD",
                        source,
                    },
                    bpf::ProgLoadError::Verifier(why) => IterError::Verifier(why),
                }
            })?;
        let link = bpf::link_create_iter(&prog).map_err(|source| IterError::Bpf {
            cmd: "BPF_LINK_CREATE",
            source,
        })?;
        Ok(TaskIter { _prog: prog, link })
    }

    /// Walk every task once and return the thread-group leaders.
    pub fn read(&self) -> SysResult<Vec<Task>> {
        // The iterator's file has no path; errors name the program.
        let path = Path::new("bpf(BPF_ITER_CREATE) iter/task nsview_tasks");
        let fd = bpf::iter_create(&self.link).map_err(|e| SysError::io(path, e))?;
        let mut file = File::from(fd);
        // The kernel fills its seq_file buffer (8 pages) per read; a larger buffer saves calls.
        let mut bytes = Vec::with_capacity(1 << 20);
        file.read_to_end(&mut bytes)
            .map_err(|e| SysError::io(path, e))?;
        Ok(parse_records(&bytes))
    }
}
