//! Looking things up in nsview's JSON output.

use serde_json::Value;

use super::truncate;

/// The array `doc[key]`, panicking with the document when it is missing.
pub fn array<'a>(doc: &'a Value, key: &str) -> &'a Vec<Value> {
    doc.get(key)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no array {key:?} in {}", truncate(&doc.to_string(), 2000)))
}

/// The namespace of `type` and `inode` in `nsview list --json`.
pub fn find_ns<'a>(list: &'a Value, ty: &str, inode: u64) -> Option<&'a Value> {
    array(list, "namespaces")
        .iter()
        .find(|n| n["type"] == ty && n["inode"].as_u64() == Some(inode))
}

/// Like [`find_ns`] but panics with a useful message when absent.
pub fn get_ns<'a>(list: &'a Value, ty: &str, inode: u64) -> &'a Value {
    find_ns(list, ty, inode)
        .unwrap_or_else(|| panic!("`nsview list --json` has no {ty} namespace with inode {inode}"))
}

/// The process `pid` in `nsview ps --json`.
pub fn get_process(ps: &Value, pid: i32) -> &Value {
    array(ps, "processes")
        .iter()
        .find(|p| p["pid"].as_i64() == Some(pid as i64))
        .unwrap_or_else(|| panic!("`nsview ps --json` has no process {pid}"))
}

/// The cgroup of `hierarchy` and `path` in `nsview cgroups --json` (or a `show` of a cgroup).
pub fn find_cgroup<'a>(cgroups: &'a Value, hierarchy: &str, path: &str) -> Option<&'a Value> {
    array(cgroups, "cgroups")
        .iter()
        .find(|c| c["hierarchy"] == hierarchy && c["path"] == path)
}

/// The process `pid` in `nsview ps --json`, None when absent.
pub fn find_proc(ps: &Value, pid: i32) -> Option<&Value> {
    array(ps, "processes")
        .iter()
        .find(|p| p["pid"].as_i64() == Some(pid as i64))
}

/// A short, one-line rendering of a JSON value for messages.
pub fn short(v: &Value) -> String {
    truncate(&v.to_string(), 1500)
}

/// Like [`find_cgroup`] but panics with a useful message when absent.
pub fn get_cgroup<'a>(cgroups: &'a Value, hierarchy: &str, path: &str) -> &'a Value {
    find_cgroup(cgroups, hierarchy, path)
        .unwrap_or_else(|| panic!("no cgroup {path} in hierarchy {hierarchy:?} in nsview's output"))
}

/// A JSON array of integers as a sorted Vec (panics when it is something else).
pub fn int_list(v: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = v
        .as_array()
        .unwrap_or_else(|| panic!("expected a list of integers, got {v}"))
        .iter()
        .map(|x| {
            x.as_i64()
                .unwrap_or_else(|| panic!("expected an integer, got {x}"))
        })
        .collect();
    out.sort_unstable();
    out
}

/// Panic unless `obj` is a JSON object whose keys are exactly `required` plus any of `optional`.
pub fn assert_keys(obj: &Value, required: &[&str], optional: &[&str]) {
    let map = obj
        .as_object()
        .unwrap_or_else(|| panic!("expected an object, got {obj}"));
    for key in required {
        assert!(map.contains_key(*key), "missing key {key:?} in {obj}");
    }
    for key in map.keys() {
        assert!(
            required.contains(&key.as_str()) || optional.contains(&key.as_str()),
            "undocumented key {key:?} in {obj}"
        );
    }
}
