//! Validated assignments -> file writes: which file of which hierarchy, in which order, with
//! what content, given the current values.

use super::convert::*;
use super::keys::*;
use crate::sys::parse::parse_cpu_list;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Hierarchy key ("cpu", "memory", "unified").
    pub hierarchy: String,
    pub version: u8,
    /// Control files present in the target's directory of that hierarchy.
    pub files: Vec<String>,
}

impl Place {
    fn has(&self, file: &str) -> bool {
        self.files.iter().any(|f| f == file)
    }
}

/// The current content of the files a plan needs, read from the kernel just before planning.
pub trait Current {
    /// Trimmed content of `file` in the target's directory of `hierarchy`, None when absent.
    fn get(&self, hierarchy: &str, file: &str) -> Option<String>;
    /// The parent cgroup's effective list for cpuset.cpus / cpuset.mems (what the child must stay
    /// within), None when unknown.
    fn parent_list(&self, hierarchy: &str, file: &str) -> Option<String>;
}

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    pub hierarchy: String,
    pub file: String,
    /// Exactly what is written.
    pub content: String,
    /// What the key asked, shown beside the file when they differ ("cpu.shares=2048").
    pub asked: String,
    /// Conversions and semantics worth telling ("converted cpu.shares 2048 to cpu.weight 174").
    pub notes: Vec<String>,
}

/// Turn validated assignments into file writes for a target present in `places`, in the order
/// they must be written. Errors name the key.
pub fn plan(
    assignments: &[Assignment],
    places: &[Place],
    current: &dyn Current,
) -> Result<Vec<FileWrite>, InputError> {
    let mut writes: Vec<FileWrite> = Vec::new();
    for req in assignments {
        let (place, version) = choose_place(req.key, places)?;
        let asked = format!("{}={}", req.key.name, req.raw);
        let mut push = |file: &str, content: String, notes: Vec<String>| {
            writes.push(FileWrite {
                hierarchy: place.hierarchy.clone(),
                file: file.to_string(),
                content,
                asked: asked.clone(),
                notes,
            })
        };
        let at = Target {
            place,
            version,
            all: assignments,
            current,
        };
        plan_one(req, &at, &mut push).map_err(|why| InputError::NotApplicable {
            key: req.key.name.to_string(),
            why,
        })?;
    }
    order_memory_writes(&mut writes, current);
    for place in places
        .iter()
        .filter(|p| p.version == 1 && p.has("memory.memsw.limit_in_bytes"))
    {
        check_memsw_covers_memory(&writes, place, current, assignments)?;
    }
    Ok(writes)
}

/// v1 refuses a memory + swap limit below the memory limit (EINVAL, which Docker passes on as
/// runc's two-line error): checked on the values after the set, before anything is written.
fn check_memsw_covers_memory(
    writes: &[FileWrite],
    place: &Place,
    current: &dyn Current,
    assignments: &[Assignment],
) -> Result<(), InputError> {
    let after = |file: &str| -> Option<u64> {
        match writes
            .iter()
            .find(|w| w.hierarchy == place.hierarchy && w.file == file)
        {
            Some(w) => limited_value(Some(&w.content)),
            None => limited_value(current.get(&place.hierarchy, file).as_deref()),
        }
    };
    let memsw = after("memory.memsw.limit_in_bytes");
    let memory = after("memory.limit_in_bytes");
    // Unlimited memory under a limited memory + swap counts as above it.
    let below = match (memsw, memory) {
        (Some(sw), Some(m)) => sw < m,
        (Some(_), None) => place.has("memory.limit_in_bytes"),
        _ => false,
    };
    if !below {
        return Ok(());
    }
    let show = |v: Option<u64>| v.map_or("unlimited".to_string(), human_size);
    // Name the key the admin gave: the swap one if given, else the memory one.
    let key = assignments
        .iter()
        .find(|r| r.key.knob == Knob::Swap)
        .or_else(|| assignments.iter().find(|r| r.key.knob == Knob::MemoryLimit))
        .map_or("memory.memsw.limit_in_bytes", |r| r.key.name);
    Err(InputError::NotApplicable {
        key: key.to_string(),
        why: format!(
            "memory + swap {} would be below the memory limit {} (v1 needs \
             memory.memsw.limit_in_bytes >= memory.limit_in_bytes): give both, or the swap alone \
             with memory.swap.max",
            show(memsw),
            show(memory)
        ),
    })
}

/// Where one assignment lands, and what it is planned with.
struct Target<'a> {
    place: &'a Place,
    version: u8,
    /// Every assignment of the set (a memory limit asked beside swap counts).
    all: &'a [Assignment],
    current: &'a dyn Current,
}

