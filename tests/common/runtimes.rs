//! Containers from real runtimes (Docker, podman, runc, LXC), each owned by a [`ContainerGuard`]
//! whose `Drop` removes it, also when the test panics.
//!
//! `scripts/test.sh` brings the runtimes up (scripts/runtimes.sh): it starts dockerd, imports a
//! busybox image into Docker and podman, and exports `NSVIEW_TEST_*` variables that these guards
//! read. Run without it (`cargo test`), the guards use whatever is there: a dockerd that answers,
//! the podman, runc and LXC binaries; a missing image is imported on demand. When a runtime cannot
//! be used the guard calls [`skip`] and returns `None`: under CI (CI=true) that is a failure.
//! Such a plain `cargo test` first waits for a running test.sh to finish with the runtimes (see
//! `share_runtimes_lock`).
//!
//! runc and LXC containers get a root filesystem of their own, built by [`build_rootfs`] in a few
//! milliseconds (`NSVIEW_TEST_ROOTFS`, test.sh's copy, is for other tests to read).
//!
//! Every container is named `nsview-test-<pid>-<name>` ([`unique_name`]), so names never clash
//! between the parallel tests of one binary, and `stop_runtimes` can remove what a killed test
//! left. Safety rules (shared/docs/testing.md): runc always gets an absolute cgroupsPath below
//! `/nsview-test-<pid>/`; containers get no host network (Docker runs without a bridge, podman
//! with `--network none`, LXC with an empty network); only the runtimes signal processes.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Once, OnceLock};
use std::time::Duration;

use nix::sys::resource::{Resource, getrlimit};
use serde_json::Value;

use super::{
    CGROUP_ROOT, POLL_TIMEOUT, cgroup_parent_name, proc_cgroups, skip, try_poll,
    try_run_with_timeout, unique_name, which,
};

/// The image `start_runtimes` imports into Docker; podman stores it as `localhost/` + this.
pub const TEST_IMAGE: &str = "nsview-test/busybox:1";

/// The label on every test image: scripts/runtimes.sh removes the images that carry it.
const IMAGE_LABEL: &str = "nsview-test=1";

/// The line of the test root filesystem's /etc/os-release that tells it from the host's (look
/// for it in `/proc/<init_pid>/root/etc/os-release`).
pub const ROOTFS_OS_RELEASE_NAME: &str = "NAME=\"nsview-test-rootfs\"";

/// /etc/os-release of the test root filesystem; scripts/runtimes.sh writes the same.
const ROOTFS_OS_RELEASE: &str = "NAME=\"nsview-test-rootfs\"\nID=nsview-test\n\
                                 PRETTY_NAME=\"nsview test rootfs (busybox)\"\n";

/// Debian's busybox-static: one static binary, so the root filesystem needs no libraries.
const BUSYBOX: &str = "/bin/busybox";

/// What a container runs unless the test says otherwise: something that stays up.
const DEFAULT_CMD: [&str; 2] = ["sleep", "100000"];

/// Rootful podman on these machines: runc (crun refuses hybrid cgroups), the cgroupfs manager
/// (no systemd), events to a file (no journald). Put these before podman's command.
pub const PODMAN_GLOBAL_ARGS: [&str; 6] = [
    "--runtime",
    "runc",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
];

/// How long one runtime command may take (a cold `docker run` takes well under a second).
const RUNTIME_TIMEOUT: Duration = Duration::from_secs(60);

/// A running container as the kernel and its runtime see it.
#[derive(Debug, Clone)]
pub struct RuntimeContainer {
    /// "docker", "podman", "runc" or "lxc".
    pub runtime: &'static str,
    /// `nsview-test-<pid>-<name>`: the container's name in its runtime.
    pub name: String,
    /// The full ID (64 hex digits) for Docker and podman; the name for runc and LXC.
    pub id: String,
    /// The image it runs (Docker and podman).
    pub image: Option<String>,
    /// Host PID of the container's init process.
    pub init_pid: i32,
    /// The container's cgroup path in the memory hierarchy, as /proc/<init_pid>/cgroup shows it:
    /// `/docker/<id>`, `/libpod_parent/libpod-<id>`, `/nsview-test-<pid>/runc-<name>`,
    /// `/lxc.payload.<name>`.
    pub cgroup: String,
}

