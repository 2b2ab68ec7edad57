//! The TUI end to end, in a real terminal (tmux) on the real kernel, as root.
//!
//! nsview runs in a 120x40 tmux pane on a tmux server of its own (tests/common's TmuxGuard); the
//! pane's shell prints `NSVIEW-EXIT=<status>` when nsview ends, so the test sees that it exited
//! and with what. The terminal must be back afterwards: main screen (tmux `alternate_on` 0),
//! cursor visible (`cursor_flag` 1), no mouse reporting, and the tty in canonical mode with echo.
//!
//! Everything is cleaned up on drop, also when a test fails: the isolation group (ChildGuard
//! kills its process group), the tmux server (which hangs up nsview and the pane's shell), and any
//! nsview process that outlived its terminal (SIGKILL by pidfd, only if it is still the process
//! the test started).
//!
//! Needs root (namespaces, and nsview sees every process) and tmux + unshare; the test command
//! (scripts/test.sh) installs tmux. Without them the tests skip and say why; under CI=true a skip
//! is a failure.

mod common;

use common::*;
use std::time::Duration;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

/// Screen changes that follow a key press or a collection (1 s refresh) come well within this.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(10);

/// nsview in a tmux pane: `nsview; echo NSVIEW-EXIT=$?; exec sleep ...`.
struct Nsview {
    tmux: Option<TmuxGuard>,
    /// The pane's shell, nsview's parent.
    shell: i32,
    /// nsview's PID and start time (to recognise it across PID reuse).
    pid: i32,
    start: u64,
    /// An empty $XDG_CONFIG_HOME: no user config changes keys or colours.
    _config: tempfile::TempDir,
}

impl Nsview {
    /// Start nsview in a fresh tmux server and wait for its first frame with data.
    fn start(name: &str) -> Nsview {
        Nsview::start_sized(name, WIDTH, HEIGHT)
    }

    /// [`Nsview::start`] in a pane of `width` x `height`.
    fn start_sized(name: &str, width: u16, height: u16) -> Nsview {
        Nsview::start_with(name, width, height, "")
    }

    /// [`Nsview::start_sized`] with more arguments for nsview (words without quotes).
    fn start_with(name: &str, width: u16, height: u16, args: &str) -> Nsview {
        let config = tempfile::Builder::new()
            .prefix("nsview-e2e-config-")
            .tempdir()
            .expect("temp config dir");
        let bin = nsview_bin();
        let cfg = config.path().to_str().expect("utf-8 temp path");
        for p in [bin, cfg] {
            assert!(!p.contains('\''), "cannot quote {p} for the pane's shell");
        }
        // The journal of changes (the hidden --state-dir) goes to the same temporary directory.
        let command = format!(
            "XDG_CONFIG_HOME='{cfg}' '{bin}' --state-dir '{cfg}' {args}; echo NSVIEW-EXIT=$?; exec sleep 100000"
        );
        let tmux = TmuxGuard::start(name, width, height, &command);
        let shell: i32 = tmux
            .tmux(&["display-message", "-p", "-t", name, "#{pane_pid}"])
            .trim()
            .parse()
            .expect("pane_pid is a number");
        // From here on a failure still cleans up: the guard exists.
        let mut me = Nsview {
            tmux: Some(tmux),
            shell,
            pid: 0,
            start: 0,
            _config: config,
        };
        let (pid, start) = poll("nsview to start in the pane", POLL_TIMEOUT, || {
            let pid = *children_of(shell)
                .iter()
                .find(|p| comm(**p).as_deref() == Some("nsview"))?;
            Some((pid, start_time(pid)?))
        });
        me.pid = pid;
        me.start = start;
        // The first frame with a snapshot: the Containers table has a title with a count.
        me.wait_for(" Containers (");
        me
    }

    fn tmux(&self) -> &TmuxGuard {
        self.tmux.as_ref().expect("tmux server running")
    }

    fn session(&self) -> &str {
        &self.tmux().session
    }

    /// Type literal text (no key-name lookup).
    fn type_text(&self, text: &str) {
        self.tmux()
            .tmux(&["send-keys", "-t", self.session(), "-l", text]);
    }

    /// Press keys by tmux name (`Enter`, `Escape`, `C-c`).
    fn press(&self, keys: &[&str]) {
        self.tmux().send_keys(keys);
    }

