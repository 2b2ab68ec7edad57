//! The record the program writes for each task, and its decoding into a [`Task`].

use crate::model::NsType;

/// Deepest pid namespace nesting (MAX_PID_NS_LEVEL in include/linux/pid_namespace.h): NSpid has
/// at most this many + 1 entries.
pub(super) const MAX_PID_LEVEL: usize = 32;

/// The namespaces of a task as the iterator reports them, in record order: the eight of
/// [`NsType::ALL`], then pid_for_children and time_for_children.
pub(super) const NS_SLOTS: usize = 10;
const SLOT_PID_FOR_CHILDREN: usize = 8;
const SLOT_TIME_FOR_CHILDREN: usize = 9;

/// Record layout, in u32 words.
pub(super) mod rec {
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
pub(super) const STATUS_CGROUPS: u32 = 1;
/// The task changed namespaces (setns, unshare, exit) while they were read.
pub(super) const STATUS_NAMESPACES: u32 = 2;

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
}
