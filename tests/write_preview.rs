//! What a change shows before it is made, and what it refuses before writing (issue 14, items 5
//! and 6), on the real kernel and a real Docker daemon:
//!
//! - every preview (`set --dry-run`, the output of `set`, the TUI's confirmation) lists every file
//!   the write changes, before -> after, the memory + swap file included: a v1 memory limit given
//!   alone keeps the group's swap amount (nsview's swap rule, the same through Docker's API);
//! - the dry run makes the checks of the real write, the runtime's included: memory + swap below
//!   memory is refused with nsview's one line before anything is written, Docker's 6 MB minimum is
//!   refused by the dry run;
//! - the TUI's `e` form marks a cpuset outside the parent's as it is typed, and a change refused
//!   after Enter returns to the form as typed.
//!
//! The cgroups are this test's own (/sys/fs/cgroup/<hier>/nsview-test-<pid>/...), each test has
//! its own journal (the hidden --state-dir). The Docker tests run with the daemon of the test
//! command: `scripts/test.sh --test write_preview`.

mod common;

use common::runtimes::{ARTICLE_LIMITS, docker_run};
use common::*;
use std::process::Command;

const MIB: u64 = 1024 * 1024;

/// nsview with the journal in `state`.
fn nsview_at(state: &tempfile::TempDir, args: &[&str]) -> Run {
    run_with_timeout(
        Command::new(nsview_bin())
            .arg("--state-dir")
            .arg(state.path())
            .args(args),
        NSVIEW_TIMEOUT,
    )
}

/// Exit 1 with exactly one line on stderr: that line.
fn one_line_failure(r: &Run) -> String {
    assert_eq!(
        r.code,
        Some(1),
        "should fail with exit 1:\n{}",
        r.describe()
    );
    let lines = r.stderr_lines();
    assert_eq!(lines.len(), 1, "one line on stderr:\n{}", r.describe());
    lines[0].to_string()
}

/// A v1 memory cgroup of ours with 128M of memory and 256M of memory + swap (what `docker run
/// --memory 128m` makes), or None when the test cannot run here.
fn memory_group(test: &str, name: &str) -> Option<CgroupGuard> {
    if !require_root_and_tools(test, &[]) {
        return None;
    }
    let g = CgroupGuard::create("memory", name).expect("create the memory cgroup");
    if g.read("memory.memsw.limit_in_bytes").is_err() {
        skip(test, "no memory.memsw.limit_in_bytes (swap accounting off)");
        return None;
    }
    g.write("memory.limit_in_bytes", &(128 * MIB).to_string())
        .expect("memory limit");
    g.write("memory.memsw.limit_in_bytes", &(256 * MIB).to_string())
        .expect("memory + swap limit");
    Some(g)
}

fn read(g: &CgroupGuard, file: &str) -> String {
    g.read(file)
        .unwrap_or_else(|e| panic!("read {}/{file}: {e}", g.rel))
}

