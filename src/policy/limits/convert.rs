//! Conversions and readings: sizes, lists, shares <-> weight, old -> new lines.

use super::keys::*;

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