/// Receives the writes of one assignment: file, content, notes.
type Push<'a> = dyn FnMut(&str, String, Vec<String>) + 'a;

/// The writes of one assignment; Err says why it does not apply here.
fn plan_one(req: &Assignment, at: &Target, push: &mut Push) -> Result<(), String> {
    match (&req.value, at.version) {
        (Value::Shares(s), 1) => push("cpu.shares", s.to_string(), vec![]),
        (Value::Shares(s), _) => {
            let w = shares_to_weight(*s);
            let note = format!("converted cpu.shares {s} to cpu.weight {w} (runc/crun curve)");
            push("cpu.weight", w.to_string(), vec![note])
        }
        (Value::Weight(w), 2) => push("cpu.weight", w.to_string(), vec![]),
        (Value::Weight(w), _) => {
            let s = weight_to_shares(*w);
            let note = format!("converted cpu.weight {w} to cpu.shares {s} (runc/crun curve)");
            push("cpu.shares", s.to_string(), vec![note])
        }
        (Value::Bandwidth { quota, period }, 2) => bandwidth_v2(req, *quota, *period, at, push)?,
        (Value::Bandwidth { quota, period }, _) => bandwidth_v1(req, *quota, *period, at, push)?,
        (Value::List(list), _) => {
            let file = req.key.name;
            if let Some(parent) = at.current.parent_list(&at.place.hierarchy, file) {
                check_within_parent(file, list, &parent)?;
            }
            push(file, format_list(list), vec![])
        }
        (Value::Count(n), _) => push(
            "pids.max",
            n.map_or("max".to_string(), |n| n.to_string()),
            vec![],
        ),
        (Value::Bytes(b), _) => plan_bytes(req, *b, at, push)?,
    }
    Ok(())
}

/// A cpuset list must lie within the parent's (`parent` as the parent's file reads: its
/// cpuset.cpus / cpuset.mems on v1, the `.effective` one on v2); Err says which entry is outside.
/// The same check runs as the TUI's form is typed, from the snapshot's values.
pub fn check_within_parent(file: &str, list: &[u32], parent: &str) -> Result<(), String> {
    let Some(allowed) = parse_cpu_list(parent) else {
        return Ok(());
    };
    match list.iter().find(|c| !allowed.contains(c)) {
        Some(outside) => Err(format!(
            "{outside} is not in the parent's {file} ({})",
            if parent.trim().is_empty() {
                "empty"
            } else {
                parent.trim()
            }
        )),
        None => Ok(()),
    }
}

/// v2 cpu.max "QUOTA PERIOD".
fn bandwidth_v2(
    req: &Assignment,
    quota: Quota,
    period: Option<u64>,
    at: &Target,
    push: &mut Push,
) -> Result<(), String> {
    let cur = at
        .current
        .get(&at.place.hierarchy, "cpu.max")
        .unwrap_or_default();
    let mut f = cur.split_ascii_whitespace();
    let cur_quota = f.next().unwrap_or("max").to_string();
    let cur_period = f
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(PERIOD_DEFAULT);
    let p = period.unwrap_or(cur_period);
    let q = quota_text(quota, p, &cur_quota, "max");
    check_quota(req, &q)?;
    push("cpu.max", format!("{q} {p}"), cpus_note(quota, p));
    Ok(())
}

/// v1 cpu.cfs_quota_us and cpu.cfs_period_us, in the order the parent's bandwidth allows.
fn bandwidth_v1(
    req: &Assignment,
    quota: Quota,
    period: Option<u64>,
    at: &Target,
    push: &mut Push,
) -> Result<(), String> {
    let cur_period = at
        .current
        .get(&at.place.hierarchy, "cpu.cfs_period_us")
        .and_then(|p| p.parse().ok())
        .unwrap_or(PERIOD_DEFAULT);
    let cur_quota = at
        .current
        .get(&at.place.hierarchy, "cpu.cfs_quota_us")
        .unwrap_or_else(|| "-1".into());
    let p = period.unwrap_or(cur_period);
    let q = quota_text(quota, p, &cur_quota, "-1");
    check_quota(req, &q)?;
    // v1 checks every intermediate quota/period against the parent's bandwidth: write first
    // the file that keeps the ratio in between the lower (-1 is no limit, always allowed).
    let ratio = |q: &str, p: u64| match q.parse::<i64>() {
        Ok(q) if q >= 0 && p > 0 => q as f64 / p as f64,
        _ => 0.0,
    };
    let period_first = ratio(&cur_quota, p) <= ratio(&q, cur_period);
    let quota_write = (!matches!(quota, Quota::Keep))
        .then(|| ("cpu.cfs_quota_us", q.clone(), cpus_note(quota, p)));
    let period_write = period
        .is_some()
        .then(|| ("cpu.cfs_period_us", p.to_string(), vec![]));
    let order = if period_first {
        [period_write, quota_write]
    } else {
        [quota_write, period_write]
    };
    for (file, content, notes) in order.into_iter().flatten() {
        push(file, content, notes);
    }
    Ok(())
}

