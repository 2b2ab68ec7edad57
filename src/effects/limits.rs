//! What `nsview set` and the TUI's edit form accept, checked before anything is written: the
//! keys (kernel file names of either cgroup version), their value syntax and ranges, which file
//! of which hierarchy a key lands in, and the text written there. Pure: the effects layer
//! ([`super::cgroup`]) reads the current values and does the writes.
//!
//! Facts (cgroup-v1/*.rst, cgroup-v2.rst, runc's libcontainer/cgroups):
//! - cpu.shares 2..262144 (v1, default 1024) and cpu.weight 1..10000 (v2, default 100) are the
//!   same knob on two scales; across versions nsview converts with the curve runc and crun use
//!   today (see [`shares_to_weight`]).
//! - CPU bandwidth: v1 cpu.cfs_quota_us (-1 = none) + cpu.cfs_period_us, v2 cpu.max
//!   "QUOTA PERIOD" or "max PERIOD"; period 1000..1000000 us, quota at least 1000 us.
//! - Memory: v1 memory.limit_in_bytes / v2 memory.max; v2 memory.high; swap: v1
//!   memory.memsw.limit_in_bytes limits memory + swap, v2 memory.swap.max limits swap alone.
//! - Sizes are read as Docker reads them (go-units RAMInBytes): base 1024, `128m` = 134217728.

use crate::sys::parse::parse_cpu_list;
use std::fmt;

/// Which cgroup version(s) have a file of this name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versions {
    V1,
    V2,
    Both,
}

impl Versions {
    pub fn has(self, version: u8) -> bool {
        matches!(
            (self, version),
            (Versions::Both, _) | (Versions::V1, 1) | (Versions::V2, 2)
        )
    }
}

/// The knob a key turns; keys of the two versions that turn the same knob share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Knob {
    CpuWeight,
    CpuBandwidth,
    CpusetCpus,
    CpusetMems,
    MemoryLimit,
    MemoryHigh,
    MemorySoftLimit,
    Swap,
    PidsMax,
}

/// One key `nsview set` accepts.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyDef {
    /// Kernel file name.
    pub name: &'static str,
    pub versions: Versions,
    /// The controller whose hierarchy (v1) or whose files (v2) hold it.
    pub controller: &'static str,
    pub knob: Knob,
    /// The accepted form, for error messages and the edit form.
    pub form: &'static str,
}

/// Every key, in the order the edit form shows them.
pub const KEYS: &[KeyDef] = &[
    KeyDef {
        name: "cpu.shares",
        versions: Versions::V1,
        controller: "cpu",
        knob: Knob::CpuWeight,
        form: "an integer 2..262144 (default 1024)",
    },
    KeyDef {
        name: "cpu.weight",
        versions: Versions::V2,
        controller: "cpu",
        knob: Knob::CpuWeight,
        form: "an integer 1..10000 (default 100)",
    },
    KeyDef {
        name: "cpu.max",
        versions: Versions::V2,
        controller: "cpu",
        knob: Knob::CpuBandwidth,
        form: "CPUs (1.5), \"QUOTA PERIOD\" in microseconds (150000 100000), or max",
    },
    KeyDef {
        name: "cpu.cfs_quota_us",
        versions: Versions::V1,
        controller: "cpu",
        knob: Knob::CpuBandwidth,
        form: "microseconds >= 1000, or -1 / max for none",
    },
    KeyDef {
        name: "cpu.cfs_period_us",
        versions: Versions::V1,
        controller: "cpu",
        knob: Knob::CpuBandwidth,
        form: "microseconds 1000..1000000",
    },
    KeyDef {
        name: "cpuset.cpus",
        versions: Versions::Both,
        controller: "cpuset",
        knob: Knob::CpusetCpus,
        form: "a CPU list like 0-2,4 within the parent's",
    },
    KeyDef {
        name: "cpuset.mems",
        versions: Versions::Both,
        controller: "cpuset",
        knob: Knob::CpusetMems,
        form: "a memory-node list like 0 or 0-1 within the parent's",
    },
    KeyDef {
        name: "memory.limit_in_bytes",
        versions: Versions::V1,
        controller: "memory",
        knob: Knob::MemoryLimit,
        form: "a size (bytes, or 512k 128m 1.5g, base 1024) or max / unlimited / -1",
    },
    KeyDef {
        name: "memory.max",
        versions: Versions::V2,
        controller: "memory",
        knob: Knob::MemoryLimit,
        form: "a size (bytes, or 512k 128m 1.5g, base 1024) or max / unlimited / -1",
    },
    KeyDef {
        name: "memory.high",
        versions: Versions::V2,
        controller: "memory",
        knob: Knob::MemoryHigh,
        form: "a size (bytes, or 512k 128m 1.5g, base 1024) or max",
    },
    KeyDef {
        name: "memory.soft_limit_in_bytes",
        versions: Versions::V1,
        controller: "memory",
        knob: Knob::MemorySoftLimit,
        form: "a size (bytes, or 512k 128m 1.5g, base 1024) or max / unlimited / -1",
    },
    KeyDef {
        name: "memory.memsw.limit_in_bytes",
        versions: Versions::V1,
        controller: "memory",
        knob: Knob::Swap,
        form: "a size of memory + swap (>= memory.limit_in_bytes), or max / unlimited / -1",
    },
    KeyDef {
        name: "memory.swap.max",
        versions: Versions::V2,
        controller: "memory",
        knob: Knob::Swap,
        form: "a size of swap alone (bytes, or 512k 128m 1.5g), or max",
    },
    KeyDef {
        name: "pids.max",
        versions: Versions::Both,
        controller: "pids",
        knob: Knob::PidsMax,
        form: "a number of processes >= 1, or max",
    },
];