    fn screen(&self) -> String {
        self.tmux().capture()
    }

    fn wait_for(&self, text: &str) -> String {
        self.tmux().wait_for(text, SCREEN_TIMEOUT)
    }

    /// Wait until `cond` holds for the screen; returns that screen.
    fn wait_until(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        match try_poll(SCREEN_TIMEOUT, || {
            let s = self.screen();
            cond(&s).then_some(s)
        }) {
            Some(s) => s,
            None => panic!("timed out waiting for {what}; screen:\n{}", self.screen()),
        }
    }

    /// tmux's view of the pane: `#{FORMAT}` expanded.
    fn pane_format(&self, format: &str) -> String {
        self.tmux()
            .tmux(&["display-message", "-p", "-t", self.session(), format])
            .trim()
            .to_string()
    }

    /// Whether nsview (the very process started) is still running.
    fn running(&self) -> bool {
        alive(self.pid) && start_time(self.pid) == Some(self.start)
    }

    /// Wait for the pane's `NSVIEW-EXIT=<status>` line; returns the status.
    fn wait_exit(&self) -> i32 {
        let screen = self.wait_for("NSVIEW-EXIT=");
        let status = screen
            .lines()
            .find_map(|l| l.trim().strip_prefix("NSVIEW-EXIT="))
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("no exit status on screen:\n{screen}"));
        poll("the nsview process to be gone", POLL_TIMEOUT, || {
            (!self.running()).then_some(())
        });
        status
    }

    /// The terminal is as nsview found it: main screen, cursor shown, no mouse reporting, the tty
    /// in canonical mode with echo.
    fn assert_terminal_restored(&self, ctx: &str) {
        let screen = self.screen();
        assert_eq!(
            self.pane_format("#{alternate_on}"),
            "0",
            "{ctx}: the pane must be back on the main screen (alternate_on); screen:\n{screen}"
        );
        assert_eq!(
            self.pane_format("#{cursor_flag}"),
            "1",
            "{ctx}: the cursor must be visible again (cursor_flag)"
        );
        assert_eq!(
            self.pane_format("#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}"),
            "000",
            "{ctx}: mouse reporting must be off again (mouse_any/button/standard flags)"
        );
        let tty = self.pane_format("#{pane_tty}");
        let stty = run_ok("stty", &["-a", "-F", &tty]);
        let flags: Vec<&str> = stty.split_whitespace().collect();
        for want in ["icanon", "echo", "isig", "icrnl", "opost"] {
            assert!(
                flags.contains(&want),
                "{ctx}: the tty {tty} must be out of raw mode ({want} set); stty -a:\n{stty}"
            );
        }
    }
}

impl Drop for Nsview {
    fn drop(&mut self) {
        // Killing the tmux server hangs up the pane: nsview quits on SIGHUP, the shell and its
        // sleep die.
        let shell = self.shell;
        let left: Vec<(i32, u64)> = std::iter::once(shell)
            .chain(children_of(shell))
            .chain((self.pid > 0).then_some(self.pid))
            .filter_map(|p| Some((p, start_time(p)?)))
            .collect();
        drop(self.tmux.take());
        for (pid, start) in left {
            let gone = try_poll(Duration::from_secs(5), || {
                (!alive(pid) || start_time(pid) != Some(start)).then_some(())
            });
            if gone.is_none() {
                eprintln!("warning: process {pid} outlived its tmux pane; killing it");
                kill_if_same(pid, start, nix::libc::SIGKILL);
            }
        }
    }
}

/// Send `sig` to `pid` only if it is still the process that started at `start` (a pidfd pins
/// it, so the check and the signal refer to the same process).
fn kill_if_same(pid: i32, start: u64, sig: i32) -> bool {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return false;
    }
    let fd = fd as i32;
    let mut sent = false;
    if start_time(pid) == Some(start) {
        // SAFETY: pidfd_send_signal(2) on our own fd, no siginfo, no flags.
        sent = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_pidfd_send_signal,
                fd,
                sig,
                std::ptr::null::<nix::libc::siginfo_t>(),
                0,
            )
        } == 0;
    }
    // SAFETY: closing the fd opened above.
    unsafe {
        nix::libc::close(fd);
    }
    sent
}

