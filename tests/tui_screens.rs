//! The TUI's screens, drawn from fixture snapshots into ratatui's TestBackend and checked against
//! snapshot files in tests/snapshots/ (insta). Each view, the detail pane of a container, the
//! devices view, help, an active filter, the 80x24 layout, a too-small terminal, the non-root
//! banner and the READ-ONLY badge.
//!
//! The screens are deterministic: the snapshot's host name and kernel are fixed (the collector
//! fills them from uname of the machine), user IDs stay numeric, and the two snapshots fed to the
//! app are exactly one second apart with known CPU counters, so CPU% and the sparklines are fixed.
//!
//! Each snapshot file holds the screen as text, then the runs of cells with text attributes
//! (reversed = selection and current tab with the NO_COLOR theme, bold, dim, underlined), so the
//! selection and highlighting are checked too.
//!
//! Update after an intended UI change: `INSTA_UPDATE=always cargo test --test tui_screens`, then
//! review the diff of tests/snapshots/. Under CI (CI=true) insta never writes snapshot files: a
//! missing or different snapshot fails.

mod common;

use common::scenarios::tui_host::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use nsview::app::keymap::Keymap;
use nsview::app::{App, Cmd, Msg, View};
use nsview::collect::{CollectOptions, Collector};
use nsview::model::{CgValue, HostInfo, Interface, NsType, Snapshot};
use nsview::sys::Roots;
use nsview::ui::{self, Drawn, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// The fixture: tests/common/scenarios/tui_host.rs, a hybrid host (v1 controllers + an empty
// cgroup2 at /sys/fs/cgroup/unified) with Docker's cgroupfs driver, two containers (web-1, and
// batch: paused, on the host's network), one bare isolation group and one named netns.

/// The fixture collected once, with fixed host information, hostnames and interfaces.
fn snapshot() -> Snapshot {
    let f = hybrid_docker_cgroupfs().build();
    let mut snap = Collector::new(Roots::under(f.root()))
        .collect(CollectOptions::ALL)
        .expect("collect the fixture");
    // uname of the machine running the test: replace with fixed values.
    snap.host = HostInfo {
        hostname: "node-7".into(),
        kernel: "6.1.0-18-amd64".into(),
    };
    // The kernel shows a UTS namespace's hostname only through uname(2) inside it, and interfaces
    // only through netlink inside the network namespace: a fixture tree cannot hold them, so they
    // are put into the snapshot as the collector would have read them.
    set_hostname(&mut snap, WEB_UTS, "web-1");
    set_hostname(&mut snap, BOX_UTS, "sandbox");
    set_interfaces(
        &mut snap,
        WEB_NET,
        vec![
            iface(1, "lo", None, "UNKNOWN", &["127.0.0.1/8", "::1/128"], None),
            iface(
                2,
                "eth0",
                Some("veth"),
                "UP",
                &["172.17.0.2/16"],
                Some((7, HOST_NET)),
            ),
        ],
    );
    set_interfaces(
        &mut snap,
        HOST_NET,
        vec![
            iface(1, "lo", None, "UNKNOWN", &["127.0.0.1/8", "::1/128"], None),
            iface(2, "ens3", None, "UP", &["10.0.2.15/24"], None),
            iface(
                7,
                "veth3f2a1c9",
                Some("veth"),
                "UP",
                &[],
                Some((2, WEB_NET)),
            ),
        ],
    );
    set_interfaces(
        &mut snap,
        BOX_NET,
        vec![iface(1, "lo", None, "DOWN", &[], None)],
    );
    set_interfaces(
        &mut snap,
        BLUE_NET,
        vec![iface(1, "lo", None, "DOWN", &[], None)],
    );
    // Owners and parents come from nsfs ioctls, which need real namespaces: every namespace here
    // is owned by the initial user namespace, the container's pid namespace is a child of the
    // initial one.
    for ns in snap.namespaces.values_mut() {
        match ns.ns_type {
            NsType::User => ns.owner_uid = Some(0),
            _ => ns.owner = Some(HOST_USER),
        }
        if ns.ns_type == NsType::Pid && ns.inode == WEB_PID {
            ns.parent = Some(HOST_PID);
        }
    }
    snap.taken_at = Some(Instant::now());
    snap
}

/// The next snapshot `secs` seconds after `prev`, with the container's and the root's CPU
/// counters advanced by `web_ns` and `root_ns` nanoseconds.
fn later(prev: &Snapshot, secs: u64, web_ns: i64, root_ns: i64) -> Snapshot {
    let mut next = prev.clone();
    next.taken_at = Some(prev.taken_at.expect("taken_at") + Duration::from_secs(secs));
    add_usage(
        &mut next,
        "cpu,cpuacct",
        &web_cgroup(),
        "cpuacct.usage",
        web_ns,
    );
    add_usage(&mut next, "cpu,cpuacct", "/docker", "cpuacct.usage", web_ns);
    add_usage(&mut next, "cpu,cpuacct", "/", "cpuacct.usage", root_ns);
    next
}

fn set_hostname(snap: &mut Snapshot, uts: u64, name: &str) {
    let ns = snap
        .namespaces
        .get_mut(&(NsType::Uts, uts))
        .unwrap_or_else(|| panic!("fixture snapshot has no uts namespace {uts}"));
    ns.hostname = Some(name.into());
    ns.domainname = Some("(none)".into());
}

fn set_interfaces(snap: &mut Snapshot, net: u64, ifs: Vec<Interface>) {
    snap.namespaces
        .get_mut(&(NsType::Net, net))
        .unwrap_or_else(|| panic!("fixture snapshot has no net namespace {net}"))
        .interfaces = Some(ifs);
}

fn iface(
    ifindex: u32,
    name: &str,
    kind: Option<&str>,
    state: &str,
    addresses: &[&str],
    peer: Option<(u32, u64)>,
) -> Interface {
    Interface {
        name: name.into(),
        ifindex,
        state: state.into(),
        addresses: addresses.iter().map(|a| a.to_string()).collect(),
        kind: kind.map(str::to_string),
        mac: None,
        peer_ifindex: peer.map(|p| p.0),
        peer_netns: peer.map(|p| p.1),
    }
}

fn add_usage(snap: &mut Snapshot, hierarchy: &str, path: &str, file: &str, delta: i64) {
    let c = snap
        .cgroups
        .iter_mut()
        .find(|c| c.hierarchy == hierarchy && c.path == path)
        .unwrap_or_else(|| panic!("fixture snapshot has no cgroup {path} in [{hierarchy}]"));
    match c.usage.get_mut(file) {
        Some(CgValue::Int(v)) => *v += delta,
        other => panic!("{file} of {path} [{hierarchy}] is {other:?}, expected a number"),
    }
}

// ---------------------------------------------------------------------------------------------
// Driving the App and drawing it

/// An App fed with the fixture's snapshot, drawn into a `width` x `height` TestBackend after
/// every message, the way src/tui.rs's event loop does.
struct Screen {
    app: App,
    terminal: Terminal<TestBackend>,
}

impl Screen {
    fn new(width: u16, height: u16, is_root: bool, read_only: bool) -> Screen {
        // One snapshot: no CPU% yet (that needs two), so nothing depends on timing.
        Screen::fed(width, height, is_root, read_only, vec![snapshot()])
    }

    /// An App that received `snaps` in order.
    fn fed(
        width: u16,
        height: u16,
        is_root: bool,
        read_only: bool,
        snaps: Vec<Snapshot>,
    ) -> Screen {
        let mut app = App::new(
            Duration::from_secs(1),
            read_only,
            is_root,
            Keymap::default(),
        );
        app.numeric_users();
        let terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
        let mut s = Screen { app, terminal };
        s.draw();
        for snap in snaps {
            s.send(Msg::Snapshot(Box::new(snap)));
        }
        s
    }

    /// 120x40, root, writes allowed.
    fn standard() -> Screen {
        Screen::new(120, 40, true, false)
    }

    fn send(&mut self, msg: Msg) {
        self.app.update(msg);
        self.draw();
    }

    fn key(&mut self, code: KeyCode) -> &mut Self {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        self
    }

    /// A key with modifiers; what the app asks the event loop to do.
    fn press(&mut self, code: KeyCode, mods: KeyModifiers) -> Vec<Cmd> {
        let cmds = self.app.update(Msg::Key(KeyEvent::new(code, mods)));
        self.draw();
        cmds
    }

    fn char(&mut self, c: char) -> &mut Self {
        self.key(KeyCode::Char(c))
    }

    fn type_text(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            self.char(c);
        }
        self
    }

    fn draw(&mut self) {
        let mut drawn = Drawn::default();
        let app = &self.app;
        self.terminal
            .draw(|f| drawn = ui::draw(f, app, &Theme::monochrome()))
            .expect("draw");
        // What src/tui.rs does with the frame's layout.
        drawn.apply_to(&mut self.app);
    }

    fn buffer(&self) -> &Buffer {
        self.terminal.backend().buffer()
    }

    /// The screen's text, one line per row, trailing blanks removed.
    fn text(&self) -> String {
        let b = self.buffer();
        let mut out = String::new();
        for y in 0..b.area.height {
            let mut line = String::new();
            for x in 0..b.area.width {
                line.push_str(b[(x, y)].symbol());
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// The text, then per row the runs of cells with text attributes ("3: 1-24 reversed").
    fn render(&self) -> String {
        let b = self.buffer();
        assert_no_colour(b);
        let mut out = self.text();
        out.push_str("--- attributes (rows: first-last column) ---\n");
        let mut rows: Vec<(u16, u16, String)> = Vec::new();
        for y in 0..b.area.height {
            let mut runs: Vec<String> = Vec::new();
            let mut x = 0;
            while x < b.area.width {
                let m = b[(x, y)].modifier;
                let start = x;
                while x < b.area.width && b[(x, y)].modifier == m {
                    x += 1;
                }
                if !m.is_empty() {
                    runs.push(format!("{}-{} {}", start, x - 1, modifier_names(m)));
                }
            }
            if runs.is_empty() {
                continue;
            }
            let runs = runs.join(", ");
            // Consecutive rows with the same attributes (a pane's borders) on one line.
            match rows.last_mut() {
                Some((_, last, r)) if *last + 1 == y && *r == runs => *last = y,
                _ => rows.push((y, y, runs)),
            }
        }
        for (first, last, runs) in rows {
            if first == last {
                out.push_str(&format!("{first}: {runs}\n"));
            } else {
                out.push_str(&format!("{first}-{last}: {runs}\n"));
            }
        }
        out
    }

    /// The row of the screen that contains `needle` (panics with the screen when none does).
    fn line_with(&self, needle: &str) -> String {
        let text = self.text();
        text.lines()
            .find(|l| l.contains(needle))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no line contains {needle:?}; screen:\n{text}"))
    }
}

fn modifier_names(m: Modifier) -> String {
    let names = [
        (Modifier::BOLD, "bold"),
        (Modifier::DIM, "dim"),
        (Modifier::ITALIC, "italic"),
        (Modifier::UNDERLINED, "underlined"),
        (Modifier::SLOW_BLINK, "blink"),
        (Modifier::RAPID_BLINK, "rapid-blink"),
        (Modifier::REVERSED, "reversed"),
        (Modifier::HIDDEN, "hidden"),
        (Modifier::CROSSED_OUT, "crossed-out"),
    ];
    names
        .iter()
        .filter(|(f, _)| m.contains(*f))
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join("+")
}

/// The NO_COLOR theme must not colour anything: only attributes.
fn assert_no_colour(b: &Buffer) {
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            let c = &b[(x, y)];
            assert!(
                c.fg == Color::Reset && c.bg == Color::Reset,
                "NO_COLOR theme: cell ({x},{y}) {:?} has fg {:?} bg {:?}",
                c.symbol(),
                c.fg,
                c.bg
            );
        }
    }
}

/// Select the row whose text contains `needle` by moving the selection down from the top.
fn select_row(s: &mut Screen, needle: &str) {
    s.key(KeyCode::Home);
    for _ in 0..s.app.rows.len() {
        if s.app
            .selected()
            .is_some_and(|r| r.cells.iter().any(|c| c.text.contains(needle)))
        {
            return;
        }
        s.key(KeyCode::Down);
    }
    panic!(
        "no row of the {:?} view shows {needle:?}; screen:\n{}",
        s.app.view,
        s.text()
    );
}

// ---------------------------------------------------------------------------------------------
// The screens

#[test]
fn containers_view() {
    let s = Screen::standard();
    assert_eq!(s.app.view, View::Containers);
    assert!(s.text().contains(" 1 Containers "), "{}", s.text());
    assert!(
        s.line_with("nsview  host node-7").contains("3 containers"),
        "web-1, batch and the sleep group: {}",
        s.line_with("nsview  host node-7")
    );
    // web-1: named from Docker's record, its init, 2 processes, 9M of 128M.
    let row = s.line_with("web-1");
    for want in ["docker", "7146", "9M / 128M"] {
        assert!(row.contains(want), "web-1's row lacks {want:?}: {row}");
    }
    insta::assert_snapshot!("containers_view", s.render());
    // Which namespaces are private is the point of the view: the list must be whole.
    assert!(
        row.contains("mnt uts ipc pid net"),
        "Containers view at 120x40: web-1's PRIVATE NS must read 'mnt uts ipc pid net': {row}"
    );
    // `--network host`: the network namespace is the host's, so net is not private.
    let row = s.line_with("batch");
    let list = row.split('│').nth(1).unwrap_or_default().trim_end();
    assert!(
        list.contains("docker") && list.ends_with(" mnt uts ipc pid"),
        "batch runs with --network host: PRIVATE NS 'mnt uts ipc pid', without net: {row}"
    );
    // An isolation group no runtime owns, a named netns, the host.
    for (name, want) in [
        ("sleep[8300]", "uts net"),
        ("blue", "netns"),
        ("host ", "-"),
    ] {
        let row = s.line_with(name);
        assert!(row.contains(want), "row {name:?} lacks {want:?}: {row}");
    }
}

/// With room, the other columns come: STATE (batch is paused), INSIDE, IMAGE, ID.
#[test]
fn containers_view_wide_terminal() {
    let s = Screen::new(200, 40, true, false);
    let text = s.text();
    for want in ["STATE", "INSIDE", "IMAGE", "ID "] {
        assert!(
            s.line_with("NAME").contains(want),
            "at 200 columns the header has {want}:\n{text}"
        );
    }
    let web = s.line_with("web-1");
    for want in ["nginx:1.25", &CID[..12], "running"] {
        assert!(web.contains(want), "web-1's row lacks {want:?}: {web}");
    }
    assert!(!web.contains(&CID[..13]), "ids are 12 hex digits: {web}");
    let batch = s.line_with("batch");
    for want in ["python:3.12-slim", &BATCH_CID[..12], "paused"] {
        assert!(batch.contains(want), "batch's row lacks {want:?}: {batch}");
    }
    insta::assert_snapshot!("containers_view_200x40", s.render());
}

#[test]
fn container_detail_pane() {
    let mut s = Screen::standard();
    select_row(&mut s, "web-1");
    insta::assert_snapshot!("container_detail_pane", s.render());
    let mut seen = s.text();
    // The rest of the pane, scrolled with the detail pane focused (Tab, then down).
    s.key(KeyCode::Tab);
    assert!(s.app.detail_focus);
    for _ in 0..30 {
        s.key(KeyCode::Down);
    }
    insta::assert_snapshot!("container_detail_pane_scrolled", s.render());
    seen.push_str(&s.text());
    for want in [
        "web-1 (docker, nginx:1.25)",
        &format!("id {}  state running", &CID[..12]),
        "init 7146 (1 inside)  processes 2",
        &format!("cgroup /docker/{}…", &CID[..12]),
        "compose project shop",
        &format!("uts    {WEB_UTS} private, hostname"),
        &format!("net    {WEB_NET} private"),
        &format!("user   {HOST_USER} host's"),
        "9M / 128M",
        "failcnt 3",
        "cpu.shares 2048 (weight 174)",
        "devices: deny all, allow 12 (d)",
        "2 eth0 veth UP 172.17.0.2/16",
    ] {
        assert!(seen.contains(want), "detail pane lacks {want:?}:\n{seen}");
    }
}

/// With room to spare the lines are whole: the veth's peer is named by the namespace at the other
/// end.
#[test]
fn container_detail_pane_wide_terminal() {
    let mut s = Screen::new(180, 50, true, false);
    select_row(&mut s, "web-1");
    let text = s.text();
    for want in [
        "2 eth0 veth UP 172.17.0.2/16  peer 7 in host".to_string(),
        "command nginx: master process nginx -g daemon off;".to_string(),
    ] {
        assert!(
            text.contains(&want),
            "detail pane at 180x50 lacks {want:?}:\n{text}"
        );
    }
    insta::assert_snapshot!("container_detail_pane_180x50", s.render());
}

#[test]
fn namespaces_view() {
    let mut s = Screen::standard();
    s.char('2');
    assert_eq!(s.app.view, View::Namespaces);
    insta::assert_snapshot!("namespaces_view", s.render());
}

#[test]
fn namespaces_tree() {
    let mut s = Screen::standard();
    s.char('2').char('t');
    assert!(s.app.ns_tree);
    insta::assert_snapshot!("namespaces_tree", s.render());
    // The container's pid namespace, nested under the initial one: its type must stay readable.
    let row = s.line_with(&WEB_PID.to_string());
    assert!(
        row.contains("pid"),
        "Namespaces tree: the nested row of pid:[{WEB_PID}] must still show its type: {row}"
    );
    let row = s.line_with(&WEB_UTS.to_string());
    assert!(
        row.contains("uts"),
        "Namespaces tree: the row of uts:[{WEB_UTS}] must still show its type: {row}"
    );
}

#[test]
fn cgroups_view_each_hierarchy() {
    let mut s = Screen::standard();
    s.char('3');
    assert_eq!(s.app.view, View::Cgroups);
    let n = s.app.snap.hierarchies.len();
    assert_eq!(n, V1.len() + 1, "six v1 hierarchies and the unified one");
    let first = s.app.hierarchy;
    for i in 0..n {
        let key = s.app.current_hierarchy().expect("a hierarchy").key.clone();
        let name = key.replace(['=', ','], "_");
        assert!(
            s.text().contains(&format!("hierarchy [{key}]")),
            "tab bar names the hierarchy [{key}]:\n{}",
            s.text()
        );
        insta::assert_snapshot!(format!("cgroups_view_{i}_{name}"), s.render());
        s.char(']');
    }
    assert_eq!(
        s.app.hierarchy, first,
        "] wraps around after the last hierarchy"
    );
    s.char('[');
    assert_eq!(s.app.hierarchy, (first + n - 1) % n, "[ goes back");
}

#[test]
fn cgroups_view_hide_empty() {
    let mut s = Screen::standard();
    s.char('3');
    // The memory hierarchy, where the container is limited.
    while s.app.current_hierarchy().expect("a hierarchy").key != "memory" {
        s.char(']');
    }
    let all = s.app.rows.len();
    s.char('z');
    assert!(s.app.hide_empty);
    assert!(
        s.app.rows.len() < all,
        "z hides the empty /system.slice/cron.service (and /system.slice above it)"
    );
    insta::assert_snapshot!("cgroups_view_memory_hide_empty", s.render());
}

#[test]
fn processes_view() {
    let mut s = Screen::standard();
    s.char('4');
    assert_eq!(s.app.view, View::Processes);
    // Inside PIDs and numeric users (the worker runs as uid 101).
    let worker = s.line_with("   7190 ");
    assert!(
        worker.contains("7190") && worker.contains("29") && worker.contains("101"),
        "{worker}"
    );
    insta::assert_snapshot!("processes_view", s.render());
}

#[test]
fn devices_view() {
    let mut s = Screen::standard();
    select_row(&mut s, "web-1");
    s.char('d');
    let text = s.text();
    assert!(
        text.contains(&format!("devices.list of /docker/{CID} [devices]")),
        "devices view of the container's cgroup:\n{text}"
    );
    insta::assert_snapshot!("devices_view", s.render());
    s.key(KeyCode::Esc);
    assert!(s.app.dialog.is_none(), "Esc closes the devices view");
    assert!(s.text().contains("web-1"));
}

#[test]
fn devices_view_of_host_allows_all() {
    let mut s = Screen::standard();
    select_row(&mut s, "host");
    s.char('d');
    insta::assert_snapshot!("devices_view_host", s.render());
}

#[test]
fn help_overlay() {
    let mut s = Screen::standard();
    s.char('?');
    // Generated from the key table: every action is there.
    let text = s.text();
    for want in [
        "filter (name, PID, inode, cgroup path); Esc clears",
        "this help",
        "quit",
    ] {
        assert!(text.contains(want), "help lacks {want:?}:\n{text}");
    }
    insta::assert_snapshot!("help_overlay", s.render());
    s.key(KeyCode::Esc);
    assert!(s.app.dialog.is_none(), "Esc closes help");
}

/// The keys htop, btop and k9s users press without thinking (issue 16 item 7).
#[test]
fn function_keys_quit_redraw_help_and_filter() {
    let mut s = Screen::standard();
    let none = KeyModifiers::NONE;
    assert!(
        matches!(s.press(KeyCode::F(10), none)[..], [Cmd::Quit]),
        "F10 quits"
    );
    for (code, mods) in [
        (KeyCode::F(5), none),
        (KeyCode::Char('l'), KeyModifiers::CONTROL),
    ] {
        let cmds = s.press(code, mods);
        assert!(
            matches!(cmds[..], [Cmd::Redraw, Cmd::RefreshNow]),
            "{code:?} redraws and refreshes: {cmds:?}"
        );
    }
    s.press(KeyCode::F(1), none);
    assert!(
        matches!(s.app.dialog, Some(nsview::app::Dialog::Help)),
        "F1 opens help"
    );
    assert!(s.text().contains("this help"), "{}", s.text());
    // The help is longer than 40 rows: scrolled down, quit shows its keys, F10 among them.
    s.key(KeyCode::PageDown);
    assert!(s.text().contains("q Ctrl-c F10  quit"), "{}", s.text());
    s.press(KeyCode::F(1), none);
    assert!(s.app.dialog.is_none(), "F1 closes help again");
    for f in [3, 4] {
        s.press(KeyCode::F(f), none);
        assert!(s.app.filter_editing, "F{f} opens the filter");
        s.key(KeyCode::Esc);
        assert!(!s.app.filter_editing);
    }
}

#[test]
fn command_line_switches_views_and_refuses_unknown_names() {
    let mut s = Screen::standard();
    s.char(':').type_text("ps");
    assert!(s.line_with(":ps").contains("Tab complete"), "{}", s.text());
    s.key(KeyCode::Enter);
    assert_eq!(s.app.view, View::Processes, ":ps shows the processes");
    assert!(s.app.command_line.is_none());
    s.char(':').type_text("ctr").key(KeyCode::Enter);
    assert_eq!(s.app.view, View::Containers, ":ctr shows the containers");
    // Tab completes a name.
    s.char(':').type_text("cgr").key(KeyCode::Tab);
    assert_eq!(s.app.command_line.as_deref(), Some("cgroups"));
    s.key(KeyCode::Enter);
    assert_eq!(s.app.view, View::Cgroups);
    // An unknown name: one line, the view stays.
    s.char(':').type_text("nosuch").key(KeyCode::Enter);
    assert_eq!(s.app.view, View::Cgroups);
    assert!(s.app.command_line.is_none());
    assert!(
        s.line_with("unknown command").contains(":nosuch"),
        "{}",
        s.text()
    );
    // Esc cancels: typed letters did nothing else (q would have quit).
    s.char(':').type_text("q");
    s.key(KeyCode::Esc);
    assert!(s.app.command_line.is_none());
    assert_eq!(s.app.view, View::Cgroups);
    // :q and :quit quit.
    for name in ["q", "quit"] {
        s.char(':').type_text(name);
        let cmds = s.press(KeyCode::Enter, KeyModifiers::NONE);
        assert!(matches!(cmds[..], [Cmd::Quit]), ":{name} quits: {cmds:?}");
    }
}

#[test]
fn filter_while_typing_and_kept() {
    let mut s = Screen::standard();
    s.char('/').type_text("web-1");
    // Editing: the footer shows the filter; the name (and hostname) matches the container.
    assert!(s.app.filter_editing);
    insta::assert_snapshot!("filter_typing", s.render());
    s.key(KeyCode::Enter);
    assert!(!s.app.filter_editing);
    assert_eq!(s.app.rows.len(), 1, "only the container matches 'web-1'");
    assert!(
        s.text().contains("Containers (1 matching 'web-1')"),
        "{}",
        s.text()
    );
    insta::assert_snapshot!("filter_kept", s.render());
    // Esc clears it again.
    s.key(KeyCode::Esc);
    assert!(s.app.filter.is_empty());
    assert!(s.app.rows.len() > 1);
}

#[test]
fn filter_by_pid_in_processes_view() {
    let mut s = Screen::standard();
    s.char('4').char('/').type_text("7190").key(KeyCode::Enter);
    insta::assert_snapshot!("filter_processes_pid", s.render());
}

#[test]
fn sort_reversed() {
    let mut s = Screen::standard();
    // Containers sort by PID at first (PID▲); S reverses (PID▼).
    s.char('S');
    insta::assert_snapshot!("containers_sort_pid_reversed", s.render());
}

#[test]
fn minimum_size_80x24() {
    let mut s = Screen::new(80, 24, true, false);
    select_row(&mut s, "web-1");
    assert!(!s.text().contains("terminal too small"));
    insta::assert_snapshot!("containers_80x24", s.render());
    // The columns that matter most stay at 80 columns.
    let header = s.line_with("NAME");
    for want in [
        "RUNTIME",
        "PID",
        "PROCS",
        "CPU%",
        "MEM / LIMIT",
        "PRIVATE NS",
    ] {
        assert!(header.contains(want), "80x24 header lacks {want}: {header}");
    }
    let row = s.line_with("web-1");
    for want in ["docker", "7146", "9M / 128M", "mnt uts ipc pid net"] {
        assert!(
            row.contains(want),
            "80x24: web-1's row lacks {want:?}: {row}"
        );
    }
    s.char('3');
    insta::assert_snapshot!("cgroups_80x24", s.render());
}

#[test]
fn too_small_terminal() {
    for (w, h) in [(79, 24), (80, 23), (79, 23)] {
        let s = Screen::new(w, h, true, false);
        assert!(
            s.text().contains("terminal too small"),
            "{w}x{h} is below 80x24:\n{}",
            s.text()
        );
    }
    let mut s = Screen::new(79, 23, true, false);
    insta::assert_snapshot!("too_small_79x23", s.render());
    // Keys still work (q quits) while it is too small.
    let cmds = s.app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
    )));
    assert!(
        matches!(cmds.as_slice(), [nsview::app::Cmd::Quit]),
        "q should quit: {cmds:?}"
    );
}