/// The key named `name`.
pub fn key(name: &str) -> Option<&'static KeyDef> {
    KEYS.iter().find(|k| k.name == name)
}

/// The file of `knob` on cgroup `version` (the v1 bandwidth knob has two files: the quota one
/// is named here).
pub fn file_for(knob: Knob, version: u8) -> Option<&'static str> {
    KEYS.iter()
        .find(|k| k.knob == knob && k.versions.has(version) && k.name != "cpu.cfs_period_us")
        .map(|k| k.name)
}

/// Problems with what was asked, found before anything is written. Each is one line naming the
/// key and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("'{0}' is not KEY=VALUE (e.g. memory.max=256m)")]
    NotAssignment(String),
    #[error("unknown key '{key}': one of {}", key_names())]
    UnknownKey { key: String },
    #[error("{key}: '{value}' is not valid: give {form}")]
    BadValue {
        key: String,
        value: String,
        form: &'static str,
    },
    #[error("{key}: {value} is out of range: {range}")]
    OutOfRange {
        key: String,
        value: String,
        range: String,
    },
    #[error("{key} is given twice (directly or through its other-version name)")]
    Duplicate { key: String },
    #[error("{key}: {why}")]
    NotApplicable { key: String, why: String },
}

fn key_names() -> String {
    KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// A CPU quota as asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// Leave the quota as it is (only the period was given).
    Keep,
    /// No limit.
    Max,
    Micros(u64),
    /// A number of CPUs: quota = CPUs x period.
    Cpus(f64),
}

/// A value parsed by its key's syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Shares(u64),
    Weight(u64),
    Bandwidth {
        quota: Quota,
        period: Option<u64>,
    },
    /// A CPU or node list, sorted and de-duplicated.
    List(Vec<u32>),
    /// Bytes; None = no limit.
    Bytes(Option<u64>),
    /// A count; None = max.
    Count(Option<u64>),
}

/// One validated `KEY=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub key: &'static KeyDef,
    /// The value as typed, for messages.
    pub raw: String,
    pub value: Value,
}

pub const SHARES_MIN: u64 = 2;
pub const SHARES_MAX: u64 = 262_144;
pub const WEIGHT_MIN: u64 = 1;
pub const WEIGHT_MAX: u64 = 10_000;
pub const PERIOD_MIN: u64 = 1_000;
pub const PERIOD_MAX: u64 = 1_000_000;
pub const QUOTA_MIN: u64 = 1_000;
/// The default CFS period (cgroup-v2.rst, cpu.max).
pub const PERIOD_DEFAULT: u64 = 100_000;

/// Parse `KEY=VALUE`.
pub fn parse_assignment(arg: &str) -> Result<Request, InputError> {
    let (k, v) = arg
        .split_once('=')
        .ok_or_else(|| InputError::NotAssignment(arg.to_string()))?;
    parse_request(k.trim(), v.trim())
}

/// Parse several `KEY=VALUE`s; a knob given twice (e.g. cpu.shares and cpu.weight) is an error,
/// except the two v1 bandwidth files, which combine.
pub fn parse_assignments<S: AsRef<str>>(args: &[S]) -> Result<Vec<Request>, InputError> {
    let mut out: Vec<Request> = Vec::new();
    for arg in args {
        let req = parse_assignment(arg.as_ref())?;
        if let Some(prev) = out.iter_mut().find(|r| r.key.knob == req.key.knob) {
            match combine_bandwidth(prev, &req) {
                Some(merged) => *prev = merged,
                None => {
                    return Err(InputError::Duplicate {
                        key: req.key.name.to_string(),
                    });
                }
            }
            continue;
        }
        out.push(req);
    }
    Ok(out)
}

/// cpu.cfs_quota_us and cpu.cfs_period_us given together make one bandwidth request.
fn combine_bandwidth(a: &Request, b: &Request) -> Option<Request> {
    let (
        Value::Bandwidth {
            quota: qa,
            period: pa,
        },
        Value::Bandwidth {
            quota: qb,
            period: pb,
        },
    ) = (&a.value, &b.value)
    else {
        return None;
    };
    let quota = match (qa, qb) {
        (Quota::Keep, q) | (q, Quota::Keep) => *q,
        _ => return None,
    };
    let period = match (pa, pb) {
        (None, p) | (p, None) => *p,
        _ => return None,
    };
    Some(Request {
        key: a.key,
        raw: format!("{} {}", a.raw, b.raw),
        value: Value::Bandwidth { quota, period },
    })
}

