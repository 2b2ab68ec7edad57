//! `nsview record` and the read commands' `--from PATH [--at TIME]` on the real kernel
//! (issue 17): a recording taken while an isolation group starts and stops and a limit is
//! changed through `nsview set` answers "what was there at T"; a recorder killed at any moment
//! leaves a readable file; a corrupted frame is read up to with one warning; what is not a
//! recording is refused with one line.

mod common;

use common::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use nsview::record::{EventKind, Recording};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `ms` as RFC 3339 (UTC), what `--at` takes.
fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

/// `nsview --state-dir STATE ARGS...`, whatever the exit status.
fn nsview_in(state: &Path, args: &[&str]) -> Run {
    run_with_timeout(
        Command::new(nsview_bin())
            .arg("--state-dir")
            .arg(state)
            .args(args),
        NSVIEW_TIMEOUT,
    )
}

/// A recorder (`nsview record`) this test started.
struct Recorder {
    guard: ChildGuard,
    path: PathBuf,
}

impl Recorder {
    fn start(state: &Path, path: &Path, interval: &str) -> Recorder {
        let guard = ChildGuard::spawn(
            Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(state)
                .args(["record", "--interval", interval, "--output"])
                .arg(path),
        );
        Recorder {
            guard,
            path: path.to_path_buf(),
        }
    }

    /// Wait until the file holds `n` more whole frames than `before`.
    fn wait_frames(&self, before: usize, n: usize) {
        poll(
            &format!("{} frames in {}", before + n, self.path.display()),
            Duration::from_secs(30),
            || {
                assert!(!self.guard.exited(), "the recorder exited early");
                (whole_frames(&self.path).len() >= before + n).then_some(())
            },
        );
    }

    /// Stop it as Ctrl-C does, and wait for it to finish its file.
    fn stop(mut self) {
        // Our own child, not reaped: its PID is still its.
        kill(Pid::from_raw(self.guard.pid()), Signal::SIGINT).unwrap();
        poll("the recorder to stop", POLL_TIMEOUT, || {
            self.guard.exited().then_some(())
        });
        self.guard.kill();
    }
}

/// The frames of a recording file as this test reads the format itself (file.rs's layout): a
/// 16-byte header, then frames of a 32-byte header (events and state lengths at bytes 16..24)
/// and their blocks. Returns (offset, length) of each whole frame; stops at a torn tail.
fn whole_frames(path: &Path) -> Vec<(usize, usize)> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut at = 16;
    while at + 32 <= bytes.len() {
        assert_eq!(&bytes[at..at + 4], b"NSVF", "a frame at byte {at}");
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
        let len = 32 + u32_at(at + 16) + u32_at(at + 20);
        if at + len > bytes.len() {
            break;
        }
        out.push((at, len));
        at += len;
    }
    out
}

/// Which memory limit file this host has for a test cgroup: v1's memory hierarchy, else the
/// unified one with the memory controller.
fn memory_hierarchy() -> Option<(&'static str, &'static str, &'static str)> {
    let root = Path::new(CGROUP_ROOT);
    if root.join("memory/memory.limit_in_bytes").exists() {
        return Some(("memory", "memory", "memory.limit_in_bytes"));
    }
    let controllers = std::fs::read_to_string(root.join("unified/cgroup.subtree_control"));
    if controllers.is_ok_and(|c| c.split_whitespace().any(|c| c == "memory")) {
        return Some(("unified", "unified", "memory.max"));
    }
    None
}

/// The uts namespace named `hostname` in `nsview list --from F --at T --json`.
fn has_hostname(list: &Value, hostname: &str) -> bool {
    array(list, "namespaces")
        .iter()
        .any(|n| n["type"] == "uts" && n["hostname"] == hostname)
}

/// Wall-clock marks (ms) of the story's steps.
struct Marks {
    group_starting: i64,
    set_begun: i64,
    set_done: i64,
    group_stopping: i64,
    group_stopped: i64,
    end: i64,
}

/// Let the recorder sample a phase of the story: long enough that a frame taken well inside it
/// exists whatever the phase of the 1 s clock (and a collection's own time).
const PHASE: Duration = Duration::from_millis(4000);
/// How far before the next step a phase's moment is taken.
const BEFORE_NEXT: i64 = 400;