/// 80x24 is the smallest supported size: the header must still show the READ-ONLY badge and
/// the not-root banner must still be there.
#[test]
fn not_root_read_only_80x24() {
    let s = Screen::new(80, 24, false, true);
    let text = s.text();
    assert!(
        text.contains("not root:"),
        "not-root banner at 80x24:\n{text}"
    );
    insta::assert_snapshot!("not_root_read_only_80x24", s.render());
    assert!(
        s.line_with("nsview  host node-7").contains(" READ-ONLY "),
        "the READ-ONLY badge must be visible at 80x24 (it is appended after the counts and falls \
         off the right edge):\n{text}"
    );
}

#[test]
fn not_root_banner() {
    let s = Screen::new(120, 40, false, false);
    assert!(s.text().contains("not root:"), "{}", s.text());
    insta::assert_snapshot!("not_root_banner", s.render());
}

#[test]
fn read_only_badge() {
    let s = Screen::new(120, 40, true, true);
    assert!(s.line_with("nsview  host node-7").contains(" READ-ONLY "));
    insta::assert_snapshot!("read_only_badge", s.render());
}

#[test]
fn before_the_first_snapshot() {
    let mut app = App::new(Duration::from_secs(1), false, true, Keymap::default());
    app.numeric_users();
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");
    terminal
        .draw(|f| {
            ui::draw(f, &app, &Theme::monochrome());
        })
        .expect("draw");
    let text: String = (0..40)
        .map(|y| {
            (0..120)
                .map(|x| terminal.backend().buffer()[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("collecting ..."), "{text}");
}

/// CPU% is the rate between two consecutive snapshots: the container used 250 ms of CPU in the
/// second from A to B (25.0%), and nothing from B to C (0.0%).
#[test]
fn cpu_percent_between_consecutive_snapshots() {
    let a = snapshot();
    let b = later(&a, 1, 250_000_000, 1_500_000_000);
    let c = later(&b, 1, 0, 1_000_000_000);
    let key = ("cpu,cpuacct".to_string(), web_cgroup());
    let root = ("cpu,cpuacct".to_string(), "/".to_string());
    let near = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 0.01);

    let mut s = Screen::fed(120, 40, true, false, vec![a, b]);
    let cpu = s.app.cpu.get(&key).copied();
    assert!(
        near(cpu, 25.0),
        "after snapshots A and B, one second apart, with 250 ms of CPU used by {}: 25.0%, got {cpu:?}",
        web_cgroup()
    );
    let cpu = s.app.cpu.get(&root).copied();
    assert!(near(cpu, 150.0), "root cgroup A to B: 150.0%, got {cpu:?}");
    let row = s.line_with("web-1");
    assert!(row.contains("25.0"), "web-1's row shows CPU% 25.0: {row}");

    s.send(Msg::Snapshot(Box::new(c)));
    let cpu = s.app.cpu.get(&key).copied();
    assert!(
        near(cpu, 0.0),
        "after C, one second after B with no CPU used: 0.0% (the rate between B and C), got {cpu:?}"
    );
    let cpu = s.app.cpu.get(&root).copied();
    assert!(near(cpu, 100.0), "root cgroup B to C: 100.0%, got {cpu:?}");
}

/// A snapshot from the live collector that says its processes, namespaces and containers are
/// those of the snapshot before (`Msg::Refresh`) is shown by updating what moves (the Containers
/// view's CPU% and MEM / LIMIT) instead of building every row again: each view shows exactly
/// what it shows after a snapshot that says nothing (`Msg::Snapshot`), rows and screen.
#[test]
fn a_refresh_that_keeps_the_containers_shows_what_building_every_row_shows() {
    use nsview::app::Unchanged;
    let a = snapshot();
    let mut b = later(&a, 1, 250_000_000, 1_500_000_000);
    add_usage(
        &mut b,
        "memory",
        &web_cgroup(),
        "memory.usage_in_bytes",
        4 << 20,
    );
    let c = later(&b, 1, 100_000_000, 1_000_000_000);
    let same = Unchanged {
        processes: true,
        namespaces: true,
        containers: true,
    };
    for view in ['1', '2', '3', '4'] {
        let mut kept = Screen::fed(120, 40, true, false, vec![a.clone()]);
        let mut built = Screen::fed(120, 40, true, false, vec![a.clone()]);
        kept.char(view);
        built.char(view);
        for next in [&b, &c] {
            kept.send(Msg::Refresh(Box::new(next.clone()), same));
            built.send(Msg::Snapshot(Box::new(next.clone())));
            assert_eq!(kept.app.rows, built.app.rows, "view {view}");
            assert_eq!(kept.text(), built.text(), "view {view}");
        }
    }
    let s = Screen::fed(120, 40, true, false, vec![a.clone()]);
    let mut s = s;
    s.send(Msg::Refresh(Box::new(b), same));
    let row = s.line_with("web-1");
    assert!(row.contains("25.0"), "CPU% updated in place: {row}");
}

/// `e` on the container: the form with the values in place, validation as you type, Enter ->
/// old -> new from the files (a worker reads them), y -> written and re-read. The worker's part
/// runs here on a second copy of the fixture tree, through the same function the event loop
/// calls. The container's cgroup is edited from the Cgroups view, which writes the files
/// directly (from the Containers view a Docker container's limits go through Docker's API:
/// tests/docker_set.rs and the tmux test check that against a real dockerd).
#[test]
fn edit_limits_validate_confirm_and_outcome() {
    use nsview::app::{Cmd, Dialog};
    use nsview::effects::{cgroup::CgroupWriter, journal::Journal, request};
    let tree = hybrid_docker_cgroupfs().build();
    let roots = Roots::under(tree.root());
    let state = tempfile::tempdir().expect("state dir");
    let writer = CgroupWriter {
        read_only: false,
        journal: Journal {
            path: state.path().join("journal.jsonl"),
        },
    };
    let mut s = Screen::standard();
    s.char('3');
    select_row(&mut s, &CID[..12]);
    s.char('e');
    insta::assert_snapshot!("edit_form", s.render());
    let text = s.text();
    for want in ["CPU weight", "2048 (weight 174)", "memory limit", "128M"] {
        assert!(text.contains(want), "edit form lacks {want:?}:\n{text}");
    }
    // Out of range as it is typed: said under the field.
    s.char('1');
    assert!(
        s.text()
            .contains("cpu.shares: 1 is out of range: 2..262144"),
        "{}",
        s.text()
    );
    s.key(KeyCode::Backspace).type_text("512");
    let memory = match &s.app.dialog {
        Some(Dialog::Edit(f)) => f
            .fields
            .iter()
            .position(|f| f.label == "memory limit")
            .expect("memory field"),
        other => panic!("{other:?}"),
    };
    for _ in 0..memory {
        s.key(KeyCode::Down);
    }
    s.type_text("256m");
    insta::assert_snapshot!("edit_form_typed", s.render());

    // Enter: the preview runs on the worker.
    let cmds = s
        .app
        .update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let [Cmd::Effect { id, req }] = cmds.as_slice() else {
        panic!("Enter should ask the worker for a preview, got {cmds:?}");
    };
    s.draw();
    assert!(
        s.text().contains(&format!("reading /docker/{CID}...")),
        "{}",
        s.text()
    );
    let result = request::perform_with(req.clone(), &roots, &writer);
    s.send(Msg::Effect {
        id: *id,
        op: req.clone(),
        result: Box::new(result),
    });
    insta::assert_snapshot!("edit_confirm", s.render());
    let cg = |h: &str, f: &str| {
        std::fs::read_to_string(
            tree.root()
                .join(format!("sys/fs/cgroup/{h}/docker/{CID}/{f}")),
        )
        .expect("read fixture file")
        .trim()
        .to_string()
    };
    assert_eq!(
        cg("memory", "memory.limit_in_bytes"),
        "134217728",
        "nothing written before y"
    );

    // y: written, re-read, shown.
    let cmds = s.app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('y'),
        KeyModifiers::NONE,
    )));
    let [Cmd::Effect { id, req }] = cmds.as_slice() else {
        panic!("y should ask the worker to write, got {cmds:?}");
    };
    let result = request::perform_with(req.clone(), &roots, &writer);
    s.send(Msg::Effect {
        id: *id,
        op: req.clone(),
        result: Box::new(result),
    });
    insta::assert_snapshot!("edit_outcome", s.render());
    assert_eq!(cg("memory", "memory.limit_in_bytes"), "268435456");
    assert_eq!(cg("cpu,cpuacct", "cpu.shares"), "512");
    s.key(KeyCode::Esc);
    assert!(s.app.dialog.is_none());
}

