//! Readers for cgroupfs (cgroup v1 and v2): the tree of one hierarchy, and the control files of one
//! cgroup (cgroup-v1/*.rst, cgroup-v2.rst).

use super::error::{SysError, SysResult};
use super::parse::{self, CgFormat};
use crate::model::{CgValue, DeviceRule};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Whether a control file holds a limit (something an admin sets) or usage (something the kernel
/// counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgClass {
    Limit,
    Usage,
}

/// Every control file nsview reads, its format and class. v1 and v2 names never collide except
/// cpu.stat, which is flat-keyed in both.
pub const CONTROL_FILES: &[(&str, CgFormat, CgClass)] = {
    use CgClass::*;
    use CgFormat::*;
    &[
        // v1 cpu, cpuset, memory, pids, freezer
        ("cpu.shares", Int, Limit),
        ("cpu.cfs_quota_us", Int, Limit),
        ("cpu.cfs_period_us", Int, Limit),
        ("cpuset.cpus", Text, Limit),
        ("cpuset.mems", Text, Limit),
        ("memory.limit_in_bytes", Int, Limit),
        ("memory.soft_limit_in_bytes", Int, Limit),
        ("memory.memsw.limit_in_bytes", Int, Limit),
        ("pids.max", IntOrMax, Limit),
        ("freezer.state", Text, Limit),
        // v2
        ("cpu.weight", Int, Limit),
        ("cpu.max", Pair, Limit),
        ("memory.max", IntOrMax, Limit),
        ("memory.high", IntOrMax, Limit),
        ("memory.low", IntOrMax, Limit),
        ("memory.min", IntOrMax, Limit),
        ("memory.swap.max", IntOrMax, Limit),
        ("io.max", Lines, Limit),
        ("cgroup.freeze", Int, Limit),
        // usage, v1
        ("memory.usage_in_bytes", Int, Usage),
        ("memory.max_usage_in_bytes", Int, Usage),
        ("memory.failcnt", Int, Usage),
        ("memory.memsw.usage_in_bytes", Int, Usage),
        ("memory.memsw.max_usage_in_bytes", Int, Usage),
        ("memory.memsw.failcnt", Int, Usage),
        ("pids.current", Int, Usage),
        ("cpuacct.usage", Int, Usage),
        // usage, v2
        ("cpuset.cpus.effective", Text, Usage),
        ("cpuset.mems.effective", Text, Usage),
        ("memory.current", Int, Usage),
        ("memory.peak", Int, Usage),
        ("memory.swap.current", Int, Usage),
        ("memory.events", FlatKeyed, Usage),
        ("cpu.stat", FlatKeyed, Usage),
        ("cpu.pressure", Pressure, Usage),
        ("memory.pressure", Pressure, Usage),
        ("io.pressure", Pressure, Usage),
    ]
};

/// One directory of a hierarchy: the cgroup path relative to the hierarchy root and its files.
#[derive(Debug, Clone)]
pub struct CgroupDir {
    /// "/" for the root, "/a/b" below.
    pub path: String,
    pub dir: PathBuf,
    /// Names of the regular files in it (the kernel creates exactly those its controllers offer).
    pub files: Vec<String>,
    /// Inode number of the directory: the cgroup's id (kernfs node id, as in
    /// `cgroup_id` / BPF's view of the cgroup).
    pub ino: u64,
    /// The directory's owner: not 0 where the tree was delegated to a user (who may create
    /// cgroups below it with any name).
    pub uid: u32,
}

/// Walk the tree of one hierarchy mounted at `mount_dir` (depth first, parents before children).
/// Directories that vanish during the walk are skipped.
pub fn walk_hierarchy(mount_dir: &Path) -> SysResult<Vec<CgroupDir>> {
    use std::os::unix::fs::{DirEntryExt, MetadataExt};
    let mut out = Vec::new();
    let root = fs::metadata(mount_dir).map_err(|e| SysError::io(mount_dir, e))?;
    let mut stack = vec![(
        "/".to_string(),
        mount_dir.to_path_buf(),
        root.ino(),
        root.uid(),
    )];
    while let Some((path, dir, ino, uid)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            // The hierarchy root must be readable; a group below it may be removed mid-walk.
            Err(e) if out.is_empty() => return Err(SysError::io(&dir, e)),
            Err(_) => continue,
        };
        let mut files = Vec::new();
        let mut children = Vec::new();
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            if ft.is_dir() {
                // The owner needs a stat; a directory gone meanwhile is skipped with its files.
                let Ok(meta) = entry.metadata() else { continue };
                children.push((name, entry.ino(), meta.uid()));
            } else if ft.is_file() {
                files.push(name);
            }
        }
        children.sort();
        for (child, child_ino, child_uid) in children.into_iter().rev() {
            let child_path = if path == "/" {
                format!("/{child}")
            } else {
                format!("{path}/{child}")
            };
            stack.push((child_path, dir.join(&child), child_ino, child_uid));
        }
        out.push(CgroupDir {
            path,
            dir,
            files,
            ino,
            uid,
        });
    }
    Ok(out)
}

