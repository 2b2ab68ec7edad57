//! The recording format on the live host: frames written from real snapshots read back as the
//! same states, full and delta, and a file cut at any byte reads up to its last whole frame.

use nsview::collect::{CollectOptions, Collector};
use nsview::record::{Recording, State, Writer};
use nsview::sys::Roots;

fn comparable(mut s: State) -> State {
    // What a recording does not keep: the hierarchy ids of /proc/cgroups.
    for h in &mut s.head.hierarchies {
        h.id = 0;
    }
    s
}

#[test]
fn frames_read_back_as_the_snapshots_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.nsrec");
    let mut c = Collector::new(Roots::default());
    c.read_runtime_records(true);
    let mut w = Writer::open(&path, 1000).unwrap();
    let mut snaps = Vec::new();
    let mut prev: Option<nsview::model::Snapshot> = None;
    let mut child = Some(
        std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap(),
    );
    for i in 0..4 {
        // A process of the first two frames exits before the third.
        if let Some(mut c) = child.take_if(|_| i == 2) {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        let snap = c.refresh(CollectOptions::ALL).unwrap();
        let same = c.last_refresh().processes_same;
        w.write(1_000_000 + i, &snap, prev.as_ref(), same, vec![])
            .unwrap();
        snaps.push(comparable(State::of(&snap)));
        prev = Some(snap);
    }
    if let Some(mut c) = child {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    let rec = Recording::open(&path).unwrap();
    assert_eq!(rec.frames().len(), 4);
    assert!(rec.frames()[0].full && !rec.frames()[1].full);
    for (i, want) in snaps.iter().enumerate() {
        let got = comparable(rec.state_at(i).unwrap());
        assert_eq!(got.processes, want.processes, "frame {i}");
        assert_eq!(got.namespaces, want.namespaces, "frame {i}");
        assert_eq!(got.containers, want.containers, "frame {i}");
        assert_eq!(got.cgroups, want.cgroups, "frame {i}");
        assert_eq!(got.head, want.head, "frame {i}");
    }
    // Cut anywhere: whole frames before the cut are read, silently.
    let bytes = std::fs::read(&path).unwrap();
    let ends: Vec<u64> = rec.frames().iter().map(|f| f.offset + f.bytes).collect();
    for cut in [ends[0] + 1, ends[1] + 10, ends[2] - 1, ends[3] - 1] {
        let p = dir.path().join("cut.nsrec");
        std::fs::write(&p, &bytes[..cut as usize]).unwrap();
        let r = Recording::open(&p).unwrap();
        let whole = ends.iter().filter(|e| **e <= cut).count();
        assert_eq!(r.frames().len(), whole, "cut at {cut}");
        assert!(r.warnings().is_empty(), "{:?}", r.warnings());
    }
}