#[test]
fn a_recording_answers_what_ran_with_which_limit_and_when() {
    let test = "a_recording_answers_what_ran_with_which_limit_and_when";
    if !require_root_and_tools(test, &["unshare", "hostname"]) {
        return;
    }
    let Some((hier, key, limit_file)) = memory_hierarchy() else {
        return skip(
            test,
            "no memory controller in a v1 hierarchy or the unified one",
        );
    };
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("story.nsrec");
    let cg = CgroupGuard::create(hier, "rec_story").unwrap();
    cg.write(limit_file, "104857600").unwrap();
    let hostname = format!("nsv-rec-{}", test_pid());

    let recorder = Recorder::start(state.path(), &file, "1s");
    recorder.wait_frames(0, 1);
    std::thread::sleep(PHASE);

    let group_starting = now_ms();
    let group = NsProcess::spawn(
        &["--uts", "--pid", "--mount-proc"],
        &format!("hostname {hostname}; exec sleep 1000"),
        "sleep",
    );
    cg.add_process(group.inner).unwrap();
    std::thread::sleep(PHASE);

    let set_begun = now_ms();
    nsview_in(
        state.path(),
        &["set", &cg.rel, &format!("{limit_file}=200M")],
    )
    .assert_success();
    let set_done = now_ms();
    assert_eq!(cg.read(limit_file).unwrap(), "209715200");
    std::thread::sleep(PHASE);

    let group_stopping = now_ms();
    let pids = [group.outer, group.inner];
    drop(group);
    let group_stopped = now_ms();
    std::thread::sleep(PHASE);
    let end = now_ms();
    recorder.stop();
    let marks = Marks {
        group_starting,
        set_begun,
        set_done,
        group_stopping,
        group_stopped,
        end,
    };
    check_states_at_times(
        state.path(),
        &file,
        &marks,
        &hostname,
        (key, &cg.rel, limit_file),
    );
    check_timeline(
        state.path(),
        &file,
        &marks,
        &cg.rel,
        (key, limit_file),
        pids,
    );
}

/// `list` and `cgroups --from --at`, at a moment inside each phase of the story.
fn check_states_at_times(
    state: &Path,
    file: &Path,
    m: &Marks,
    hostname: &str,
    (key, path, limit_file): (&str, &str, &str),
) {
    let f = file.to_str().unwrap();
    let at = |args: &[&str], t: i64| -> Value {
        let t = rfc3339(t);
        let mut all = args.to_vec();
        all.extend(["--from", f, "--at", &t, "--json"]);
        let r = nsview_in(state, &all);
        assert!(r.status.success(), "{}", r.describe());
        r.json()
    };
    // (moment, the group runs, the limit then)
    let moments = [
        (
            "before the group",
            m.group_starting - BEFORE_NEXT,
            false,
            104857600,
        ),
        (
            "while the group ran",
            m.set_begun - BEFORE_NEXT,
            true,
            104857600,
        ),
        (
            "after the change",
            m.group_stopping - BEFORE_NEXT,
            true,
            209715200,
        ),
        (
            "after the group stopped",
            m.end - BEFORE_NEXT,
            false,
            209715200,
        ),
    ];
    for (what, t, runs, limit) in moments {
        let list = at(&["list"], t);
        assert_eq!(
            has_hostname(&list, hostname),
            runs,
            "{what} ({}): uts namespace {hostname} in `list --from --at`",
            rfc3339(t)
        );
        let cgroups = at(&["cgroups"], t);
        let cg = get_cgroup(&cgroups, key, path);
        assert_eq!(
            cg["limits"][limit_file].as_i64(),
            Some(limit),
            "{what} ({}): {}",
            rfc3339(t),
            short(cg)
        );
    }
    // Without --at: the last frame (after everything).
    let r = nsview_in(state, &["list", "--from", f, "--json"]);
    assert!(!has_hostname(&r.json(), hostname), "{}", r.describe());
    assert!(m.set_done < m.group_stopped);
}