/// Owns one container; dropping it (or [`ContainerGuard::remove`]) removes the container with
/// its runtime (`docker rm -f`, `podman rm -f -t 0`, `runc kill` + `runc delete -f`,
/// `lxc-stop -k` + `lxc-destroy`) and the files made for it (runc bundle, LXC directory).
pub struct ContainerGuard {
    pub c: RuntimeContainer,
    /// The runc bundle or the LXC container directory, removed with the container.
    dir: Option<PathBuf>,
    /// The LXC lxcpath (`-P`) the container lives in.
    lxc_path: Option<PathBuf>,
    /// The runtime accepted the container: from here on a failed removal is worth a warning.
    started: bool,
    removed: bool,
}

// ---------------------------------------------------------------------------------------------
// The four ways to get a container
// ---------------------------------------------------------------------------------------------

/// The limits of the article's Docker example (`docker run --cpu-shares 2048 --memory 128m
/// --cpuset-cpus 0`): cpu.shares 2048, memory.limit_in_bytes 134217728, cpuset.cpus 0.
pub const ARTICLE_LIMITS: [&str; 6] = [
    "--cpu-shares",
    "2048",
    "--memory",
    "128m",
    "--cpuset-cpus",
    "0",
];

/// `docker run -d --name nsview-test-<pid>-<name> EXTRA_ARGS... IMAGE CMD...` (CMD defaults to
/// `sleep 100000`; it must keep running). Docker runs with `--bridge=none` here, so the
/// container has a network namespace with only `lo`. `extra_args` such as
/// [`ARTICLE_LIMITS`] set limits.
pub fn docker_run(
    test: &str,
    name: &str,
    extra_args: &[&str],
    cmd: &[&str],
) -> Option<ContainerGuard> {
    image_run(test, Runtime::Docker, name, extra_args, cmd)
}

/// True when the Docker daemon answers (else the test is skipped, a failure under CI): for a
/// test that talks to Docker without a container of its own.
pub fn docker_available(test: &str) -> bool {
    available(test, Runtime::Docker)
}

/// `podman run -d --name nsview-test-<pid>-<name> --network none --ulimit ... EXTRA_ARGS... IMAGE
/// CMD...`, rootful with [`PODMAN_GLOBAL_ARGS`]. The ulimits stay within this process's hard
/// limits: there is no CAP_SYS_RESOURCE here, and podman's defaults exceed them.
pub fn podman_run(
    test: &str,
    name: &str,
    extra_args: &[&str],
    cmd: &[&str],
) -> Option<ContainerGuard> {
    image_run(test, Runtime::Podman, name, extra_args, cmd)
}

