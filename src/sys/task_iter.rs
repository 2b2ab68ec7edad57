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

use super::btf::{Btf, Field, FieldKind};
use super::error::{SysError, SysResult};
use crate::model::NsType;
use nix::libc;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// Deepest pid namespace nesting (MAX_PID_NS_LEVEL in include/linux/pid_namespace.h): NSpid has
/// at most this many + 1 entries.
const MAX_PID_LEVEL: usize = 32;

/// The namespaces of a task as the iterator reports them, in record order: the eight of
/// [`NsType::ALL`], then pid_for_children and time_for_children.
const NS_SLOTS: usize = 10;
const SLOT_PID_FOR_CHILDREN: usize = 8;
const SLOT_TIME_FOR_CHILDREN: usize = 9;

/// Record layout, in u32 words.
mod rec {
    pub const PID: usize = 0;
    pub const PPID: usize = 1;
    pub const EUID: usize = 2;
    pub const FLAGS: usize = 3;
    /// 16 bytes: task->comm.
    pub const COMM: usize = 4;
    pub const LEVEL: usize = 8;
    /// User namespace only: the UID of its creator (NS_GET_OWNER_UID).
    pub const OWNER_UID: usize = 9;
    /// NS_SLOTS x (inum, owner inum, parent inum).
    pub const NS: usize = 10;
    pub const NSPID: usize = NS + 3 * super::NS_SLOTS;
    /// STATUS_* bits: what the program could not read reliably.
    pub const STATUS: usize = NSPID + super::MAX_PID_LEVEL + 1;
    /// CGROUPS x (hierarchy id, cgroup id as two words, low first): an id of 0 ends the list.
    pub const CG: usize = STATUS + 1;
    pub const CGROUPS: usize = 16;
    /// Rounded up to whole 8-byte stack slots (the verifier wants aligned stack stores).
    pub const WORDS: usize = (CG + 3 * CGROUPS).next_multiple_of(2);
    pub const BYTES: usize = WORDS * 4;
}

/// The task's cgroups below are not all there: more than [`rec::CGROUPS`], a read failed, or
/// the task moved to another css_set while they were read.
const STATUS_CGROUPS: u32 = 1;
/// The task changed namespaces (setns, unshare, exit) while they were read.
const STATUS_NAMESPACES: u32 = 2;

/// PF_KTHREAD and PF_EXITING (include/linux/sched.h), as in /proc/PID/stat's flags.
const PF_KTHREAD: u32 = 0x0020_0000;
const PF_EXITING: u32 = 0x0000_0004;

/// One namespace of a task: inode and relations (0 in the record = absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskNs {
    pub ino: u64,
    /// Inode of the owning user namespace (NS_GET_USERNS; for a user namespace, its parent).
    pub owner: Option<u64>,
    /// Inode of the parent namespace (NS_GET_PARENT: pid and user namespaces only).
    pub parent: Option<u64>,
}

/// One process (thread-group leader) as the iterator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// PID in the initial pid namespace.
    pub pid: i32,
    /// PID of the parent (`real_parent`'s thread group), as /proc/PID/status PPid.
    pub ppid: i32,
    /// Effective UID (the owner of /proc/PID for a dumpable process; what ps shows).
    pub euid: u32,
    /// PF_KTHREAD.
    pub kernel_thread: bool,
    /// task->comm (kernel threads' full names are longer: /proc/PID/comm has them).
    pub comm: String,
    /// The PID in each pid namespace from the initial one down to the task's own (NSpid).
    pub nspid: Vec<i32>,
    /// Namespaces by type; a type the task has none of (exiting task, kernel without it) is
    /// absent.
    pub ns: Vec<(NsType, TaskNs)>,
    pub pid_for_children: Option<TaskNs>,
    pub time_for_children: Option<TaskNs>,
    /// For the task's user namespace: the UID of its creator.
    pub user_owner_uid: Option<u32>,
    /// The task's cgroup in each hierarchy: (hierarchy id as in /proc/PID/cgroup, cgroup id =
    /// the inode number of its directory), the default hierarchy (id 0) included even when
    /// cgroup2 is mounted nowhere.
    pub cgroups: Vec<(u32, u64)>,
    /// False when the iterator could not list all of the task's cgroups.
    pub cgroups_complete: bool,
    /// False when the task changed namespaces while they were read: read it from /proc.
    pub namespaces_stable: bool,
    /// PF_EXITING: on v1 hierarchies /proc/PID/cgroup then says "/".
    pub exiting: bool,
}

/// Why the iterator is not available (callers fall back to /proc and can say why).
#[derive(Debug, thiserror::Error)]
pub enum IterError {
    /// /sys/kernel/btf/vmlinux could not be read.
    #[error("kernel BTF: {0}")]
    Btf(#[from] SysError),
    /// A struct member the program reads is not in this kernel's BTF.
    #[error("kernel BTF lacks {0}")]
    Layout(String),
    /// A bpf(2) command failed (EPERM: not root).
    #[error("bpf({cmd}): {source}")]
    Bpf {
        cmd: &'static str,
        source: std::io::Error,
    },
    /// The verifier refused the program; the last lines of its log.
    #[error("the verifier refused the task iterator: {0}")]
    Verifier(String),
    /// A bug in the assembler (a jump without its label).
    #[error("assembling the task iterator: {0}")]
    Assembly(String),
    /// The instruction encoding here is little-endian and pointers 8 bytes.
    #[error("the task iterator is built for 64-bit little-endian machines")]
    Machine,
}

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
        let insns = assemble(&layout)?;
        let prog = prog_load(&insns, layout.attach_btf_id)?;
        let link = link_create(&prog)?;
        Ok(TaskIter { _prog: prog, link })
    }

    /// Walk every task once and return the thread-group leaders.
    pub fn read(&self) -> SysResult<Vec<Task>> {
        // The iterator's file has no path; errors name the program.
        let path = Path::new("bpf(BPF_ITER_CREATE) iter/task nsview_tasks");
        let fd = iter_create(&self.link).map_err(|e| SysError::io(path, e))?;
        let mut file = File::from(fd);
        // The kernel fills its seq_file buffer (8 pages) per read; a larger buffer saves calls.
        let mut bytes = Vec::with_capacity(1 << 20);
        file.read_to_end(&mut bytes)
            .map_err(|e| SysError::io(path, e))?;
        Ok(parse_records(&bytes))
    }
}