/// Raising memory 128M -> 256M under a 256M memory + swap: the dry run, the JSON and the real
/// run show both files, before -> after, and the group keeps its 128M of swap.
#[test]
fn raising_memory_shows_and_keeps_the_swap() {
    let test = "raising_memory_shows_and_keeps_the_swap";
    let Some(g) = memory_group(test, "preview-raise") else {
        return;
    };
    let state = tempfile::tempdir().expect("state dir");
    let memory_line = "memory.limit_in_bytes 134217728 (128M) -> 268435456 (256M)";
    let memsw_line = "memory.memsw.limit_in_bytes 268435456 (256M) -> 402653184 (384M)";

    let r = nsview_at(
        &state,
        &["set", &g.rel, "memory.limit_in_bytes=256m", "--dry-run"],
    );
    r.assert_success();
    assert!(r.stdout.contains(memory_line), "{}", r.stdout);
    assert!(r.stdout.contains(memsw_line), "{}", r.stdout);
    assert!(r.stdout.contains("128M of swap"), "{}", r.stdout);
    assert_eq!(read(&g, "memory.limit_in_bytes"), "134217728", "dry run");
    assert_eq!(
        read(&g, "memory.memsw.limit_in_bytes"),
        "268435456",
        "dry run"
    );

    let r = nsview_at(
        &state,
        &["set", &g.rel, "memory.max=256m", "--dry-run", "--json"],
    );
    r.assert_success();
    let changes = r.json()["changes"].clone();
    let files: Vec<(&str, &str, &str)> = changes
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default();
            (s("file"), s("old"), s("new"))
        })
        .collect();
    assert_eq!(
        files,
        [
            ("memory.limit_in_bytes", "134217728", "268435456"),
            ("memory.memsw.limit_in_bytes", "268435456", "402653184"),
        ],
        "{changes:#}"
    );

    // The real run says the same, and the kernel has it.
    let r = nsview_at(&state, &["set", &g.rel, "memory.limit_in_bytes=256m"]);
    r.assert_success();
    assert!(
        r.stdout.contains(memory_line) && r.stdout.contains(memsw_line),
        "{}",
        r.stdout
    );
    assert_eq!(read(&g, "memory.limit_in_bytes"), "268435456");
    assert_eq!(read(&g, "memory.memsw.limit_in_bytes"), "402653184");
    // Undo puts both back.
    nsview_at(&state, &["undo"]).assert_success();
    assert_eq!(read(&g, "memory.limit_in_bytes"), "134217728");
    assert_eq!(read(&g, "memory.memsw.limit_in_bytes"), "268435456");
}

/// Memory + swap below memory: refused by the dry run and the real run alike, with nsview's one
/// line, before anything is written (nothing journaled either).
#[test]
fn memory_and_swap_below_memory_is_refused_before_writing() {
    let test = "memory_and_swap_below_memory_is_refused";
    let Some(g) = memory_group(test, "preview-memsw") else {
        return;
    };
    let state = tempfile::tempdir().expect("state dir");
    for dry in [true, false] {
        let mut args = vec!["set", &g.rel, "memory.memsw.limit_in_bytes=64m"];
        if dry {
            args.push("--dry-run");
        }
        let line = one_line_failure(&nsview_at(&state, &args));
        assert!(
            line.contains("memory + swap 64M would be below the memory limit 128M"),
            "{line}"
        );
        assert_eq!(read(&g, "memory.memsw.limit_in_bytes"), "268435456");
    }
    // Both given, the memory above: the same.
    let line = one_line_failure(&nsview_at(
        &state,
        &[
            "set",
            &g.rel,
            "memory.max=1g",
            "memory.memsw.limit_in_bytes=512m",
        ],
    ));
    assert!(
        line.contains("512M would be below the memory limit 1G"),
        "{line}"
    );
    assert_eq!(read(&g, "memory.limit_in_bytes"), "134217728");
    let j = nsview_at(&state, &["journal", "--json"]);
    j.assert_success();
    assert_eq!(
        j.json()["entries"],
        serde_json::json!([]),
        "nothing journaled"
    );
}

fn inspect(name: &str, field: &str) -> String {
    run_ok(
        "docker",
        &[
            "inspect",
            "-f",
            &format!("{{{{.HostConfig.{field}}}}}"),
            name,
        ],
    )
    .trim()
    .to_string()
}

fn kernel_file(cgroup: &str, file: &str) -> String {
    std::fs::read_to_string(format!("{CGROUP_ROOT}/memory{cgroup}/{file}"))
        .unwrap_or_else(|e| panic!("read memory{cgroup}/{file}: {e}"))
        .trim()
        .to_string()
}