/// `runc run -d` of `sleep 100000` in a bundle of its own (`runc spec` with `terminal: false`
/// and a fresh busybox root filesystem) with the ABSOLUTE cgroupsPath
/// `/nsview-test-<pid>/runc-<name>`: a relative one would land inside runc's own cgroup, which is
/// the machine supervisor's; the `runc-` prefix keeps it apart from a [`super::CgroupGuard`] of
/// the same name. New pid, mount, uts, ipc and network namespaces (runc's defaults).
pub fn runc_run(test: &str, name: &str) -> Option<ContainerGuard> {
    check_name(name);
    if !available(test, Runtime::Runc) {
        return None;
    }
    let cname = unique_name(name);
    let cgroup = format!("/{}/runc-{name}", cgroup_parent_name());
    remove_cgroup_parent_at_exit();
    let bundle = std::env::temp_dir().join(&cname);
    if bundle.exists() {
        // Left by an earlier test process that had the same PID and was killed.
        let _ = exec("runc", &["delete", "-f", &cname]);
        let _ = fs::remove_dir_all(&bundle);
    }
    fs::create_dir(&bundle).unwrap_or_else(|e| panic!("mkdir {}: {e}", bundle.display()));
    let mut guard = ContainerGuard::new(
        RuntimeContainer {
            runtime: "runc",
            name: cname.clone(),
            id: cname.clone(),
            image: None,
            init_pid: 0,
            cgroup: cgroup.clone(),
        },
        Some(bundle.clone()),
        None,
    );
    build_rootfs(&bundle.join("rootfs"))
        .unwrap_or_else(|e| panic!("{test}: building a root filesystem: {e}"));
    let bundle_arg = bundle.to_string_lossy().into_owned();
    exec("runc", &["spec", "--bundle", &bundle_arg]).unwrap_or_else(|e| panic!("{test}: {e}"));
    let config_path = bundle.join("config.json");
    let mut config: Value = serde_json::from_str(
        &fs::read_to_string(&config_path)
            .unwrap_or_else(|e| panic!("read {}: {e}", config_path.display())),
    )
    .unwrap_or_else(|e| panic!("`runc spec` wrote bad JSON: {e}"));
    // No terminal: `runc run -d` then hands its own stdio (files, see `exec`) to the container.
    config["process"]["terminal"] = Value::Bool(false);
    config["process"]["args"] = Value::from(DEFAULT_CMD.to_vec());
    config["hostname"] = Value::from(cname.as_str());
    config["linux"]["cgroupsPath"] = Value::from(cgroup.as_str());
    fs::write(&config_path, config.to_string())
        .unwrap_or_else(|e| panic!("write {}: {e}", config_path.display()));

    // A CgroupGuard of a parallel test removes /nsview-test-<pid> when it drops its last group;
    // if that happens while runc creates its group inside, runc fails: try again.
    let mut last_error = String::new();
    for _ in 0..3 {
        match exec("runc", &["run", "-d", "--bundle", &bundle_arg, &cname]) {
            Ok(_) => {
                last_error.clear();
                break;
            }
            Err(e) => {
                last_error = e;
                let _ = exec("runc", &["delete", "-f", &cname]);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    assert!(last_error.is_empty(), "{test}: {last_error}");
    guard.started = true;
    let state = exec("runc", &["state", &cname]).unwrap_or_else(|e| panic!("{test}: {e}"));
    let state: Value = serde_json::from_str(&state)
        .unwrap_or_else(|e| panic!("{test}: `runc state` printed bad JSON ({e}): {state}"));
    let pid = state["pid"].as_i64().unwrap_or(0) as i32;
    assert!(
        pid > 0,
        "{test}: runc container {cname} has no init: {state}"
    );
    guard.set_init(test, pid);
    Some(guard)
}

/// `lxc-start -P LXCPATH -n nsview-test-<pid>-<name> -d` of `sleep 100000` on a fresh busybox
/// root filesystem, with an empty network (only `lo`) and /proc and /sys mounted. LXCPATH is
/// `$NSVIEW_TEST_LXC_PATH` (scripts/test.sh) or `$TMPDIR/nsview-test-lxc`. LXC puts it in
/// `/lxc.payload.<name>` in every hierarchy (its monitor in `/lxc.monitor.<name>`).
pub fn lxc_start(test: &str, name: &str) -> Option<ContainerGuard> {
    check_name(name);
    if !available(test, Runtime::Lxc) {
        return None;
    }
    let cname = unique_name(name);
    let lxc_path = std::env::var_os("NSVIEW_TEST_LXC_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("nsview-test-lxc"));
    let path_arg = lxc_path.to_string_lossy().into_owned();
    let dir = lxc_path.join(&cname);
    if dir.exists() {
        // Left by an earlier test process that had the same PID and was killed.
        let _ = exec("lxc-stop", &["-P", &path_arg, "-n", &cname, "-k"]);
        let _ = exec("lxc-destroy", &["-P", &path_arg, "-n", &cname]);
        let _ = fs::remove_dir_all(&dir);
    }
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    let mut guard = ContainerGuard::new(
        RuntimeContainer {
            runtime: "lxc",
            name: cname.clone(),
            id: cname.clone(),
            image: None,
            init_pid: 0,
            cgroup: format!("/lxc.payload.{cname}"),
        },
        Some(dir.clone()),
        Some(lxc_path.clone()),
    );
    // Each container gets its own copy: lxc-destroy deletes the root filesystem with the
    // container, so a shared one would vanish under the others.
    let rootfs = dir.join("rootfs");
    build_rootfs(&rootfs).unwrap_or_else(|e| panic!("{test}: building a root filesystem: {e}"));
    let config = format!(
        "lxc.uts.name = {cname}\n\
         lxc.rootfs.path = dir:{}\n\
         lxc.net.0.type = empty\n\
         lxc.mount.auto = proc:mixed sys:ro\n\
         lxc.init.cmd = /bin/{}\n",
        rootfs.display(),
        DEFAULT_CMD.join(" ")
    );
    fs::write(dir.join("config"), config).unwrap_or_else(|e| panic!("write LXC config: {e}"));
    let log = dir.join("lxc.log");
    let log_arg = log.to_string_lossy().into_owned();
    if let Err(e) = exec(
        "lxc-start",
        &[
            "-P", &path_arg, "-n", &cname, "-d", "-o", &log_arg, "-l", "INFO",
        ],
    ) {
        let log_text = fs::read_to_string(&log).unwrap_or_default();
        panic!("{test}: {e}\n{}:\n{log_text}", log.display());
    }
    guard.started = true;
    let pid = try_poll(POLL_TIMEOUT, || {
        exec("lxc-info", &["-P", &path_arg, "-n", &cname, "-p", "-H"])
            .ok()?
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|&p| p > 0)
    })
    .unwrap_or_else(|| panic!("{test}: LXC container {cname} has no init after lxc-start"));
    guard.set_init(test, pid);
    Some(guard)
}

/// Docker and podman: run the test image with the given arguments.
fn image_run(
    test: &str,
    rt: Runtime,
    name: &str,
    extra_args: &[&str],
    cmd: &[&str],
) -> Option<ContainerGuard> {
    check_name(name);
    if !available(test, rt) {
        return None;
    }
    let image = match image(rt) {
        Ok(image) => image.clone(),
        Err(e) => {
            skip(test, &format!("no {} image: {e}", rt.name()));
            return None;
        }
    };
    let cname = unique_name(name);
    let mut args: Vec<String> = rt.global_args().iter().map(|s| s.to_string()).collect();
    args.extend(["run", "-d", "--name", &cname].map(String::from));
    if rt == Runtime::Podman {
        let nofile_hard = rlimit_hard(Resource::RLIMIT_NOFILE);
        let nproc = rlimit_hard(Resource::RLIMIT_NPROC).min(32768);
        args.extend([
            "--network".to_string(),
            "none".to_string(),
            "--ulimit".to_string(),
            format!("nofile={}:{nofile_hard}", nofile_hard.min(1024)),
            "--ulimit".to_string(),
            format!("nproc={nproc}:{nproc}"),
        ]);
    }
    args.extend(extra_args.iter().map(|s| s.to_string()));
    args.push(image.clone());
    let cmd = if cmd.is_empty() {
        &DEFAULT_CMD[..]
    } else {
        cmd
    };
    args.extend(cmd.iter().map(|s| s.to_string()));

    let mut guard = ContainerGuard::new(
        RuntimeContainer {
            runtime: rt.name(),
            name: cname.clone(),
            id: String::new(),
            image: Some(image),
            init_pid: 0,
            cgroup: String::new(),
        },
        None,
        None,
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match exec(rt.name(), &args) {
        // Left by an earlier test process that had the same PID and was killed (PIDs wrap
        // quickly: pid_max is 32768 here). The name holds our PID, so it is not anyone else's.
        Err(e) if e.contains("already in use") => {
            let mut rm: Vec<&str> = rt.global_args().to_vec();
            rm.extend(["rm", "-f", &cname]);
            let _ = exec(rt.name(), &rm);
            exec(rt.name(), &args)
        }
        other => other,
    }
    .unwrap_or_else(|e| panic!("{test}: {e}"));
    guard.started = true;
    guard.c.id = out.lines().last().unwrap_or("").trim().to_string();
    assert!(
        guard.c.id.len() == 64 && guard.c.id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{test}: `{} run -d` printed no container ID: {out:?}",
        rt.name()
    );
    let mut inspect: Vec<&str> = rt.global_args().to_vec();
    inspect.extend(["inspect", "--format", "{{.State.Pid}}", &guard.c.id]);
    let pid = exec(rt.name(), &inspect)
        .unwrap_or_else(|e| panic!("{test}: {e}"))
        .trim()
        .parse::<i32>()
        .unwrap_or(0);
    assert!(
        pid > 0,
        "{test}: {} container {cname} is not running (its command must keep running)",
        rt.name()
    );
    guard.set_init(test, pid);
    Some(guard)
}

impl ContainerGuard {
    fn new(c: RuntimeContainer, dir: Option<PathBuf>, lxc_path: Option<PathBuf>) -> Self {
        ContainerGuard {
            c,
            dir,
            lxc_path,
            started: false,
            removed: false,
        }
    }

    /// Record the init PID and its memory cgroup as /proc shows it.
    fn set_init(&mut self, test: &str, pid: i32) {
        self.c.init_pid = pid;
        let cgroups = proc_cgroups(pid);
        self.c.cgroup = cgroups
            .get("memory")
            .or_else(|| cgroups.get("unified"))
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "{test}: no memory cgroup for {} init {pid} (gone?)",
                    self.c.runtime
                )
            });
    }

    /// Remove the container now (what Drop does). Idempotent; never panics. When it returns, the
    /// runtime has killed the container's processes and removed its cgroups.
    pub fn remove(&mut self) {
        if self.removed {
            return;
        }
        self.removed = true;
        let name = self.c.name.as_str();
        let result = match self.c.runtime {
            "docker" => exec("docker", &["rm", "-f", name]),
            "podman" => {
                // -t 0: SIGKILL at once; sleep as PID 1 ignores SIGTERM and podman would wait
                // 10 s before killing.
                let mut args = PODMAN_GLOBAL_ARGS.to_vec();
                args.extend(["rm", "-f", "-t", "0", name]);
                exec("podman", &args)
            }
            "runc" => {
                let _ = exec("runc", &["kill", name, "KILL"]);
                exec("runc", &["delete", "-f", name])
            }
            "lxc" => {
                let path = self
                    .lxc_path
                    .as_ref()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let _ = exec("lxc-stop", &["-P", &path, "-n", name, "-k"]);
                exec("lxc-destroy", &["-P", &path, "-n", name])
            }
            other => Err(format!("unknown runtime {other}")),
        };
        if let Err(e) = result
            && self.started
        {
            eprintln!("warning: removing {} container {name}: {e}", self.c.runtime);
        }
        // The runtimes mount nothing on the host for runc and LXC (their mounts are in the
        // container's mount namespace), so this deletes only files we made.
        if let Some(dir) = &self.dir
            && dir.exists()
            && let Err(e) = fs::remove_dir_all(dir)
        {
            eprintln!("warning: cannot remove {}: {e}", dir.display());
        }
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        self.remove();
    }
}

// ---------------------------------------------------------------------------------------------
// The runtimes
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Docker,
    Podman,
    Runc,
    Lxc,
}

