//! `nsview replay` end to end: a real recording of the host (`nsview record --interval 1s`)
//! while an isolation group with a known hostname runs for a few seconds in the middle of it,
//! replayed in a real terminal (tmux). The header shows the frames' times, the keys move
//! through them, and the group is in the Containers view exactly while the cursor is inside
//! its lifetime.
//!
//! Needs root (namespaces, and the recorder sees every process), tmux and unshare; without them
//! the test skips and says why (under CI=true a skip is a failure). Everything is cleaned up on
//! drop, also when the test fails: the recorder and the group (ChildGuard kills their process
//! groups), the tmux server (which hangs up nsview), the temporary directory.

mod common;

use common::*;
use nsview::record::Recording;
use nsview::record::time::{frame_at, show_time_of_day};
use std::process::Command;
use std::time::{Duration, SystemTime};

const SCREEN_TIMEOUT: Duration = Duration::from_secs(15);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A recording made on this host, and when the group in it started and stopped (ms).
struct Recorded {
    _dir: tempfile::TempDir,
    file: String,
    hostname: String,
    /// Just before the group was started; once it was ready; just before it was killed; once
    /// it was gone.
    spawned: i64,
    ready: i64,
    killed: i64,
    gone: i64,
}

/// `nsview record --interval 1s` for about 12 s; an isolation group (new uts and pid
/// namespaces, a known hostname) from about 3 s to about 7 s.
fn record_with_a_group(test: &str) -> Recorded {
    let dir = tempfile::Builder::new()
        .prefix("nsview-test-replay-")
        .tempdir()
        .expect("temp dir");
    let file = dir.path().join("r.nsrec").to_string_lossy().into_owned();
    let mut recorder = ChildGuard::spawn(Command::new(nsview_bin()).args([
        "record",
        "--interval",
        "1s",
        "--duration",
        "12s",
        "--output",
        &file,
    ]));
    std::thread::sleep(Duration::from_secs(3));
    let hostname = format!("nsv-replay-{}", test_pid());
    let spawned = now_ms();
    let mut group = NsProcess::spawn(
        &["--uts", "--pid"],
        &format!("hostname {hostname}; exec sleep 1000"),
        "sleep",
    );
    let ready = now_ms();
    std::thread::sleep(Duration::from_secs(4));
    let killed = now_ms();
    let inner = group.inner;
    group.guard.kill();
    poll("the group's sleep to be gone", POLL_TIMEOUT, || {
        (!alive(inner)).then_some(())
    });
    let gone = now_ms();
    poll(
        &format!("{test}: the recorder to finish"),
        Duration::from_secs(60),
        || recorder.exited().then_some(()),
    );
    recorder.kill();
    Recorded {
        _dir: dir,
        file,
        hostname,
        spawned,
        ready,
        killed,
        gone,
    }
}

/// nsview replay in a tmux pane; the pane's shell says how it ended.
struct Replay {
    tmux: TmuxGuard,
    _config: tempfile::TempDir,
}

impl Replay {
    fn start(name: &str, file: &str) -> Replay {
        let config = tempfile::Builder::new()
            .prefix("nsview-replay-config-")
            .tempdir()
            .expect("temp config dir");
        let cfg = config.path().to_str().expect("utf-8 temp path");
        let bin = nsview_bin();
        for p in [bin, cfg, file] {
            assert!(!p.contains('\''), "cannot quote {p} for the pane's shell");
        }
        let command = format!(
            "XDG_CONFIG_HOME='{cfg}' '{bin}' replay '{file}'; echo NSVIEW-EXIT=$?; exec sleep 100000"
        );
        Replay {
            tmux: TmuxGuard::start(name, 120, 40, &command),
            _config: config,
        }
    }

    /// Type keys literally (`,` `.` `^` `$` `/` ...).
    fn keys(&self, text: &str) {
        self.tmux
            .tmux(&["send-keys", "-t", &self.tmux.session, "-l", text]);
    }

    /// Wait until the time bar shows frame `i` (0-based) of `n` at `time_ms`, drawn (not still
    /// decoding); returns the screen.
    fn wait_frame(&self, i: usize, n: usize, time_ms: i64) -> String {
        let (time, frame) = (show_time_of_day(time_ms), format!("frame {}/{n} ", i + 1));
        let want = format!("{time} ... {frame}");
        match try_poll(SCREEN_TIMEOUT, || {
            let s = self.tmux.capture();
            let bar = s.lines().nth(1).unwrap_or("").to_string();
            // "…" after the frame number: the cursor is there, its frame still decoding.
            (bar.contains(&time) && bar.contains(&frame) && !bar.contains('…')).then_some(s)
        }) {
            Some(s) => s,
            None => panic!(
                "timed out waiting for {want:?} in the time bar; screen:\n{}",
                self.tmux.capture()
            ),
        }
    }
}

/// Whether the Containers table, filtered by the group's hostname, lists anything: the group.
fn lists_group(screen: &str) -> bool {
    !table_rows(screen).is_empty()
}