/// Read-only: every change key says so and opens nothing.
#[test]
fn read_only_refuses_change_keys() {
    let mut s = Screen::new(120, 40, true, true);
    select_row(&mut s, "web-1");
    for c in ['e', 'f', 'u'] {
        s.char(c);
        assert!(
            s.app.dialog.is_none(),
            "{c} opened a dialog in read-only mode"
        );
        assert!(s.text().contains("read-only"), "{c}: {}", s.text());
    }
}

/// The other rows' detail: a paused container on the host's network, an isolation group no
/// runtime owns (in a cgroup it shares with the user's shell), a named netns.
#[test]
fn other_rows_detail_pane() {
    let mut s = Screen::new(120, 50, true, false);
    select_row(&mut s, "batch");
    let text = s.text();
    for want in [
        "batch (docker, python:3.12-slim)".to_string(),
        format!("id {}  state paused", &BATCH_CID[..12]),
        format!("net    {HOST_NET} host"),
        "cpu.shares 512 (weight 59)".to_string(),
        "freezer.state FROZEN".to_string(),
    ] {
        assert!(
            text.contains(&want),
            "batch's detail lacks {want:?}:\n{text}"
        );
    }

    select_row(&mut s, "sleep[8300]");
    let text = s.text();
    for want in [
        "┌ sleep[8300] ─",
        "isolation group  state running",
        "init 8300 (8300 inside)",
        "limits and usage of / (shared: 5",
        "cgroups (its init's, shared)",
    ] {
        assert!(
            text.contains(want),
            "the group's detail lacks {want:?}:\n{text}"
        );
    }
    insta::assert_snapshot!("isolation_group_detail_pane", s.render());

    select_row(&mut s, "blue");
    let text = s.text();
    for want in [
        format!("net:[{BLUE_NET}]"),
        "bind mount /run/netns/blue".to_string(),
    ] {
        assert!(
            text.contains(&want),
            "blue's detail lacks {want:?}:\n{text}"
        );
    }
}