impl Runtime {
    fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Runc => "runc",
            Runtime::Lxc => "lxc",
        }
    }

    /// Arguments that go before the command of the runtime's CLI.
    fn global_args(self) -> &'static [&'static str] {
        match self {
            Runtime::Podman => &PODMAN_GLOBAL_ARGS,
            _ => &[],
        }
    }

    /// The programs it needs, and the Debian package that has them.
    fn tools(self) -> (&'static [&'static str], &'static str) {
        match self {
            Runtime::Docker => (&["docker"], "docker.io"),
            Runtime::Podman => (&["podman", "tar"], "podman"),
            Runtime::Runc => (&["runc"], "runc"),
            Runtime::Lxc => (&["lxc-start", "lxc-info", "lxc-stop", "lxc-destroy"], "lxc"),
        }
    }
}

/// Whether `rt` can be used (root, its tools, a daemon that answers), checked once per process.
/// Otherwise reports the skip (a failure under CI) and returns false.
fn available(test: &str, rt: Runtime) -> bool {
    static CHECKED: [OnceLock<Result<(), String>>; 4] = [const { OnceLock::new() }; 4];
    match CHECKED[rt as usize].get_or_init(|| probe(rt)) {
        Ok(()) => true,
        Err(why) => {
            skip(test, why);
            false
        }
    }
}

