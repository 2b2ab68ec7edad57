//! `KEY=VALUE` as typed -> a validated [`Assignment`]: syntax and range per key.

use super::keys::*;
use crate::sys::parse::parse_cpu_list;

/// Parse `KEY=VALUE`.
pub fn parse_assignment(arg: &str) -> Result<Assignment, InputError> {
    let (k, v) = arg
        .split_once('=')
        .ok_or_else(|| InputError::NotAssignment(arg.to_string()))?;
    parse_key_value(k.trim(), v.trim())
}

/// Parse several `KEY=VALUE`s; a knob given twice (e.g. cpu.shares and cpu.weight) is an error,
/// except the two v1 bandwidth files, which combine.
pub fn parse_assignments<S: AsRef<str>>(args: &[S]) -> Result<Vec<Assignment>, InputError> {
    let mut out: Vec<Assignment> = Vec::new();
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
fn combine_bandwidth(a: &Assignment, b: &Assignment) -> Option<Assignment> {
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
    Some(Assignment {
        key: a.key,
        raw: format!("{} {}", a.raw, b.raw),
        value: Value::Bandwidth { quota, period },
    })
}

/// Parse one value for the key named `name`.
pub fn parse_key_value(name: &str, raw: &str) -> Result<Assignment, InputError> {
    let key = key(name).ok_or_else(|| InputError::UnknownKey {
        key: name.to_string(),
    })?;
    let typed = Typed { key, raw };
    let value = typed.value()?;
    check_bandwidth(key, raw, &value)?;
    // Only a memory limit of less than a page makes no sense (the kernel rounds it to 0); 0 is a
    // valid swap limit (no swap), memory.high, or soft limit.
    if let Value::Bytes(Some(b)) = value
        && b < PAGE
        && key.knob == Knob::MemoryLimit
    {
        return Err(typed.range(format!(
            "at least one page ({PAGE} bytes); the kernel rounds down to pages"
        )));
    }
    Ok(Assignment {
        key,
        raw: raw.to_string(),
        value,
    })
}

/// A value as typed for a key.
struct Typed<'a> {
    key: &'static KeyDef,
    raw: &'a str,
}

impl Typed<'_> {
    fn bad(&self) -> InputError {
        InputError::BadValue {
            key: self.key.name.to_string(),
            value: self.raw.to_string(),
            form: self.key.form,
        }
    }

    fn range(&self, r: String) -> InputError {
        InputError::OutOfRange {
            key: self.key.name.to_string(),
            value: self.raw.to_string(),
            range: r,
        }
    }

    /// A number within `lo..=hi`.
    fn bounded(&self, lo: u64, hi: u64) -> Result<u64, InputError> {
        let n: u64 = self.raw.parse().map_err(|_| self.bad())?;
        if !(lo..=hi).contains(&n) {
            return Err(self.range(format!("{lo}..{hi}")));
        }
        Ok(n)
    }

    /// The value by the key's syntax.
    fn value(&self) -> Result<Value, InputError> {
        let raw = self.raw;
        Ok(match self.key.name {
            "cpu.shares" => Value::Shares(self.bounded(SHARES_MIN, SHARES_MAX)?),
            "cpu.weight" => Value::Weight(self.bounded(WEIGHT_MIN, WEIGHT_MAX)?),
            "cpu.max" => parse_cpu_max(raw).ok_or_else(|| self.bad())?,
            "cpu.cfs_quota_us" => {
                let quota = match raw {
                    "-1" | "max" => Quota::Max,
                    _ => Quota::Micros(raw.parse().map_err(|_| self.bad())?),
                };
                Value::Bandwidth {
                    quota,
                    period: None,
                }
            }
            "cpu.cfs_period_us" => Value::Bandwidth {
                quota: Quota::Keep,
                period: Some(raw.parse().map_err(|_| self.bad())?),
            },
            "cpuset.cpus" | "cpuset.mems" => {
                let list = parse_cpu_list(raw).ok_or_else(|| self.bad())?;
                if list.is_empty() {
                    return Err(self.range("at least one entry".into()));
                }
                Value::List(list)
            }
            "pids.max" if raw == "max" => Value::Count(None),
            "pids.max" => {
                let n: u64 = raw.parse().map_err(|_| self.bad())?;
                if n == 0 {
                    return Err(self.range("at least 1 (0 would forbid every fork)".into()));
                }
                Value::Count(Some(n))
            }
            _ => Value::Bytes(parse_size(raw).ok_or_else(|| self.bad())?),
        })
    }
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
