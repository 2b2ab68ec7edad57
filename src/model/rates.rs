//! Rates between two snapshots (pure): CPU% per cgroup from its cumulative usage counter.

use super::{CgValue, Cgroup, Snapshot};
use std::collections::HashMap;

/// Cumulative CPU time of a cgroup in nanoseconds: cpuacct.usage (v1) or cpu.stat usage_usec (v2).
pub fn cpu_usage_ns(cg: &Cgroup) -> Option<u64> {
    if let Some(CgValue::Int(ns)) = cg.usage.get("cpuacct.usage") {
        return u64::try_from(*ns).ok();
    }
    match cg.usage.get("cpu.stat") {
        Some(CgValue::Map(m)) => m
            .get("usage_usec")
            .and_then(|us| u64::try_from(*us).ok())
            .map(|us| us.saturating_mul(1000)),
        _ => None,
    }
}

/// CPU% of each cgroup between `prev` and `cur`, keyed by (hierarchy, path); 100 = one core.
/// Cgroups missing from either snapshot, or whose counter went backwards (a new cgroup at the
/// same path), are left out.
pub fn cpu_percent(prev: &Snapshot, cur: &Snapshot) -> HashMap<(String, String), f64> {
    let (Some(t0), Some(t1)) = (prev.taken_at, cur.taken_at) else {
        return HashMap::new();
    };
    let dt = t1.saturating_duration_since(t0).as_nanos() as f64;
    if dt <= 0.0 {
        return HashMap::new();
    }
    let before: HashMap<(&str, &str), u64> = prev
        .cgroups
        .iter()
        .filter_map(|c| Some(((c.hierarchy.as_str(), c.path.as_str()), cpu_usage_ns(c)?)))
        .collect();
    cur.cgroups
        .iter()
        .filter_map(|c| {
            let now = cpu_usage_ns(c)?;
            let then = *before.get(&(c.hierarchy.as_str(), c.path.as_str()))?;
            let used = now.checked_sub(then)?;
            Some((
                (c.hierarchy.clone(), c.path.clone()),
                used as f64 / dt * 100.0,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    fn cg(path: &str, file: &str, v: CgValue) -> Cgroup {
        let mut usage = BTreeMap::new();
        usage.insert(file.to_string(), v);
        Cgroup {
            hierarchy: "h".into(),
            path: path.into(),
            pids: vec![],
            limits: BTreeMap::new(),
            usage,
            devices: None,
            devices_default: None,
            owner_uid: 0,
        }
    }

    #[test]
    fn percent_of_one_core() {
        let t0 = Instant::now();
        let mut a = Snapshot {
            taken_at: Some(t0),
            ..Default::default()
        };
        let mut b = Snapshot {
            taken_at: Some(t0 + Duration::from_secs(1)),
            ..Default::default()
        };
        a.cgroups
            .push(cg("/x", "cpuacct.usage", CgValue::Int(1_000_000_000)));
        b.cgroups
            .push(cg("/x", "cpuacct.usage", CgValue::Int(1_500_000_000)));
        let mut m = BTreeMap::new();
        m.insert("usage_usec".to_string(), 0);
        a.cgroups
            .push(cg("/y", "cpu.stat", CgValue::Map(m.clone())));
        m.insert("usage_usec".to_string(), 2_000_000);
        b.cgroups.push(cg("/y", "cpu.stat", CgValue::Map(m)));
        // Went backwards: a new group at the same path.
        a.cgroups.push(cg("/z", "cpuacct.usage", CgValue::Int(10)));
        b.cgroups.push(cg("/z", "cpuacct.usage", CgValue::Int(5)));
        let p = cpu_percent(&a, &b);
        assert!((p[&("h".to_string(), "/x".to_string())] - 50.0).abs() < 1e-9);
        assert!((p[&("h".to_string(), "/y".to_string())] - 200.0).abs() < 1e-9);
        assert!(!p.contains_key(&("h".to_string(), "/z".to_string())));
    }
}