/// The filter finds containers by name, image, id prefix and runtime; the selection follows its
/// container when a new snapshot reorders the rows.
#[test]
fn filter_by_image_id_runtime_and_selection_follows() {
    let mut s = Screen::standard();
    let names = |s: &Screen| -> Vec<String> {
        s.app.rows.iter().map(|r| r.cells[0].text.clone()).collect()
    };
    for (filter, want) in [
        ("python:3.12", vec!["batch"]),
        (&CID[..8], vec!["web-1"]),
        ("docker", vec!["web-1", "batch"]),
        ("shop", vec!["web-1"]),
        ("netns", vec!["blue"]),
    ] {
        s.char('/').type_text(filter).key(KeyCode::Enter);
        assert_eq!(names(&s), want, "filter {filter:?}");
        s.key(KeyCode::Esc);
    }

    // Sorted by CPU% (lowest first), batch selected; then web-1 gets busy and batch, idle,
    // moves above it.
    select_row(&mut s, "batch");
    let key = s.app.selected().map(|r| r.key.clone());
    assert_eq!(
        key,
        Some(nsview::app::rows::RowKey::Container(BATCH_CID.to_string())),
        "a container's row is keyed by its id"
    );
    let a = s.app.snap.clone();
    let b = later(&a, 1, 0, 1_000_000_000);
    let c = later(&b, 1, 500_000_000, 1_000_000_000);
    let cpu = nsview::app::rows::CONTAINER_COLUMNS
        .iter()
        .position(|c| c.title == "CPU%")
        .expect("a CPU% column");
    s.app.states[0].sort = Some((cpu, false));
    s.send(Msg::Snapshot(Box::new(b)));
    assert_eq!(names(&s)[..2], ["web-1", "batch"], "both idle: as listed");
    assert_eq!(s.app.selected().map(|r| r.key.clone()), key);
    s.send(Msg::Snapshot(Box::new(c)));
    assert_eq!(names(&s)[..2], ["batch", "web-1"], "web-1 used 50% CPU");
    assert_eq!(
        s.app.selected().map(|r| r.key.clone()),
        key,
        "the selection moved with batch's row"
    );
}

