//! Layout: where the program finds each value, from the kernel's BTF.

use super::error::IterError;
use super::record::NS_SLOTS;
use crate::sys::btf::{Btf, Field, FieldKind};

/// How to reach one namespace from `struct nsproxy` (or from the cred / the pid).
#[derive(Debug, Clone, Copy)]
pub(super) struct NsLayout {
    /// Offset of the pointer in `struct nsproxy` (None for user and pid, reached elsewhere).
    pub(super) in_nsproxy: Option<u32>,
    /// Offset of `ns.inum` (u32) in the namespace's struct.
    pub(super) inum: u32,
    /// Offset of the `user_ns` pointer (for a user namespace: `parent`).
    pub(super) owner: u32,
    /// Offset of the `parent` pointer (pid and user namespaces).
    pub(super) parent: Option<u32>,
    /// pid namespaces only: `child_reaper`, whose absence makes pid_for_children unreadable.
    pub(super) child_reaper: Option<u32>,
}

#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub(super) attach_btf_id: u32,
    pub(super) meta: u32,
    pub(super) task: u32,
    pub(super) seq: u32,
    pub(super) pid: u32,
    pub(super) tgid: u32,
    pub(super) flags: u32,
    pub(super) comm: u32,
    pub(super) real_parent: u32,
    pub(super) real_cred: u32,
    pub(super) nsproxy: u32,
    pub(super) thread_pid: u32,
    pub(super) cred_euid: u32,
    pub(super) cred_user_ns: u32,
    pub(super) pid_level: u32,
    pub(super) pid_numbers: u32,
    pub(super) upid_size: u32,
    pub(super) upid_nr: u32,
    pub(super) upid_ns: u32,
    pub(super) user_owner_uid: u32,
    pub(super) task_cgroups: u32,
    pub(super) cset_cgrp_links: u32,
    pub(super) link_cgrp_link: u32,
    pub(super) link_cgrp: u32,
    pub(super) cgroup_kn: u32,
    pub(super) cgroup_root: u32,
    pub(super) root_hierarchy_id: u32,
    pub(super) kn_id: u32,
    /// The user namespace's own layout (also the owner of every other type).
    pub(super) user: NsLayout,
    /// The pid namespace layout (task's own, via struct pid, and pid_for_children).
    pub(super) pid_ns: NsLayout,
    /// Per record slot: how to reach it from nsproxy. None = this kernel lacks the type.
    pub(super) slots: [Option<NsLayout>; NS_SLOTS],
}