#[test]
fn replay_steps_through_a_recording_and_the_group_comes_and_goes() {
    let test = "replay_steps_through_a_recording_and_the_group_comes_and_goes";
    if !require_root_and_tools(test, &["tmux", "unshare"]) {
        return;
    }
    let r = record_with_a_group(test);
    let rec = Recording::open(std::path::Path::new(&r.file)).expect("the recording opens");
    let times: Vec<i64> = rec.frames().iter().map(|f| f.time_ms).collect();
    let n = times.len();
    assert!(n >= 8, "a 12 s recording at 1 s has frames: {n}");
    // A frame's sample is collected before its time is taken: a second of slack either way.
    let before = times.iter().rposition(|t| *t < r.spawned);
    let inside = times
        .iter()
        .position(|t| *t > r.ready + 1500 && *t < r.killed);
    let after = times.iter().position(|t| *t > r.gone + 1500);
    let (Some(before), Some(inside), Some(after)) = (before, inside, after) else {
        panic!(
            "frames at {times:?} do not fall before {}, inside {}..{} and after {}",
            r.spawned, r.ready, r.killed, r.gone
        );
    };

    let replay = Replay::start("replay", &r.file);
    // Opens at the last frame: the group is gone.
    replay.wait_frame(n - 1, n, times[n - 1]);
    // The filter finds the group by its hostname, in whichever frame is shown.
    replay.keys("/");
    replay.keys(&r.hostname);
    replay.tmux.send_keys(&["Enter"]);
    replay.wait_for_text(&format!("matching '{}'", r.hostname));
    let last = replay.wait_frame(n - 1, n, times[n - 1]);
    assert!(!lists_group(&last), "gone at the end:\n{last}");

    // One frame back: the time bar follows.
    replay.keys(",");
    replay.wait_frame(n - 2, n, times[n - 2]);
    // The first frame, then forward frame by frame to the last one before the group.
    replay.keys("^");
    let first = replay.wait_frame(0, n, times[0]);
    assert!(!lists_group(&first), "not yet at the start:\n{first}");
    for (i, t) in times.iter().enumerate().take(before + 1).skip(1) {
        replay.keys(".");
        replay.wait_frame(i, n, *t);
    }
    let screen = replay.wait_frame(before, n, times[before]);
    assert!(
        !lists_group(&screen),
        "frame {} (before the group started):\n{screen}",
        before + 1
    );
    for (i, t) in times.iter().enumerate().take(inside + 1).skip(before + 1) {
        replay.keys(".");
        replay.wait_frame(i, n, *t);
    }
    let screen = replay.wait_frame(inside, n, times[inside]);
    assert!(
        lists_group(&screen),
        "frame {} (the group running):\n{screen}",
        inside + 1
    );
    // A typed time of day a second after a frame after the group stopped: the last frame at
    // or before it (a time of day has whole seconds), no earlier than that frame.
    let typed = show_time_of_day(times[after] + 1000);
    let want = frame_at(&rec, &typed).expect("the typed time is within the recording");
    assert!(want >= after, "{typed}: frame {want}, before frame {after}");
    replay.keys("T");
    replay.wait_for_text("go to time");
    replay.keys(&typed);
    replay.tmux.send_keys(&["Enter"]);
    let screen = replay.wait_frame(want, n, times[want]);
    assert!(
        !lists_group(&screen),
        "frame {} (after the group stopped):\n{screen}",
        want + 1
    );
    // Changes are refused with the replay's reason.
    replay.keys("e");
    replay.wait_for_text("replay of a recording: nothing here can be changed");

    replay.keys("q");
    let end = replay.wait_for_text("NSVIEW-EXIT=");
    assert!(end.contains("NSVIEW-EXIT=0"), "{end}");
    let alt = replay.tmux.tmux(&[
        "display-message",
        "-p",
        "-t",
        &replay.tmux.session,
        "#{alternate_on}",
    ]);
    assert_eq!(alt.trim(), "0", "the main screen is back");

    // --at that names no frame: one line, exit 1, before the screen is touched.
    for at in ["bogus", "-1h"] {
        let run = nsview(&["replay", &r.file, "--at", at]);
        assert_eq!(run.code, Some(1), "{}", run.describe());
        assert_eq!(run.stdout, "", "{}", run.describe());
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.describe());
    }
}

impl Replay {
    fn wait_for_text(&self, text: &str) -> String {
        self.tmux.wait_for(text, SCREEN_TIMEOUT)
    }
}

/// A file that is not a recording: one line, exit 1, and the terminal untouched (nothing on
/// stdout, no escape sequence).
#[test]
fn a_file_that_is_not_a_recording_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bogus = dir.path().join("not-a-recording");
    std::fs::write(&bogus, "hello\n").expect("write");
    let path = bogus.to_string_lossy().into_owned();
    for args in [
        vec!["replay", path.as_str()],
        vec!["replay", "/nonexistent/nsview-test-replay"],
    ] {
        let r = nsview(&args);
        assert_eq!(r.code, Some(1), "{}", r.describe());
        assert_eq!(r.stdout, "", "{}", r.describe());
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.describe());
        assert!(r.stderr.starts_with("nsview: "), "{}", r.describe());
    }
    let r = nsview(&["replay", &path]);
    assert!(
        r.stderr.contains("not an nsview recording"),
        "{}",
        r.describe()
    );
}
