//! What `nsview set` and the TUI's edit form accept, checked before anything is written: the
//! keys (kernel file names of either cgroup version), their value syntax and ranges, which file
//! of which hierarchy a key lands in, and the text written there. Pure: the effects layer
//! (`effects::cgroup`) reads the current values and does the writes.
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

mod convert;
mod keys;
mod parse;
mod plan;
mod runtime;

pub use convert::*;
pub use keys::*;
pub use parse::*;
pub use plan::*;
pub use runtime::*;

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
    fn a_memory_limit_alone_keeps_the_swap_amount() {
        // 128M memory, 256M memory + swap: 128M of swap, kept whichever way memory moves.
        let cur = Cur(BTreeMap::from([
            (("memory", "memory.limit_in_bytes"), "134217728"),
            (("memory", "memory.memsw.limit_in_bytes"), "268435456"),
        ]));
        // Up to the memory + swap in place: Docker alone would leave no swap.
        let w = plan_of(&["memory.limit_in_bytes=256m"], &v1_places(), &cur).expect("plan");
        assert_eq!(
            contents(&w),
            vec![
                t("memory", "memory.limit_in_bytes", "268435456"),
                t("memory", "memory.memsw.limit_in_bytes", "402653184"),
            ]
        );
        assert!(
            w[1].notes[0].contains("keep the group's 128M of swap"),
            "{w:?}"
        );
        // Down: the memory limit first, then memory + swap (each step keeps memsw >= memory).
        let w = plan_of(&["memory.max=64m"], &v1_places(), &cur).expect("plan");
        assert_eq!(
            contents(&w),
            vec![
                t("memory", "memory.limit_in_bytes", "67108864"),
                t("memory", "memory.memsw.limit_in_bytes", "201326592"),
            ]
        );
        // Unlimited memory lifts memory + swap, first.
        let w = plan_of(&["memory.max=max"], &v1_places(), &cur).expect("plan");
        assert_eq!(
            contents(&w),
            vec![
                t("memory", "memory.memsw.limit_in_bytes", "-1"),
                t("memory", "memory.limit_in_bytes", "-1"),
            ]
        );
        // Swap given: the admin's value, no rule.
        let w = plan_of(
            &["memory.max=256m", "memory.swap.max=0"],
            &v1_places(),
            &cur,
        )
        .expect("plan");
        assert_eq!(w.len(), 2);
        assert!(
            w.iter()
                .any(|w| w.content == "268435456" && w.file.contains("memsw"))
        );
    }

    #[test]
    fn memory_and_swap_below_memory_is_refused_before_writing() {
        let cur = Cur(BTreeMap::from([
            (("memory", "memory.limit_in_bytes"), "134217728"),
            (("memory", "memory.memsw.limit_in_bytes"), "268435456"),
        ]));
        let e = plan_of(&["memory.memsw.limit_in_bytes=64m"], &v1_places(), &cur).unwrap_err();
        assert_eq!(
            e.to_string(),
            "memory.memsw.limit_in_bytes: memory + swap 64M would be below the memory limit 128M \
             (v1 needs memory.memsw.limit_in_bytes >= memory.limit_in_bytes): give both, or the \
             swap alone with memory.swap.max"
        );
        let e = plan_of(
            &[
                "memory.limit_in_bytes=1g",
                "memory.memsw.limit_in_bytes=512m",
            ],
            &v1_places(),
            &cur,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("512M would be below the memory limit 1G"),
            "{e}"
        );
        let e = plan_of(
            &[
                "memory.limit_in_bytes=max",
                "memory.memsw.limit_in_bytes=512m",
            ],
            &v1_places(),
            &cur,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("below the memory limit unlimited"),
            "{e}"
        );
        assert!(plan_of(&["memory.memsw.limit_in_bytes=128m"], &v1_places(), &cur).is_ok());
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