/// The quota field for `quota` with period `p`.
fn quota_text(quota: Quota, p: u64, current: &str, none: &str) -> String {
    match quota {
        Quota::Keep => current.to_string(),
        Quota::Max => none.to_string(),
        Quota::Micros(q) => q.to_string(),
        Quota::Cpus(c) => ((c * p as f64).round() as u64).to_string(),
    }
}

fn check_quota(req: &Assignment, q: &str) -> Result<(), String> {
    match q.parse::<i64>() {
        Ok(n) if n >= 0 && (n as u64) < QUOTA_MIN => Err(format!(
            "{} gives a quota of {n} us; at least {QUOTA_MIN} us",
            req.raw
        )),
        _ => Ok(()),
    }
}

fn cpus_note(quota: Quota, p: u64) -> Vec<String> {
    match quota {
        Quota::Cpus(c) => vec![format!(
            "{c} CPUs = quota {} us per period {p} us",
            (c * p as f64).round() as u64
        )],
        _ => vec![],
    }
}

fn v1_size(b: Option<u64>) -> String {
    b.map_or("-1".to_string(), |b| b.to_string())
}

fn v2_size(b: Option<u64>) -> String {
    b.map_or("max".to_string(), |b| b.to_string())
}

/// Memory sizes: the limit, memory.high, the v1 soft limit and swap, converting swap between
/// v1's memory+swap and v2's swap-alone meaning.
fn plan_bytes(
    req: &Assignment,
    bytes: Option<u64>,
    at: &Target,
    push: &mut Push,
) -> Result<(), String> {
    let (place, current) = (at.place, at.current);
    match (req.key.knob, at.version) {
        (Knob::MemoryLimit, 1) => memory_limit_v1(bytes, at, push),
        (Knob::MemoryLimit, _) => push(
            "memory.max",
            v2_size(bytes),
            usage_note(bytes, place, current, 2),
        ),
        (Knob::MemoryHigh, 2) => push("memory.high", v2_size(bytes), vec![]),
        (Knob::MemoryHigh, _) => {
            return Err(
                "cgroup v2 only, and this cgroup's memory controller is v1 (its \
                 memory.soft_limit_in_bytes is a different mechanism; set it by name)"
                    .into(),
            );
        }
        (Knob::MemorySoftLimit, 1) => push("memory.soft_limit_in_bytes", v1_size(bytes), vec![]),
        (Knob::MemorySoftLimit, _) => {
            return Err(
                "cgroup v1 only; on v2 the closest is memory.high (throttling, not reclaim \
                 priority)"
                    .into(),
            );
        }
        (Knob::Swap, 1) if req.key.name == "memory.memsw.limit_in_bytes" => {
            push("memory.memsw.limit_in_bytes", v1_size(bytes), vec![])
        }
        (Knob::Swap, 1) => swap_as_memsw(bytes, at, push)?,
        (Knob::Swap, _) if req.key.name == "memory.swap.max" => {
            push("memory.swap.max", v2_size(bytes), vec![])
        }
        (Knob::Swap, _) => memsw_as_swap(bytes, at, push)?,
        _ => return Err("no such memory file".into()),
    }
    Ok(())
}

