//! The process cache kept between passes: each process packed, the parts many processes share
//! kept once.

use super::schedule::stagger;
use super::*;

/// A process as kept between passes: what deciding whether to read it again needs, and the
/// process itself, packed.
///
/// Memory left untouched for a second can be slow to touch again: on the benchmark machine about
/// 10 µs a page (the host reclaims what a guest does not use), which made copying 4,500 processes
/// kept as [`Process`] values (seven heap blocks each, scattered) cost more than everything else
/// in a pass. So a pass works on one array of these, and the parts that many processes share
/// (comm, command line, namespaces, cgroups) are kept once ([`Interner`]): building the
/// snapshot then reads a few hundred pages instead of thousands.
pub(super) struct CachedProcess {
    pub(super) pid: i32,
    pub(super) ppid: i32,
    /// Inode of /proc/PID when the process was read: with the PID, its identity.
    pub(super) ino: u64,
    /// The pass that first read this process; 0 for processes found by a full pass (they are not
    /// young).
    pub(super) born: u64,
    /// The pass by which it must be read again.
    pub(super) due: u64,
    /// The last pass that found it new or changed (see [`Collector::recycle`]).
    pub(super) changed: u64,
    /// Turns of the rolling slice since the last full read (where only its cgroups were read,
    /// because it had not run).
    pub(super) idle_turns: u8,
    /// Some file of it could not be read for lack of permission.
    pub(super) denied: bool,
    pub(super) kernel_thread: bool,
    pub(super) uid: u32,
    /// From /proc/PID/schedstat, read before the rest of the last full read.
    pub(super) stamp: Option<procfs::RunStamp>,
    /// [`procfs::content_hash`] of /proc/PID/cgroup as last read.
    pub(super) cgroup_hash: u64,
    pub(super) nspid: Nspid,
    pub(super) comm: Arc<str>,
    pub(super) cmdline: Arc<[String]>,
    pub(super) ns: Arc<NsRecord>,
    pub(super) cgroups: Arc<procfs::CgroupPaths>,
}

/// NSpid, without a heap block for the usual depths.
pub(super) enum Nspid {
    Inline { len: u8, ids: [i32; 4] },
    Long(Box<[i32]>),
}

impl Nspid {
    fn new(ids: &[i32]) -> Nspid {
        let mut inline = [0; 4];
        match inline.get_mut(..ids.len()) {
            Some(head) => {
                head.copy_from_slice(ids);
                Nspid::Inline {
                    len: ids.len() as u8,
                    ids: inline,
                }
            }
            None => Nspid::Long(ids.into()),
        }
    }

    pub(super) fn as_slice(&self) -> &[i32] {
        match self {
            Nspid::Inline { len, ids } => ids.get(..usize::from(*len)).unwrap_or(&[]),
            Nspid::Long(ids) => ids,
        }
    }
}

/// A process's namespaces, as shared by every process in the same ones.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct NsRecord {
    pub(super) ns: BTreeMap<NsType, NsId>,
    pub(super) pid_for_children: Option<NsId>,
    pub(super) time_for_children: Option<NsId>,
}

/// One copy of each comm, command line, namespace set and cgroup set in use.
#[derive(Default)]
pub(super) struct Interner {
    comms: HashSet<Arc<str>>,
    cmdlines: HashSet<Arc<[String]>>,
    ns: HashSet<Arc<NsRecord>>,
    pub(super) cgroups: HashSet<Arc<procfs::CgroupPaths>>,
}

impl Interner {
    fn comm(&mut self, comm: String) -> Arc<str> {
        if let Some(a) = self.comms.get(comm.as_str()) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(comm);
        self.comms.insert(a.clone());
        a
    }

    fn cmdline(&mut self, cmdline: Vec<String>) -> Arc<[String]> {
        if let Some(a) = self.cmdlines.get(cmdline.as_slice()) {
            return a.clone();
        }
        let a: Arc<[String]> = Arc::from(cmdline);
        self.cmdlines.insert(a.clone());
        a
    }

