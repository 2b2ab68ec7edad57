//! Cgroups created or removed while recording (a container started, a test cgroup made): a
//! watch on the cgroup mounts, as the live view's, so that the next pass walks the trees again
//! instead of learning of a new group only when a process turns up in it.

use crate::model::Snapshot;
use crate::sys::Roots;
use notify::{EventKind, RecursiveMode, Watcher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The watch, and whether it saw something since the last [`CgroupWatch::take_changed`].
pub struct CgroupWatch {
    _watcher: Option<notify::RecommendedWatcher>,
    changed: Arc<AtomicBool>,
}

impl CgroupWatch {
    /// Watch every hierarchy of `snap`. Fails soft: without a watch, new groups show when a
    /// process turns up in them.
    pub fn start(roots: &Roots, snap: &Snapshot) -> CgroupWatch {
        let changed = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&changed);
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(ev) = res
                && matches!(ev.kind, EventKind::Create(_) | EventKind::Remove(_))
            {
                flag.store(true, Ordering::Relaxed);
            }
        })
        .ok()
        .map(|mut w| {
            for h in &snap.hierarchies {
                let dir = roots.mount_path(std::path::Path::new(&h.mount));
                let _ = w.watch(&dir, RecursiveMode::Recursive);
            }
            w
        });
        CgroupWatch {
            _watcher: watcher,
            changed,
        }
    }

    /// True when cgroups were created or removed since the last call.
    pub fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::Relaxed)
    }
}