/// Parse one value for the key named `name`.
pub fn parse_request(name: &str, raw: &str) -> Result<Request, InputError> {
    let key = key(name).ok_or_else(|| InputError::UnknownKey {
        key: name.to_string(),
    })?;
    let bad = || InputError::BadValue {
        key: key.name.to_string(),
        value: raw.to_string(),
        form: key.form,
    };
    let range = |r: String| InputError::OutOfRange {
        key: key.name.to_string(),
        value: raw.to_string(),
        range: r,
    };
    let value = match key.name {
        "cpu.shares" => {
            let n: u64 = raw.parse().map_err(|_| bad())?;
            if !(SHARES_MIN..=SHARES_MAX).contains(&n) {
                return Err(range(format!("{SHARES_MIN}..{SHARES_MAX}")));
            }
            Value::Shares(n)
        }
        "cpu.weight" => {
            let n: u64 = raw.parse().map_err(|_| bad())?;
            if !(WEIGHT_MIN..=WEIGHT_MAX).contains(&n) {
                return Err(range(format!("{WEIGHT_MIN}..{WEIGHT_MAX}")));
            }
            Value::Weight(n)
        }
        "cpu.max" => parse_cpu_max(raw).ok_or_else(bad)?,
        "cpu.cfs_quota_us" => {
            let quota = match raw {
                "-1" | "max" => Quota::Max,
                _ => Quota::Micros(raw.parse().map_err(|_| bad())?),
            };
            Value::Bandwidth {
                quota,
                period: None,
            }
        }
        "cpu.cfs_period_us" => Value::Bandwidth {
            quota: Quota::Keep,
            period: Some(raw.parse().map_err(|_| bad())?),
        },
        "cpuset.cpus" | "cpuset.mems" => {
            let list = parse_cpu_list(raw).ok_or_else(bad)?;
            if list.is_empty() {
                return Err(range("at least one entry".into()));
            }
            Value::List(list)
        }
        "pids.max" => match raw {
            "max" => Value::Count(None),
            _ => {
                let n: u64 = raw.parse().map_err(|_| bad())?;
                if n == 0 {
                    return Err(range("at least 1 (0 would forbid every fork)".into()));
                }
                Value::Count(Some(n))
            }
        },
        _ => Value::Bytes(parse_size(raw).ok_or_else(bad)?),
    };
    check_bandwidth(key, raw, &value)?;
    // Only a memory limit of less than a page makes no sense (the kernel rounds it to 0); 0 is a
    // valid swap limit (no swap), memory.high, or soft limit.
    if let Value::Bytes(Some(b)) = value
        && b < PAGE
        && key.knob == Knob::MemoryLimit
    {
        return Err(range(format!(
            "at least one page ({PAGE} bytes); the kernel rounds down to pages"
        )));
    }
    Ok(Request {
        key,
        raw: raw.to_string(),
        value,
    })
}

/// The page size the kernel rounds v1 memory limits down to. 4 KiB on every architecture nsview
/// is built for except some arm64/ppc64 kernels; the verification after a write reads the real
/// value back, so a bigger page only shows as a larger rounding.
pub const PAGE: u64 = 4096;

