//! What is read about namespaces beyond their members: kept while a process that held them still
//! does; bind mounts, names and interfaces re-read when new, young or due.

use super::pass::RefreshPass;
use super::schedule::{next_due, slot, young};
use super::*;
use crate::model::Interface;
use crate::sys::uts::UtsName;

/// What was read about one namespace, beyond its members.
pub(super) struct NsState {
    born: u64,
    /// The pass by which its type-specific data (names, interfaces, bind mounts) must be read
    /// again.
    due: u64,
    /// UTS: `None` until read; `Some(None)` when reading failed (no names, as in a full pass).
    uts: Option<Option<UtsName>>,
    /// Net: as `uts`.
    interfaces: Option<Option<Vec<Interface>>>,
    /// Mnt: the last read of its mountinfo, with the inode of the /proc/PID it was read through.
    mountinfo: Option<(MountinfoRead, u64)>,
}

impl NsState {
    fn new(born: u64, due: u64) -> NsState {
        NsState {
            born,
            due,
            uts: None,
            interfaces: None,
            mountinfo: None,
        }
    }
}

/// What was read of some namespaces, by inode.
type NsReads<T> = HashMap<u64, SysResult<T>>;

impl RefreshPass {
    /// The mountinfo of the mount namespaces that are new, young, due, or the host's, read
    /// through their lowest PID. Not through whichever process the threads met first:
    /// bind-mounted namespaces are opened through the reader's /proc/PID/root, and a process read
    /// because it is new (a kworker, a short-lived command) may be gone by then.
    fn read_mountinfo(&mut self, roots: &Roots) {
        let pass = self.pass;
        let host_mnt = self.snap.host_ns.get(&NsType::Mnt).map(|id| id.ino);
        self.live.host_mnt = host_mnt;
        let mut mnt_read = 0;
        let mut buf = procfs::ReadBuf::default();
        let entries = &self.live.entries;
        let ino_of = |pid: i32| {
            entries
                .binary_search_by_key(&pid, |e| e.pid)
                .ok()
                .and_then(|i| entries.get(i))
                .map(|e| e.ino)
        };
        for (key, ns) in self
            .snap
            .namespaces
            .range((NsType::Mnt, 0)..=(NsType::Mnt, u64::MAX))
        {
            let Some(st) = self.live.ns.get_mut(key) else {
                continue;
            };
            // Still the same process, still in this mount namespace.
            let reader_same = st.mountinfo.as_ref().is_some_and(|(m, pid_ino)| {
                ino_of(m.pid) == Some(*pid_ino) && ns.pids.binary_search(&m.pid).is_ok()
            });
            let needed =
                !reader_same || young(st.born, pass) || st.due <= pass || Some(key.1) == host_mnt;
            if !needed {
                continue;
            }
            let Some(pid) = ns.lowest_pid() else {
                continue;
            };
            let Some(pid_ino) = ino_of(pid) else {
                continue;
            };
            let Ok(dir) = procfs::ProcDir::open(roots, pid) else {
                continue;
            };
            let found = match dir.read_nsfs_mounts(&mut buf) {
                Ok(lines) => Some(mounts::nsfs_bind_mounts(&lines)),
                Err(e) if e.is_permission() => None,
                // Gone meanwhile: keep what was read before, try again next pass.
                Err(_) => continue,
            };
            mnt_read += 1;
            st.due = next_due(pass, slot(key.1));
            st.mountinfo = Some((MountinfoRead { pid, found }, pid_ino));
        }
        self.stats.mountinfo_read = mnt_read;
    }

    /// The nsfs bind mounts as last read in every mount namespace (with the PID they were read
    /// through), and how many mount namespaces' mountinfo was denied. A change of the list
    /// since the last pass is a change of what was read about namespaces.
    fn bind_mounts_found(&mut self) -> (Vec<(i32, mounts::NsBindMount)>, usize) {
        let mut bind_mounts = Vec::new();
        let mut mountinfo_denied = 0;
        for key in self
            .snap
            .namespaces
            .range((NsType::Mnt, 0)..=(NsType::Mnt, u64::MAX))
            .map(|(k, _)| k)
        {
            if let Some((m, _)) = self.live.ns.get(key).and_then(|st| st.mountinfo.as_ref()) {
                match &m.found {
                    Some(found) => bind_mounts.extend(found.iter().map(|b| (m.pid, b.clone()))),
                    None => mountinfo_denied += 1,
                }
            }
        }
        let mut bind_list: Vec<(NsKey, String)> = bind_mounts
            .iter()
            .map(|(_, b)| ((b.ns_type, b.ino), b.mount_point.clone()))
            .collect();
        bind_list.sort_unstable();
        bind_list.dedup();
        if bind_list != self.live.bind_list {
            self.live.ns_changed = self.pass;
            self.live.bind_list = bind_list;
        }
        (bind_mounts, mountinfo_denied)
    }