/// The keys act on the selected container: x enters it through its init, e and f change its own
/// cgroups (through Docker's API for a Docker container), d shows its devices cgroup.
#[test]
fn keys_act_on_the_container() {
    use nsview::app::Dialog;
    use nsview::model::target::Target;
    let mut s = Screen::standard();
    select_row(&mut s, "web-1");
    s.char('x');
    match &s.app.dialog {
        Some(Dialog::Enter(f)) => {
            assert_eq!(f.target, Target::Container(CID.to_string()));
            assert_eq!(f.label, "web-1");
            let ticked: Vec<NsType> = f
                .available
                .iter()
                .zip(&f.chosen)
                .filter(|(_, on)| **on)
                .map(|((t, _), _)| *t)
                .collect();
            use NsType::*;
            assert_eq!(ticked, vec![Mnt, Uts, Ipc, Pid, Net]);
        }
        other => panic!("x on web-1: {other:?}"),
    }
    s.key(KeyCode::Esc);

    s.char('e');
    match &s.app.dialog {
        Some(Dialog::Edit(f)) => {
            assert_eq!(
                f.at.docker.as_deref(),
                Some(CID),
                "edits go through Docker's API"
            );
            let places: Vec<(String, String)> =
                f.at.places
                    .iter()
                    .map(|(h, p)| (h.key.clone(), p.clone()))
                    .collect();
            let web = web_cgroup();
            for key in ["cpu,cpuacct", "memory", "pids", "freezer", "devices"] {
                assert!(
                    places.contains(&(key.to_string(), web.clone())),
                    "e on web-1 changes {web} in [{key}]: {places:?}"
                );
            }
        }
        other => panic!("e on web-1: {other:?}"),
    }
    s.key(KeyCode::Esc);

    // batch is paused: f offers to thaw it.
    select_row(&mut s, "batch");
    s.char('f');
    assert!(s.text().contains("thaw batch (1 process)?"), "{}", s.text());
    s.char('n');

    // The isolation group shares its cgroups with the user's shell: nothing to change as its.
    select_row(&mut s, "sleep[8300]");
    s.char('e');
    assert!(s.app.dialog.is_none());
    assert!(
        s.text().contains("sleep[8300]: no cgroup of its own"),
        "{}",
        s.text()
    );
}