/// v1 memory.limit_in_bytes, and the memory + swap limit that follows it.
///
/// nsview's swap rule (the same on every path: `set`, `--dry-run`, the TUI, Docker's API): a
/// memory limit given without a swap key keeps the swap amount the group has. v1's
/// memory.memsw.limit_in_bytes counts memory + swap, so it moves with the memory limit: 128M
/// memory with 256M memory + swap (128M of swap) raised to 256M memory becomes 384M memory +
/// swap. The write is planned, ordered and shown like any other. `docker update --memory` alone
/// differs: it leaves MemorySwap as it is (so the swap shrinks, to none when they become equal)
/// and refuses a memory above it; runc lifts memory + swap with an unlimited memory, as here.
/// Give memory.memsw.limit_in_bytes or memory.swap.max to choose the swap yourself.
fn memory_limit_v1(bytes: Option<u64>, at: &Target, push: &mut Push) {
    let (place, current) = (at.place, at.current);
    push(
        "memory.limit_in_bytes",
        v1_size(bytes),
        usage_note(bytes, place, current, 1),
    );
    if at.all.iter().any(|r| r.key.knob == Knob::Swap) {
        return;
    }
    let limited = |f: &str| limited_value(current.get(&place.hierarchy, f).as_deref());
    // No memory + swap limit (or no swap accounting): the swap is unlimited and stays so.
    let Some(memsw) = limited("memory.memsw.limit_in_bytes") else {
        return;
    };
    let (content, note) = match (bytes, limited("memory.limit_in_bytes")) {
        (None, _) => (
            "-1".to_string(),
            "memory + swap lifted with the memory limit (an unlimited memory cannot stay under a \
             memory + swap limit; runc does the same)"
                .to_string(),
        ),
        (Some(new), Some(old)) => {
            let swap = memsw.saturating_sub(old);
            let follows = new.saturating_add(swap);
            (
                follows.to_string(),
                format!(
                    "memory + swap follows the memory limit to keep the group's {} of swap \
                     (give memory.swap.max or memory.memsw.limit_in_bytes to change the swap)",
                    human_size(swap)
                ),
            )
        }
        // A memory + swap limit without a memory limit: it stays, raised to the memory limit
        // if below (v1 needs memory + swap >= memory).
        (Some(new), None) => (
            memsw.max(new).to_string(),
            "memory + swap kept, and at least the memory limit (v1 needs memory + swap >= \
             memory)"
                .to_string(),
        ),
    };
    if limited_value(Some(&content)) != Some(memsw) {
        push("memory.memsw.limit_in_bytes", content, vec![note]);
    }
}

/// A v1 size file's content as a limit: None for unlimited (-1, the kernel's huge sentinel) or
/// unreadable.
fn limited_value(content: Option<&str>) -> Option<u64> {
    let v: i64 = content?.trim().parse().ok()?;
    (v >= 0 && !crate::model::format::is_unlimited(v)).then_some(v as u64)
}

/// v2 swap alone -> v1 memory + swap: add the memory limit (asked now, or in place).
fn swap_as_memsw(bytes: Option<u64>, at: &Target, push: &mut Push) -> Result<(), String> {
    let memsw = match bytes {
        None => None,
        Some(swap) => {
            let limit = memory_limit_after(at.all, at.place, at.current).ok_or(
                "on v1 swap is limited together with memory (memory.memsw.limit_in_bytes = \
                 memory + swap), and this cgroup has no memory limit to add it to: set \
                 memory.limit_in_bytes too, or memory.memsw.limit_in_bytes directly",
            )?;
            Some(limit.saturating_add(swap))
        }
    };
    push(
        "memory.memsw.limit_in_bytes",
        v1_size(memsw),
        vec![
            "v1 memory.memsw.limit_in_bytes limits memory + swap, v2 memory.swap.max swap alone: \
             wrote memory limit + swap"
                .into(),
        ],
    );
    Ok(())
}

/// v1 memory + swap -> v2 swap alone: subtract the memory limit.
fn memsw_as_swap(bytes: Option<u64>, at: &Target, push: &mut Push) -> Result<(), String> {
    let swap = match bytes {
        None => None,
        Some(memsw) => {
            let limit = memory_limit_after(at.all, at.place, at.current).ok_or(
                "v2 memory.swap.max limits swap alone; converting a memory + swap size needs a \
                 memory.max: set memory.max too, or memory.swap.max directly",
            )?;
            Some(memsw.checked_sub(limit).ok_or_else(|| {
                format!(
                    "memory + swap {} is below the memory limit {}",
                    human_size(memsw),
                    human_size(limit)
                )
            })?)
        }
    };
    push(
        "memory.swap.max",
        v2_size(swap),
        vec![
            "v1 memory.memsw.limit_in_bytes limits memory + swap, v2 memory.swap.max swap alone: \
             wrote the size minus memory.max"
                .into(),
        ],
    );
    Ok(())
}

/// A memory limit below what the group uses now: v1 refuses (EBUSY) unless reclaim frees
/// enough, v2 reclaims and then OOM-kills. Said in the preview, before anything is written.
fn usage_note(
    bytes: Option<u64>,
    place: &Place,
    current: &dyn Current,
    version: u8,
) -> Vec<String> {
    let file = if version == 1 {
        "memory.usage_in_bytes"
    } else {
        "memory.current"
    };
    let usage: Option<u64> = current
        .get(&place.hierarchy, file)
        .and_then(|u| u.parse().ok());
    match (bytes, usage) {
        (Some(b), Some(u)) if b < u => vec![format!(
            "below what the group uses now ({}): {}",
            human_size(u),
            if version == 1 {
                "the kernel reclaims, and refuses (EBUSY) if it cannot free enough"
            } else {
                "the kernel reclaims, and OOM-kills processes if it cannot free enough"
            }
        )],
        _ => vec![],
    }
}