    /// Names and interfaces just read into what is kept (when due again: a read that failed
    /// for another reason than permission, the process or bind mount it went through gone, is
    /// tried again next pass), then into the snapshot as last read; namespaces given back already
    /// have them when nothing was read differently since.
    pub(super) fn store_names_and_interfaces(
        &mut self,
        uts_names: NsReads<UtsName>,
        interfaces: NsReads<Vec<Interface>>,
    ) {
        let pass = self.pass;
        let due_after = |err: Option<&crate::sys::SysError>, ino: u64| match err {
            Some(e) if !e.is_permission() => pass + 1,
            _ => next_due(pass, slot(ino)),
        };
        for (ino, res) in uts_names {
            if let Some(st) = self.live.ns.get_mut(&(NsType::Uts, ino)) {
                st.due = due_after(res.as_ref().err(), ino);
                let read = Some(res.ok());
                if st.uts != read {
                    st.uts = read;
                    self.live.ns_changed = pass;
                }
            }
        }
        for (ino, res) in interfaces {
            if let Some(st) = self.live.ns.get_mut(&(NsType::Net, ino)) {
                st.due = due_after(res.as_ref().err(), ino);
                let read = Some(res.ok());
                if st.interfaces != read {
                    st.interfaces = read;
                    self.live.ns_changed = pass;
                }
            }
        }
        if !self.reuse_ns || self.live.ns_changed > self.recycled_pass {
            for (key, ns) in self.snap.namespaces.iter_mut() {
                let Some(st) = self.live.ns.get(key) else {
                    continue;
                };
                if let Some(uts) = &st.uts {
                    ns.hostname = uts.as_ref().map(|n| n.hostname.clone());
                    ns.domainname = uts.as_ref().map(|n| n.domainname.clone());
                }
                if let Some(ifs) = &st.interfaces {
                    ns.interfaces = ifs.clone();
                }
            }
        }
    }
}

impl Collector {
    /// Namespaces: keep what was read about those still held by a process that held them in the
    /// previous pass; start afresh for the others.
    pub(super) fn renew_namespaces(
        &mut self,
        p: &mut RefreshPass,
        read_relations: Vec<(NsKey, NsRelations)>,
    ) {
        let (born, pass) = (p.ns_born(), p.pass);
        for (key, ns) in &p.snap.namespaces {
            let carried = ns
                .pids
                .iter()
                .any(|pid| p.moved.get(pid).is_none_or(|kept| kept.contains(key)));
            let fresh = || NsState::new(born, next_due(pass, slot(key.1)));
            match p.live.ns.get_mut(key) {
                Some(_) if carried => {}
                // Its inode may be a freed namespace's: what was read about that one is wrong.
                Some(st) => {
                    self.relations.remove(key);
                    *st = fresh();
                }
                None => {
                    self.relations.remove(key);
                    p.live.ns.insert(*key, fresh());
                }
            }
        }
        self.relations.extend(read_relations);
    }

    /// nsfs bind mounts, from the mountinfo of the mount namespaces that need it (see
    /// [`RefreshPass::read_mountinfo`]), into the snapshot; then forget the namespaces that are
    /// gone. Returns how to open the namespaces held by bind mounts, and the network namespaces
    /// that are gone.
    pub(super) fn refresh_bind_mounts(
        &self,
        p: &mut RefreshPass,
    ) -> (HashMap<NsKey, NsTarget>, HashSet<u64>) {
        p.read_mountinfo(&self.roots);
        let (bind_mounts, mountinfo_denied) = p.bind_mounts_found();
        // The namespaces given back hold the bind mounts of their pass: a bind mount added or
        // removed since (a namespace held only by it comes or goes) means building them again.
        if p.reuse_ns && p.live.ns_changed > p.recycled_pass {
            p.reuse_ns = false;
            p.namespaces_from_entries();
        }
        let bind_openers = self.add_bind_mounts(&mut p.snap, bind_mounts);
        // Namespaces held only by bind mounts: the same namespace as long as it stays listed.
        let (born, pass) = (p.ns_born(), p.pass);
        for key in p.snap.namespaces.keys() {
            p.live
                .ns
                .entry(*key)
                .or_insert_with(|| NsState::new(born, next_due(pass, slot(key.1))));
        }
        // Forget the namespaces that are gone; network namespaces among them take the links
        // that had their peer there with them.
        let mut gone_net: HashSet<u64> = HashSet::new();
        let namespaces = &p.snap.namespaces;
        p.live.ns.retain(|key, _| {
            let present = namespaces.contains_key(key);
            if !present && key.0 == NsType::Net {
                gone_net.insert(key.1);
            }
            present
        });
        if mountinfo_denied > 0 {
            p.warnings.push(mountinfo_warning(mountinfo_denied));
        }
        (bind_openers, gone_net)
    }