fn probe(rt: Runtime) -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err(format!("{} containers need root", rt.name()));
    }
    share_runtimes_lock()?;
    let (tools, package) = rt.tools();
    for tool in tools {
        if which(tool).is_none() {
            return Err(format!(
                "needs `{tool}` on PATH (Debian package {package}; scripts/test.sh installs it)"
            ));
        }
    }
    if !Path::new(BUSYBOX).exists() {
        return Err(format!(
            "needs {BUSYBOX} (Debian package busybox-static) for the root filesystem"
        ));
    }
    let check: (&str, Vec<&str>) = match rt {
        Runtime::Docker => ("docker", vec!["version", "--format", "{{.Server.Version}}"]),
        Runtime::Podman => {
            let mut args = PODMAN_GLOBAL_ARGS.to_vec();
            args.extend(["info", "--format", "{{.Host.CgroupManager}}"]);
            ("podman", args)
        }
        Runtime::Runc => ("runc", vec!["--version"]),
        Runtime::Lxc => ("lxc-start", vec!["--version"]),
    };
    exec(check.0, &check.1).map(drop).map_err(|e| {
        let hint = match (rt, std::env::var("NSVIEW_TEST_RUNTIME_DIR")) {
            (Runtime::Docker, Ok(dir)) => format!("; see {dir}/dockerd.log"),
            (Runtime::Docker, Err(_)) => "; scripts/test.sh starts dockerd".to_string(),
            _ => String::new(),
        };
        format!("{} is not usable: {e}{hint}", rt.name())
    })
}