fn ready(test: &str) -> bool {
    require_root_and_tools(test, &["tmux", "unshare", "stty"])
}

#[test]
fn isolation_group_appears_live_filter_detail_devices_quit() {
    let test = "isolation_group_appears_live_filter_detail_devices_quit";
    if !ready(test) {
        return;
    }
    let nsview = Nsview::start("e2e-live");
    // Newest first (PID descending), and the filter on the group's hostname before the group
    // exists (the Containers view matches hostnames too): the new group then shows at the top
    // however many other groups there are and wherever PIDs wrapped around.
    nsview.press(&["S"]);
    nsview.wait_for("PID▼");
    let hostname = format!("nsv-e2e-{}", test_pid());
    nsview.press(&["/"]);
    nsview.type_text(&hostname);
    nsview.wait_for(&format!("filter: {hostname}"));
    nsview.press(&["Enter"]);
    nsview.wait_for(&format!("matching '{hostname}')"));

    // Only now the isolation group starts: nsview must pick it up by itself.
    let group = NsProcess::spawn(
        &["--pid", "--mount-proc", "--uts", "--ipc", "--net"],
        &format!("hostname {hostname}; exec sleep 1000"),
        "sleep",
    );
    let inner = group.inner;
    let name = format!("sleep[{inner}]");
    nsview.wait_for(&name);
    assert!(nsview.running(), "nsview was not restarted");
    // Home: the first row, the newest group: the pid namespace's init.
    nsview.press(&["Home"]);
    let filtered = nsview.wait_until("the filtered list with the group selected", |s| {
        s.contains(&format!("matching '{hostname}')"))
            && s.contains(&format!(" {name} "))
            && s.contains(&format!("init {inner} (1 inside)"))
    });

    // Content problems are collected so that one run shows them all and the rest of the flow
    // (devices view, quit, terminal restore) still runs.
    let mut problems: Vec<String> = Vec::new();

    // Only our processes match: the group's init, and the `unshare` process itself, which is in
    // the new mnt uts ipc net namespaces but, having only forked into the new pid namespace, in
    // the host's pid namespace: a group of its own that shares the hostname.
    let outer = format!("unshare[{}]", group.outer);
    let rows = table_rows(&filtered);
    for line in &rows {
        if !(line.contains(&name) || line.contains(&outer)) {
            problems.push(format!("the filter '{hostname}' also shows: {line}"));
        }
    }

    // The row: no runtime owns it, the group's init, private mnt uts ipc pid net (its PID 1
    // inside is in the detail pane, waited for above).
    let row = rows
        .iter()
        .find(|r| r.starts_with(&name))
        .unwrap_or_else(|| panic!("no row {name} in the list:\n{filtered}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    if cells.get(1) != Some(&"-") || !cells.contains(&inner.to_string().as_str()) {
        problems.push(format!(
            "row should show no runtime (-) and the init's PID {inner}: {row}"
        ));
    }
    if !row.contains("mnt uts ipc pid net") {
        problems.push(format!(
            "row should list the private namespaces 'mnt uts ipc pid net': {row}"
        ));
    }

    // The detail pane: each namespace with its inode, private or shared with the host as the
    // kernel says, and the hostname.
    let host = host_ns_map();
    for (ty, ino) in ns_map(inner) {
        let private = ["mnt", "uts", "ipc", "pid", "net"].contains(&ty.as_str());
        assert_eq!(
            host.get(&ty) != Some(&ino),
            private,
            "{ty}: the test expects unshare to have made exactly mnt uts ipc pid net private"
        );
        let want = if private { "private" } else { "host" };
        let label = format!("{ty:<6} {ino} {want}");
        // A detail entry may wrap onto the next screen line (indented); take both.
        let lines: Vec<&str> = filtered.lines().collect();
        let entry = lines
            .iter()
            .position(|l| l.contains(&format!("{ty:<6} {ino} ")))
            .map(|i| format!("{} {}", lines[i], lines.get(i + 1).copied().unwrap_or("")));
        match entry.as_deref() {
            None => problems.push(format!("detail pane has no line for {ty} {ino}")),
            Some(line) if !line.contains(&label) => {
                problems.push(format!("detail pane: want {label:?}: {line}"))
            }
            // "hostname NAME", possibly wrapped between the two lines.
            Some(line)
                if ty == "uts" && !(line.contains("hostname") && line.contains(&hostname)) =>
            {
                problems.push(format!(
                    "detail pane: the uts line should show the hostname ({hostname}): {line}"
                ))
            }
            Some(_) => {}
        }
    }

    // d: the devices view of the group's devices cgroup (on this host: the test's own cgroup).
    nsview.press(&["d"]);
    let devices_cg = proc_cgroups(inner)
        .get("devices")
        .cloned()
        .expect("the devices controller is mounted (v1) on the test hosts");
    let screen = nsview.wait_for(&format!("devices.list of {devices_cg} [devices]"));
    assert!(
        screen.contains("MAJOR:MINOR") && screen.contains("default: "),
        "devices view shows the decoded devices.list:\n{screen}"
    );
    nsview.press(&["Escape"]);
    nsview.wait_until("the devices view to close", |s| {
        !s.contains("devices.list of") && s.contains(&name)
    });

    // 3: the Cgroups view with its hierarchy selector.
    nsview.press(&["3"]);
    nsview.wait_for("hierarchy [");

    // q: nsview exits 0 and the terminal is back.
    nsview.press(&["q"]);
    let status = nsview.wait_exit();
    assert_eq!(status, 0, "nsview exits 0 on q");
    nsview.assert_terminal_restored("after q");
    drop(group);
    assert!(
        problems.is_empty(),
        "what nsview showed for the group {name} (hostname {hostname}):\n- {}\nscreen after filtering:\n{filtered}",
        problems.join("\n- ")
    );
}

#[test]
fn sigterm_restores_the_terminal() {
    let test = "sigterm_restores_the_terminal";
    if !ready(test) {
        return;
    }
    let nsview = Nsview::start("e2e-sigterm");
    // Open a dialog too: the terminal must come back from any state.
    nsview.press(&["?"]);
    nsview.wait_for("keys (Esc closes)");
    assert!(
        kill_if_same(nsview.pid, nsview.start, nix::libc::SIGTERM),
        "SIGTERM to nsview {}",
        nsview.pid
    );
    let status = nsview.wait_exit();
    eprintln!("nsview exited with {status} after SIGTERM");
    nsview.assert_terminal_restored("after SIGTERM");
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let test = "ctrl_c_quits_and_restores_the_terminal";
    if !ready(test) {
        return;
    }
    let nsview = Nsview::start("e2e-ctrl-c");
    nsview.press(&["C-c"]);
    let status = nsview.wait_exit();
    assert_eq!(status, 0, "nsview exits 0 on Ctrl-C");
    nsview.assert_terminal_restored("after Ctrl-C");
}

/// The keys of htop and k9s in a real terminal: `:ps` switches view, Ctrl-L and F5 repaint and
/// keep it, F1 opens help, F10 quits and gives the terminal back (issue 16 item 7).
#[test]
fn command_line_and_function_keys() {
    let test = "command_line_and_function_keys";
    if !ready(test) {
        return;
    }
    let nsview = Nsview::start("e2e-fkeys");
    nsview.type_text(":ps");
    nsview.wait_for(":ps");
    nsview.press(&["Enter"]);
    nsview.wait_for(" Processes (");
    nsview.type_text(":nosuch");
    nsview.press(&["Enter"]);
    nsview.wait_for("unknown command \":nosuch\"");
    for key in ["C-l", "F5"] {
        nsview.press(&[key]);
        nsview.wait_for(" Processes (");
    }
    nsview.press(&["F1"]);
    nsview.wait_for("keys (Esc closes)");
    nsview.press(&["Escape"]);
    nsview.wait_until("help to close", |s| !s.contains("keys (Esc closes)"));
    nsview.press(&["F10"]);
    let status = nsview.wait_exit();
    assert_eq!(status, 0, "nsview exits 0 on F10");
    nsview.assert_terminal_restored("after F10");
}

/// `x` on a group: the enter dialog, a command run inside the group's namespaces on the plain
/// terminal, Enter, and nsview's screen back with the same selection.
#[test]
fn x_runs_a_command_inside_and_returns() {
    let test = "x_runs_a_command_inside_and_returns";
    if !ready(test) {
        return;
    }
    let hostname = format!("nsv-x-{}", test_pid());
    let group = NsProcess::spawn(
        &["--pid", "--mount-proc", "--uts", "--ipc", "--net"],
        &format!("hostname {hostname}; exec sleep 1000"),
        "sleep",
    );
    let name = format!("sleep[{}]", group.inner);
    let nsview = Nsview::start("e2e-enter");
    nsview.press(&["/"]);
    nsview.type_text(&hostname);
    nsview.press(&["Enter"]);
    // The pid namespace's init: the row whose name is sleep[PID].
    nsview.wait_for(&format!(" {name} "));
    let screen = nsview.screen();
    let rows = table_rows(&screen);
    let index = rows
        .iter()
        .position(|r| r.contains(&name))
        .unwrap_or_else(|| panic!("no row {name}:\n{screen}"));
    nsview.press(&["Home"]);
    for _ in 0..index {
        nsview.press(&["Down"]);
    }
    nsview.wait_for(&format!("init {} (1 inside)", group.inner));

    // The dialog, with the group's private namespaces ticked.
    nsview.press(&["x"]);
    let dialog = nsview.wait_for(&format!("enter {name}"));
    for ns in ["mnt", "uts", "ipc", "pid", "net"] {
        assert!(
            dialog.lines().any(|l| l.contains(&format!("[x] {ns:<6}"))),
            "{ns} should be ticked:\n{dialog}"
        );
    }
    // To the command line (after the namespaces and the cgroup switch), type, run.
    for _ in 0..9 {
        nsview.press(&["Down"]);
    }
    nsview.type_text("sh -c 'hostname; echo ENTERED-$$'");
    nsview.press(&["Enter"]);
    // The command ran inside: the group's hostname, and PID 1's child in the new pid namespace
    // (a small PID: the shell is forked after joining).
    let out = nsview.wait_for("Press Enter to return to nsview");
    assert!(
        out.lines().any(|l| l.trim() == hostname),
        "the command should print the group's hostname {hostname}:\n{out}"
    );
    let small = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("ENTERED-"))
        .and_then(|n| n.parse::<i32>().ok())
        .unwrap_or_else(|| panic!("no ENTERED-<pid> line:\n{out}"));
    assert!(
        small < 100,
        "the command's PID inside should be small, got {small}"
    );
    assert!(out.contains("exited with status 0"), "{out}");

    // Back: the same view and selection, and the outcome in the footer.
    nsview.press(&["Enter"]);
    let back = nsview.wait_until("nsview's screen back", |s| {
        s.contains(&format!("init {} (1 inside)", group.inner))
            && s.contains("exited with status 0")
    });
    assert!(back.contains("1 Containers"), "{back}");
    assert!(nsview.running(), "nsview keeps running after the command");
    nsview.press(&["q"]);
    assert_eq!(nsview.wait_exit(), 0);
    nsview.assert_terminal_restored("after x and q");
    drop(group);
}

