//! The keys `set` takes (kernel file names of either cgroup version), their knobs and
//! versions, and the values and errors of validation.

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
pub struct Assignment {
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

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Versions::V1 => "v1",
            Versions::V2 => "v2",
            Versions::Both => "v1 and v2",
        })
    }
}