/// The recording's events with their frames' times.
fn timeline(rec: &Recording) -> Vec<(i64, nsview::record::Event)> {
    rec.frames()
        .iter()
        .flat_map(|f| f.events.iter().map(move |e| (f.time_ms, e.clone())))
        .collect()
}

/// The time of the first event of `kind` that `matches`; panics showing the timeline.
fn event_time(
    events: &[(i64, nsview::record::Event)],
    kind: EventKind,
    what: &str,
    matches: impl Fn(&nsview::record::Event) -> bool,
) -> i64 {
    events
        .iter()
        .find(|(_, e)| e.kind == kind && matches(e))
        .map(|(t, _)| *t)
        .unwrap_or_else(|| panic!("no {kind:?} event {what} in {events:#?}"))
}

/// `record --info --json` counts the change twice (journal and limit), at the interval given.
fn check_info(state: &Path, file: &Path) {
    let info = nsview_in(
        state,
        &["record", "--info", file.to_str().unwrap(), "--json"],
    );
    assert!(info.status.success(), "{}", info.describe());
    let info = info.json();
    assert_eq!(info["events"]["change"], 1, "{}", short(&info));
    assert!(
        info["events"]["limit-changed"].as_u64() >= Some(1),
        "{}",
        short(&info)
    );
    assert_eq!(info["interval_ms"], 1000);
    assert!(info["frames"].as_u64() >= Some(12), "{}", short(&info));
}

/// The change is on the timeline twice: the journal's entry and the limit seen changed, in a
/// frame after the `set` began; the group's start and stop too.
fn check_timeline(
    state: &Path,
    file: &Path,
    m: &Marks,
    path: &str,
    (key, limit_file): (&str, &str),
    pids: [i32; 2],
) {
    check_info(state, file);
    let events = timeline(&Recording::open(file).unwrap());
    let journaled = format!("set {limit_file} 104857600 (100M) -> 209715200 (200M)");
    let journaled = event_time(&events, EventKind::Change, &journaled, |e| {
        e.subject == path && e.detail.contains(&journaled)
    });
    let (subject, seen) = (
        format!("{key}:{path}"),
        format!("{limit_file} 104857600 -> 209715200"),
    );
    let seen = event_time(&events, EventKind::LimitChanged, &seen, |e| {
        e.subject == subject && e.detail.contains(&seen)
    });
    for t in [journaled, seen] {
        assert!(
            t > m.set_begun && t < m.group_stopping,
            "change at {} outside {}..{}",
            rfc3339(t),
            rfc3339(m.set_begun),
            rfc3339(m.group_stopping)
        );
    }
    // The group is an isolation group no runtime owns, named by its init (unshare's child, or
    // unshare itself, which is in the new uts and mnt namespaces too).
    let of_group = |e: &nsview::record::Event| {
        pids.iter()
            .any(|p| e.detail.ends_with(&format!("init {p}")))
    };
    let what = format!("of init {pids:?}");
    let started = event_time(&events, EventKind::ContainerStarted, &what, of_group);
    let stopped = event_time(&events, EventKind::ContainerStopped, &what, of_group);
    assert!(
        started > m.group_starting && started < m.set_begun,
        "started at {}",
        rfc3339(started)
    );
    assert!(
        stopped > m.group_stopping,
        "stopped at {}",
        rfc3339(stopped)
    );
}

