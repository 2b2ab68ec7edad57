//! CPU% and memory of each cgroup over time, for the sparklines.

use super::rows::CpuMap;
use crate::model::Snapshot;
use std::collections::{HashMap, HashSet, VecDeque};

/// Samples kept for sparklines: 2 minutes at the default interval.
pub const HISTORY: usize = 120;

/// CPU% and memory over time per cgroup (a replay adds the pids count, and the frames after
/// the cursor).
#[derive(Debug, Clone, Default)]
pub struct History {
    pub cpu: HashMap<(String, String), VecDeque<u64>>,
    pub mem: HashMap<(String, String), VecDeque<u64>>,
    /// pids.current per frame (replay only).
    pub pids: HashMap<(String, String), VecDeque<u64>>,
    /// Replay: which sample is the frame shown (the samples after it are the recording's
    /// future); live: None, the newest sample is now.
    pub cursor: Option<usize>,
}

impl History {
    fn push(map: &mut HashMap<(String, String), VecDeque<u64>>, key: (String, String), v: u64) {
        let q = map.entry(key).or_default();
        if q.len() == HISTORY {
            q.pop_front();
        }
        q.push_back(v);
    }

    pub(super) fn record(&mut self, snap: &Snapshot, cpu: &CpuMap) {
        let live: HashSet<(String, String)> = snap
            .cgroups
            .iter()
            .map(|c| (c.hierarchy.clone(), c.path.clone()))
            .collect();
        self.cpu.retain(|k, _| live.contains(k));
        self.mem.retain(|k, _| live.contains(k));
        for (k, v) in cpu {
            // Tenths of a percent, so small loads still draw.
            History::push(&mut self.cpu, k.clone(), (v * 10.0).round().max(0.0) as u64);
        }
        for c in &snap.cgroups {
            if let Some((used, _)) = crate::model::format::memory_of(c) {
                History::push(&mut self.mem, (c.hierarchy.clone(), c.path.clone()), used);
            }
        }
    }
}