/// The content of one cgroup directory that nsview reports.
#[derive(Debug, Clone, Default)]
pub struct CgroupRead {
    pub limits: BTreeMap<String, CgValue>,
    pub usage: BTreeMap<String, CgValue>,
    /// devices.list, when the directory has one.
    pub devices: Option<Vec<parse::DevicesLine>>,
    pub denied: Vec<PathBuf>,
}

fn read_file(path: &Path) -> SysResult<String> {
    fs::read_to_string(path).map_err(|e| SysError::io(path, e))
}

/// cgroup.procs of one cgroup.
pub fn read_cgroup_procs(dir: &Path) -> SysResult<Vec<i32>> {
    let path = dir.join("cgroup.procs");
    read_file(&path).map(|t| parse::parse_pid_list(&t))
}

/// devices.list of one v1 devices cgroup.
pub fn read_devices_list(dir: &Path) -> SysResult<Vec<parse::DevicesLine>> {
    let path = dir.join("devices.list");
    let text = read_file(&path)?;
    parse::parse_devices_list(&text).ok_or_else(|| SysError::parse(&path, "unexpected rule"))
}

/// Read every known control file present, and devices.list. A directory that vanished
/// gives `Err(Vanished)`; a file with unexpected content is left out.
pub fn read_cgroup(cg: &CgroupDir) -> SysResult<CgroupRead> {
    // The directory must still exist; membership itself comes from /proc/PID/cgroup.
    if !cg.dir.is_dir() {
        return Err(SysError::Vanished {
            path: cg.dir.clone(),
        });
    }
    let mut out = CgroupRead::default();
    let present = present_control_files(cg);
    read_control_files(&cg.dir, &present, &mut Vec::new(), &mut out)?;
    if cg.files.iter().any(|f| f == "devices.list") {
        match read_devices_list(&cg.dir) {
            Ok(d) => out.devices = Some(d),
            Err(e) if e.is_vanished() => return Err(e),
            Err(e) if e.is_permission() => out.denied.push(e.path().to_path_buf()),
            Err(_) => {}
        }
    }
    Ok(out)
}

/// Indices into [`CONTROL_FILES`] of the control files present in `cg`, in table order.
pub fn present_control_files(cg: &CgroupDir) -> Vec<usize> {
    CONTROL_FILES
        .iter()
        .enumerate()
        .filter(|(_, (name, _, _))| cg.files.iter().any(|f| f == name))
        .map(|(i, _)| i)
        .collect()
}

/// True for the control file at `index` of [`CONTROL_FILES`] when its content changes without
/// anyone writing it: usage and statistics (counters, current values, pressure), and
/// freezer.state, which the kernel turns from FREEZING into FROZEN by itself
/// (cgroup-v1/freezer-subsystem.rst). Everything else changes only by a write to that file.
pub fn changes_by_itself(index: usize) -> bool {
    matches!(
        CONTROL_FILES.get(index),
        Some((_, _, CgClass::Usage)) | Some(("freezer.state", _, _))
    )
}

/// Read the control files `indices` (into [`CONTROL_FILES`]) of the cgroup directory `dir` into
/// `out`, as limits or usage by their class; `buf` is reused between files. A group that vanished
/// gives `Err(Vanished)`; a file that needs more privilege is listed in `out.denied`; one that
/// cannot be read otherwise (EOPNOTSUPP when PSI is disabled) or has unexpected content is left
/// out.
pub fn read_control_files(
    dir: &Path,
    indices: &[usize],
    buf: &mut Vec<u8>,
    out: &mut CgroupRead,
) -> SysResult<()> {
    for &i in indices {
        let Some((name, format, class)) = CONTROL_FILES.get(i) else {
            continue;
        };
        let path = dir.join(name);
        let text = match read_small_file(&path, buf) {
            Ok(t) => t,
            Err(e) if e.is_vanished() => return Err(e),
            Err(e) if e.is_permission() => {
                out.denied.push(path);
                continue;
            }
            Err(_) => continue,
        };
        if let Some(v) = parse::parse_cg_value(*format, &text) {
            match class {
                CgClass::Limit => out.limits.insert(name.to_string(), v),
                CgClass::Usage => out.usage.insert(name.to_string(), v),
            };
        }
    }
    Ok(())
}

/// Read a whole kernfs file into `buf`: open, read until end of file, close. Unlike
/// `fs::read_to_string` it asks for no file size first (kernfs reports 4096 or 0 anyway), which
/// saves two system calls per file on the files re-read every refresh.
fn read_small_file<'b>(path: &Path, buf: &'b mut Vec<u8>) -> SysResult<std::borrow::Cow<'b, str>> {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(|e| SysError::io(path, e))?;
    buf.clear();
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len + 4096, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(SysError::io(path, e)),
        }
    }
    buf.truncate(len);
    Ok(String::from_utf8_lossy(buf))
}