/// `e` on a process in cgroups of ours: type a new CPU weight, Enter shows old -> new, y writes
/// it, the kernel file has it and the screen shows it; `u` undoes it the same way.
#[test]
fn e_edits_a_limit_and_u_undoes_it() {
    let test = "e_edits_a_limit_and_u_undoes_it";
    if !ready(test) {
        return;
    }
    let cpu = CgroupGuard::create("cpu", "e2e_edit").expect("cpu cgroup");
    let mem = CgroupGuard::create("memory", "e2e_edit").expect("memory cgroup");
    let p = ChildGuard::spawn_sleep();
    cpu.add_process(p.pid()).expect("join cpu");
    mem.add_process(p.pid()).expect("join memory");
    let pid = p.pid().to_string();

    let nsview = Nsview::start("e2e-edit");
    nsview.press(&["4", "/"]);
    nsview.type_text(&pid);
    nsview.press(&["Enter"]);
    let screen = nsview.wait_for(&format!(" {pid} "));
    // The Processes view's rows (its header starts with PID), the process's by its first field.
    let index = screen
        .lines()
        .skip_while(|l| !l.contains("PID"))
        .skip(1)
        .map(|l| l.strip_prefix('│').unwrap_or(l).trim_start())
        .position(|r| r.split_whitespace().next() == Some(pid.as_str()))
        .unwrap_or_else(|| panic!("no row for {pid}:\n{screen}"));
    nsview.press(&["Home"]);
    for _ in 0..index {
        nsview.press(&["Down"]);
    }

    nsview.press(&["e"]);
    let form = nsview.wait_for("edit limits of");
    assert!(form.contains("1024 (weight 100)"), "{form}");
    nsview.type_text("512");
    nsview.press(&["Enter"]);
    let confirm = nsview.wait_for("write these values?");
    assert!(confirm.contains("cpu.shares 1024 -> 512"), "{confirm}");
    assert_eq!(
        cpu.read("cpu.shares").expect("read"),
        "1024",
        "nothing written before y"
    );
    nsview.press(&["y"]);
    let done = nsview.wait_for("journal entry 1");
    assert!(done.contains("cpu.shares 1024 -> 512"), "{done}");
    assert_eq!(cpu.read("cpu.shares").expect("read"), "512");
    nsview.press(&["Escape"]);
    // The refreshed detail pane shows what the kernel now says.
    nsview.wait_for("cpu.shares 512");

    nsview.press(&["u"]);
    let confirm = nsview.wait_for("revert it?");
    assert!(confirm.contains("entry 1: set"), "{confirm}");
    nsview.press(&["y"]);
    nsview.wait_for("reverted entry 1");
    assert_eq!(cpu.read("cpu.shares").expect("read"), "1024");
    // Esc, then q once the dialog is gone (ESC and q in one burst read as Alt-q).
    nsview.press(&["Escape"]);
    nsview.wait_until("the outcome dialog to close", |s| {
        !s.contains("reverted entry 1")
    });
    nsview.press(&["q"]);
    assert_eq!(nsview.wait_exit(), 0);
    nsview.assert_terminal_restored("after e, u and q");
    drop(p);
}