/// Decode the iterator's output: whole records only (the stream is a multiple of the record size
/// unless the kernel cut it short, in which case the tail is dropped).
pub fn parse_records(bytes: &[u8]) -> Vec<Task> {
    bytes
        .chunks_exact(rec::BYTES)
        .filter_map(parse_record)
        .collect()
}

fn parse_record(chunk: &[u8]) -> Option<Task> {
    let word = |i: usize| -> u32 {
        chunk
            .get(i * 4..i * 4 + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_ne_bytes)
    };
    let pid = word(rec::PID) as i32;
    if pid <= 0 {
        return None;
    }
    let comm_bytes = chunk.get(rec::COMM * 4..rec::COMM * 4 + 16)?;
    let end = comm_bytes.iter().position(|&b| b == 0).unwrap_or(16);
    let comm = String::from_utf8_lossy(&comm_bytes[..end]).into_owned();
    let level = (word(rec::LEVEL) as usize).min(MAX_PID_LEVEL);
    let nspid = (0..=level).map(|i| word(rec::NSPID + i) as i32).collect();
    let nonzero = |w: u32| (w != 0).then_some(u64::from(w));
    let slot = |s: usize| -> Option<TaskNs> {
        let base = rec::NS + 3 * s;
        Some(TaskNs {
            ino: nonzero(word(base))?,
            owner: nonzero(word(base + 1)),
            parent: nonzero(word(base + 2)),
        })
    };
    let ns = NsType::ALL
        .iter()
        .enumerate()
        .filter_map(|(i, &t)| slot(i).map(|n| (t, n)))
        .collect::<Vec<_>>();
    let has_user = ns.iter().any(|(t, _)| *t == NsType::User);
    let cgroups: Vec<(u32, u64)> = (0..rec::CGROUPS)
        .map(|i| {
            let base = rec::CG + 3 * i;
            let id = u64::from(word(base + 1)) | (u64::from(word(base + 2)) << 32);
            (word(base), id)
        })
        .take_while(|&(_, id)| id != 0)
        .collect();
    let flags = word(rec::FLAGS);
    Some(Task {
        pid,
        ppid: word(rec::PPID) as i32,
        euid: word(rec::EUID),
        kernel_thread: flags & PF_KTHREAD != 0,
        exiting: flags & PF_EXITING != 0,
        cgroups_complete: word(rec::STATUS) & STATUS_CGROUPS == 0 && !cgroups.is_empty(),
        namespaces_stable: word(rec::STATUS) & STATUS_NAMESPACES == 0,
        cgroups,
        comm,
        nspid,
        ns,
        pid_for_children: slot(SLOT_PID_FOR_CHILDREN),
        time_for_children: slot(SLOT_TIME_FOR_CHILDREN),
        user_owner_uid: has_user.then_some(word(rec::OWNER_UID)),
    })
}

// ---------------------------------------------------------------------------------------------
// Layout: where the program finds each value, from the kernel's BTF.

/// How to reach one namespace from `struct nsproxy` (or from the cred / the pid).
#[derive(Debug, Clone, Copy)]
struct NsLayout {
    /// Offset of the pointer in `struct nsproxy` (None for user and pid, reached elsewhere).
    in_nsproxy: Option<u32>,
    /// Offset of `ns.inum` (u32) in the namespace's struct.
    inum: u32,
    /// Offset of the `user_ns` pointer (for a user namespace: `parent`).
    owner: u32,
    /// Offset of the `parent` pointer (pid and user namespaces).
    parent: Option<u32>,
    /// pid namespaces only: `child_reaper`, whose absence makes pid_for_children unreadable.
    child_reaper: Option<u32>,
}

#[derive(Debug, Clone)]
struct Layout {
    attach_btf_id: u32,
    meta: u32,
    task: u32,
    seq: u32,
    pid: u32,
    tgid: u32,
    flags: u32,
    comm: u32,
    real_parent: u32,
    real_cred: u32,
    nsproxy: u32,
    thread_pid: u32,
    cred_euid: u32,
    cred_user_ns: u32,
    pid_level: u32,
    pid_numbers: u32,
    upid_size: u32,
    upid_nr: u32,
    upid_ns: u32,
    user_owner_uid: u32,
    task_cgroups: u32,
    cset_cgrp_links: u32,
    link_cgrp_link: u32,
    link_cgrp: u32,
    cgroup_kn: u32,
    cgroup_root: u32,
    root_hierarchy_id: u32,
    kn_id: u32,
    /// The user namespace's own layout (also the owner of every other type).
    user: NsLayout,
    /// The pid namespace layout (task's own, via struct pid, and pid_for_children).
    pid_ns: NsLayout,
    /// Per record slot: how to reach it from nsproxy. None = this kernel lacks the type.
    slots: [Option<NsLayout>; NS_SLOTS],
}