/// `--from` on a recorder killed (SIGKILL) at random moments: read up to its last whole frame,
/// counted as such by `--info`; a recorder started again cuts a torn tail and appends.
#[test]
fn a_killed_recorder_leaves_a_readable_file() {
    let test = "a_killed_recorder_leaves_a_readable_file";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("killed.nsrec");
    let f = file.to_str().unwrap();
    let mut seed = now_ms() as u64 | 1;
    for round in 0..4 {
        let before = whole_frames(&file).len();
        let mut recorder = Recorder::start(state.path(), &file, "0.2s");
        recorder.wait_frames(before, 1);
        // xorshift: a delay of 0 to 1.5 s, so the kill lands anywhere in a frame's cycle.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 1500));
        recorder.guard.kill();
        check_reads_whole_frames(state.path(), &file, &format!("after kill {round}"));
    }
    // A torn tail for sure: half of a frame appended, as a write cut short leaves it.
    let frames = whole_frames(&file);
    let (off, len) = frames[frames.len() - 1];
    let bytes = std::fs::read(&file).unwrap();
    let mut torn = bytes.clone();
    torn.extend_from_slice(&bytes[off..off + len / 2]);
    std::fs::write(&file, &torn).unwrap();
    check_reads_whole_frames(state.path(), &file, "with a torn tail");
    let r = nsview_in(
        state.path(),
        &[
            "record",
            "--output",
            f,
            "--interval",
            "0.2s",
            "--duration",
            "1s",
        ],
    );
    assert!(r.status.success(), "{}", r.describe());
    assert!(
        r.stderr.contains(&format!("cut {} bytes", len / 2)),
        "{}",
        r.describe()
    );
    let after = whole_frames(&file);
    assert!(after.len() > frames.len(), "frames appended");
    let (off, len) = after[after.len() - 1];
    assert_eq!(off + len, std::fs::metadata(&file).unwrap().len() as usize);
    check_reads_whole_frames(state.path(), &file, "after a new recorder");
}

/// `ps --from F` exits 0 with JSON and no warning, and `--info` counts the whole frames.
fn check_reads_whole_frames(state: &Path, file: &Path, when: &str) {
    let f = file.to_str().unwrap();
    let r = nsview_in(state, &["ps", "--from", f, "--json"]);
    assert!(r.status.success(), "{when}: {}", r.describe());
    assert!(!array(&r.json(), "processes").is_empty(), "{when}");
    assert!(!r.stderr.contains("corrupt"), "{when}: {}", r.describe());
    let info = nsview_in(state, &["record", "--info", f, "--json"]);
    assert!(info.status.success(), "{when}: {}", info.describe());
    let info = info.json();
    assert_eq!(
        info["frames"].as_u64(),
        Some(whole_frames(file).len() as u64),
        "{when}: {}",
        short(&info)
    );
    assert_eq!(info["warnings"], serde_json::json!([]), "{when}");
}

/// A frame whose bytes changed: read up to the frame before it, with one warning naming it.
#[test]
fn a_corrupted_frame_is_read_up_to_with_one_warning() {
    let test = "a_corrupted_frame_is_read_up_to_with_one_warning";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("good.nsrec");
    let f = file.to_str().unwrap();
    nsview_in(
        state.path(),
        &[
            "record",
            "--output",
            f,
            "--interval",
            "0.2s",
            "--duration",
            "3s",
        ],
    )
    .assert_success();
    let frames = whole_frames(&file);
    assert!(frames.len() >= 4, "{} frames", frames.len());
    // Flip bytes inside the third frame's state block (its last bytes).
    let (off, len) = frames[2];
    let mut bytes = std::fs::read(&file).unwrap();
    for b in &mut bytes[off + len - 8..off + len - 4] {
        *b ^= 0x5a;
    }
    let bad = state.path().join("bad.nsrec");
    std::fs::write(&bad, &bytes).unwrap();
    let b = bad.to_str().unwrap();
    let r = nsview_in(state.path(), &["ps", "--from", b, "--json"]);
    assert!(r.status.success(), "{}", r.describe());
    array(&r.json(), "processes");
    let warnings: Vec<&str> = r
        .stderr_lines()
        .into_iter()
        .filter(|l| l.contains(b))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", r.describe());
    assert!(
        warnings[0].starts_with("nsview: warning: ")
            && warnings[0].contains(&format!("frame 3 (byte {off})"))
            && warnings[0].contains("corrupted"),
        "{}",
        warnings[0]
    );
    let info = nsview_in(state.path(), &["record", "--info", b, "--json"]).json();
    assert_eq!(info["frames"], 2, "{}", short(&info));
    assert_eq!(array(&info, "warnings").len(), 1, "{}", short(&info));
}