fn check_bandwidth(key: &KeyDef, raw: &str, value: &Value) -> Result<(), InputError> {
    let Value::Bandwidth { quota, period } = value else {
        return Ok(());
    };
    let range = |r: String| InputError::OutOfRange {
        key: key.name.to_string(),
        value: raw.to_string(),
        range: r,
    };
    if let Some(p) = period
        && !(PERIOD_MIN..=PERIOD_MAX).contains(p)
    {
        return Err(range(format!("period {PERIOD_MIN}..{PERIOD_MAX} us")));
    }
    match quota {
        Quota::Micros(q) if *q < QUOTA_MIN => Err(range(format!("quota at least {QUOTA_MIN} us"))),
        Quota::Cpus(c) if !(c.is_finite() && *c > 0.0 && *c <= 65536.0) => {
            Err(range("CPUs greater than 0".into()))
        }
        Quota::Cpus(c) => {
            // The quota this gives with the period asked (or the default one) must be >= 1000.
            let p = period.unwrap_or(PERIOD_DEFAULT) as f64;
            if (c * p).round() < QUOTA_MIN as f64 {
                Err(range(format!(
                    "at least {} CPUs with a period of {p} us (quota >= {QUOTA_MIN} us)",
                    QUOTA_MIN as f64 / p
                )))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// cpu.max as accepted: `max`, `max PERIOD`, `QUOTA PERIOD` (microseconds), or one number of
/// CPUs (`1.5`, `2`).
fn parse_cpu_max(raw: &str) -> Option<Value> {
    let fields: Vec<&str> = raw.split_ascii_whitespace().collect();
    match fields.as_slice() {
        ["max"] => Some(Value::Bandwidth {
            quota: Quota::Max,
            period: None,
        }),
        ["max", p] => Some(Value::Bandwidth {
            quota: Quota::Max,
            period: Some(p.parse().ok()?),
        }),
        [q, p] => Some(Value::Bandwidth {
            quota: Quota::Micros(q.parse().ok()?),
            period: Some(p.parse().ok()?),
        }),
        [cpus] => {
            let c: f64 = cpus.parse().ok()?;
            Some(Value::Bandwidth {
                quota: Quota::Cpus(c),
                period: None,
            })
        }
        _ => None,
    }
}

/// A size as Docker reads it (go-units RAMInBytes): a decimal number, an optional unit
/// k/m/g/t/p (any case, optionally followed by `b`, `ib`), base 1024; `max`, `unlimited` and
/// `-1` mean no limit (None). Plain numbers are bytes.
pub fn parse_size(raw: &str) -> Option<Option<u64>> {
    let s = raw.trim();
    if matches!(s.to_ascii_lowercase().as_str(), "max" | "unlimited" | "-1") {
        return Some(None);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return None;
    }
    let unit = unit.trim_start().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => return None,
    };
    let bytes = if num.contains('.') {
        let f: f64 = num.parse().ok()?;
        let b = f * (1u64 << shift) as f64;
        if !b.is_finite() || b >= 9.2e18 {
            return None;
        }
        b as u64
    } else {
        num.parse::<u64>().ok()?.checked_mul(1u64 << shift)?
    };
    // The kernel's page counter tops out just below i64::MAX.
    if bytes > i64::MAX as u64 {
        return None;
    }
    Some(Some(bytes))
}

/// Bytes as a short human size (base 1024): 134217728 -> "128M", 1610612736 -> "1.5G".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u32); 5] = [("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10)];
    for (u, shift) in UNITS {
        let unit = 1u64 << shift;
        if bytes >= unit {
            let v = bytes as f64 / unit as f64;
            return if bytes.is_multiple_of(unit) {
                format!("{}{u}", bytes / unit)
            } else if v >= 100.0 {
                format!("{v:.0}{u}")
            } else {
                format!("{v:.1}{u}")
            };
        }
    }
    format!("{bytes}B")
}

/// A CPU list in the kernel's compact form: [0,1,2,4] -> "0-2,4".
pub fn format_list(list: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let start = list[i];
        let mut end = start;
        while i + 1 < list.len() && list[i + 1] == end + 1 {
            i += 1;
            end = list[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

/// cpu.shares -> cpu.weight with the curve runc (libcontainer/cgroups ConvertCPUSharesToCgroupV2Value
/// since 1.3) and crun use: shares <= 2 -> 1, >= 262144 -> 10000, otherwise
/// ceil(10^((l^2 + 125 l) / 612 - 7/34)) with l = log2(shares). 1024 -> 100, 2048 -> 174.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares <= SHARES_MIN {
        return WEIGHT_MIN;
    }
    if shares >= SHARES_MAX {
        return WEIGHT_MAX;
    }
    let l = (shares as f64).log2();
    let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    (10f64.powf(exponent).ceil() as u64).clamp(WEIGHT_MIN, WEIGHT_MAX)
}

/// cpu.weight -> cpu.shares: the curve is many-to-one, so of the shares values it maps to
/// `weight`, the "roundest" (most trailing zero bits, then the smallest): 100 -> 1024,
/// 174 -> 2048, so that a round trip gives Docker's figures back.
pub fn weight_to_shares(weight: u64) -> u64 {
    // The smallest shares whose weight is at least `w` (the curve is monotonic).
    let first_at_least = |w: u64| -> u64 {
        let (mut lo, mut hi) = (SHARES_MIN, SHARES_MAX);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if shares_to_weight(mid) >= w {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    };
    let lo = first_at_least(weight);
    let hi = if weight >= WEIGHT_MAX {
        SHARES_MAX
    } else {
        first_at_least(weight + 1).saturating_sub(1).max(lo)
    };
    (lo..=hi)
        .max_by_key(|s| (s.trailing_zeros(), std::cmp::Reverse(*s)))
        .unwrap_or(lo)
}

/// Where a key lands: one writable hierarchy of the target.
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

/// Turn validated requests into file writes for a target present in `places`, in the order they
/// must be written. Errors name the key.
pub fn plan(
    requests: &[Request],
    places: &[Place],
    current: &dyn Current,
) -> Result<Vec<FileWrite>, InputError> {
    let mut writes: Vec<FileWrite> = Vec::new();
    for req in requests {
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
        let not_applicable = |why: String| InputError::NotApplicable {
            key: req.key.name.to_string(),
            why,
        };
        match (&req.value, version) {
            (Value::Shares(s), 1) => push("cpu.shares", s.to_string(), vec![]),
            (Value::Shares(s), _) => {
                let w = shares_to_weight(*s);
                push(
                    "cpu.weight",
                    w.to_string(),
                    vec![format!(
                        "converted cpu.shares {s} to cpu.weight {w} (runc/crun curve)"
                    )],
                )
            }
            (Value::Weight(w), 2) => push("cpu.weight", w.to_string(), vec![]),
            (Value::Weight(w), _) => {
                let s = weight_to_shares(*w);
                push(
                    "cpu.shares",
                    s.to_string(),
                    vec![format!(
                        "converted cpu.weight {w} to cpu.shares {s} (runc/crun curve)"
                    )],
                )
            }
            (Value::Bandwidth { quota, period }, 2) => {
                let cur = current.get(&place.hierarchy, "cpu.max").unwrap_or_default();
                let mut f = cur.split_ascii_whitespace();
                let cur_quota = f.next().unwrap_or("max").to_string();
                let cur_period = f
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(PERIOD_DEFAULT);
                let p = period.unwrap_or(cur_period);
                let q = quota_text(*quota, p, &cur_quota, "max");
                check_quota(req, &q).map_err(not_applicable)?;
                push("cpu.max", format!("{q} {p}"), cpus_note(*quota, p))
            }
            (Value::Bandwidth { quota, period }, _) => {
                let cur_period = current
                    .get(&place.hierarchy, "cpu.cfs_period_us")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(PERIOD_DEFAULT);
                let cur_quota = current
                    .get(&place.hierarchy, "cpu.cfs_quota_us")
                    .unwrap_or_else(|| "-1".into());
                let p = period.unwrap_or(cur_period);
                let q = quota_text(*quota, p, &cur_quota, "-1");
                check_quota(req, &q).map_err(not_applicable)?;
                // v1 checks every intermediate quota/period against the parent's bandwidth:
                // write first the file that keeps the ratio in between the lower (-1 is no
                // limit, always allowed).
                let ratio = |q: &str, p: u64| match q.parse::<i64>() {
                    Ok(q) if q >= 0 && p > 0 => q as f64 / p as f64,
                    _ => 0.0,
                };
                let period_first = ratio(&cur_quota, p) <= ratio(&q, cur_period);
                let quota_write = (!matches!(quota, Quota::Keep))
                    .then(|| ("cpu.cfs_quota_us", q.clone(), cpus_note(*quota, p)));
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
            }
            (Value::List(list), _) => {
                let file = req.key.name;
                if let Some(parent) = current.parent_list(&place.hierarchy, file)
                    && let Some(allowed) = parse_cpu_list(&parent)
                    && let Some(outside) = list.iter().find(|c| !allowed.contains(c))
                {
                    return Err(not_applicable(format!(
                        "{outside} is not in the parent's {file} ({})",
                        if parent.is_empty() { "empty" } else { &parent }
                    )));
                }
                push(file, format_list(list), vec![])
            }
            (Value::Count(n), _) => push(
                "pids.max",
                n.map_or("max".to_string(), |n| n.to_string()),
                vec![],
            ),
            (Value::Bytes(b), version) => {
                plan_bytes(req, *b, version, place, requests, current, &mut push)
                    .map_err(not_applicable)?
            }
        }
    }
    order_memory_writes(&mut writes, current);
    Ok(writes)
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

fn check_quota(req: &Request, q: &str) -> Result<(), String> {
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

/// Memory sizes: the limit, memory.high, the v1 soft limit and swap, converting swap between
/// v1's memory+swap and v2's swap-alone meaning.
fn plan_bytes(
    req: &Request,
    bytes: Option<u64>,
    version: u8,
    place: &Place,
    all: &[Request],
    current: &dyn Current,
    push: &mut dyn FnMut(&str, String, Vec<String>),
) -> Result<(), String> {
    let v1 = |b: Option<u64>| b.map_or("-1".to_string(), |b| b.to_string());
    let v2 = |b: Option<u64>| b.map_or("max".to_string(), |b| b.to_string());
    match (req.key.knob, version) {
        (Knob::MemoryLimit, 1) => {
            push(
                "memory.limit_in_bytes",
                v1(bytes),
                usage_note(bytes, place, current, 1),
            );
            // v1 keeps memory + swap >= memory: a limit raised above the memsw in place needs
            // the memsw raised too; keep the swap the group had, as Docker's update would
            // refuse otherwise.
            let memsw_asked = all.iter().any(|r| r.key.knob == Knob::Swap);
            let cur = |f: &str| -> Option<u64> {
                let v: i64 = current.get(&place.hierarchy, f)?.parse().ok()?;
                (v >= 0 && !crate::model::format::is_unlimited(v)).then_some(v as u64)
            };
            if let (Some(new), Some(memsw), false) =
                (bytes, cur("memory.memsw.limit_in_bytes"), memsw_asked)
                && new > memsw
            {
                let swap = memsw.saturating_sub(cur("memory.limit_in_bytes").unwrap_or(memsw));
                let raised = new.saturating_add(swap);
                push(
                    "memory.memsw.limit_in_bytes",
                    raised.to_string(),
                    vec![format!(
                        "memory.memsw.limit_in_bytes raised to {} to keep the group's {} of \
                         swap (v1 needs memory + swap >= memory)",
                        human_size(raised),
                        human_size(swap)
                    )],
                );
            }
        }
        (Knob::MemoryLimit, _) => push(
            "memory.max",
            v2(bytes),
            usage_note(bytes, place, current, 2),
        ),
        (Knob::MemoryHigh, 2) => push("memory.high", v2(bytes), vec![]),
        (Knob::MemoryHigh, _) => {
            return Err(
                "cgroup v2 only, and this cgroup's memory controller is v1 (its \
                 memory.soft_limit_in_bytes is a different mechanism; set it by name)"
                    .into(),
            );
        }
        (Knob::MemorySoftLimit, 1) => push("memory.soft_limit_in_bytes", v1(bytes), vec![]),
        (Knob::MemorySoftLimit, _) => {
            return Err(
                "cgroup v1 only; on v2 the closest is memory.high (throttling, not reclaim \
                 priority)"
                    .into(),
            );
        }
        (Knob::Swap, 1) if req.key.name == "memory.memsw.limit_in_bytes" => {
            push("memory.memsw.limit_in_bytes", v1(bytes), vec![])
        }
        (Knob::Swap, 1) => {
            // v2 swap alone -> v1 memory + swap: add the memory limit (asked now, or in place).
            let memsw = match bytes {
                None => None,
                Some(swap) => {
                    let limit = memory_limit_after(all, place, current).ok_or(
                        "on v1 swap is limited together with memory (memory.memsw.limit_in_bytes \
                         = memory + swap), and this cgroup has no memory limit to add it to: set \
                         memory.limit_in_bytes too, or memory.memsw.limit_in_bytes directly",
                    )?;
                    Some(limit.saturating_add(swap))
                }
            };
            push(
                "memory.memsw.limit_in_bytes",
                v1(memsw),
                vec![
                    "v1 memory.memsw.limit_in_bytes limits memory + swap, v2 memory.swap.max swap \
                     alone: wrote memory limit + swap"
                        .into(),
                ],
            )
        }
        (Knob::Swap, _) if req.key.name == "memory.swap.max" => {
            push("memory.swap.max", v2(bytes), vec![])
        }
        (Knob::Swap, _) => {
            // v1 memory + swap -> v2 swap alone: subtract the memory limit.
            let swap = match bytes {
                None => None,
                Some(memsw) => {
                    let limit = memory_limit_after(all, place, current).ok_or(
                        "v2 memory.swap.max limits swap alone; converting a memory + swap size \
                         needs a memory.max: set memory.max too, or memory.swap.max directly",
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
                v2(swap),
                vec![
                    "v1 memory.memsw.limit_in_bytes limits memory + swap, v2 memory.swap.max swap \
                     alone: wrote the size minus memory.max"
                        .into(),
                ],
            )
        }
        _ => return Err("no such memory file".into()),
    }
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
fn memory_limit_after(all: &[Request], place: &Place, current: &dyn Current) -> Option<u64> {
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

/// An old -> new line: "memory.limit_in_bytes 134217728 (128M) -> 268435456 (256M)".
pub fn describe(file: &str, old: &str, new: &str) -> String {
    format!("{file} {} -> {}", annotate(file, old), annotate(file, new))
}

/// A raw file value with a human reading where one helps.
pub fn annotate(file: &str, raw: &str) -> String {
    let is_bytes = file.starts_with("memory.") && !file.ends_with("failcnt");
    match raw.parse::<i64>() {
        Ok(n) if is_bytes && crate::model::format::is_unlimited(n) => format!("{n} (unlimited)"),
        Ok(-1) if is_bytes => "-1 (unlimited)".into(),
        Ok(n) if is_bytes && n >= 1024 => format!("{n} ({})", human_size(n as u64)),
        _ if raw.is_empty() => "(empty)".into(),
        _ => raw.to_string(),
    }
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Versions::V1 => "v1",
            Versions::V2 => "v2",
            Versions::Both => "v1 and v2",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn sizes_as_docker_reads_them() {
        assert_eq!(parse_size("128m"), Some(Some(134_217_728)));
        assert_eq!(parse_size("128M"), Some(Some(134_217_728)));
        assert_eq!(parse_size("512k"), Some(Some(524_288)));
        assert_eq!(parse_size("1.5G"), Some(Some(1_610_612_736)));
        assert_eq!(parse_size("1.5GiB"), Some(Some(1_610_612_736)));
        assert_eq!(parse_size("64 MB"), Some(Some(67_108_864)));
        assert_eq!(parse_size("4096"), Some(Some(4096)));
        assert_eq!(parse_size("max"), Some(None));
        assert_eq!(parse_size("unlimited"), Some(None));
        assert_eq!(parse_size("-1"), Some(None));
        for bad in ["", "12x", "m", "1.2.3m", ".5g", "-5", "99999999999p", "1e3"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn shares_weight_curve_matches_runc() {
        // Figures from kernel-notes.md (runc/crun today).
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(2048), 174);
        assert_eq!(shares_to_weight(512), 59);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        for w in [1, 59, 100, 174, 5000, 10_000] {
            assert_eq!(shares_to_weight(weight_to_shares(w)), w, "{w}");
        }
        assert_eq!(weight_to_shares(100), 1024);
        assert_eq!(weight_to_shares(174), 2048);
        assert_eq!(weight_to_shares(59), 512);
    }

    #[test]
    fn values_are_checked_against_their_key() {
        assert!(parse_assignment("cpu.shares=2048").is_ok());
        assert!(matches!(
            parse_assignment("cpu.shares=1"),
            Err(InputError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_assignment("cpu.weight=10001"),
            Err(InputError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_assignment("memory.max=12x"),
            Err(InputError::BadValue { .. })
        ));
        assert!(matches!(
            parse_assignment("memory.max=100"),
            Err(InputError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_assignment("memory.maxx=1g"),
            Err(InputError::UnknownKey { .. })
        ));
        assert!(matches!(
            parse_assignment("memory.max"),
            Err(InputError::NotAssignment(_))
        ));
        assert!(matches!(
            parse_assignment("cpu.max=500 100000"),
            Err(InputError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_assignment("cpu.max=0.001"),
            Err(InputError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_assignment("cpu.cfs_period_us=999"),
            Err(InputError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_assignment("cpuset.cpus=3-1"),
            Err(InputError::BadValue { .. })
        ));
        assert!(matches!(
            parse_assignment("pids.max=0"),
            Err(InputError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_assignments(&["cpu.shares=2048", "cpu.weight=10"]),
            Err(InputError::Duplicate { .. })
        ));
        let combined = parse_assignments(&["cpu.cfs_quota_us=50000", "cpu.cfs_period_us=200000"])
            .expect("quota and period combine");
        assert_eq!(combined.len(), 1);
        assert_eq!(
            combined[0].value,
            Value::Bandwidth {
                quota: Quota::Micros(50_000),
                period: Some(200_000)
            }
        );
        let msg = parse_assignment("memory.max=12x").unwrap_err().to_string();
        assert!(
            msg.starts_with("memory.max: '12x' is not valid: give a size"),
            "{msg}"
        );
    }

    struct Cur(BTreeMap<(&'static str, &'static str), &'static str>);
    impl Current for Cur {
        fn get(&self, h: &str, f: &str) -> Option<String> {
            self.0
                .iter()
                .find(|((hh, ff), _)| *hh == h && *ff == f)
                .map(|(_, v)| v.to_string())
        }
        fn parent_list(&self, h: &str, f: &str) -> Option<String> {
            self.get(h, &format!("parent:{f}"))
        }
    }

    fn v1_places() -> Vec<Place> {
        let p = |h: &str, files: &[&str]| Place {
            hierarchy: h.into(),
            version: 1,
            files: files.iter().map(|s| s.to_string()).collect(),
        };
        vec![
            p(
                "cpu",
                &["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"],
            ),
            p("cpuset", &["cpuset.cpus", "cpuset.mems"]),
            p(
                "memory",
                &[
                    "memory.limit_in_bytes",
                    "memory.memsw.limit_in_bytes",
                    "memory.soft_limit_in_bytes",
                ],
            ),
            p("pids", &["pids.max"]),
        ]
    }

    fn v2_places() -> Vec<Place> {
        vec![Place {
            hierarchy: "unified".into(),
            version: 2,
            files: [
                "cpu.weight",
                "cpu.max",
                "cpuset.cpus",
                "memory.max",
                "memory.high",
                "memory.swap.max",
                "pids.max",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }]
    }

    fn plan_of(args: &[&str], places: &[Place], cur: &Cur) -> Result<Vec<FileWrite>, InputError> {
        plan(&parse_assignments(args)?, places, cur)
    }

    fn contents(w: &[FileWrite]) -> Vec<(String, String, String)> {
        w.iter()
            .map(|w| (w.hierarchy.clone(), w.file.clone(), w.content.clone()))
            .collect()
    }

    fn t(h: &str, f: &str, c: &str) -> (String, String, String) {
        (h.into(), f.into(), c.into())
    }

    #[test]
    fn v2_names_map_to_v1_files_and_back() {
        let cur = Cur(BTreeMap::from([
            (("cpu", "cpu.cfs_period_us"), "100000"),
            (("cpu", "cpu.cfs_quota_us"), "-1"),
            (("unified", "cpu.max"), "max 100000"),
            (("memory", "memory.limit_in_bytes"), "9223372036854771712"),
            (
                ("memory", "memory.memsw.limit_in_bytes"),
                "9223372036854771712",
            ),
        ]));
        let w = plan_of(
            &["memory.max=128m", "cpu.weight=174", "cpu.max=1.5"],
            &v1_places(),
            &cur,
        )
        .expect("plan");
        // Memory limits last (the write most likely refused, and the one that can hurt).
        assert_eq!(
            contents(&w),
            vec![
                t("cpu", "cpu.shares", "2048"),
                t("cpu", "cpu.cfs_quota_us", "150000"),
                t("memory", "memory.limit_in_bytes", "134217728"),
            ]
        );
        assert!(w[0].notes[0].contains("converted cpu.weight 174 to cpu.shares 2048"));
        let w = plan_of(
            &[
                "memory.limit_in_bytes=1g",
                "cpu.shares=2048",
                "cpu.cfs_quota_us=50000",
            ],
            &v2_places(),
            &cur,
        )
        .expect("plan");
        assert_eq!(
            contents(&w),
            vec![
                t("unified", "cpu.weight", "174"),
                t("unified", "cpu.max", "50000 100000"),
                t("unified", "memory.max", "1073741824"),
            ]
        );
        assert!(w[0].notes[0].contains("converted cpu.shares 2048 to cpu.weight 174"));
        let w = plan_of(&["cpu.max=max 200000"], &v2_places(), &cur).expect("plan");
        assert_eq!(contents(&w), vec![t("unified", "cpu.max", "max 200000")]);
        let w = plan_of(&["cpu.max=20000 50000"], &v1_places(), &cur).expect("plan");
        assert_eq!(
            contents(&w),
            vec![
                t("cpu", "cpu.cfs_period_us", "50000"),
                t("cpu", "cpu.cfs_quota_us", "20000"),
            ]
        );
    }

    #[test]
    fn swap_means_different_things_per_version() {
        let cur = Cur(BTreeMap::from([
            (("memory", "memory.limit_in_bytes"), "134217728"),
            (
                ("memory", "memory.memsw.limit_in_bytes"),
                "9223372036854771712",
            ),
            (("unified", "memory.max"), "134217728"),
        ]));
        let w = plan_of(&["memory.swap.max=64m"], &v1_places(), &cur).expect("plan");
        assert_eq!(
            contents(&w),
            vec![t("memory", "memory.memsw.limit_in_bytes", "201326592")]
        );
        assert!(w[0].notes[0].contains("memory + swap"));
        let w = plan_of(&["memory.memsw.limit_in_bytes=192m"], &v2_places(), &cur).expect("plan");
        assert_eq!(
            contents(&w),
            vec![t("unified", "memory.swap.max", "67108864")]
        );
        let none = Cur(BTreeMap::new());
        assert!(matches!(
            plan_of(&["memory.swap.max=64m"], &v1_places(), &none),
            Err(InputError::NotApplicable { .. })
        ));
        assert!(matches!(
            plan_of(&["memory.high=1g"], &v1_places(), &none),
            Err(InputError::NotApplicable { .. })
        ));
    }

    #[test]
    fn memsw_and_limit_are_ordered_to_stay_consistent() {
        let cur = Cur(BTreeMap::from([
            (("memory", "memory.limit_in_bytes"), "134217728"),
            (("memory", "memory.memsw.limit_in_bytes"), "268435456"),
        ]));
        // Raising both above the memsw in place: memsw first.
        let w = plan_of(
            &[
                "memory.limit_in_bytes=512m",
                "memory.memsw.limit_in_bytes=1g",
            ],
            &v1_places(),
            &cur,
        )
        .expect("plan");
        assert_eq!(w[0].file, "memory.memsw.limit_in_bytes");
        // Lowering both: the memory limit first.
        let w = plan_of(
            &[
                "memory.memsw.limit_in_bytes=100m",
                "memory.limit_in_bytes=64m",
            ],
            &v1_places(),
            &cur,
        )
        .expect("plan");
        assert_eq!(w[0].file, "memory.limit_in_bytes");
    }

    #[test]
    fn v1_bandwidth_order_keeps_the_ratio_in_between_low() {
        // 1.5 CPUs in place; asking 0.5 CPUs with a shorter period: quota first (0.25 then 0.5),
        // not period first (3 CPUs in between, which a 2-CPU parent refuses).
        let cur = Cur(BTreeMap::from([
            (("cpu", "cpu.cfs_period_us"), "100000"),
            (("cpu", "cpu.cfs_quota_us"), "150000"),
        ]));
        let w = plan_of(&["cpu.max=25000 50000"], &v1_places(), &cur).expect("plan");
        assert_eq!(
            contents(&w),
            vec![
                t("cpu", "cpu.cfs_quota_us", "25000"),
                t("cpu", "cpu.cfs_period_us", "50000"),
            ]
        );
        // A longer period with more quota: period first (0.75 in between).
        let w = plan_of(&["cpu.max=400000 200000"], &v1_places(), &cur).expect("plan");
        assert_eq!(w[0].file, "cpu.cfs_period_us");
    }

    #[test]
    fn raising_a_v1_limit_above_memsw_keeps_the_swap() {
        // docker run --memory 128m: memsw 256m. 512m needs memsw 640m.
        let cur = Cur(BTreeMap::from([
            (("memory", "memory.limit_in_bytes"), "134217728"),
            (("memory", "memory.memsw.limit_in_bytes"), "268435456"),
            (("memory", "memory.usage_in_bytes"), "1048576"),
        ]));
        let w = plan_of(&["memory.max=512m"], &v1_places(), &cur).expect("plan");
        assert_eq!(
            contents(&w),
            vec![
                t("memory", "memory.memsw.limit_in_bytes", "671088640"),
                t("memory", "memory.limit_in_bytes", "536870912"),
            ]
        );
        // Below usage: said before anything is written.
        let w = plan_of(&["memory.max=512k"], &v1_places(), &cur).expect("plan");
        assert!(
            w[0].notes[0].contains("below what the group uses now"),
            "{:?}",
            w[0].notes
        );
        // Zero swap is a valid setting.
        assert!(parse_assignment("memory.swap.max=0").is_ok());
    }

    #[test]
    fn cpuset_must_lie_within_the_parent() {
        let cur = Cur(BTreeMap::from([(("cpuset", "parent:cpuset.cpus"), "0-1")]));
        let w = plan_of(&["cpuset.cpus=1,0"], &v1_places(), &cur).expect("plan");
        assert_eq!(contents(&w), vec![t("cpuset", "cpuset.cpus", "0-1")]);
        let e = plan_of(&["cpuset.cpus=0-2"], &v1_places(), &cur).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cpuset.cpus: 2 is not in the parent's cpuset.cpus (0-1)"
        );
    }

    #[test]
    fn a_key_without_its_controller_is_refused() {
        let places = vec![Place {
            hierarchy: "memory".into(),
            version: 1,
            files: vec!["memory.limit_in_bytes".into()],
        }];
        let e = plan_of(&["pids.max=10"], &places, &Cur(BTreeMap::new())).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("pids.max: this cgroup has no pids.max")
        );
    }

    #[test]
    fn lists_and_sizes_print_compactly() {
        assert_eq!(format_list(&[0, 1, 2, 4, 6, 7]), "0-2,4,6-7");
        assert_eq!(human_size(134_217_728), "128M");
        assert_eq!(human_size(1_610_612_736), "1.5G");
        assert_eq!(
            describe("memory.limit_in_bytes", "9223372036854771712", "134217728"),
            "memory.limit_in_bytes 9223372036854771712 (unlimited) -> 134217728 (128M)"
        );
    }
}