/// The Containers view on real runtimes: a Docker container (with limits), and podman, LXC and
/// runc ones, each listed by its name with its runtime; Docker's limits in its detail pane. Then,
/// with nsview running, one more Docker container starts and shows up by itself (the cgroup
/// hierarchies are watched), and goes away when it is removed.
#[test]
fn containers_view_lists_runtimes_and_follows_docker_live() {
    use common::runtimes::{docker_run, lxc_start, podman_run, runc_run};
    let test = "containers_view_lists_runtimes_and_follows_docker_live";
    if !ready(test) {
        return;
    }
    // Short names: a whole name, runtime and image must fit the detail pane's title.
    let Some(web) = docker_run(test, "tw", &runtimes::ARTICLE_LIMITS, &[]) else {
        return;
    };
    let others: Vec<_> = [
        podman_run(test, "tp", &[], &[]),
        lxc_start(test, "tl"),
        runc_run(test, "tr"),
    ]
    .into_iter()
    .flatten()
    .collect();

    // Wide, so that every column and whole names show.
    let nsview = Nsview::start_sized("e2e-containers", 220, 50);
    // Only this test's containers: their names start with nsview-test-<pid>-t.
    let prefix = unique_name("t");
    nsview.press(&["/"]);
    nsview.type_text(&prefix);
    nsview.press(&["Enter"]);
    nsview.wait_for(&format!("matching '{prefix}')"));

    // A row per container: its name first, then its runtime, then (Docker, podman) its image.
    let row_of = |screen: &str, name: &str| -> Option<Vec<String>> {
        table_rows(screen).into_iter().find_map(|r| {
            let cells: Vec<String> = r.split_whitespace().map(str::to_string).collect();
            (cells.first().map(String::as_str) == Some(name)).then_some(cells)
        })
    };
    let mut problems: Vec<String> = Vec::new();
    let all: Vec<&common::runtimes::RuntimeContainer> = std::iter::once(&web.c)
        .chain(others.iter().map(|g| &g.c))
        .collect();
    let screen = nsview.wait_until("every container listed by its name", |s| {
        all.iter().all(|c| row_of(s, &c.name).is_some())
    });
    for c in &all {
        let Some(cells) = row_of(&screen, &c.name) else {
            continue;
        };
        if cells.get(1).map(String::as_str) != Some(c.runtime) {
            problems.push(format!(
                "{}: runtime should be {}: {cells:?}",
                c.name, c.runtime
            ));
        }
        if let Some(image) = &c.image
            && cells.get(2) != Some(image)
        {
            problems.push(format!("{}: image should be {image}: {cells:?}", c.name));
        }
        if !cells.contains(&c.init_pid.to_string()) {
            problems.push(format!(
                "{}: init PID {} missing: {cells:?}",
                c.name, c.init_pid
            ));
        }
    }
    let docker_row = row_of(&screen, &web.c.name).unwrap_or_default().join(" ");
    if !docker_row.contains(&format!(" {} ", &web.c.id[..12])) || !docker_row.contains("/ 128M") {
        problems.push(format!(
            "the Docker row should show its 12-digit id and the 128M limit: {docker_row}"
        ));
    }

    // The Docker container's detail pane: its limits as `docker run` set them.
    let index = table_rows(&screen)
        .iter()
        .position(|r| r.starts_with(&format!("{} ", web.c.name)))
        .unwrap_or_else(|| panic!("no row {}:\n{screen}", web.c.name));
    nsview.press(&["Home"]);
    for _ in 0..index {
        nsview.press(&["Down"]);
    }
    let title = format!(
        "{} (docker, {})",
        web.c.name,
        web.c.image.as_deref().unwrap_or("")
    );
    let detail = nsview.wait_until("the Docker container's detail pane", |s| {
        s.contains(&title) && s.contains(&format!("init {} (1 inside)", web.c.init_pid))
    });
    for want in ["cpu.shares 2048 (weight 174)", "cpuset.cpus 0", "/ 128M"] {
        if !detail.contains(want) {
            problems.push(format!("the detail pane should show {want:?}"));
        }
    }

    // Live: one more Docker container while nsview runs, then gone again.
    let late = docker_run(test, "tn", &[], &[]).expect("Docker answered a moment ago");
    let late_name = late.c.name.clone();
    nsview.wait_until("the new Docker container listed", |s| {
        row_of(s, &late_name)
            .is_some_and(|cells| cells.get(1).map(String::as_str) == Some("docker"))
    });
    assert!(nsview.running(), "nsview was not restarted");
    drop(late);
    nsview.wait_until("the removed Docker container gone from the list", |s| {
        row_of(s, &late_name).is_none() && row_of(s, &web.c.name).is_some()
    });
    assert!(nsview.running(), "nsview was not restarted");

    nsview.press(&["q"]);
    assert_eq!(nsview.wait_exit(), 0);
    nsview.assert_terminal_restored("after the containers view");
    drop(others);
    drop(web);
    assert!(
        problems.is_empty(),
        "what the Containers view showed:\n- {}\nscreen:\n{screen}\ndetail:\n{detail}",
        problems.join("\n- ")
    );
}