/// The worker's side of a change, on a second copy of the fixture tree with a journal of its
/// own: what src/tui.rs does with a `Cmd::Effect`.
struct Worker {
    tree: common::fixture::Fixture,
    writer: nsview::effects::cgroup::CgroupWriter,
    _state: tempfile::TempDir,
}

impl Worker {
    fn new() -> Worker {
        let state = tempfile::tempdir().expect("state dir");
        Worker {
            tree: hybrid_docker_cgroupfs().build(),
            writer: nsview::effects::cgroup::CgroupWriter {
                read_only: false,
                journal: nsview::effects::journal::Journal {
                    path: state.path().join("journal.jsonl"),
                },
            },
            _state: state,
        }
    }

    /// Send `key` to the app; it must ask for one effect, which runs here; its reply goes back.
    fn key(&self, s: &mut Screen, code: KeyCode) {
        use nsview::app::Cmd;
        let cmds = s
            .app
            .update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        let req = cmds
            .iter()
            .find_map(|c| match c {
                Cmd::Effect { id, req } => Some((*id, req.clone())),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{code:?} should ask the worker for a change, got {cmds:?}"));
        let (id, req) = req;
        let result = nsview::effects::request::perform_with(
            req.clone(),
            &Roots::under(self.tree.root()),
            &self.writer,
        );
        s.send(Msg::Effect {
            id,
            op: req,
            result: Box::new(result),
        });
    }

    fn file(&self, rel: &str) -> String {
        std::fs::read_to_string(self.tree.root().join("sys/fs/cgroup").join(rel))
            .unwrap_or_else(|e| panic!("read {rel}: {e}"))
            .trim()
            .to_string()
    }
}

/// `f` on a cgroup: asks, then freezes and shows the state reached; `u` (asked, then done) thaws.
#[test]
fn f_freezes_after_asking_and_u_thaws() {
    let w = Worker::new();
    let mut s = Screen::standard();
    s.char('3');
    select_row(&mut s, &CID[..12]);
    s.char('f');
    match &s.app.dialog {
        Some(nsview::app::Dialog::Confirm { lines, .. }) => assert_eq!(
            lines[0],
            format!("freeze /docker/{CID} (2 processes)?"),
            "f asks first"
        ),
        other => panic!("f should ask first, got {other:?}"),
    }
    assert_eq!(
        w.file(&format!("freezer/docker/{CID}/freezer.state")),
        "THAWED"
    );
    w.key(&mut s, KeyCode::Char('y'));
    let text = s.text();
    assert!(text.contains("freezer.state: THAWED -> FROZEN"), "{text}");
    assert_eq!(
        w.file(&format!("freezer/docker/{CID}/freezer.state")),
        "FROZEN"
    );
    s.key(KeyCode::Esc);
    // u: the journal's newest entry, asked, then reverted.
    w.key(&mut s, KeyCode::Char('u'));
    assert!(s.text().contains("revert it?"), "{}", s.text());
    w.key(&mut s, KeyCode::Char('y'));
    assert!(s.text().contains("reverted entry 1"), "{}", s.text());
    assert_eq!(
        w.file(&format!("freezer/docker/{CID}/freezer.state")),
        "THAWED"
    );
}

/// In the devices view, D adds a deny rule: typed, checked as typed, written, devices.list shown.
#[test]
fn devices_view_adds_a_rule() {
    let w = Worker::new();
    let deny = w
        .tree
        .root()
        .join(format!("sys/fs/cgroup/devices/docker/{CID}/devices.deny"));
    std::fs::write(&deny, "").expect("devices.deny in the fixture");
    let mut s = Screen::standard();
    select_row(&mut s, "web-1");
    s.char('d').char('D');
    s.type_text("c 1:3 rwx");
    assert!(
        s.text().contains("is not valid"),
        "checked as typed:\n{}",
        s.text()
    );
    s.key(KeyCode::Backspace).char('m');
    insta::assert_snapshot!("devices_rule_form", s.render());
    w.key(&mut s, KeyCode::Enter);
    assert_eq!(
        std::fs::read_to_string(&deny).expect("read").trim(),
        "c 1:3 rwm"
    );
    assert!(
        s.text().contains("deny c 1:3 rwm: devices.list now:"),
        "{}",
        s.text()
    );
}

/// A reply whose box was closed never takes over the screen, and only y confirms: Enter, which
/// ends the form before, does not write what was not read.
#[test]
fn a_late_reply_stays_in_the_footer_and_only_y_confirms() {
    use nsview::app::{Cmd, Dialog};
    let w = Worker::new();
    let mut s = Screen::standard();
    s.char('3');
    select_row(&mut s, &CID[..12]);
    s.char('e').type_text("512");
    let cmds = s
        .app
        .update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let [Cmd::Effect { id, req }] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    // The admin closes the Working box and opens another form before the preview comes back.
    s.key(KeyCode::Esc).char('e');
    let result = nsview::effects::request::perform_with(
        req.clone(),
        &Roots::under(w.tree.root()),
        &w.writer,
    );
    s.send(Msg::Effect {
        id: *id,
        op: req.clone(),
        result: Box::new(result),
    });
    assert!(
        matches!(s.app.dialog, Some(Dialog::Edit(_))),
        "the late preview must not replace the open form: {:?}",
        s.app.dialog
    );
    assert!(s.text().contains("preview dropped"), "{}", s.text());
    // The same preview, waited for: Enter does nothing, y writes.
    s.type_text("512");
    w.key(&mut s, KeyCode::Enter);
    assert!(matches!(s.app.dialog, Some(Dialog::Confirm { .. })));
    s.key(KeyCode::Enter);
    assert!(
        matches!(s.app.dialog, Some(Dialog::Confirm { .. })),
        "Enter does not confirm"
    );
    assert_eq!(
        w.file(&format!("cpu,cpuacct/docker/{CID}/cpu.shares")),
        "2048"
    );
    w.key(&mut s, KeyCode::Char('y'));
    assert_eq!(
        w.file(&format!("cpu,cpuacct/docker/{CID}/cpu.shares")),
        "512"
    );
}

/// y writes what the preview showed, or nothing: a value changed by someone else between the
/// preview and y makes the change refuse, and the file keeps the other writer's value.
#[test]
fn y_writes_only_what_was_shown() {
    use nsview::app::Dialog;
    let w = Worker::new();
    let mut s = Screen::standard();
    s.char('3');
    select_row(&mut s, &CID[..12]);
    s.char('e').type_text("512");
    w.key(&mut s, KeyCode::Enter);
    assert!(matches!(s.app.dialog, Some(Dialog::Confirm { .. })));
    let shares = w
        .tree
        .root()
        .join(format!("sys/fs/cgroup/cpu,cpuacct/docker/{CID}/cpu.shares"));
    std::fs::write(&shares, "4096\n").expect("another writer");
    w.key(&mut s, KeyCode::Char('y'));
    match &s.app.dialog {
        Some(Dialog::Outcome { ok, lines, .. }) => {
            assert!(!ok, "{lines:?}");
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("changed since the preview")),
                "{lines:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        w.file(&format!("cpu,cpuacct/docker/{CID}/cpu.shares")),
        "4096"
    );
}

/// Names a container chose (issue 12): a hostname and a command line with escape sequences are
/// drawn escaped (`\x1b`), not dropped by the terminal buffer or passed to the terminal.
#[test]
fn hostile_names_are_drawn_escaped() {
    let mut snap = snapshot();
    set_hostname(&mut snap, WEB_UTS, "web\x1b]0;pwn\x07\u{9b}2J");
    let worker = snap.processes.get_mut(&7190).expect("process 7190");
    worker.cmdline = vec!["nginx:\x1b[2J".into(), "worker\tprocess".into()];
    let mut s = Screen::fed(180, 40, true, false, vec![snap]);
    select_row(&mut s, "web-1");
    let detail = s.text();
    assert!(
        detail.contains(r"web\x1b]0;pwn\x07\xc2\x9b2J"),
        "detail pane:\n{detail}"
    );
    s.char('4');
    let row = s.line_with("   7190 ");
    assert!(row.contains(r"nginx:\x1b[2J worker\x09process"), "{row}");
    for y in 0..s.buffer().area.height {
        for x in 0..s.buffer().area.width {
            let sym = s.buffer()[(x, y)].symbol();
            assert!(!sym.contains(char::is_control), "raw {sym:?} at ({x},{y})");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the views say (issue 14 item 9)

/// The detail pane names a uts namespace's hostname as a hostname (it read as "shared with"
/// under the old heading) and the memory sparkline is scaled to the limit like the gauge: 9M of
/// 128M is a low bar, not a full one.
#[test]
fn detail_pane_says_what_its_values_are() {
    let mut s = Screen::new(180, 50, true, false);
    select_row(&mut s, "web-1");
    let text = s.text();
    assert!(text.contains("namespaces (host's or private)"), "{text}");
    assert!(!text.contains("shared with)"), "{text}");
    assert!(
        text.contains(&format!("uts    {WEB_UTS} private, hostname web-1")),
        "{text}"
    );
    let spark = s.line_with("mem    9M of 128M");
    assert!(
        !spark.contains('█'),
        "9M of 128M drawn on the limit's scale, not as a full bar: {spark}"
    );
}

/// At 140 columns the detail pane has room for a container's cgroup path on one line; the image
/// has a line of its own (a long one wraps there instead of being cut in the title).
#[test]
fn detail_pane_at_140_columns_keeps_paths_whole() {
    let mut s = Screen::new(140, 40, true, false);
    select_row(&mut s, "web-1");
    s.line_with(&format!("limits and usage of /docker/{}…", &CID[..12]));
    s.line_with("web-1 (docker, nginx:1.25)");
    s.line_with("image nginx:1.25");
}

/// Two named netns whose paths differ only at the end show apart in the Namespaces view's NAME
/// column; the CONTAINER column says whose each namespace is.
#[test]
fn namespaces_rows_name_their_container_and_keep_the_tail_of_paths() {
    use nsview::model::{Namespace, NsId};
    let mut snap = snapshot();
    for (ino, path) in [
        (4026539001, "/run/netns/nsview-a"),
        (4026539002, "/run/netns/nsview-b"),
    ] {
        let mut ns = Namespace::new(NsType::Net, NsId { dev: 4, ino });
        ns.bind_mounts.push(path.into());
        snap.namespaces.insert(ns.key(), ns);
    }
    let mut s = Screen::fed(120, 40, true, false, vec![snap]);
    s.char('2');
    let a = s.line_with("4026539001");
    let b = s.line_with("4026539002");
    assert!(a.contains("nsview-a") && b.contains("nsview-b"), "{a}\n{b}");
    assert!(s.line_with(&WEB_IPC.to_string()).contains("web-1"));
    let user = s.line_with("│user ");
    assert!(
        user.contains(&format!("{HOST_USER}")) && user.contains(" host "),
        "{user}"
    );
    // Cgroups view: the container's own cgroup names it.
    s.char('3');
    while s.app.current_hierarchy().is_some_and(|h| h.key != "memory") {
        s.char(']');
    }
    assert!(s.line_with(&CID[..12]).contains("web-1"));
}

/// Sorting by PROCS shows the arrow (PROCS is as wide as its title).
#[test]
fn sort_by_procs_shows_the_arrow() {
    let mut s = Screen::standard();
    for _ in 0..nsview::app::rows::CONTAINER_COLUMNS.len() {
        if s.text().contains("PROCS▲") {
            return;
        }
        s.char('s');
    }
    panic!("no PROCS▲ after cycling every column:\n{}", s.text());
}

/// A footer message gives the key hints back after a few seconds (counted in snapshots of the
/// 1 s interval); `?` lists the devices view's a and D.
#[test]
fn footer_message_expires_and_help_lists_devices_keys() {
    let mut s = Screen::new(120, 40, true, true);
    s.char('e');
    let footer = || "e edit";
    assert!(
        !s.text().lines().last().unwrap_or("").contains(footer()),
        "the read-only message replaces the hints:\n{}",
        s.text()
    );
    for _ in 0..nsview::app::STATUS_SECONDS {
        s.send(Msg::Snapshot(Box::new(snapshot())));
    }
    let text = s.text();
    assert!(
        text.lines().last().unwrap_or("").contains(footer()),
        "the hints are back:\n{text}"
    );
    s.char('?');
    let text = s.text();
    assert!(text.contains("add an allow rule"), "{text}");
    assert!(text.contains("add a deny rule"), "{text}");
}

/// `m` asks before it moves (issue 14 item 7), like `e`, `f` and `u`: Enter on the form shows
/// where the process is and where it goes, per hierarchy; Enter again does not confirm, n
/// cancels without writing, and only y moves it.
#[test]
fn m_asks_before_moving() {
    use nsview::app::Dialog;
    let w = Worker::new();
    let mut s = Screen::standard();
    s.char('4');
    select_row(&mut s, "7190");
    s.char('m');
    assert!(
        matches!(s.app.dialog, Some(Dialog::Move(_))),
        "m opens the form"
    );
    s.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    s.type_text("/docker").key(KeyCode::Enter);
    match &s.app.dialog {
        Some(Dialog::Confirm { lines, .. }) => {
            assert_eq!(lines[0], "move 7190 (nginx) to /docker?");
            let web = web_cgroup();
            assert!(
                lines
                    .iter()
                    .any(|l| l.trim() == format!("memory: {web} -> /docker")),
                "{lines:?}"
            );
        }
        other => panic!("Enter on the move form should ask first, got {other:?}"),
    }
    assert!(
        s.text().contains("move 7190 (nginx) to /docker?"),
        "{}",
        s.text()
    );
    s.key(KeyCode::Enter);
    assert!(
        matches!(s.app.dialog, Some(Dialog::Confirm { .. })),
        "Enter does not confirm"
    );
    s.char('n');
    assert_eq!(s.app.dialog, None, "n cancels");
    assert!(!w.file("memory/docker/cgroup.procs").contains("7190"));
    // Asked again, y moves it.
    s.char('m');
    s.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    s.type_text("/docker").key(KeyCode::Enter);
    w.key(&mut s, KeyCode::Char('y'));
    assert_eq!(w.file("memory/docker/cgroup.procs"), "7190");
}

/// `x` on a frozen target offers to thaw it first (issue 14 item 1): n cancels and leaves it
/// frozen; y thaws it, then the enter dialog opens.
#[test]
fn x_on_a_frozen_cgroup_offers_to_thaw_first() {
    use nsview::app::Dialog;
    let w = Worker::new();
    let mut s = Screen::standard();
    let batch = batch_cgroup();
    let state = format!("freezer{batch}/freezer.state");
    assert_eq!(w.file(&state), "FROZEN", "the fixture's batch is paused");
    s.char('3');
    select_row(&mut s, &BATCH_CID[..12]);
    s.char('x');
    match &s.app.dialog {
        Some(Dialog::Confirm { lines, .. }) => {
            assert!(lines[0].contains("is frozen"), "{lines:?}");
            assert!(
                lines.iter().any(|l| l.contains("thaw it, then enter")),
                "{lines:?}"
            );
        }
        other => panic!("x on a frozen cgroup should offer to thaw first, got {other:?}"),
    }
    s.char('n');
    assert_eq!(s.app.dialog, None, "n cancels");
    assert_eq!(w.file(&state), "FROZEN");
    s.char('x');
    w.key(&mut s, KeyCode::Char('y'));
    assert_eq!(w.file(&state), "THAWED");
    assert!(
        matches!(s.app.dialog, Some(Dialog::Enter(_))),
        "after the thaw the enter dialog opens: {:?}",
        s.app.dialog
    );
}

/// `nsview replay`: the REPLAY badge instead of READ-ONLY, the time bar under the header (the
/// frame's time, frame i/n, the timeline with a glyph per kind of event and the cursor), the
/// replay's keys first in help, and a change key refused with the replay's reason.
#[test]
fn replay_header_time_bar_and_refusal() {
    use nsview::app::replay::{Mark, ReplayFrame, ReplayView};
    use nsview::record::{Event, EventKind};
    let mut s = Screen::fed(120, 40, true, false, vec![]);
    let times: Vec<i64> = (0..5).map(|i| 1_796_613_120_000 + i * 5000).collect();
    let mark = |frame: usize, kind: EventKind| Mark {
        frame,
        event: Event {
            kind,
            subject: "web-1".into(),
            detail: "docker".into(),
        },
    };
    let marks = vec![
        mark(0, EventKind::ContainerStarted),
        mark(4, EventKind::ContainerStopped),
        mark(3, EventKind::Oom),
    ];
    s.app
        .start_replay(ReplayView::new("r.nsrec".into(), times.clone(), marks, 2));
    s.send(Msg::ReplayFrame(Box::new(ReplayFrame {
        frame: 2,
        snap: snapshot(),
        cpu: Default::default(),
        history: Default::default(),
    })));
    let header = s.line_with("nsview  host node-7");
    assert!(header.contains(" REPLAY "), "{header}");
    assert!(!header.contains("READ-ONLY"), "{header}");
    let bar = s.line_with("frame 3/5");
    assert!(bar.contains(&nsview::record::time::show(times[2])), "{bar}");
    for glyph in ['+', 'x', '!', '█'] {
        assert!(
            bar.contains(glyph),
            "{glyph} missing from the time bar: {bar}"
        );
    }
    // The cursor sits in the middle of the strip, between the start and the OOM.
    let at = |c: char| bar.chars().position(|x| x == c).unwrap_or(usize::MAX);
    assert!(
        at('+') < at('█') && at('█') < at('!') && at('!') < at('x'),
        "{bar}"
    );
    s.char('e');
    assert!(
        s.text()
            .contains("replay of a recording: nothing here can be changed"),
        "{}",
        s.text()
    );
    s.key(KeyCode::Esc).char('?');
    let help = s.text();
    let first = |t: &str| help.find(t).unwrap_or(usize::MAX);
    assert!(
        first("replay: one frame back") < first("move up"),
        "replay keys first in help:\n{help}"
    );
}