    fn ns(&mut self, record: NsRecord) -> Arc<NsRecord> {
        if let Some(a) = self.ns.get(&record) {
            return a.clone();
        }
        let a = Arc::new(record);
        self.ns.insert(a.clone());
        a
    }

    pub(super) fn cgroups(&mut self, cgroups: procfs::CgroupPaths) -> Arc<procfs::CgroupPaths> {
        if let Some(a) = self.cgroups.get(&cgroups) {
            return a.clone();
        }
        let a = Arc::new(cgroups);
        self.cgroups.insert(a.clone());
        a
    }

    /// Drop what no process uses any more.
    pub(super) fn purge(&mut self) {
        self.comms.retain(|a| Arc::strong_count(a) > 1);
        self.cmdlines.retain(|a| Arc::strong_count(a) > 1);
        self.ns.retain(|a| Arc::strong_count(a) > 1);
        self.cgroups.retain(|a| Arc::strong_count(a) > 1);
    }
}

impl CachedProcess {
    /// A process just read, packed (its count of idle turns at its [`stagger`]).
    pub(super) fn new(
        r: ProcessRead,
        born: u64,
        due: u64,
        pass: u64,
        interner: &mut Interner,
    ) -> CachedProcess {
        let p = r.process;
        CachedProcess {
            pid: p.pid,
            ppid: p.ppid,
            ino: r.ino,
            born,
            due,
            changed: pass,
            idle_turns: stagger(p.pid),
            denied: !r.denied.is_empty(),
            kernel_thread: p.kernel_thread,
            uid: p.uid,
            stamp: r.stamp,
            cgroup_hash: r.cgroup_hash,
            nspid: Nspid::new(&p.nspid),
            comm: interner.comm(p.comm),
            cmdline: interner.cmdline(p.cmdline),
            ns: interner.ns(NsRecord {
                ns: p.ns,
                pid_for_children: p.pid_for_children,
                time_for_children: p.time_for_children,
            }),
            cgroups: interner.cgroups(p.cgroups),
        }
    }

    /// Whether it describes the same process data as `other` (the shared parts compared by
    /// identity: equal contents share one copy).
    pub(super) fn same_data(&self, other: &CachedProcess) -> bool {
        self.ppid == other.ppid
            && self.uid == other.uid
            && self.kernel_thread == other.kernel_thread
            && self.nspid.as_slice() == other.nspid.as_slice()
            && Arc::ptr_eq(&self.comm, &other.comm)
            && Arc::ptr_eq(&self.cmdline, &other.cmdline)
            && Arc::ptr_eq(&self.ns, &other.ns)
            && Arc::ptr_eq(&self.cgroups, &other.cgroups)
    }

    /// What reading it again can take as known.
    pub(super) fn known(&self) -> procfs::Known<'_> {
        procfs::Known {
            ino: self.ino,
            nspid: Some(self.nspid.as_slice()).filter(|n| !n.is_empty()),
            pid_ns: self.ns.ns.get(&NsType::Pid).copied(),
            stamp: self.stamp,
            cgroup_hash: self.cgroup_hash,
            uid: self.uid,
            comm: &self.comm,
            cmdline: &self.cmdline,
        }
    }

    /// The process, for a snapshot.
    pub(super) fn process(&self) -> Process {
        Process {
            pid: self.pid,
            ppid: self.ppid,
            nspid: self.nspid.as_slice().to_vec(),
            comm: self.comm.to_string(),
            cmdline: self.cmdline.to_vec(),
            uid: self.uid,
            ns: self.ns.ns.clone(),
            pid_for_children: self.ns.pid_for_children,
            time_for_children: self.ns.time_for_children,
            cgroups: (*self.cgroups).clone(),
            kernel_thread: self.kernel_thread,
        }
    }
}