impl Layout {
    fn find(btf: &Btf) -> Result<Layout, IterError> {
        let missing = |what: &str| IterError::Layout(what.to_string());
        let field = |s: &str, path: &[&str], kind: FieldKind| -> Result<Field, IterError> {
            btf.field(s, path)
                .filter(|f| f.kind == kind)
                .ok_or_else(|| missing(&format!("{s}.{}", path.join("."))))
        };
        let int32 = |s: &str, path: &[&str]| -> Result<u32, IterError> {
            let f = field(s, path, FieldKind::Int)?;
            if f.size != 4 {
                return Err(missing(&format!("{s}.{} as 32 bits", path.join("."))));
            }
            Ok(f.offset)
        };
        let ptr = |s: &str, path: &[&str]| -> Result<u32, IterError> {
            Ok(field(s, path, FieldKind::Ptr)?.offset)
        };
        let attach_btf_id = btf
            .func_id("bpf_iter_task")
            .ok_or_else(|| missing("bpf_iter_task (no BPF task iterator)"))?;
        let ns_of = |s: &str, owner: &str| -> Result<NsLayout, IterError> {
            Ok(NsLayout {
                in_nsproxy: None,
                inum: int32(s, &["ns", "inum"])?,
                owner: ptr(s, &[owner])?,
                parent: None,
                child_reaper: None,
            })
        };
        let user = NsLayout {
            parent: Some(ptr("user_namespace", &["parent"])?),
            ..ns_of("user_namespace", "parent")?
        };
        let pid_ns = NsLayout {
            parent: Some(ptr("pid_namespace", &["parent"])?),
            child_reaper: Some(ptr("pid_namespace", &["child_reaper"])?),
            ..ns_of("pid_namespace", "user_ns")?
        };
        // A namespace type this kernel was built without has no nsproxy member: its slot stays
        // empty, as /proc/PID/ns would have no link.
        let via = |member: &str, base: Result<NsLayout, IterError>| -> Option<NsLayout> {
            let off = ptr("nsproxy", &[member]).ok()?;
            base.ok().map(|l| NsLayout {
                in_nsproxy: Some(off),
                ..l
            })
        };
        let slots = [
            via("mnt_ns", ns_of("mnt_namespace", "user_ns")),
            via("uts_ns", ns_of("uts_namespace", "user_ns")),
            via("ipc_ns", ns_of("ipc_namespace", "user_ns")),
            // The task's own pid namespace comes from its struct pid (filled by the NSpid loop).
            None,
            via("net_ns", ns_of("net", "user_ns")),
            // The user namespace comes from the task's credentials.
            None,
            via("cgroup_ns", ns_of("cgroup_namespace", "user_ns")),
            via("time_ns", ns_of("time_namespace", "user_ns")),
            via("pid_ns_for_children", Ok(pid_ns)),
            via("time_ns_for_children", ns_of("time_namespace", "user_ns")),
        ];
        let upid = btf
            .struct_id("upid")
            .and_then(|id| btf.size_of(id))
            .ok_or_else(|| missing("struct upid"))?;
        let layout = Layout {
            attach_btf_id,
            meta: ptr("bpf_iter__task", &["meta"])?,
            task: ptr("bpf_iter__task", &["task"])?,
            seq: ptr("bpf_iter_meta", &["seq"])?,
            pid: int32("task_struct", &["pid"])?,
            tgid: int32("task_struct", &["tgid"])?,
            flags: int32("task_struct", &["flags"])?,
            comm: {
                let f = field("task_struct", &["comm"], FieldKind::Array)?;
                if f.size < 16 {
                    return Err(missing("task_struct.comm of 16 bytes"));
                }
                f.offset
            },
            real_parent: ptr("task_struct", &["real_parent"])?,
            real_cred: ptr("task_struct", &["real_cred"])?,
            nsproxy: ptr("task_struct", &["nsproxy"])?,
            thread_pid: ptr("task_struct", &["thread_pid"])?,
            cred_euid: int32("cred", &["euid", "val"])?,
            cred_user_ns: ptr("cred", &["user_ns"])?,
            pid_level: int32("pid", &["level"])?,
            pid_numbers: field("pid", &["numbers"], FieldKind::Array)?.offset,
            upid_size: upid,
            upid_nr: int32("upid", &["nr"])?,
            upid_ns: ptr("upid", &["ns"])?,
            user_owner_uid: int32("user_namespace", &["owner", "val"])?,
            task_cgroups: ptr("task_struct", &["cgroups"])?,
            cset_cgrp_links: field("css_set", &["cgrp_links"], FieldKind::Struct)?.offset,
            link_cgrp_link: field("cgrp_cset_link", &["cgrp_link"], FieldKind::Struct)?.offset,
            link_cgrp: ptr("cgrp_cset_link", &["cgrp"])?,
            cgroup_kn: ptr("cgroup", &["kn"])?,
            cgroup_root: ptr("cgroup", &["root"])?,
            root_hierarchy_id: int32("cgroup_root", &["hierarchy_id"])?,
            kn_id: {
                let f = field("kernfs_node", &["id"], FieldKind::Int)?;
                if f.size != 8 {
                    return Err(missing("kernfs_node.id as 64 bits"));
                }
                f.offset
            },
            user,
            pid_ns,
            slots,
        };
        layout.check_offsets()?;
        Ok(layout)
    }