/// `f` on a Docker container pauses it through Docker's API (issue 14 item 3), so `docker
/// inspect` agrees, and a container frozen behind Docker's back shows the disagreement in STATE.
#[test]
fn f_pauses_a_docker_container_through_docker_and_state_shows_a_mismatch() {
    use common::runtimes::docker_run;
    let test = "f_pauses_a_docker_container_through_docker";
    if !ready(test) {
        return;
    }
    let Some(guard) = docker_run(test, "tf", &[], &[]) else {
        return;
    };
    let c = &guard.c;
    let paused = || run_ok("docker", &["inspect", "-f", "{{.State.Paused}}", &c.name]);
    let nsview = Nsview::start_sized("e2e-freeze", 280, 40);
    nsview.press(&["/"]);
    nsview.type_text(&c.name);
    nsview.press(&["Enter"]);
    let row = |s: &str| {
        table_rows(s)
            .into_iter()
            .find(|r| r.starts_with(&format!("{} ", c.name)))
    };
    nsview.wait_until("the container listed", |s| row(s).is_some());
    nsview.press(&["Home", "f"]);
    nsview.wait_for("through Docker's API (pause)");
    nsview.press(&["y"]);
    nsview.wait_for("so Docker says paused too");
    nsview.press(&["Escape"]);
    try_poll(SCREEN_TIMEOUT, || (paused().trim() == "true").then_some(()))
        .unwrap_or_else(|| panic!("f did not pause through Docker:\n{}", nsview.screen()));
    nsview.wait_until("STATE paused", |s| {
        row(s).is_some_and(|r| r.contains(" paused "))
    });
    nsview.press(&["f"]);
    nsview.wait_for("through Docker's API (unpause)");
    nsview.press(&["y"]);
    nsview.wait_for("so Docker says running too");
    nsview.press(&["Escape"]);
    try_poll(SCREEN_TIMEOUT, || {
        (paused().trim() == "false").then_some(())
    })
    .unwrap_or_else(|| panic!("f did not unpause through Docker:\n{}", nsview.screen()));

    // Frozen behind Docker's back (the CLI's --direct): STATE says so.
    let state = tempfile::tempdir().expect("state dir");
    let state_dir = state.path().to_str().expect("utf-8");
    let direct = ["--state-dir", state_dir, "freeze", "--direct", &c.name];
    nsview_ok(&direct);
    nsview.wait_until("STATE frozen (Docker says running)", |s| {
        row(s).is_some_and(|r| r.contains("frozen (Docker says running)"))
    });
    nsview_ok(&["--state-dir", state_dir, "thaw", "--direct", &c.name]);
    nsview.press(&["q"]);
    assert_eq!(nsview.wait_exit(), 0);
}