/// What is not a recording: exit 1, one line. `--at` without `--from`: a usage error.
#[test]
fn from_refuses_what_is_not_a_recording() {
    let state = tempfile::tempdir().unwrap();
    let empty = state.path().join("empty.nsrec");
    std::fs::write(&empty, b"").unwrap();
    let no_recordings = state.path().join("dir");
    std::fs::create_dir(&no_recordings).unwrap();
    std::fs::write(no_recordings.join("notes.txt"), b"hello").unwrap();
    let missing = state.path().join("missing.nsrec");
    let cases: [(&Path, &str); 4] = [
        (Path::new("/etc/passwd"), "not an nsview recording"),
        (&empty, "not an nsview recording"),
        (&no_recordings, "without recordings"),
        (&missing, "No such file"),
    ];
    for (path, why) in cases {
        for cmd in [&["ps"][..], &["show", "1"], &["record", "--info"]] {
            let mut args = cmd.to_vec();
            if cmd[0] != "record" {
                args.push("--from");
            }
            args.push(path.to_str().unwrap());
            let r = nsview_in(state.path(), &args);
            assert_eq!(r.code, Some(1), "{}", r.describe());
            let lines = r.stderr_lines();
            assert_eq!(lines.len(), 1, "{}", r.describe());
            assert!(
                lines[0].starts_with("nsview: ") && lines[0].contains(why),
                "{}",
                r.describe()
            );
            assert!(r.stdout.is_empty(), "{}", r.describe());
        }
    }
    let r = nsview_in(state.path(), &["list", "--at", "-10m"]);
    assert_eq!(r.code, Some(2), "{}", r.describe());
    let r = nsview_in(state.path(), &["record", "--info", "x", "--interval", "1s"]);
    assert_eq!(r.code, Some(2), "{}", r.describe());
}