/// scripts/runtimes.sh holds this lock exclusively from bring-up to the end of its teardown.
const RUNTIMES_LOCK: &str = "/run/nsview-test-runtimes.lock";

/// How long a plain `cargo test` waits for a scripts/test.sh run to finish with the runtimes.
const RUNTIMES_LOCK_WAIT: Duration = Duration::from_secs(300);

/// Outside scripts/test.sh (a plain `cargo test`), hold [`RUNTIMES_LOCK`] shared for the rest of
/// this process, waiting for a test.sh run that holds it: that run's teardown removes every
/// `nsview-test-*` container and stops its dockerd, which would pull the containers out from under
/// this process's tests; and a test.sh started meanwhile waits for this process instead. Under
/// test.sh (`NSVIEW_TEST_RUNTIMES=1`) the script's own exclusive lock covers its tests.
fn share_runtimes_lock() -> Result<(), String> {
    static HELD: OnceLock<Result<fs::File, String>> = OnceLock::new();
    if std::env::var("NSVIEW_TEST_RUNTIMES").as_deref() == Ok("1") {
        return Ok(());
    }
    let held = HELD.get_or_init(|| {
        let file = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(RUNTIMES_LOCK)
            .map_err(|e| format!("cannot open {RUNTIMES_LOCK}: {e}"))?;
        if file.try_lock_shared().is_err() {
            eprintln!(
                "waiting for scripts/test.sh to release the container runtimes ({RUNTIMES_LOCK})"
            );
            try_poll(RUNTIMES_LOCK_WAIT, || file.try_lock_shared().ok()).ok_or_else(|| {
                format!(
                    "a scripts/test.sh run held the container runtimes ({RUNTIMES_LOCK}) for \
                     more than {RUNTIMES_LOCK_WAIT:?}"
                )
            })?;
        }
        Ok(file)
    });
    held.as_ref().map(drop).map_err(Clone::clone)
}