impl Layout {
    pub(super) fn find(btf: &Btf) -> Result<Layout, IterError> {
        let m = Members(btf);
        let attach_btf_id = btf
            .func_id("bpf_iter_task")
            .ok_or_else(|| missing("bpf_iter_task (no BPF task iterator)"))?;
        let (user, pid_ns, slots) = m.namespaces()?;
        let upid = btf
            .struct_id("upid")
            .and_then(|id| btf.size_of(id))
            .ok_or_else(|| missing("struct upid"))?;
        let layout = Layout {
            attach_btf_id,
            meta: m.ptr("bpf_iter__task", &["meta"])?,
            task: m.ptr("bpf_iter__task", &["task"])?,
            seq: m.ptr("bpf_iter_meta", &["seq"])?,
            pid: m.int32("task_struct", &["pid"])?,
            tgid: m.int32("task_struct", &["tgid"])?,
            flags: m.int32("task_struct", &["flags"])?,
            comm: m.comm()?,
            real_parent: m.ptr("task_struct", &["real_parent"])?,
            real_cred: m.ptr("task_struct", &["real_cred"])?,
            nsproxy: m.ptr("task_struct", &["nsproxy"])?,
            thread_pid: m.ptr("task_struct", &["thread_pid"])?,
            cred_euid: m.int32("cred", &["euid", "val"])?,
            cred_user_ns: m.ptr("cred", &["user_ns"])?,
            pid_level: m.int32("pid", &["level"])?,
            pid_numbers: m.field("pid", &["numbers"], FieldKind::Array)?.offset,
            upid_size: upid,
            upid_nr: m.int32("upid", &["nr"])?,
            upid_ns: m.ptr("upid", &["ns"])?,
            user_owner_uid: m.int32("user_namespace", &["owner", "val"])?,
            task_cgroups: m.ptr("task_struct", &["cgroups"])?,
            cset_cgrp_links: m
                .field("css_set", &["cgrp_links"], FieldKind::Struct)?
                .offset,
            link_cgrp_link: m
                .field("cgrp_cset_link", &["cgrp_link"], FieldKind::Struct)?
                .offset,
            link_cgrp: m.ptr("cgrp_cset_link", &["cgrp"])?,
            cgroup_kn: m.ptr("cgroup", &["kn"])?,
            cgroup_root: m.ptr("cgroup", &["root"])?,
            root_hierarchy_id: m.int32("cgroup_root", &["hierarchy_id"])?,
            kn_id: m.kernfs_node_id()?,
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

/// A member of this kernel's BTF is missing (or not as the program reads it).
fn missing(what: &str) -> IterError {
    IterError::Layout(what.to_string())
}

/// Member offsets from the kernel's BTF, failing with the member's name.
struct Members<'a>(&'a Btf);

impl Members<'_> {
    fn field(&self, s: &str, path: &[&str], kind: FieldKind) -> Result<Field, IterError> {
        self.0
            .field(s, path)
            .filter(|f| f.kind == kind)
            .ok_or_else(|| missing(&format!("{s}.{}", path.join("."))))
    }

    fn int32(&self, s: &str, path: &[&str]) -> Result<u32, IterError> {
        let f = self.field(s, path, FieldKind::Int)?;
        if f.size != 4 {
            return Err(missing(&format!("{s}.{} as 32 bits", path.join("."))));
        }
        Ok(f.offset)
    }

    fn ptr(&self, s: &str, path: &[&str]) -> Result<u32, IterError> {
        Ok(self.field(s, path, FieldKind::Ptr)?.offset)
    }

    /// task_struct.comm, at least 16 bytes.
    fn comm(&self) -> Result<u32, IterError> {
        let f = self.field("task_struct", &["comm"], FieldKind::Array)?;
        if f.size < 16 {
            return Err(missing("task_struct.comm of 16 bytes"));
        }
        Ok(f.offset)
    }

    /// kernfs_node.id, 64 bits.
    fn kernfs_node_id(&self) -> Result<u32, IterError> {
        let f = self.field("kernfs_node", &["id"], FieldKind::Int)?;
        if f.size != 8 {
            return Err(missing("kernfs_node.id as 64 bits"));
        }
        Ok(f.offset)
    }

    /// A namespace struct `s` whose owning user namespace is member `owner`.
    fn ns_of(&self, s: &str, owner: &str) -> Result<NsLayout, IterError> {
        Ok(NsLayout {
            in_nsproxy: None,
            inum: self.int32(s, &["ns", "inum"])?,
            owner: self.ptr(s, &[owner])?,
            parent: None,
            child_reaper: None,
        })
    }

    /// The user namespace's layout, the pid namespace's, and per record slot how to reach it
    /// from nsproxy.
    fn namespaces(&self) -> Result<(NsLayout, NsLayout, [Option<NsLayout>; NS_SLOTS]), IterError> {
        let user = NsLayout {
            parent: Some(self.ptr("user_namespace", &["parent"])?),
            ..self.ns_of("user_namespace", "parent")?
        };
        let pid_ns = NsLayout {
            parent: Some(self.ptr("pid_namespace", &["parent"])?),
            child_reaper: Some(self.ptr("pid_namespace", &["child_reaper"])?),
            ..self.ns_of("pid_namespace", "user_ns")?
        };
        // A namespace type this kernel was built without has no nsproxy member: its slot stays
        // empty, as /proc/PID/ns would have no link.
        let via = |member: &str, base: Result<NsLayout, IterError>| -> Option<NsLayout> {
            let off = self.ptr("nsproxy", &[member]).ok()?;
            base.ok().map(|l| NsLayout {
                in_nsproxy: Some(off),
                ..l
            })
        };
        let slots = [
            via("mnt_ns", self.ns_of("mnt_namespace", "user_ns")),
            via("uts_ns", self.ns_of("uts_namespace", "user_ns")),
            via("ipc_ns", self.ns_of("ipc_namespace", "user_ns")),
            // The task's own pid namespace comes from its struct pid (filled by the NSpid loop).
            None,
            via("net_ns", self.ns_of("net", "user_ns")),
            // The user namespace comes from the task's credentials.
            None,
            via("cgroup_ns", self.ns_of("cgroup_namespace", "user_ns")),
            via("time_ns", self.ns_of("time_namespace", "user_ns")),
            via("pid_ns_for_children", Ok(pid_ns)),
            via(
                "time_ns_for_children",
                self.ns_of("time_namespace", "user_ns"),
            ),
        ];
        Ok((user, pid_ns, slots))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn ns_layout(base: u32) -> NsLayout {
        NsLayout {
            in_nsproxy: Some(base),
            inum: 100,
            owner: 108,
            parent: None,
            child_reaper: None,
        }
    }

    pub(in crate::sys::task_iter) fn layout() -> Layout {
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
    fn offsets_beyond_a_load_fall_back_to_proc() {
        let mut l = layout();
        assert!(l.check_offsets().is_ok());
        l.nsproxy = 40_000;
        assert!(matches!(l.check_offsets(), Err(IterError::Layout(_))));
    }
}
