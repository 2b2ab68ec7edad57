//! Where the kernel's files are. The real paths appear here and nowhere else, so every reader can
//! be aimed at a fixture tree shaped like the real one.

use std::path::{Path, PathBuf};

/// Where cgroup hierarchies are mounted on a standard host; mount points found in mountinfo under
/// this prefix are re-rooted onto [`Roots::cgroup`].
pub const DEFAULT_CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// Roots of the kernel file systems nsview reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// procfs, normally `/proc`.
    pub proc: PathBuf,
    /// The cgroup mount prefix, normally `/sys/fs/cgroup`.
    pub cgroup: PathBuf,
    /// devtmpfs, normally `/dev` (device node names for devices.list).
    pub dev: PathBuf,
    /// The file system root used to open nsfs bind mounts found in mountinfo, normally `/`.
    pub fs: PathBuf,
}

impl Default for Roots {
    fn default() -> Self {
        Roots {
            proc: PathBuf::from("/proc"),
            cgroup: PathBuf::from(DEFAULT_CGROUP_MOUNT),
            dev: PathBuf::from("/dev"),
            fs: PathBuf::from("/"),
        }
    }
}

impl Roots {
    /// Roots for a fixture tree laid out like a host below `dir` (`dir/proc`, `dir/sys/fs/cgroup`,
    /// `dir/dev`).
    pub fn under(dir: &Path) -> Self {
        Roots {
            proc: dir.join("proc"),
            cgroup: dir.join("sys/fs/cgroup"),
            dev: dir.join("dev"),
            fs: dir.to_path_buf(),
        }
    }

    /// True when these are the live kernel's roots (nsfs ioctls and setns can be used).
    pub fn is_live(&self) -> bool {
        *self == Roots::default()
    }

    /// `/proc/PID`.
    pub fn pid_dir(&self, pid: i32) -> PathBuf {
        self.proc.join(pid.to_string())
    }

    /// A path of the host's file system (`/var/lib/docker`) as reachable here: below `fs`.
    fn host_path(&self, path: &str) -> PathBuf {
        self.fs.join(path.trim_start_matches('/'))
    }

    /// The Docker Engine API socket (`DOCKER_HOST`'s default).
    pub fn docker_sock(&self) -> PathBuf {
        self.host_path("/var/run/docker.sock")
    }

    /// podman's Docker-compatible API socket, rootful (`podman system service`'s default); absent
    /// unless that service runs.
    pub fn podman_sock(&self) -> PathBuf {
        self.host_path("/run/podman/podman.sock")
    }

    /// An LXC container's config: LXCPATH/NAME/config, LXCPATH as the host names it.
    pub fn lxc_config(&self, lxcpath: &str, name: &str) -> PathBuf {
        self.host_path(lxcpath).join(name).join("config")
    }

    /// LXC's default LXCPATH (lxc-start without `-P`).
    pub const LXC_DEFAULT_PATH: &'static str = "/var/lib/lxc";

    /// systemd-machined's registration of machine `name`.
    pub fn machine_file(&self, name: &str) -> PathBuf {
        self.host_path("/run/systemd/machines").join(name)
    }

    /// Docker's per-container directories (`<id>/config.v2.json`).
    pub fn docker_containers(&self) -> PathBuf {
        self.host_path("/var/lib/docker/containers")
    }

    /// podman's (containers/storage's) lists of containers, one per storage driver, rootful.
    pub fn podman_containers_json(&self) -> Vec<PathBuf> {
        ["overlay", "vfs", "btrfs", "zfs"]
            .iter()
            .map(|d| {
                self.host_path(&format!(
                    "/var/lib/containers/storage/{d}-containers/containers.json"
                ))
            })
            .collect()
    }

    /// The pid files of podman container `id` (its OCI runtime writes its init's PID there), one
    /// per storage driver, in containers/storage's run root (rootful).
    pub fn podman_pidfiles(&self, id: &str) -> Vec<PathBuf> {
        ["overlay", "vfs", "btrfs", "zfs"]
            .iter()
            .map(|d| {
                self.host_path(&format!(
                    "/run/containers/storage/{d}-containers/{id}/userdata/pidfile"
                ))
            })
            .collect()
    }

    /// The kubelet's pod log directories (`<namespace>_<pod>_<uid>/<container>/`).
    pub fn pod_logs(&self) -> PathBuf {
        self.host_path("/var/log/pods")
    }

    /// The OCI bundle configs that may hold a Kubernetes container's annotations: containerd's
    /// CRI plugin (namespace k8s.io), then CRI-O's (run root, then storage root).
    pub fn kube_bundle_configs(&self, id: &str) -> Vec<PathBuf> {
        [
            format!("/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json"),
            format!("/run/containers/storage/overlay-containers/{id}/userdata/config.json"),
            format!("/var/lib/containers/storage/overlay-containers/{id}/userdata/config.json"),
        ]
        .iter()
        .map(|p| self.host_path(p))
        .collect()
    }

    /// runc's default state directory (`runc --root`): `<id>/state.json`.
    pub fn runc_root(&self) -> PathBuf {
        self.host_path("/run/runc")
    }

    /// Map a mount point as the kernel names it (in mountinfo) to where it is reachable here.
    pub fn mount_path(&self, mount_point: &Path) -> PathBuf {
        match mount_point.strip_prefix(DEFAULT_CGROUP_MOUNT) {
            Ok(rest) => self.cgroup.join(rest),
            Err(_) => match mount_point.strip_prefix("/") {
                Ok(rest) => self.fs.join(rest),
                Err(_) => self.fs.join(mount_point),
            },
        }
    }
}