/// The test image in Docker or podman: the one scripts/test.sh imported
/// (`NSVIEW_TEST_DOCKER_IMAGE`, `NSVIEW_TEST_PODMAN_IMAGE`), or [`TEST_IMAGE`], imported now
/// from a fresh root filesystem if the runtime does not have it. Once per process.
fn image(rt: Runtime) -> &'static Result<String, String> {
    static DOCKER: OnceLock<Result<String, String>> = OnceLock::new();
    static PODMAN: OnceLock<Result<String, String>> = OnceLock::new();
    let (cell, env, default) = match rt {
        Runtime::Docker => (&DOCKER, "NSVIEW_TEST_DOCKER_IMAGE", TEST_IMAGE.to_string()),
        Runtime::Podman => (
            &PODMAN,
            "NSVIEW_TEST_PODMAN_IMAGE",
            format!("localhost/{TEST_IMAGE}"),
        ),
        _ => unreachable!("{} has no images", rt.name()),
    };
    cell.get_or_init(|| {
        let image = std::env::var(env).unwrap_or(default);
        let mut args = rt.global_args().to_vec();
        args.extend(["image", "inspect", "--format", "{{.Id}}", &image]);
        if exec(rt.name(), &args).is_ok() {
            return Ok(image);
        }
        import_image(rt, &image)?;
        Ok(image)
    })
}

/// Build a root filesystem, tar it and import it into `rt` as `image` (no registry is reachable
/// on these machines, so `import` is the way in).
fn import_image(rt: Runtime, image: &str) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix(&unique_name("image-"))
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let rootfs = dir.path().join("rootfs");
    build_rootfs(&rootfs).map_err(|e| format!("building a root filesystem: {e}"))?;
    let tar = dir.path().join("rootfs.tar");
    let (rootfs, tar) = (rootfs.to_string_lossy(), tar.to_string_lossy());
    exec("tar", &["--numeric-owner", "-C", &rootfs, "-cf", &tar, "."])?;
    let mut args = rt.global_args().to_vec();
    let label = format!("LABEL {IMAGE_LABEL}");
    args.extend([
        "import",
        "-c",
        "CMD [\"/bin/sh\"]",
        "-c",
        &label,
        &tar,
        image,
    ]);
    exec(rt.name(), &args)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Build the busybox-static root filesystem in `dir` (which must not exist yet): /bin/busybox
/// with a relative symlink per applet (`busybox --list`), /etc/os-release with
/// [`ROOTFS_OS_RELEASE_NAME`], root in /etc/passwd and /etc/group, /etc/hostname, and the mount
/// points runtimes expect. About 2 MB and a few milliseconds; scripts/runtimes.sh builds the
/// same tree.
pub fn build_rootfs(dir: &Path) -> std::io::Result<()> {
    fs::create_dir(dir)?;
    for sub in ["bin", "dev", "etc", "proc", "root", "sys", "tmp"] {
        fs::create_dir(dir.join(sub))?;
    }
    fs::set_permissions(dir.join("tmp"), fs::Permissions::from_mode(0o1777))?;
    fs::copy(BUSYBOX, dir.join("bin/busybox"))?;
    let list = exec(BUSYBOX, &["--list"]).map_err(std::io::Error::other)?;
    for applet in list.lines() {
        let link = dir.join("bin").join(applet);
        if !applet.is_empty() && !applet.contains('/') && fs::symlink_metadata(&link).is_err() {
            symlink("busybox", link)?;
        }
    }
    fs::write(dir.join("etc/os-release"), ROOTFS_OS_RELEASE)?;
    fs::write(dir.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")?;
    fs::write(dir.join("etc/group"), "root:x:0:\n")?;
    fs::write(dir.join("etc/hostname"), "nsview-test\n")?;
    Ok(())
}

/// Run `program args` to completion and return its stdout, or an error naming the command with
/// its status and stderr. Output goes to files, not pipes (see [`super::run`]): `runc run -d`
/// hands its stdio to the container, and podman's conmon or LXC's monitor keep theirs open.
/// Never panics (Drop uses it); a command still running after [`RUNTIME_TIMEOUT`] is killed and
/// the error shows what it printed.
fn exec(program: &str, args: &[&str]) -> Result<String, String> {
    let r = try_run_with_timeout(Command::new(program).args(args), RUNTIME_TIMEOUT)?;
    if r.status.success() {
        Ok(r.stdout)
    } else {
        Err(format!(
            "`{program} {}` failed with {}: {}",
            args.join(" "),
            r.status,
            r.stderr.trim()
        ))
    }
}

/// Container names go into runtime names, hostnames (64 bytes at most) and cgroup paths.
fn check_name(name: &str) {
    assert!(
        !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'),
        "container name {name:?}: use 1 to 40 of a-z 0-9 - _"
    );
}

/// The hard limit of `resource` for this process (what a container may get without
/// CAP_SYS_RESOURCE).
fn rlimit_hard(resource: Resource) -> u64 {
    getrlimit(resource).map(|(_, hard)| hard).unwrap_or(1024)
}

/// runc leaves `/nsview-test-<pid>` in every hierarchy after `runc delete`. Removing it at
/// once could race a parallel test's CgroupGuard creating its group there (that guard takes a
/// lock of its own between the two mkdirs), so it is removed when the test process exits, after
/// every test: rmdir only, which the kernel refuses while anything is left in it.
fn remove_cgroup_parent_at_exit() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: atexit(3) registers a plain extern "C" function taking nothing; it runs once
        // in the exiting process, after libtest has joined every test.
        unsafe {
            nix::libc::atexit(remove_empty_cgroup_parents);
        }
    });
}