/// The memory limit in force after this set: the one asked, else the current one; None when
/// there is none.
fn memory_limit_after(all: &[Assignment], place: &Place, current: &dyn Current) -> Option<u64> {
    if let Some(r) = all.iter().find(|r| r.key.knob == Knob::MemoryLimit) {
        return match r.value {
            Value::Bytes(b) => b,
            _ => None,
        };
    }
    let file = if place.version == 1 {
        "memory.limit_in_bytes"
    } else {
        "memory.max"
    };
    let v: u64 = current.get(&place.hierarchy, file)?.parse().ok()?;
    (!crate::model::format::is_unlimited(v as i64)).then_some(v)
}

/// v1 keeps memory.memsw.limit_in_bytes >= memory.limit_in_bytes at every moment (EINVAL
/// otherwise): when both change, raise memsw first if the new memory limit exceeds the memsw in
/// place, else lower the memory limit first (what Docker does).
fn order_memory_writes(writes: &mut Vec<FileWrite>, current: &dyn Current) {
    // Memory limits last: they are the writes that can hurt (reclaim, OOM on v2) and the
    // likeliest to be refused (EBUSY), so the others are in place or rolled back before.
    let is_memory = |w: &FileWrite| {
        matches!(
            w.file.as_str(),
            "memory.limit_in_bytes" | "memory.memsw.limit_in_bytes" | "memory.max"
        )
    };
    let (mut memory, others): (Vec<FileWrite>, Vec<FileWrite>) = std::mem::take(writes)
        .into_iter()
        .partition(|w| is_memory(w));
    order_memsw(&mut memory, current);
    writes.extend(others);
    writes.extend(memory);
}

/// v1 keeps memory.memsw.limit_in_bytes >= memory.limit_in_bytes at every moment (EINVAL
/// otherwise): when both change, raise memsw first if the new memory limit exceeds the memsw in
/// place, else lower the memory limit first (what Docker does).
fn order_memsw(writes: &mut [FileWrite], current: &dyn Current) {
    let find = |w: &[FileWrite], f: &str| w.iter().position(|x| x.file == f);
    let (Some(mem), Some(sw)) = (
        find(writes, "memory.limit_in_bytes"),
        find(writes, "memory.memsw.limit_in_bytes"),
    ) else {
        return;
    };
    let as_limit = |s: &str| -> u64 {
        match s.parse::<i64>() {
            Ok(n) if n >= 0 => n as u64,
            _ => u64::MAX,
        }
    };
    let new_mem = as_limit(&writes[mem].content);
    let cur_sw = current
        .get(&writes[sw].hierarchy, "memory.memsw.limit_in_bytes")
        .map_or(u64::MAX, |s| as_limit(&s));
    let memsw_first = new_mem > cur_sw;
    if memsw_first != (sw < mem) {
        writes.swap(mem, sw);
    }
}

/// Pick the hierarchy for `key`: the one whose version has this file name, else the other
/// version's file for the same knob (a v2 name on a v1 cgroup and the other way round).
fn choose_place<'a>(key: &KeyDef, places: &'a [Place]) -> Result<(&'a Place, u8), InputError> {
    let file_on = |p: &Place| -> Option<&'static str> {
        if key.versions.has(p.version) {
            return Some(key.name);
        }
        file_for(key.knob, p.version)
    };
    // The knob's file must be present: that also proves the controller is enabled there.
    let native = places
        .iter()
        .find(|p| key.versions.has(p.version) && p.has(key.name));
    let other = places.iter().find(|p| file_on(p).is_some_and(|f| p.has(f)));
    // A knob with no file on the other version (memory.high on v1): pick a hierarchy that has the
    // controller, so that the plan can explain what that version offers instead.
    let prefix = format!("{}.", key.controller);
    let controller_only = places
        .iter()
        .find(|p| file_on(p).is_none() && p.files.iter().any(|f| f.starts_with(&prefix)));
    match native.or(other).or(controller_only) {
        Some(p) => Ok((p, p.version)),
        None => Err(InputError::NotApplicable {
            key: key.name.to_string(),
            why: format!(
                "this cgroup has no {} file in any hierarchy (is the {} controller {} here?)",
                key.name,
                key.controller,
                if places.iter().any(|p| p.version == 2) {
                    "enabled"
                } else {
                    "mounted"
                }
            ),
        }),
    }
}