    /// Loads take a signed 16-bit offset: a kernel whose structs put a member further out is
    /// read from /proc instead.
    fn check_offsets(&self) -> Result<(), IterError> {
        // (struct pid's numbers[] and the cgroup walk are reached with bpf_probe_read_kernel at
        // an address computed with 32-bit immediates: no such limit.)
        let ns_offsets = self
            .slots
            .iter()
            .flatten()
            .chain([&self.user, &self.pid_ns])
            .flat_map(|n| {
                [
                    n.in_nsproxy,
                    Some(n.inum),
                    Some(n.owner),
                    n.parent,
                    n.child_reaper,
                ]
                .into_iter()
                .flatten()
            });
        let all = [
            self.meta,
            self.task,
            self.seq,
            self.pid,
            self.tgid,
            self.flags,
            self.comm + 12,
            self.real_parent,
            self.real_cred,
            self.nsproxy,
            self.thread_pid,
            self.cred_euid,
            self.cred_user_ns,
            self.pid_level,
            self.user_owner_uid,
        ]
        .into_iter()
        .chain(ns_offsets)
        .map(u64::from);
        for off in all {
            if off > i16::MAX as u64 {
                return Err(IterError::Layout(format!(
                    "a member within reach of a load (offset {off})"
                )));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The program. Registers: r7 = task throughout, r6/r8/r9 = pointers being walked, r10 = frame.
// The record is built on the stack at r10 - rec::BYTES and written with bpf_seq_write; the
// iterator's meta pointer waits below it (META) until then.

/// One BPF instruction (struct bpf_insn, include/uapi/linux/bpf.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

/// The few instructions the program uses (Documentation/bpf/standardization/instruction-set.rst).
mod op {
    pub const LDX_W: u8 = 0x61;
    pub const LDX_DW: u8 = 0x79;
    pub const STX_W: u8 = 0x63;
    pub const STX_DW: u8 = 0x7b;
    pub const OR64_IMM: u8 = 0x47;
    pub const ST_DW: u8 = 0x7a;
    pub const MOV64_IMM: u8 = 0xb7;
    pub const MOV64_REG: u8 = 0xbf;
    pub const ADD64_IMM: u8 = 0x07;
    pub const JA: u8 = 0x05;
    pub const JEQ_IMM: u8 = 0x15;
    pub const JEQ_REG: u8 = 0x1d;
    pub const JNE_IMM: u8 = 0x55;
    pub const JNE_REG: u8 = 0x5d;
    pub const JLT_IMM: u8 = 0xa5;
    pub const CALL: u8 = 0x85;
    pub const EXIT: u8 = 0x95;
}

const FP: u8 = 10;
/// bpf_seq_write and bpf_probe_read_kernel (include/uapi/linux/bpf.h, FN(seq_write, 127),
/// FN(probe_read_kernel, 113)).
const HELPER_SEQ_WRITE: i32 = 127;
const HELPER_PROBE_READ_KERNEL: i32 = 113;
/// An 8-byte stack slot below the record, for values read with bpf_probe_read_kernel.
const SCRATCH: i16 = -(rec::BYTES as i16) - 8;
/// Where the iterator's meta pointer waits for bpf_seq_write, below the scratch slot.
const META: i16 = SCRATCH - 8;
// BPF's stack is 512 bytes.
const _: () = assert!(-(META as i32) <= 512);

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0x0f),
        off,
        imm,
    }
}

/// Builds the program; jumps to labels are patched when the label is placed.
#[derive(Default)]
struct Asm {
    code: Vec<Insn>,
    /// (instruction index, label) of forward jumps.
    fixups: Vec<(usize, usize)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn place(&mut self, label: usize) {
        if let Some(l) = self.labels.get_mut(label) {
            *l = Some(self.code.len());
        }
    }
    fn emit(&mut self, i: Insn) {
        self.code.push(i);
    }
    fn jump(&mut self, code: u8, dst: u8, src: u8, imm: i32, label: usize) {
        self.fixups.push((self.code.len(), label));
        self.emit(insn(code, dst, src, 0, imm));
    }
    /// dst = *(u64 *)(src + off)
    fn ld64(&mut self, dst: u8, src: u8, off: u32) {
        self.emit(insn(op::LDX_DW, dst, src, off as i16, 0));
    }
    /// dst = *(u32 *)(src + off)
    fn ld32(&mut self, dst: u8, src: u8, off: u32) {
        self.emit(insn(op::LDX_W, dst, src, off as i16, 0));
    }
    /// record word `w` = src (u32)
    fn put(&mut self, w: usize, src: u8) {
        self.emit(insn(op::STX_W, FP, src, word_off(w), 0));
    }
    /// The program, with every jump pointed at its label.
    fn finish(mut self) -> Result<Vec<Insn>, IterError> {
        for (at, label) in std::mem::take(&mut self.fixups) {
            let target =
                self.labels.get(label).copied().flatten().ok_or_else(|| {
                    IterError::Assembly(format!("jump at {at} to an unplaced label"))
                })?;
            let off = i16::try_from(target as i64 - at as i64 - 1)
                .map_err(|_| IterError::Assembly(format!("jump at {at} too far")))?;
            if let Some(i) = self.code.get_mut(at) {
                i.off = off;
            }
        }
        Ok(self.code)
    }
}

/// Stack offset (from r10) of record word `w`.
fn word_off(w: usize) -> i16 {
    (w as i64 * 4 - rec::BYTES as i64) as i16
}

/// Store the inum, owner and parent of the namespace whose struct pointer is in `ns_reg` into
/// record slot `slot`. Clobbers r2 and r3.
fn put_ns(a: &mut Asm, l: &Layout, ns_reg: u8, ns: &NsLayout, slot: usize) {
    let base = rec::NS + 3 * slot;
    let skip = a.label();
    if let Some(reaper) = ns.child_reaper {
        // pid_for_children without a reaper yet: /proc cannot open it either.
        a.ld64(2, ns_reg, reaper);
        a.jump(op::JEQ_IMM, 2, 0, 0, skip);
    }
    a.ld32(2, ns_reg, ns.inum);
    a.put(base, 2);
    a.ld64(3, ns_reg, ns.owner);
    a.ld32(2, 3, l.user.inum);
    a.put(base + 1, 2);
    if let Some(parent) = ns.parent {
        a.ld64(3, ns_reg, parent);
        a.ld32(2, 3, ns.inum);
        a.put(base + 2, 2);
    }
    a.place(skip);
}

fn assemble(l: &Layout) -> Result<Vec<Insn>, IterError> {
    let mut a = Asm::default();
    let out = a.label();
    // r7 = the task, for the whole program; the meta pointer waits on the stack.
    a.ld64(6, 1, l.meta);
    a.ld64(7, 1, l.task);
    a.jump(op::JEQ_IMM, 7, 0, 0, out);
    // Threads share their leader's namespaces and PIDs: leaders only, like /proc's listing.
    a.ld32(2, 7, l.pid);
    a.ld32(3, 7, l.tgid);
    a.jump(op::JNE_REG, 2, 3, 0, out);
    a.emit(insn(op::STX_DW, FP, 6, META, 0));
    for w in (0..rec::WORDS).step_by(2) {
        a.emit(insn(op::ST_DW, FP, 0, word_off(w), 0));
    }
    a.emit(insn(op::ST_DW, FP, 0, SCRATCH, 0));
    a.put(rec::PID, 3);
    a.ld64(2, 7, l.real_parent);
    a.ld32(2, 2, l.tgid);
    a.put(rec::PPID, 2);
    a.ld32(2, 7, l.flags);
    a.put(rec::FLAGS, 2);
    for i in 0..4 {
        a.ld32(2, 7, l.comm + 4 * i as u32);
        a.put(rec::COMM + i, 2);
    }
    // Credentials: effective UID and the user namespace.
    a.ld64(8, 7, l.real_cred);
    a.ld32(2, 8, l.cred_euid);
    a.put(rec::EUID, 2);
    a.ld64(8, 8, l.cred_user_ns);
    put_ns(&mut a, l, 8, &l.user, 5);
    a.ld32(2, 8, l.user_owner_uid);
    a.put(rec::OWNER_UID, 2);
    // nsproxy: every other type. setns, unshare and exit replace and free it without waiting
    // for readers like this one: if the task's nsproxy changed meanwhile, say so.
    a.ld64(8, 7, l.nsproxy);
    for (slot, ns) in l.slots.iter().enumerate() {
        if let Some(ns) = ns
            && let Some(off) = ns.in_nsproxy
        {
            let none = a.label();
            a.ld64(9, 8, off);
            a.jump(op::JEQ_IMM, 9, 0, 0, none);
            put_ns(&mut a, l, 9, ns, slot);
            a.place(none);
        }
    }
    let same = a.label();
    a.ld64(2, 7, l.nsproxy);
    a.jump(op::JEQ_REG, 2, 8, 0, same);
    set_status(&mut a, STATUS_NAMESPACES);
    a.place(same);
    put_pids(&mut a, l);
    put_cgroups(&mut a, l);
    // bpf_seq_write(meta->seq, record, size)
    a.emit(insn(op::LDX_DW, 1, FP, META, 0));
    a.ld64(1, 1, l.seq);
    a.emit(insn(op::MOV64_REG, 2, FP, 0, 0));
    a.emit(insn(op::ADD64_IMM, 2, 0, 0, -(rec::BYTES as i32)));
    a.emit(insn(op::MOV64_IMM, 3, 0, 0, rec::BYTES as i32));
    a.emit(insn(op::CALL, 0, 0, 0, HELPER_SEQ_WRITE));
    a.place(out);
    a.emit(insn(op::MOV64_IMM, 0, 0, 0, 0));
    a.emit(insn(op::EXIT, 0, 0, 0, 0));
    a.finish()
}

/// record STATUS |= bit. Clobbers r2.
fn set_status(a: &mut Asm, bit: u32) {
    a.emit(insn(op::LDX_W, 2, FP, word_off(rec::STATUS), 0));
    a.emit(insn(op::OR64_IMM, 2, 0, 0, bit as i32));
    a.put(rec::STATUS, 2);
}

/// NSpid and the task's own pid namespace (that of the deepest level), from struct pid. Its
/// `numbers` array is read with bpf_probe_read_kernel: kernels before 6.5 declare it
/// `numbers[1]`, and the verifier would refuse typed loads past the first element. Uses r8
/// (struct pid), r9 (level, then the pid namespace).
fn put_pids(a: &mut Asm, l: &Layout) {
    let done = a.label();
    let no_pid_ns = a.label();
    let have_pid = a.label();
    a.ld64(8, 7, l.thread_pid);
    a.jump(op::JNE_IMM, 8, 0, 0, have_pid);
    // Reaped while being read: no PIDs to give; /proc will say it is gone.
    set_status(a, STATUS_NAMESPACES);
    a.jump(op::JA, 0, 0, 0, done);
    a.place(have_pid);
    a.ld32(2, 8, l.pid_level);
    a.put(rec::LEVEL, 2);
    a.emit(insn(op::MOV64_REG, 9, 2, 0, 0));
    for i in 0..=MAX_PID_LEVEL {
        a.jump(op::JLT_IMM, 9, 0, i as i32, done);
        let upid = l.pid_numbers + i as u32 * l.upid_size;
        // numbers[i].nr into the record; numbers[i].ns into the scratch slot (the last wins).
        a.emit(insn(op::MOV64_REG, 3, 8, 0, 0));
        a.emit(insn(op::ADD64_IMM, 3, 0, 0, (upid + l.upid_nr) as i32));
        probe_read_to(a, word_off(rec::NSPID + i), 4);
        a.emit(insn(op::MOV64_REG, 3, 8, 0, 0));
        a.emit(insn(op::ADD64_IMM, 3, 0, 0, (upid + l.upid_ns) as i32));
        probe_read_to(a, SCRATCH, 8);
    }
    a.place(done);
    a.emit(insn(op::LDX_DW, 9, FP, SCRATCH, 0));
    a.jump(op::JEQ_IMM, 9, 0, 0, no_pid_ns);
    // The task's own pid namespace: inode, owner, parent (a failed read leaves 0: absent).
    // Unlike pid_for_children, /proc does not ask for a reaper here (pidns_get).
    let base = rec::NS + 3 * 3;
    a.emit(insn(op::MOV64_REG, 3, 9, 0, 0));
    a.emit(insn(op::ADD64_IMM, 3, 0, 0, l.pid_ns.inum as i32));
    probe_read_to(a, word_off(base), 4);
    let reads = [
        (Some(l.pid_ns.owner), l.user.inum, base + 1),
        (l.pid_ns.parent, l.pid_ns.inum, base + 2),
    ];
    for (ptr, inum, word) in reads {
        let Some(ptr) = ptr else { continue };
        a.emit(insn(op::MOV64_REG, 3, 9, 0, 0));
        a.emit(insn(op::ADD64_IMM, 3, 0, 0, ptr as i32));
        probe_read_to(a, SCRATCH, 8);
        a.emit(insn(op::LDX_DW, 3, FP, SCRATCH, 0));
        a.emit(insn(op::ADD64_IMM, 3, 0, 0, inum as i32));
        probe_read_to(a, word_off(word), 4);
    }
    a.place(no_pid_ns);
}

/// The task's cgroups: walk css_set->cgrp_links (one cgrp_cset_link per hierarchy, the list
/// proc_cgroup_show resolves too) and store each link's cgroup's hierarchy id and kernfs id.
/// The list is reached through bpf_probe_read_kernel on plain addresses (its nodes are embedded
/// list_heads the verifier cannot type). The links are freed without waiting for readers when
/// the task's css_set goes away: a failed read, or a task that moved to another css_set by the
/// end of the walk, marks the cgroups incomplete (then /proc/PID/cgroup is read). Uses r6 (list
/// head), r8 (node), r9 (cgroup).
fn put_cgroups(a: &mut Asm, l: &Layout) {
    let done = a.label();
    let bad = a.label();
    let end = a.label();
    let read_ok = |a: &mut Asm| a.jump(op::JNE_IMM, 0, 0, 0, bad);
    // r6 = &task->cgroups->cgrp_links
    a.emit(insn(op::MOV64_REG, 3, 7, 0, 0));
    a.emit(insn(op::ADD64_IMM, 3, 0, 0, l.task_cgroups as i32));
    probe_read_to(a, SCRATCH, 8);
    read_ok(a);
    a.emit(insn(op::LDX_DW, 6, FP, SCRATCH, 0));
    a.jump(op::JEQ_IMM, 6, 0, 0, bad);
    a.emit(insn(op::ADD64_IMM, 6, 0, 0, l.cset_cgrp_links as i32));
    // r8 = head->next
    a.emit(insn(op::MOV64_REG, 3, 6, 0, 0));
    probe_read_to(a, SCRATCH, 8);
    read_ok(a);
    a.emit(insn(op::LDX_DW, 8, FP, SCRATCH, 0));
    for i in 0..rec::CGROUPS {
        let base = rec::CG + 3 * i;
        a.jump(op::JEQ_REG, 8, 6, 0, done);
        a.jump(op::JEQ_IMM, 8, 0, 0, bad);
        // r9 = container_of(node, struct cgrp_cset_link, cgrp_link)->cgrp
        a.emit(insn(op::MOV64_REG, 3, 8, 0, 0));
        a.emit(insn(
            op::ADD64_IMM,
            3,
            0,
            0,
            l.link_cgrp as i32 - l.link_cgrp_link as i32,
        ));
        probe_read_to(a, SCRATCH, 8);
        read_ok(a);
        a.emit(insn(op::LDX_DW, 9, FP, SCRATCH, 0));
        // cgroup->kn->id, straight into the record
        a.emit(insn(op::MOV64_REG, 3, 9, 0, 0));
        a.emit(insn(op::ADD64_IMM, 3, 0, 0, l.cgroup_kn as i32));
        probe_read_to(a, SCRATCH, 8);
        read_ok(a);
        a.emit(insn(op::LDX_DW, 3, FP, SCRATCH, 0));
        a.emit(insn(op::ADD64_IMM, 3, 0, 0, l.kn_id as i32));
        probe_read_to(a, word_off(base + 1), 8);
        read_ok(a);
        // cgroup->root->hierarchy_id
        a.emit(insn(op::MOV64_REG, 3, 9, 0, 0));
        a.emit(insn(op::ADD64_IMM, 3, 0, 0, l.cgroup_root as i32));
        probe_read_to(a, SCRATCH, 8);
        read_ok(a);
        a.emit(insn(op::LDX_DW, 3, FP, SCRATCH, 0));
        a.emit(insn(op::ADD64_IMM, 3, 0, 0, l.root_hierarchy_id as i32));
        probe_read_to(a, word_off(base), 4);
        read_ok(a);
        // r8 = node->next
        a.emit(insn(op::MOV64_REG, 3, 8, 0, 0));
        probe_read_to(a, SCRATCH, 8);
        read_ok(a);
        a.emit(insn(op::LDX_DW, 8, FP, SCRATCH, 0));
    }
    // More links than slots, unless the list ends right here.
    a.jump(op::JEQ_REG, 8, 6, 0, done);
    a.jump(op::JA, 0, 0, 0, bad);
    a.place(done);
    // Still the same css_set?
    a.emit(insn(op::MOV64_REG, 3, 7, 0, 0));
    a.emit(insn(op::ADD64_IMM, 3, 0, 0, l.task_cgroups as i32));
    probe_read_to(a, SCRATCH, 8);
    read_ok(a);
    a.emit(insn(op::LDX_DW, 2, FP, SCRATCH, 0));
    a.emit(insn(op::ADD64_IMM, 2, 0, 0, l.cset_cgrp_links as i32));
    a.jump(op::JEQ_REG, 2, 6, 0, end);
    a.place(bad);
    set_status(a, STATUS_CGROUPS);
    a.place(end);
}

/// bpf_probe_read_kernel(r10 + dst, size, r3); r0 = 0 on success. Clobbers r0-r5.
fn probe_read_to(a: &mut Asm, dst: i16, size: i32) {
    a.emit(insn(op::MOV64_REG, 1, FP, 0, 0));
    a.emit(insn(op::ADD64_IMM, 1, 0, 0, i32::from(dst)));
    a.emit(insn(op::MOV64_IMM, 2, 0, 0, size));
    a.emit(insn(op::CALL, 0, 0, 0, HELPER_PROBE_READ_KERNEL));
}

// ---------------------------------------------------------------------------------------------
// bpf(2).

const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_LINK_CREATE: libc::c_int = 28;
const BPF_ITER_CREATE: libc::c_int = 33;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_ITER: u32 = 28;

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

fn prog_load(insns: &[Insn], attach_btf_id: u32) -> Result<OwnedFd, IterError> {
    let license = c"GPL";
    let mut name = [0u8; 16];
    for (d, s) in name.iter_mut().zip(b"nsview_tasks") {
        *d = *s;
    }
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_TRACING,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        expected_attach_type: BPF_TRACE_ITER,
        attach_btf_id,
        ..ProgLoadAttr::default()
    };
    match bpf_fd(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Err(IterError::Bpf {
            cmd: "BPF_PROG_LOAD",
            source: e,
        }),
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
                Err(IterError::Bpf {
                    cmd: "BPF_PROG_LOAD",
                    source: e,
                })
            } else {
                Err(IterError::Verifier(why))
            }
        }
    }
}