/// v2: cgroup.controllers of the hierarchy root.
pub fn read_cgroup_controllers(dir: &Path) -> SysResult<Vec<String>> {
    let path = dir.join("cgroup.controllers");
    Ok(read_file(&path)?
        .split_ascii_whitespace()
        .map(str::to_string)
        .collect())
}

/// Device nodes below `/dev` (two levels: /dev/null, /dev/net/tun, /dev/pts/0), keyed by
/// (is_block, major, minor). Used to name devices.list rules.
pub fn read_dev_nodes(dev: &Path) -> BTreeMap<(bool, u32, u32), String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut out = BTreeMap::new();
    let mut dirs = vec![(dev.to_path_buf(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            let path = entry.path();
            if ft.is_dir() && depth < 1 {
                dirs.push((path, depth + 1));
            } else if ft.is_char_device() || ft.is_block_device() {
                let Ok(meta) = entry.metadata() else { continue };
                let rdev = meta.rdev();
                let key = (
                    ft.is_block_device(),
                    nix::sys::stat::major(rdev) as u32,
                    nix::sys::stat::minor(rdev) as u32,
                );
                // Prefer the shortest name (/dev/null over /dev/some/alias).
                let name = format!(
                    "/dev/{}",
                    path.strip_prefix(dev).unwrap_or(&path).to_string_lossy()
                );
                let keep = out
                    .get(&key)
                    .is_none_or(|old: &String| name.len() < old.len());
                if keep {
                    out.insert(key, name);
                }
            }
        }
    }
    out
}

/// Decode devices.list rules with device names: the node for an exact rule (c 1:3 -> /dev/null),
/// else the driver from /proc/devices (c 136:* -> pts), else none.
pub fn name_devices(
    rules: &[parse::DevicesLine],
    nodes: &BTreeMap<(bool, u32, u32), String>,
    drivers: &BTreeMap<(bool, u32), String>,
) -> Vec<DeviceRule> {
    rules
        .iter()
        .map(|r| {
            let block = r.kind == 'b';
            let name = match (r.kind, r.major, r.minor) {
                ('a', _, _) | (_, None, _) => None,
                (_, Some(maj), Some(min)) => nodes
                    .get(&(block, maj, min))
                    .cloned()
                    .or_else(|| drivers.get(&(block, maj)).cloned()),
                (_, Some(maj), None) => drivers.get(&(block, maj)).cloned(),
            };
            DeviceRule {
                kind: r.kind.to_string(),
                major: r.major,
                minor: r.minor,
                access: r.access.clone(),
                name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_for_docker_rules() {
        let rules =
            parse::parse_devices_list("c 1:3 rwm\nc 136:* rwm\nb *:* m\na *:* rwm\nc 1:99 r\n")
                .expect("parses");
        let mut nodes = BTreeMap::new();
        nodes.insert((false, 1, 3), "/dev/null".to_string());
        let mut drivers = BTreeMap::new();
        drivers.insert((false, 1), "mem".to_string());
        drivers.insert((false, 136), "pts".to_string());
        let d = name_devices(&rules, &nodes, &drivers);
        assert_eq!(d[0].name.as_deref(), Some("/dev/null"));
        assert_eq!(d[1].name.as_deref(), Some("pts"));
        assert_eq!(d[1].minor, None);
        assert_eq!(d[2].name, None);
        assert_eq!(d[3].kind, "a");
        assert_eq!(d[4].name.as_deref(), Some("mem"));
    }

    #[test]
    fn walk_and_read_a_fixture_tree() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        fs::create_dir_all(root.join("a/b")).expect("mkdir");
        fs::write(root.join("cgroup.procs"), "1\n2\n").expect("write");
        fs::write(root.join("a/cgroup.procs"), "").expect("write");
        fs::write(root.join("a/b/cgroup.procs"), "7\n").expect("write");
        fs::write(root.join("a/b/memory.max"), "max\n").expect("write");
        fs::write(root.join("a/b/cpu.weight"), "garbage\n").expect("write");
        let tree = walk_hierarchy(root).expect("walk");
        let paths: Vec<&str> = tree.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, vec!["/", "/a", "/a/b"]);
        let b = read_cgroup(&tree[2]).expect("read");
        assert_eq!(read_cgroup_procs(&tree[2].dir).expect("procs"), vec![7]);
        assert_eq!(
            b.limits.get("memory.max"),
            Some(&CgValue::Text("max".into()))
        );
        assert!(!b.limits.contains_key("cpu.weight"));
        assert!(walk_hierarchy(&root.join("nope")).is_err());
    }
}