/// On a Docker container (--memory 128m: 256M of memory + swap): Docker's 6 MB minimum and
/// memory + swap below memory are refused by the dry run with nsview's line; raising memory to
/// 256M previews and sends the memory + swap that keeps the 128M of swap, so Docker's record and
/// the kernel both keep it.
#[test]
fn docker_preview_checks_what_docker_checks_and_shows_the_swap() {
    let test = "docker_preview_checks_what_docker_checks";
    let Some(guard) = docker_run(test, "preview", &ARTICLE_LIMITS, &[]) else {
        return;
    };
    let c = &guard.c;
    let state = tempfile::tempdir().expect("state dir");
    assert_eq!(
        inspect(&c.name, "MemorySwap"),
        "268435456",
        "docker run's default"
    );

    let r = nsview_at(
        &state,
        &["set", &c.name, "memory.limit_in_bytes=100k", "--dry-run"],
    );
    let line = one_line_failure(&r);
    assert!(
        line.contains("at least 6M (6291456 bytes), Docker's minimum"),
        "{line}"
    );
    assert!(!r.stdout.contains("would set"), "{}", r.stdout);

    for dry in [true, false] {
        let mut args = vec!["set", &c.name, "memory.memsw.limit_in_bytes=64m"];
        if dry {
            args.push("--dry-run");
        }
        let line = one_line_failure(&nsview_at(&state, &args));
        assert!(
            line.contains("would be below the memory limit 128M"),
            "{line}"
        );
        assert!(!line.contains("runc"), "nsview's line, not runc's: {line}");
    }
    assert_eq!(inspect(&c.name, "MemorySwap"), "268435456");

    let r = nsview_at(&state, &["set", &c.name, "memory.max=256m", "--dry-run"]);
    r.assert_success();
    for want in [
        "memory.limit_in_bytes 134217728 (128M) -> 268435456 (256M)",
        "memory.memsw.limit_in_bytes 268435456 (256M) -> 402653184 (384M)",
    ] {
        assert!(r.stdout.contains(want), "{want}:\n{}", r.stdout);
    }
    assert_eq!(inspect(&c.name, "Memory"), "134217728", "dry run");

    let r = nsview_at(&state, &["set", &c.name, "memory.max=256m"]);
    r.assert_success();
    assert!(r.stdout.contains("Docker Engine API"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("memory.memsw.limit_in_bytes 268435456 (256M) -> 402653184 (384M)"),
        "{}",
        r.stdout
    );
    assert_eq!(inspect(&c.name, "Memory"), "268435456");
    assert_eq!(inspect(&c.name, "MemorySwap"), "402653184");
    assert_eq!(
        kernel_file(&c.cgroup, "memory.memsw.limit_in_bytes"),
        "402653184"
    );

    // Undo through Docker's API puts both back.
    nsview_at(&state, &["undo"]).assert_success();
    assert_eq!(inspect(&c.name, "MemorySwap"), "268435456");
    assert_eq!(kernel_file(&c.cgroup, "memory.limit_in_bytes"), "134217728");
    assert_eq!(
        kernel_file(&c.cgroup, "memory.memsw.limit_in_bytes"),
        "268435456"
    );
}

// ---------------------------------------------------------------------------------------------
// The TUI's edit form on the real host's snapshot

mod tui {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use nsview::app::edit_form::EditForm;
    use nsview::app::keymap::Keymap;
    use nsview::app::{App, Cmd, Dialog, Msg, View};
    use nsview::collect::{CollectOptions, Collector};
    use nsview::effects::cgroup::CgroupWriter;
    use nsview::effects::journal::Journal;
    use nsview::effects::request;
    use nsview::sys::Roots;
    use nsview::ui::{self, Drawn, Theme};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::time::Duration;

    /// The App on a snapshot of this host, drawn after every key as the event loop does.
    struct Tui {
        app: App,
        terminal: Terminal<TestBackend>,
    }

    impl Tui {
        fn new() -> Tui {
            let snap = Collector::new(Roots::default())
                .collect(CollectOptions::ALL)
                .expect("collect this host");
            let mut app = App::new(Duration::from_secs(1), false, true, Keymap::default());
            app.update(Msg::Snapshot(Box::new(snap)));
            let terminal = Terminal::new(TestBackend::new(140, 45)).expect("test terminal");
            let mut t = Tui { app, terminal };
            t.draw();
            t
        }

        fn draw(&mut self) {
            let mut drawn = Drawn::default();
            let app = &self.app;
            self.terminal
                .draw(|f| drawn = ui::draw(f, app, &Theme::monochrome()))
                .expect("draw");
            drawn.apply_to(&mut self.app);
        }

        fn key(&mut self, code: KeyCode) -> Vec<Cmd> {
            let cmds = self
                .app
                .update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
            self.draw();
            cmds
        }

        fn type_text(&mut self, text: &str) {
            for c in text.chars() {
                self.key(KeyCode::Char(c));
            }
        }

        fn text(&self) -> String {
            let b = self.terminal.backend().buffer();
            let mut out = String::new();
            for y in 0..b.area.height {
                for x in 0..b.area.width {
                    out.push_str(b[(x, y)].symbol());
                }
                out.push('\n');
            }
            out
        }

        fn form(&self) -> &EditForm {
            match &self.app.dialog {
                Some(Dialog::Edit(f)) => f,
                other => panic!("the edit form should be open: {other:?}\n{}", self.text()),
            }
        }

        /// Focus the form's field labelled `label`.
        fn focus(&mut self, label: &str) {
            let i = self
                .form()
                .fields
                .iter()
                .position(|f| f.label == label)
                .unwrap_or_else(|| panic!("no field {label:?}: {:?}", self.form().fields));
            while self.form().focus != i {
                self.key(KeyCode::Down);
            }
        }

        /// The Cgroups view on hierarchy `key`, row of cgroup `path` selected.
        fn select_cgroup(&mut self, key: &str, path: &str) {
            self.key(KeyCode::Char('3'));
            assert_eq!(self.app.view, View::Cgroups);
            for _ in 0..self.app.snap.hierarchies.len() {
                if self.app.current_hierarchy().is_some_and(|h| h.key == key) {
                    break;
                }
                self.key(KeyCode::Char(']'));
            }
            self.key(KeyCode::Home);
            for _ in 0..self.app.rows.len() {
                let here = self.app.selected().is_some_and(
                    |r| matches!(&r.key, nsview::app::rows::RowKey::Cgroup(_, p) if p == path),
                );
                if here {
                    return;
                }
                self.key(KeyCode::Down);
            }
            panic!("no row for {key}:{path}:\n{}", self.text());
        }
    }

    /// `e` on a cgroup of ours (cpuset and memory): `7` for CPUs on a host whose parent set is
    /// smaller is marked as typed and Enter does not send it; memory + swap below memory passes
    /// the form but the preview refuses it, and closing the refusal returns to the form with
    /// everything typed.
    #[test]
    fn edit_form_checks_cpuset_as_typed_and_a_refusal_keeps_the_form() {
        let test = "edit_form_checks_cpuset_as_typed";
        let Some(memory) = memory_group(test, "preview-form") else {
            return;
        };
        let cpuset = CgroupGuard::create("cpuset", "preview-form").expect("cpuset cgroup");
        let parent =
            std::fs::read_to_string(cpuset.dir.parent().expect("parent").join("cpuset.cpus"))
                .expect("parent's cpuset.cpus")
                .trim()
                .to_string();
        let outside = "7";
        assert!(
            !parent
                .split([',', '-'])
                .any(|c| c.parse::<u32>().is_ok_and(|c| c >= 7)),
            "this test needs fewer than 8 CPUs in {parent}"
        );
        let mut t = Tui::new();
        t.select_cgroup("cpuset", &cpuset.rel);
        t.key(KeyCode::Char('e'));
        t.focus("CPUs");
        t.type_text(outside);
        let want = format!("cpuset.cpus: 7 is not in the parent's cpuset.cpus ({parent})");
        let cpus = t.form().fields[t.form().focus].clone();
        assert_eq!(
            cpus.error.as_deref(),
            Some(want.as_str()),
            "marked as typed"
        );
        assert!(
            t.text().contains(&want),
            "shown under the field:\n{}",
            t.text()
        );
        // Enter sends nothing while a field is invalid.
        assert!(t.key(KeyCode::Enter).is_empty());
        assert!(
            t.form()
                .error
                .as_deref()
                .is_some_and(|e| e.contains("fix CPUs"))
        );

        // A valid CPU, and memory + swap below the memory limit: the preview refuses it.
        t.key(KeyCode::Backspace);
        let first_cpu = parent.split([',', '-']).next().expect("a cpu").to_string();
        t.type_text(&first_cpu);
        assert_eq!(t.form().fields[t.form().focus].error, None);
        t.focus("memory + swap");
        t.type_text("64m");
        assert_eq!(t.form().fields[t.form().focus].error, None);
        let cmds = t.key(KeyCode::Enter);
        let [Cmd::Effect { id, req }] = cmds.as_slice() else {
            panic!("Enter should ask for a preview: {cmds:?}");
        };
        let state = tempfile::tempdir().expect("state dir");
        let writer = CgroupWriter {
            read_only: false,
            journal: Journal {
                path: state.path().join("journal.jsonl"),
            },
        };
        let result = request::perform_with(req.clone(), &Roots::default(), &writer);
        t.app.update(Msg::Effect {
            id: *id,
            op: req.clone(),
            result: Box::new(result),
        });
        t.draw();
        match &t.app.dialog {
            Some(Dialog::Outcome { ok, lines, .. }) => {
                assert!(!ok, "{lines:?}");
                assert!(
                    lines
                        .iter()
                        .any(|l| l.contains("would be below the memory limit 128M")),
                    "{lines:?}"
                );
            }
            other => panic!("the refusal should show: {other:?}"),
        }
        assert!(t.text().contains("back to the form"), "{}", t.text());
        assert_eq!(read(&memory, "memory.memsw.limit_in_bytes"), "268435456");

        // Closing the refusal: the form as typed, with why under it.
        t.key(KeyCode::Esc);
        let typed: Vec<(&str, &str)> = t
            .form()
            .fields
            .iter()
            .filter(|f| !f.input.is_empty())
            .map(|f| (f.label, f.input.as_str()))
            .collect();
        assert_eq!(
            typed,
            [("CPUs", first_cpu.as_str()), ("memory + swap", "64m")]
        );
        assert!(
            t.form()
                .error
                .as_deref()
                .is_some_and(|e| e.contains("below the memory limit")),
            "{:?}",
            t.form().error
        );

        // The memory limit alone instead: the confirmation lists the memory + swap line too, and
        // n returns to the form as typed.
        t.app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        )));
        t.focus("memory limit");
        t.type_text("256m");
        let cmds = t.key(KeyCode::Enter);
        let [Cmd::Effect { id, req }] = cmds.as_slice() else {
            panic!("Enter should ask for a preview: {cmds:?}");
        };
        let result = request::perform_with(req.clone(), &Roots::default(), &writer);
        t.app.update(Msg::Effect {
            id: *id,
            op: req.clone(),
            result: Box::new(result),
        });
        t.draw();
        match &t.app.dialog {
            Some(Dialog::Confirm { lines, .. }) => {
                for want in [
                    "memory.limit_in_bytes 134217728 (128M) -> 268435456 (256M)",
                    "memory.memsw.limit_in_bytes 268435456 (256M) -> 402653184 (384M)",
                ] {
                    assert!(lines.iter().any(|l| l.contains(want)), "{want}: {lines:?}");
                }
            }
            other => panic!("the preview should ask: {other:?}"),
        }
        t.key(KeyCode::Char('n'));
        let typed: Vec<(&str, &str)> = t
            .form()
            .fields
            .iter()
            .filter(|f| !f.input.is_empty())
            .map(|f| (f.label, f.input.as_str()))
            .collect();
        assert_eq!(
            typed,
            [("CPUs", first_cpu.as_str()), ("memory limit", "256m")]
        );
        assert_eq!(
            read(&memory, "memory.limit_in_bytes"),
            "134217728",
            "n writes nothing"
        );
        drop(cpuset);
    }
}