fn nsview_ok(args: &[&str]) {
    common::nsview(args).assert_success();
}

/// Issue 14 item 10: a change made by another nsview process (the CLI beside the TUI) shows in
/// the live view at once: the TUI watches the journal and reads what the entry touched in the
/// next pass. With a 60 s interval, only that can refresh the view within seconds (before, a
/// moved process showed its old cgroup until its rolling turn, up to ten passes later).
#[test]
fn a_cli_move_and_undo_show_in_the_live_view_at_once() {
    let test = "a_cli_move_and_undo_show_in_the_live_view_at_once";
    if !ready(test) {
        return;
    }
    let a = CgroupGuard::create("memory", "jma").expect("memory cgroup");
    let b = CgroupGuard::create("memory", "jmb").expect("memory cgroup");
    let p = ChildGuard::spawn_sleep();
    a.add_process(p.pid()).expect("join a");
    let pid = p.pid().to_string();

    let nsview = Nsview::start_with("e2e-journal", 140, HEIGHT, "-d 60");
    nsview.press(&["4", "/"]);
    nsview.type_text(&pid);
    nsview.press(&["Enter"]);
    let screen = nsview.wait_for(&format!(" {pid} "));
    let index = screen
        .lines()
        .skip_while(|l| !l.contains("PID"))
        .skip(1)
        .map(|l| l.strip_prefix('│').unwrap_or(l).trim_start())
        .position(|r| r.split_whitespace().next() == Some(pid.as_str()))
        .unwrap_or_else(|| panic!("no row for {pid}:\n{screen}"));
    nsview.press(&["Home"]);
    for _ in 0..index {
        nsview.press(&["Down"]);
    }
    nsview.wait_for(&format!("[memory] {}", a.rel));

    let cli = |args: &[&str]| {
        let r = run_with_timeout(
            std::process::Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(nsview._config.path())
                .args(args),
            NSVIEW_TIMEOUT,
        );
        r.assert_success();
    };
    let within = Duration::from_secs(3);
    cli(&["move", &pid, &b.rel, "--hierarchy", "memory"]);
    let moved = format!("[memory] {}", b.rel);
    let seen = try_poll(within, || nsview.screen().contains(&moved).then_some(()));
    assert!(
        seen.is_some(),
        "the move is not in the view within {within:?}:\n{}",
        nsview.screen()
    );
    cli(&["set", &b.rel, "memory.limit_in_bytes=64m"]);
    let seen = try_poll(within, || nsview.screen().contains("64M").then_some(()));
    assert!(
        seen.is_some(),
        "the new limit is not in the view within {within:?}:\n{}",
        nsview.screen()
    );
    cli(&["undo", "1"]);
    let back = format!("[memory] {}", a.rel);
    let seen = try_poll(within, || nsview.screen().contains(&back).then_some(()));
    assert!(
        seen.is_some(),
        "the undo is not in the view within {within:?}:\n{}",
        nsview.screen()
    );
    nsview.press(&["q"]);
    assert_eq!(nsview.wait_exit(), 0);
    drop(p);
}
