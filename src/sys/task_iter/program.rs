//! The program. Registers: r7 = task throughout, r6/r8/r9 = pointers being walked, r10 = frame.
//! The record is built on the stack at r10 - rec::BYTES and written with bpf_seq_write; the
//! iterator's meta pointer waits below it (META) until then.

use super::asm::{Asm, FP, insn, op, word_off};
use super::error::IterError;
use super::layout::{Layout, NsLayout};
use super::record::{MAX_PID_LEVEL, STATUS_CGROUPS, STATUS_NAMESPACES, rec};
use crate::sys::bpf::Insn;

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

pub(super) fn assemble(l: &Layout) -> Result<Vec<Insn>, IterError> {
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
    put_identity(&mut a, l);
    put_nsproxy(&mut a, l);
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

/// PID (in r3), PPid, flags, comm, effective UID and the user namespace (from the credentials).
/// Uses r8.
fn put_identity(a: &mut Asm, l: &Layout) {
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
    put_ns(a, l, 8, &l.user, 5);
    a.ld32(2, 8, l.user_owner_uid);
    a.put(rec::OWNER_UID, 2);
}

/// The namespaces reached through nsproxy: every type but user and pid. Uses r8 (nsproxy), r9.
fn put_nsproxy(a: &mut Asm, l: &Layout) {
    // setns, unshare and exit replace and free it without waiting for readers like this one:
    // if the task's nsproxy changed meanwhile, say so.
    a.ld64(8, 7, l.nsproxy);
    for (slot, ns) in l.slots.iter().enumerate() {
        if let Some(ns) = ns
            && let Some(off) = ns.in_nsproxy
        {
            let none = a.label();
            a.ld64(9, 8, off);
            a.jump(op::JEQ_IMM, 9, 0, 0, none);
            put_ns(a, l, 9, ns, slot);
            a.place(none);
        }
    }
    let same = a.label();
    a.ld64(2, 7, l.nsproxy);
    a.jump(op::JEQ_REG, 2, 8, 0, same);
    set_status(a, STATUS_NAMESPACES);
    a.place(same);
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
    let read_ok = |a: &mut Asm| on_read_failure(a, bad);
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
        put_cgroup_link(a, l, i, done, bad);
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

/// Record cgroup slot `i` from the link in r8 (whose list head is r6): its cgroup's kernfs id and
/// hierarchy id; then r8 = the next link. To `done` at the end of the list, to `bad` when a read
/// fails. Uses r9 (cgroup).
fn put_cgroup_link(a: &mut Asm, l: &Layout, i: usize, done: usize, bad: usize) {
    let base = rec::CG + 3 * i;
    let read_ok = |a: &mut Asm| on_read_failure(a, bad);
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

/// To `bad` unless the last bpf_probe_read_kernel succeeded (r0 = 0).
fn on_read_failure(a: &mut Asm, bad: usize) {
    a.jump(op::JNE_IMM, 0, 0, 0, bad);
}

/// bpf_probe_read_kernel(r10 + dst, size, r3); r0 = 0 on success. Clobbers r0-r5.
fn probe_read_to(a: &mut Asm, dst: i16, size: i32) {
    a.emit(insn(op::MOV64_REG, 1, FP, 0, 0));
    a.emit(insn(op::ADD64_IMM, 1, 0, 0, i32::from(dst)));
    a.emit(insn(op::MOV64_IMM, 2, 0, 0, size));
    a.emit(insn(op::CALL, 0, 0, 0, HELPER_PROBE_READ_KERNEL));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::task_iter::layout::tests::layout;

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
}