extern "C" fn remove_empty_cgroup_parents() {
    let Ok(hierarchies) = fs::read_dir(CGROUP_ROOT) else {
        return;
    };
    let parent = cgroup_parent_name();
    for hierarchy in hierarchies.flatten() {
        let _ = fs::remove_dir(hierarchy.path().join(&parent));
    }
}

// ---------------------------------------------------------------------------------------------
// podman's API service
// ---------------------------------------------------------------------------------------------

/// Where rootful `podman system service` listens by default, and where nsview looks.
pub const PODMAN_SOCK: &str = "/run/podman/podman.sock";

/// podman's API service on [`PODMAN_SOCK`] for the life of the guard: `podman system service
/// --time=0` started by this test (with [`PODMAN_GLOBAL_ARGS`]), killed by the guard, which also
/// removes the socket it left. None (after [`skip`]) when podman cannot be used; a service that
/// already answers there is used and left alone.
pub struct PodmanService {
    child: Option<super::ChildGuard>,
    /// /run/podman was made for it (removed again when empty).
    made_dir: bool,
}

impl PodmanService {
    pub fn start(test: &str) -> Option<PodmanService> {
        if !available(test, Runtime::Podman) {
            return None;
        }
        if podman_sock_answers() {
            return Some(PodmanService {
                child: None,
                made_dir: false,
            });
        }
        // A socket file nobody answers on (a service killed earlier): podman binds anew.
        let _ = fs::remove_file(PODMAN_SOCK);
        let dir = Path::new(PODMAN_SOCK)
            .parent()
            .unwrap_or(Path::new("/run/podman"));
        let made_dir = !dir.exists();
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let mut cmd = Command::new("podman");
        cmd.args(PODMAN_GLOBAL_ARGS).args([
            "system",
            "service",
            "--time=0",
            &format!("unix://{PODMAN_SOCK}"),
        ]);
        let child = super::ChildGuard::spawn(&mut cmd);
        let service = PodmanService {
            child: Some(child),
            made_dir,
        };
        if try_poll(POLL_TIMEOUT, || podman_sock_answers().then_some(())).is_none() {
            panic!("{test}: `podman system service` did not answer on {PODMAN_SOCK}");
        }
        Some(service)
    }

    /// Whether this guard started the service (and will stop it).
    pub fn is_ours(&self) -> bool {
        self.child.is_some()
    }

    /// Stop the service now (what Drop does); the socket goes with it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill();
            let _ = fs::remove_file(PODMAN_SOCK);
            if self.made_dir
                && let Some(dir) = Path::new(PODMAN_SOCK).parent()
            {
                let _ = fs::remove_dir(dir);
            }
        }
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether something answers podman's API on [`PODMAN_SOCK`] (GET /_ping).
pub fn podman_sock_answers() -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(PODMAN_SOCK) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}