fn link_create(prog: &OwnedFd) -> Result<OwnedFd, IterError> {
    let mut attr = LinkCreateAttr {
        prog_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_TRACE_ITER,
        ..LinkCreateAttr::default()
    };
    bpf_fd(BPF_LINK_CREATE, &mut attr).map_err(|source| IterError::Bpf {
        cmd: "BPF_LINK_CREATE",
        source,
    })
}

fn iter_create(link: &OwnedFd) -> std::io::Result<OwnedFd> {
    let mut attr = IterCreateAttr {
        link_fd: link.as_raw_fd() as u32,
        flags: 0,
    };
    bpf_fd(BPF_ITER_CREATE, &mut attr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_fits_the_bpf_stack_in_whole_slots() {
        const {
            assert!(rec::BYTES.is_multiple_of(8));
            // The record, the scratch slot below it, and nothing else: BPF's stack is 512 bytes.
            assert!(rec::BYTES + 8 <= 512);
            assert!(rec::CG + 3 * rec::CGROUPS <= rec::WORDS);
        }
    }

    fn put(rec: &mut [u8], word: usize, v: u32) {
        rec[word * 4..word * 4 + 4].copy_from_slice(&v.to_ne_bytes());
    }

    #[test]
    fn a_record_decodes_to_a_task() {
        let mut r = vec![0u8; rec::BYTES];
        put(&mut r, rec::PID, 4242);
        put(&mut r, rec::PPID, 1);
        put(&mut r, rec::EUID, 1000);
        put(&mut r, rec::FLAGS, PF_EXITING);
        r[rec::COMM * 4..rec::COMM * 4 + 5].copy_from_slice(b"sleep");
        put(&mut r, rec::LEVEL, 1);
        put(&mut r, rec::NSPID, 4242);
        put(&mut r, rec::NSPID + 1, 7);
        put(&mut r, rec::OWNER_UID, 0);
        // mnt: inode and owner; user (slot 5): inode, owner = parent; pid_for_children absent.
        put(&mut r, rec::NS, 4026532001);
        put(&mut r, rec::NS + 1, 4026531837);
        put(&mut r, rec::NS + 15, 4026532005);
        put(&mut r, rec::NS + 16, 4026531837);
        put(&mut r, rec::NS + 17, 4026531837);
        // Two cgroups: v2 (hierarchy 0) and hierarchy 3, a 64-bit id; then the list ends.
        put(&mut r, rec::CG, 0);
        put(&mut r, rec::CG + 1, 77);
        put(&mut r, rec::CG + 3, 3);
        put(&mut r, rec::CG + 4, 5);
        put(&mut r, rec::CG + 5, 1);
        let mut stream = r.clone();
        // A second, empty record (PID 0: no task) and a cut-off tail are dropped.
        stream.extend(vec![0u8; rec::BYTES]);
        stream.extend(vec![1u8; 10]);
        let tasks = parse_records(&stream);
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        assert_eq!((t.pid, t.ppid, t.euid), (4242, 1, 1000));
        assert_eq!(t.comm, "sleep");
        assert_eq!(t.nspid, vec![4242, 7]);
        assert!(t.exiting && !t.kernel_thread);
        assert_eq!(
            t.ns,
            vec![
                (
                    NsType::Mnt,
                    TaskNs {
                        ino: 4026532001,
                        owner: Some(4026531837),
                        parent: None
                    }
                ),
                (
                    NsType::User,
                    TaskNs {
                        ino: 4026532005,
                        owner: Some(4026531837),
                        parent: Some(4026531837)
                    }
                ),
            ]
        );
        assert_eq!(t.pid_for_children, None);
        assert_eq!(t.user_owner_uid, Some(0));
        assert_eq!(t.cgroups, vec![(0, 77), (3, (1u64 << 32) | 5)]);
        assert!(t.cgroups_complete);

        assert!(t.namespaces_stable);
        put(&mut r, rec::STATUS, STATUS_CGROUPS);
        assert!(!parse_records(&r)[0].cgroups_complete);
        assert!(parse_records(&r)[0].namespaces_stable);
        put(&mut r, rec::STATUS, STATUS_NAMESPACES);
        assert!(parse_records(&r)[0].cgroups_complete);
        assert!(!parse_records(&r)[0].namespaces_stable);
    }

    fn ns_layout(base: u32) -> NsLayout {
        NsLayout {
            in_nsproxy: Some(base),
            inum: 100,
            owner: 108,
            parent: None,
            child_reaper: None,
        }
    }

    fn layout() -> Layout {
        let pid_ns = NsLayout {
            parent: Some(200),
            child_reaper: Some(208),
            ..ns_layout(0)
        };
        Layout {
            attach_btf_id: 1,
            meta: 0,
            task: 8,
            seq: 0,
            pid: 1264,
            tgid: 1268,
            flags: 44,
            comm: 1800,
            real_parent: 1280,
            real_cred: 1820,
            nsproxy: 1840,
            thread_pid: 1300,
            cred_euid: 20,
            cred_user_ns: 136,
            pid_level: 4,
            pid_numbers: 96,
            upid_size: 16,
            upid_nr: 0,
            upid_ns: 8,
            user_owner_uid: 60,
            task_cgroups: 2600,
            cset_cgrp_links: 160,
            link_cgrp_link: 32,
            link_cgrp: 0,
            cgroup_kn: 264,
            cgroup_root: 272,
            root_hierarchy_id: 8,
            kn_id: 64,
            user: NsLayout {
                in_nsproxy: None,
                parent: Some(120),
                ..ns_layout(0)
            },
            pid_ns,
            slots: [
                Some(ns_layout(8)),
                Some(ns_layout(16)),
                Some(ns_layout(24)),
                None,
                Some(ns_layout(40)),
                None,
                Some(ns_layout(48)),
                Some(ns_layout(56)),
                Some(NsLayout {
                    in_nsproxy: Some(32),
                    ..pid_ns
                }),
                Some(ns_layout(64)),
            ],
        }
    }

    #[test]
    fn every_jump_of_the_program_lands_inside_it() {
        let code = assemble(&layout()).expect("assembles");
        assert!(code.len() < 4096, "{} instructions", code.len());
        assert_eq!(code.last().map(|i| i.code), Some(op::EXIT));
        let jumps = [
            op::JA,
            op::JEQ_IMM,
            op::JEQ_REG,
            op::JNE_IMM,
            op::JNE_REG,
            op::JLT_IMM,
        ];
        for (at, i) in code.iter().enumerate() {
            if jumps.contains(&i.code) {
                let target = at as i64 + 1 + i64::from(i.off);
                assert!(
                    target > at as i64 && (target as usize) < code.len(),
                    "jump at {at} to {target} of {}",
                    code.len()
                );
            }
        }
        // Every stack access stays within the record and the two slots below it, aligned to
        // its size.
        for i in &code {
            let dst_fp = i.regs & 0x0f == FP;
            let src_fp = i.regs >> 4 == FP;
            let size = match i.code {
                op::STX_W | op::LDX_W => 4,
                _ => 8,
            };
            let mem = matches!(i.code, op::STX_W | op::STX_DW | op::ST_DW) && dst_fp
                || matches!(i.code, op::LDX_DW | op::LDX_W) && src_fp;
            if mem {
                assert!(i.off < 0 && i64::from(i.off) >= i64::from(META), "{i:?}");
                assert_eq!(i64::from(i.off).rem_euclid(size), 0, "{i:?}");
            }
        }
        // Every probe read's destination too.
        for w in code.windows(4) {
            if w[3].code == op::CALL && w[3].imm == HELPER_PROBE_READ_KERNEL {
                let (dst, size) = (w[1].imm, w[2].imm);
                assert!(
                    dst < 0 && dst >= i32::from(SCRATCH) && dst + size <= 0,
                    "{w:?}"
                );
            }
        }
    }

    #[test]
    fn offsets_beyond_a_load_fall_back_to_proc() {
        let mut l = layout();
        assert!(l.check_offsets().is_ok());
        l.nsproxy = 40_000;
        assert!(matches!(l.check_offsets(), Err(IterError::Layout(_))));
    }
}