    /// Names and interfaces of the namespaces that are new, young or due (joined on helper
    /// threads); relations of new namespaces meanwhile.
    pub(super) fn read_names_and_interfaces(
        &mut self,
        p: &mut RefreshPass,
        bind_openers: &HashMap<NsKey, NsTarget>,
        gone_net: &HashSet<u64>,
    ) -> (NsReads<UtsName>, NsReads<Vec<Interface>>) {
        let (uts_targets, net_targets) = self.ns_targets_due(p, bind_openers, gone_net);
        let (uts_names, interfaces) = std::thread::scope(|s| {
            let uts =
                (!uts_targets.is_empty()).then(|| s.spawn(|| uts::read_uts_names(&uts_targets)));
            let net = (!net_targets.is_empty())
                .then(|| s.spawn(|| net::read_netns_interfaces(&net_targets)));
            // Relations never change: namespaces given back have theirs already, unless one
            // could not be opened then (tried again here).
            if p.opts.relations && !(p.reuse_ns && self.relations.len() == p.snap.namespaces.len())
            {
                self.add_relations(&mut p.snap, bind_openers);
            }
            (
                uts.and_then(|h| h.join().ok()).unwrap_or_default(),
                net.and_then(|h| h.join().ok()).unwrap_or_default(),
            )
        });
        // A link whose peer namespace was not among those read stays unresolved: then read them
        // all, as a full pass does (a new veth pair whose other end is in a namespace read
        // earlier, such as a container's eth0 and the host's new veth).
        let all_net = p
            .snap
            .namespaces
            .range((NsType::Net, 0)..=(NsType::Net, u64::MAX))
            .count();
        let unresolved = interfaces.values().any(|r| {
            r.as_ref().is_ok_and(|ifs| {
                ifs.iter()
                    .any(|i| i.peer_ifindex.is_some() && i.peer_netns.is_none())
            })
        });
        let interfaces = if unresolved && net_targets.len() < all_net {
            p.stats.net_all = true;
            let all = targets_of(&self.roots, &p.snap, bind_openers, NsType::Net, |_| true);
            net::read_netns_interfaces(&all)
        } else {
            interfaces
        };
        p.stats.uts_read = uts_names.len();
        p.stats.net_read = interfaces.len();
        (uts_names, interfaces)
    }

    /// The UTS and network namespaces to read in this pass: new, young or due (and for network
    /// namespaces, see [`net_to_read`]).
    fn ns_targets_due(
        &self,
        p: &RefreshPass,
        bind_openers: &HashMap<NsKey, NsTarget>,
        gone_net: &HashSet<u64>,
    ) -> (Vec<NsTarget>, Vec<NsTarget>) {
        let pass = p.pass;
        let due = |st: &NsState| young(st.born, pass) || st.due <= pass;
        let uts_targets = if p.opts.uts {
            targets_of(&self.roots, &p.snap, bind_openers, NsType::Uts, |ns| {
                p.live
                    .ns
                    .get(&ns.key())
                    .is_some_and(|st| st.uts.is_none() || due(st))
            })
        } else {
            Vec::new()
        };
        let net_wanted: HashSet<u64> = if p.opts.net {
            net_to_read(&p.snap, &p.live.ns, gone_net, due)
        } else {
            HashSet::new()
        };
        let net_targets = targets_of(&self.roots, &p.snap, bind_openers, NsType::Net, |ns| {
            net_wanted.contains(&ns.inode)
        });
        (uts_targets, net_targets)
    }
}

/// The network namespaces to read in this pass: those never read, young or due, those with a link
/// whose peer namespace vanished, and the namespaces their known links lead to (a veth is
/// resolved only when both ends are read together).
fn net_to_read(
    snap: &Snapshot,
    states: &HashMap<NsKey, NsState>,
    gone_net: &HashSet<u64>,
    due: impl Fn(&NsState) -> bool,
) -> HashSet<u64> {
    let mut wanted: HashSet<u64> = HashSet::new();
    for key in snap
        .namespaces
        .range((NsType::Net, 0)..=(NsType::Net, u64::MAX))
        .map(|(k, _)| k)
    {
        let Some(st) = states.get(key) else {
            continue;
        };
        let peer_gone = || {
            matches!(&st.interfaces, Some(Some(ifs))
                if ifs.iter().any(|i| i.peer_netns.is_some_and(|p| gone_net.contains(&p))))
        };
        if st.interfaces.is_none() || due(st) || peer_gone() {
            wanted.insert(key.1);
        }
    }
    let peers: Vec<u64> = wanted
        .iter()
        .filter_map(|ino| states.get(&(NsType::Net, *ino)))
        .filter_map(|st| match &st.interfaces {
            Some(Some(ifs)) => Some(ifs.iter().filter_map(|i| i.peer_netns)),
            _ => None,
        })
        .flatten()
        .filter(|p| snap.namespaces.contains_key(&(NsType::Net, *p)))
        .collect();
    wanted.extend(peers);
    wanted
}
