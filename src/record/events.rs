//! What happened between two frames, for the replay's timeline: containers that started or
//! stopped, limits that changed, OOM kills and limit hits counted, and changes made through
//! nsview (its journal).

use super::Pairs;
use crate::model::CgValue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    ContainerStarted,
    ContainerStopped,
    LimitChanged,
    /// memory.events oom_kill (v2) or memory.oom_control oom_kill (v1) went up.
    Oom,
    /// memory.failcnt (v1) or memory.events max (v2) went up: the limit was hit.
    LimitHit,
    /// An entry of nsview's journal: a change made through nsview.
    Change,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::ContainerStarted => "container-started",
            EventKind::ContainerStopped => "container-stopped",
            EventKind::LimitChanged => "limit-changed",
            EventKind::Oom => "oom",
            EventKind::LimitHit => "limit-hit",
            EventKind::Change => "change",
        }
    }
}

/// One event on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    /// What it is about: a container's name, a cgroup's `hierarchy:path`, a journal target.
    pub subject: String,
    /// What happened to it ("memory.limit_in_bytes 104857600 -> 209715200").
    pub detail: String,
}

/// Read a frame's events block.
pub fn from_json(bytes: &[u8]) -> serde_json::Result<Vec<Event>> {
    serde_json::from_slice(bytes)
}

/// The events seen between two frames' snapshots (not counting the journal's).
pub fn between(pairs: &Pairs<'_>) -> Vec<Event> {
    let (old, new) = (pairs.old, pairs.new);
    let mut out = Vec::new();
    for c in &new.containers {
        if !pairs.old_containers.contains_key(c.key()) {
            out.push(Event {
                kind: EventKind::ContainerStarted,
                subject: c.name.clone(),
                detail: container_detail(c),
            });
        }
    }
    for c in &old.containers {
        if !pairs.new_containers.contains(c.key()) {
            out.push(Event {
                kind: EventKind::ContainerStopped,
                subject: c.name.clone(),
                detail: container_detail(c),
            });
        }
    }
    for cg in &new.cgroups {
        let Some(before) = pairs.old_cgroup(cg) else {
            continue;
        };
        let subject = format!("{}:{}", cg.hierarchy, cg.path);
        for (file, v) in &cg.limits {
            if let Some(was) = before.limits.get(file).filter(|was| *was != v) {
                out.push(Event {
                    kind: EventKind::LimitChanged,
                    subject: subject.clone(),
                    detail: format!(
                        "{file} {} -> {}",
                        value_text(file, was),
                        value_text(file, v)
                    ),
                });
            }
        }
        for (kind, file, key, what) in COUNTERS {
            let now = counter(&cg.usage, file, *key);
            let was = counter(&before.usage, file, *key);
            if let (Some(now), Some(was)) = (now, was)
                && now > was
            {
                out.push(Event {
                    kind: *kind,
                    subject: subject.clone(),
                    detail: format!("{what} +{} ({file}{})", now - was, key_text(key)),
                });
            }
        }
    }
    out
}

/// Counters whose rise is an event: (kind, file, key in a keyed file, what it counts).
const COUNTERS: &[(EventKind, &str, Option<&str>, &str)] = &[
    (
        EventKind::Oom,
        "memory.events",
        Some("oom_kill"),
        "OOM kills",
    ),
    (
        EventKind::Oom,
        "memory.oom_control",
        Some("oom_kill"),
        "OOM kills",
    ),
    (EventKind::LimitHit, "memory.failcnt", None, "limit hits"),
    (
        EventKind::LimitHit,
        "memory.events",
        Some("max"),
        "limit hits",
    ),
];

fn counter(usage: &BTreeMap<String, CgValue>, file: &str, key: Option<&str>) -> Option<i64> {
    match (usage.get(file)?, key) {
        (CgValue::Int(i), None) => Some(*i),
        (CgValue::Map(m), Some(k)) => m.get(k).copied(),
        _ => None,
    }
}

fn key_text(key: &Option<&str>) -> String {
    key.map(|k| format!(" {k}")).unwrap_or_default()
}

/// A value as the JSON contract gives it ("max" for v1's no-limit sentinels), without quotes.
fn value_text(file: &str, v: &CgValue) -> String {
    match &*crate::model::limit_json(file, v) {
        CgValue::Text(t) => t.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn container_detail(c: &crate::model::containers::Container) -> String {
    let runtime = c.runtime.map_or("isolation group", |r| r.name());
    match &c.image {
        Some(image) => format!("{runtime}, {image}, init {}", c.init_pid),
        None => format!("{runtime}, init {}", c.init_pid),
    }
}