/// `--max-size`: the file rotates into PATH.1 to PATH.3, each segment (and so the four
/// together) under its share, each starting with a full frame; the reader chains them in
/// order; `--info` lists them. Real snapshots through the library's writer, with a segment limit
/// of a full frame and a few deltas (the CLI's minimum, 1M, would take minutes to fill).
#[test]
fn rotation_keeps_four_segments_under_the_limit() {
    use nsview::collect::{CollectOptions, Collector};
    let test = "rotation_keeps_four_segments_under_the_limit";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("rot.nsrec");
    let mut c = Collector::new(nsview::sys::Roots::default());
    let mut w = nsview::record::Writer::open(&file, 200).unwrap();
    let mut prev = c.refresh(CollectOptions::ALL).unwrap();
    let (_, full) = w.write(1_000, &prev, None, false, vec![]).unwrap();
    let mut times = vec![1_000];
    let mut limit = 0;
    // A reader opening the recording over and over while it rotates: never an error, never a
    // frame twice (the new file is swapped in whole, see Writer::rotate).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (stop, file) = (stop.clone(), file.clone());
        std::thread::spawn(move || {
            let mut opened = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let rec = Recording::open(&file).unwrap_or_else(|e| panic!("open: {e}"));
                let t: Vec<i64> = rec.frames().iter().map(|f| f.time_ms).collect();
                assert!(
                    t.windows(2).all(|w| w[0] < w[1]),
                    "frames out of order: {t:?}"
                );
                opened += 1;
            }
            opened
        })
    };
    // Until the file has rotated at least four times (PATH.3 exists and was replaced once):
    // how many frames that takes depends on how much the host changes meanwhile.
    let third = nsview::record::segment_path(&file, 3);
    let mut third_made_at = None;
    for i in 1..2_000 {
        let snap = c.refresh(CollectOptions::ALL).unwrap();
        let same = c.last_refresh().processes_same;
        let t = 1_000 + i * 200;
        w.write(t, &snap, Some(&prev), same, vec![]).unwrap();
        times.push(t);
        if i == 1 {
            // Room for a full frame (the host may grow a little meanwhile) and some deltas
            // (hundreds of bytes each) per segment.
            limit = 4 * (16 + full as u64 + 8_000);
            w.rotate_at(limit);
        }
        prev = snap;
        if third_made_at.is_none() && third.exists() {
            third_made_at = Some(i);
        }
        if third_made_at.is_some_and(|at| i > 2 * at) {
            break;
        }
    }
    assert!(
        third_made_at.is_some(),
        "2,000 frames did not fill four segments"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let opened = reader
        .join()
        .expect("the reader failed while the recording rotated");
    assert!(opened > 0);
    let segments: Vec<PathBuf> = (0..=4)
        .map(|n| nsview::record::segment_path(&file, n))
        .collect();
    for s in &segments[..4] {
        // Over its share only when one full frame alone is larger (the host grew meanwhile).
        let size = std::fs::metadata(s).unwrap().len();
        assert!(
            size <= limit / 4 || whole_frames(s).len() == 1,
            "{}: {size} > {}",
            s.display(),
            limit / 4
        );
    }
    assert!(!segments[4].exists(), "the oldest beyond .3 is dropped");
    let rec = Recording::open(&file).unwrap();
    assert!(rec.warnings().is_empty(), "{:?}", rec.warnings());
    let read: Vec<PathBuf> = rec.segments().map(Path::to_path_buf).collect();
    let oldest_first: Vec<PathBuf> = segments[..4].iter().rev().cloned().collect();
    assert_eq!(read, oldest_first);
    let frame_times: Vec<i64> = rec.frames().iter().map(|f| f.time_ms).collect();
    assert_eq!(frame_times, times[times.len() - frame_times.len()..]);
    for seg in 0..4 {
        let first = rec.frames().iter().find(|f| f.segment == seg).unwrap();
        assert!(first.full, "segment {seg} starts with a full frame");
    }
    let last = rec.state_at(rec.frames().len() - 1).unwrap();
    assert_eq!(last.processes, nsview::record::State::of(&prev).processes);
    let info = nsview_in(
        state.path(),
        &["record", "--info", file.to_str().unwrap(), "--json"],
    )
    .json();
    assert_eq!(array(&info, "segments").len(), 4, "{}", short(&info));
    assert_eq!(info["frames"].as_u64(), Some(frame_times.len() as u64));
    // The CLI's bounds.
    let r = nsview_in(
        state.path(),
        &["record", "--max-size", "512K", "--duration", "1s"],
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(r.stderr.contains("at least 1M"), "{}", r.describe());
}

/// `--from` prints what the live command prints: on every contract host of the harness (fixture
/// trees), a recording's last frame gives the same JSON as `--root` read live, for `list`, `ps`,
/// `cgroups`, `containers`, and `show` of each container and of a process.
#[test]
fn recorded_json_is_the_live_json_on_every_contract_host() {
    use common::fake_docker::FakeDocker;
    use common::scenarios::{contract_hosts, runtime_hosts};
    let mut shown = 0;
    for (scenario, host) in contract_hosts() {
        let fixture = host.build();
        let _api = (scenario == "v2_systemd_runtimes").then(|| {
            FakeDocker::serve(
                &fixture.root().join("var/run/docker.sock"),
                runtime_hosts::docker_api_body(),
            )
        });
        let state = tempfile::tempdir().unwrap();
        let file = state.path().join("fixture.nsrec");
        let (s, f) = (state.path().to_str().unwrap(), file.to_str().unwrap());
        let r = fixture.run(&[
            "--state-dir",
            s,
            "record",
            "--output",
            f,
            "--duration",
            "0.2s",
        ]);
        assert!(r.status.success(), "{scenario}: {}", r.describe());
        let containers = fixture.json(&["containers", "--json"]);
        let mut runs: Vec<Vec<String>> = [["list"], ["ps"], ["cgroups"], ["containers"]]
            .iter()
            .map(|a| a.iter().map(|s| s.to_string()).collect())
            .collect();
        for c in array(&containers, "containers") {
            shown += 1;
            runs.push(vec!["show".into(), c["name"].as_str().unwrap().into()]);
            runs.push(vec!["show".into(), c["init_pid"].to_string()]);
        }
        for args in runs {
            let mut live: Vec<&str> = args.iter().map(String::as_str).collect();
            live.push("--json");
            let want = fixture.json(&live);
            let mut recorded = live.clone();
            recorded.extend(["--from", f]);
            let r = nsview_in(state.path(), &recorded);
            assert!(r.status.success(), "{scenario}: {}", r.describe());
            assert_eq!(r.json(), want, "{scenario}: {args:?}");
        }
    }
    assert!(shown >= 6, "containers shown: {shown}");
}
