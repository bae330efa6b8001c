//! Rings between real processes: this test binary runs itself as writer and reader children
//! (`child_entry` with `QUIVER_SHM_TEST_ROLE` set), so liveness, kills and takeovers go
//! through the kernel exactly as they would between unrelated programs.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use quiver_shm::{Error, Policy, Reader, ReaderOptions, Recv, RingOptions, Start, Writer};

const ROLE: &str = "QUIVER_SHM_TEST_ROLE";
/// Generous: a test that waits this long for something that should take milliseconds has
/// found a hang, and fails saying so.
const HANG: Duration = Duration::from_secs(20);

struct Ring(String);

impl Ring {
    fn new(test: &str) -> Ring {
        let name = format!("test-{}-{test}", std::process::id());
        let _ = quiver_shm::admin::remove(&name, true);
        Ring(name)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let _ = quiver_shm::admin::remove(&self.0, true);
    }
}

fn schema_a() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
        Field::new("check", DataType::Int64, false),
    ]))
}

fn schema_b() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("label", DataType::Utf8, true),
        Field::new("check", DataType::Int64, false),
    ]))
}

/// Frame `k`'s content: `rows` rows derived from k, with a checksum column over the rest, so
/// a reader can tell a complete frame from a torn or mixed one. Even k use schema A, odd k
/// (from `switch_at` on) schema B.
fn frame(k: i64, rows: usize, switch_at: i64) -> RecordBatch {
    let seq: Vec<i64> = (0..rows as i64).map(|i| k * 1_000_000 + i).collect();
    if k >= switch_at && k % 2 == 1 {
        let labels: Vec<Option<String>> = seq
            .iter()
            .map(|s| (s % 7 != 0).then(|| format!("v{s}")))
            .collect();
        let check: Vec<i64> = seq
            .iter()
            .map(|s| s.wrapping_mul(31) ^ (s % 7 != 0) as i64)
            .collect();
        RecordBatch::try_new(
            schema_b(),
            vec![
                Arc::new(Int64Array::from(seq)),
                Arc::new(StringArray::from(labels)),
                Arc::new(Int64Array::from(check)),
            ],
        )
        .unwrap()
    } else {
        let x: Vec<f64> = seq.iter().map(|s| *s as f64 * 0.5).collect();
        let check: Vec<i64> = seq.iter().map(|s| s.wrapping_mul(31) ^ 1).collect();
        RecordBatch::try_new(
            schema_a(),
            vec![
                Arc::new(Int64Array::from(seq)),
                Arc::new(Float64Array::from(x)),
                Arc::new(Int64Array::from(check)),
            ],
        )
        .unwrap()
    }
}

/// Checks a received batch is one whole frame as `frame` makes it; returns its k.
fn verify(batch: &RecordBatch) -> i64 {
    let seq = batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    let check = batch
        .column(2)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert!(batch.num_rows() > 0);
    let k = seq.value(0) / 1_000_000;
    for i in 0..batch.num_rows() {
        let s = seq.value(i);
        assert_eq!(
            s,
            k * 1_000_000 + i as i64,
            "torn frame: row {i} of frame {k}"
        );
        let expect = match batch.schema().field(1).data_type() {
            DataType::Utf8 => {
                let l = batch
                    .column(1)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap();
                assert_eq!(l.is_valid(i), s % 7 != 0);
                if l.is_valid(i) {
                    assert_eq!(l.value(i), format!("v{s}"));
                }
                s.wrapping_mul(31) ^ (s % 7 != 0) as i64
            }
            _ => {
                let x = batch
                    .column(1)
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .unwrap();
                assert_eq!(x.value(i), s as f64 * 0.5, "torn frame {k}");
                s.wrapping_mul(31) ^ 1
            }
        };
        assert_eq!(check.value(i), expect, "checksum of frame {k} row {i}");
    }
    k
}

fn spawn(role: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Lines the child printed that start with `@`, our protocol (libtest prints its own).
fn next_line(out: &mut impl BufRead) -> String {
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            return String::new();
        }
        // libtest prints "test child_entry ... " before the child's first line.
        if let Some(at) = line.find('@') {
            return line[at + 1..].trim().to_string();
        }
    }
}

/// Waits until `n` live readers are attached to `name`.
fn await_readers(name: &str, n: usize) {
    let start = Instant::now();
    loop {
        if let Ok(s) = quiver_shm::admin::status(name)
            && s.readers.iter().filter(|r| r.alive).count() >= n
        {
            return;
        }
        assert!(start.elapsed() < HANG, "readers never attached to {name}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The body of every child process; a no-op when run as a normal test.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let parts: Vec<&str> = role.split(':').collect();
    let say = |s: String| {
        println!("@{s}");
        std::io::stdout().flush().unwrap();
    };
    match parts[0] {
        // write:NAME:FRAMES:ROWS:SWITCH:READERS — waits for READERS readers, writes, closes.
        "write" => {
            let (name, frames, rows, switch): (&str, i64, usize, i64) = (
                parts[1],
                parts[2].parse().unwrap(),
                parts[3].parse().unwrap(),
                parts[4].parse().unwrap(),
            );
            let mut w =
                Writer::create(name, RingOptions::default().size(8 << 20).slots(4)).unwrap();
            say("created".into());
            await_readers(name, parts[5].parse().unwrap());
            for k in 0..frames {
                w.write(&frame(k, rows, switch)).unwrap();
            }
            w.close().unwrap();
            say("closed".into());
        }
        // read:NAME — reads to the end, prints the frames' k and schema ids.
        "read" => {
            let mut r =
                Reader::open(parts[1], ReaderOptions::default().start(Start::Oldest)).unwrap();
            say("attached".into());
            let mut seen = Vec::new();
            loop {
                match r.recv(Some(HANG)).unwrap() {
                    Recv::Frame(f) => {
                        for b in &f.batches {
                            seen.push(format!("{}/{}", verify(b), f.schema_id));
                        }
                    }
                    Recv::Closed => break,
                    Recv::TimedOut => panic!("reader timed out: a hang"),
                }
            }
            say(seen.join(","));
        }
        // spew:NAME:ROWS — writes frames until killed (takes the ring over if it exists).
        "spew" => {
            let mut w = Writer::create(
                parts[1],
                RingOptions::default()
                    .size(8 << 20)
                    .slots(4)
                    .policy(Policy::Overwrite),
            )
            .unwrap();
            let rows: usize = parts[2].parse().unwrap();
            let mut k = w.next_seq() as i64;
            say(format!("epoch {}", w.epoch()));
            loop {
                w.write(&frame(k, rows, i64::MAX)).unwrap();
                k += 1;
            }
        }
        // pin:NAME — reads every frame it can and keeps them all, then waits to be killed.
        "pin" => {
            let mut r = Reader::open(parts[1], ReaderOptions::default()).unwrap();
            let mut kept = Vec::new();
            while let Recv::Frame(f) = r.recv(Some(Duration::from_millis(200))).unwrap() {
                kept.push(f);
            }
            say(format!("pinned {}", kept.len()));
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        // create:NAME — tries to become the writer, reports, and holds until stdin closes.
        "create" => {
            let r = Writer::create(parts[1], RingOptions::default().size(1 << 20).slots(2));
            say(match &r {
                Ok(_) => "ok".to_string(),
                Err(e) => e.kind().to_string(),
            });
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        // open-as-nobody:NAME — drops to uid 65534 and attaches.
        "open-as-nobody" => {
            // SAFETY: a single-threaded child process changing its own credentials.
            assert_eq!(unsafe { libc::setgid(65534) }, 0);
            assert_eq!(unsafe { libc::setuid(65534) }, 0);
            match Reader::open(parts[1], ReaderOptions::default()) {
                Ok(_) => say("opened".into()),
                Err(e) => say(format!("{}: {e}", e.kind())),
            }
        }
        other => panic!("unknown role {other}"),
    }
    // Done: leave before libtest reports on a stdout the parent may have closed.
    std::process::exit(0);
}

#[test]
fn every_reader_in_every_process_gets_every_frame_in_order_across_a_schema_change() {
    let ring = Ring::new("broadcast");
    let frames = 40;
    let mut writer = spawn(&format!("write:{}:{frames}:500:20:3", ring.0));
    let mut wout = BufReader::new(writer.stdout.take().unwrap());
    assert_eq!(next_line(&mut wout), "created");
    let mut readers: Vec<Child> = (0..2).map(|_| spawn(&format!("read:{}", ring.0))).collect();
    let mut outs: Vec<_> = readers
        .iter_mut()
        .map(|c| BufReader::new(c.stdout.take().unwrap()))
        .collect();
    for o in outs.iter_mut() {
        assert_eq!(next_line(o), "attached");
    }
    // The third reader is this process, zero-copy.
    let mut me = Reader::open(&ring.0, ReaderOptions::default()).unwrap();
    let map = me.mapping();
    let mut mine = Vec::new();
    loop {
        match me.recv(Some(HANG)).unwrap() {
            Recv::Frame(f) => {
                for b in &f.batches {
                    for col in b.columns() {
                        for buf in col.to_data().buffers() {
                            if !buf.is_empty() {
                                let p = buf.as_ptr() as usize;
                                assert!(
                                    map.contains(&p),
                                    "a buffer of frame {} is outside the mapping",
                                    f.seq
                                );
                            }
                        }
                    }
                    mine.push(format!("{}/{}", verify(b), f.schema_id));
                }
            }
            Recv::Closed => break,
            Recv::TimedOut => panic!("hang"),
        }
    }
    let expected: Vec<String> = (0..frames)
        .map(|k| format!("{k}/{}", if k >= 20 && k % 2 == 1 { 1 } else { 0 }))
        .collect();
    assert_eq!(mine, expected);
    for (mut o, mut c) in outs.into_iter().zip(readers) {
        assert_eq!(next_line(&mut o), expected.join(","));
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(next_line(&mut wout), "closed");
    assert!(writer.wait().unwrap().success());
}

#[test]
fn pinned_frames_are_never_overwritten_and_a_retaining_reader_switches_to_copies() {
    let ring = Ring::new("pins");
    let mut w = Writer::create(
        &ring.0,
        RingOptions::default()
            .size(2 << 20)
            .slots(4)
            .policy(Policy::Overwrite),
    )
    .unwrap()
    .with_write_timeout(Duration::from_millis(300));
    let mut r = Reader::open(&ring.0, ReaderOptions::default()).unwrap();
    for k in 0..4 {
        w.write(&frame(k, 100, i64::MAX)).unwrap();
    }
    let mut kept = Vec::new();
    for k in 0..4 {
        let Recv::Frame(f) = r.recv(Some(HANG)).unwrap() else {
            panic!()
        };
        assert_eq!(verify(&f.batches[0]), k);
        // Two slots (half of four) are pinned zero-copy; the rest are copies.
        assert_eq!(f.copied, k >= 2, "frame {k}");
        kept.push(f);
    }
    // Overwrite never waits on unread frames, but frame 0 is pinned: its slot is not reused.
    let err = w.write(&frame(4, 100, i64::MAX)).unwrap_err();
    assert_eq!(err.kind(), "RingFull", "{err}");
    assert!(
        err.to_string()
            .contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    assert_eq!(verify(&kept[0].batches[0]), 0, "the pinned frame is intact");
    drop(kept.remove(0));
    w.write(&frame(4, 100, i64::MAX)).unwrap();
    let Recv::Frame(f) = r.recv(Some(HANG)).unwrap() else {
        panic!()
    };
    assert_eq!(verify(&f.batches[0]), 4);
}

#[test]
fn overwrite_reports_exactly_how_many_frames_a_slow_reader_missed() {
    let ring = Ring::new("lag");
    let mut w = Writer::create(
        &ring.0,
        RingOptions::default()
            .size(2 << 20)
            .slots(4)
            .policy(Policy::Overwrite),
    )
    .unwrap();
    let mut r = Reader::open(&ring.0, ReaderOptions::default()).unwrap();
    for k in 0..11 {
        w.write(&frame(k, 10, i64::MAX)).unwrap();
    }
    match r.recv(Some(HANG)) {
        Err(Error::Lagged { missed, .. }) => assert_eq!(missed, 7),
        other => panic!("expected Lagged, got {other:?}"),
    }
    let mut got = Vec::new();
    while let Recv::Frame(f) = r.recv(Some(Duration::from_millis(50))).unwrap() {
        got.push(verify(&f.batches[0]));
    }
    assert_eq!(got, vec![7, 8, 9, 10]);
    assert_eq!(r.lagged_total(), 7);
}

#[test]
fn block_policy_waits_for_the_slowest_reader_then_reports_ring_full_naming_it() {
    let ring = Ring::new("block");
    let mut w = Writer::create(&ring.0, RingOptions::default().size(2 << 20).slots(3))
        .unwrap()
        .with_write_timeout(Duration::from_millis(200));
    let mut fast = Reader::open(&ring.0, ReaderOptions::default()).unwrap();
    let _slow = Reader::open(&ring.0, ReaderOptions::default()).unwrap();
    for k in 0..3 {
        w.write(&frame(k, 10, i64::MAX)).unwrap();
        let Recv::Frame(f) = fast.recv(Some(HANG)).unwrap() else {
            panic!()
        };
        assert_eq!(verify(&f.batches[0]), k);
    }
    let err = w.write(&frame(3, 10, i64::MAX)).unwrap_err();
    assert_eq!(err.kind(), "RingFull");
    assert!(err.to_string().contains("has not read frame 1"), "{err}");
    drop(_slow);
    w.write(&frame(3, 10, i64::MAX)).unwrap();
}

#[test]
fn a_killed_reader_holding_pins_stops_holding_the_writer() {
    let ring = Ring::new("reader-kill");
    let mut w = Writer::create(
        &ring.0,
        RingOptions::default()
            .size(2 << 20)
            .slots(4)
            .policy(Policy::Overwrite),
    )
    .unwrap()
    .with_write_timeout(HANG);
    for k in 0..4 {
        w.write(&frame(k, 10, i64::MAX)).unwrap();
    }
    let mut child = spawn(&format!("pin:{}", ring.0));
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // It keeps two frames zero-copy (half the ring) and copies the others.
    assert_eq!(next_line(&mut out), "pinned 4");
    let status = quiver_shm::admin::status(&ring.0).unwrap();
    assert_eq!(status.readers.len(), 1);
    assert_eq!(status.readers[0].pinned, 2);
    child.kill().unwrap();
    let start = Instant::now();
    // Frame 0's slot is pinned by the dead reader until the writer notices the lock is free.
    w.write(&frame(4, 10, i64::MAX)).unwrap();
    eprintln!(
        "writer resumed {:?} after the reader was killed",
        start.elapsed()
    );
    let _ = child.wait();
    assert!(
        quiver_shm::admin::status(&ring.0)
            .unwrap()
            .readers
            .is_empty(),
        "the dead reader was reaped"
    );
}

#[test]
fn writers_killed_at_random_moments_never_tear_a_frame_and_the_next_writer_takes_over() {
    let ring = Ring::new("writer-kill");
    let rounds: usize = std::env::var("QUIVER_SHM_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    // Create the ring once so the reader can attach before the first writer starts.
    drop(
        Writer::create(
            &ring.0,
            RingOptions::default()
                .size(8 << 20)
                .slots(4)
                .policy(Policy::Overwrite),
        )
        .unwrap(),
    );
    let mut r = Reader::open(&ring.0, ReaderOptions::default().start(Start::Latest)).unwrap();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let (mut frames, mut gone, mut lagged) = (0u64, 0u64, 0u64);
    let mut last_epoch = 0;
    for round in 0..rounds {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Frames of 1 to 40k rows (up to ~1 MiB), killed after 0 to 3 ms of writing.
        let rows = 1 + (rng % 40_000) as usize;
        let mut child = spawn(&format!("spew:{}:{rows}", ring.0));
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let epoch_line = next_line(&mut out);
        let epoch: u32 = epoch_line.strip_prefix("epoch ").unwrap().parse().unwrap();
        assert!(
            epoch > last_epoch,
            "round {round}: a takeover starts a new epoch"
        );
        last_epoch = epoch;
        std::thread::sleep(Duration::from_micros((rng >> 40) % 3000));
        child.kill().unwrap();
        let _ = child.wait();
        // Drain: complete frames, then WriterGone. Never a torn frame, never a hang.
        loop {
            match r.recv(Some(HANG)) {
                Ok(Recv::Frame(f)) => {
                    for b in &f.batches {
                        verify(b);
                    }
                    frames += 1;
                }
                Ok(Recv::TimedOut) => {
                    panic!("round {round}: the reader hung after the writer was killed")
                }
                Ok(Recv::Closed) => {
                    panic!("round {round}: a killed writer does not close the ring")
                }
                Err(Error::WriterGone { .. }) => {
                    gone += 1;
                    break;
                }
                Err(Error::Lagged { missed, .. }) => lagged += missed,
                Err(e) => panic!("round {round}: {e}"),
            }
        }
    }
    eprintln!(
        "{rounds} writers killed: {frames} frames read whole, {lagged} overwritten unread, {gone} WriterGone"
    );
    assert_eq!(gone, rounds as u64);
    assert!(frames > 0);
    // A last writer takes over and closes cleanly.
    let mut w = Writer::create(
        &ring.0,
        RingOptions::default()
            .size(8 << 20)
            .slots(4)
            .policy(Policy::Overwrite),
    )
    .unwrap();
    assert!(w.taken_over());
    w.write(&frame(7, 3, i64::MAX)).unwrap();
    w.close().unwrap();
    let Recv::Frame(f) = r.recv(Some(HANG)).unwrap() else {
        panic!("the taken-over ring delivers")
    };
    assert_eq!(verify(&f.batches[0]), 7);
    assert!(matches!(r.recv(Some(HANG)).unwrap(), Recv::Closed));
}

#[test]
fn of_creators_racing_for_one_name_exactly_one_wins() {
    for round in 0..10 {
        let ring = Ring::new(&format!("race{round}"));
        let mut kids: Vec<Child> = (0..6)
            .map(|_| spawn(&format!("create:{}", ring.0)))
            .collect();
        let results: Vec<String> = kids
            .iter_mut()
            .map(|c| next_line(&mut BufReader::new(c.stdout.take().unwrap())))
            .collect();
        assert_eq!(
            results.iter().filter(|r| *r == "ok").count(),
            1,
            "round {round}: {results:?}"
        );
        assert!(
            results.iter().all(|r| r == "ok" || r == "AlreadyExists"),
            "{results:?}"
        );
        for mut k in kids {
            drop(k.stdin.take());
            k.wait().unwrap();
        }
        // The winner has exited: creating again takes the ring over.
        let w = Writer::create(&ring.0, RingOptions::default().size(1 << 20).slots(2)).unwrap();
        assert!(w.taken_over());
    }
}

#[test]
fn files_that_are_not_healthy_rings_give_clear_errors() {
    let dir = quiver_shm::ring_dir();
    let named = |n: &str| Ring::new(n);
    let put = |ring: &Ring, bytes: &[u8]| {
        std::fs::write(dir.join(format!("quiver-{}", ring.0)), bytes).unwrap()
    };

    let qads = named("qads");
    let mut bytes = vec![0u8; 4096];
    bytes[..4].copy_from_slice(&0x5144_4153u32.to_le_bytes());
    put(&qads, &bytes);
    let e = Reader::open(&qads.0, ReaderOptions::default()).unwrap_err();
    assert_eq!(e.kind(), "Incompatible");
    assert!(e.to_string().contains("QADataSwap"), "{e}");
    // A foreign file is not clobbered by a writer either.
    assert_eq!(
        Writer::create(&qads.0, RingOptions::default())
            .unwrap_err()
            .kind(),
        "Incompatible"
    );

    let zero = named("zero");
    put(&zero, &[0u8; 8192]);
    assert_eq!(
        Reader::open(&zero.0, ReaderOptions::default())
            .unwrap_err()
            .kind(),
        "Incompatible"
    );

    let empty = named("empty");
    put(&empty, &[]);
    assert_eq!(
        Reader::open(&empty.0, ReaderOptions::default())
            .unwrap_err()
            .kind(),
        "Incompatible"
    );

    let trunc = named("trunc");
    drop(Writer::create(&trunc.0, RingOptions::default().size(1 << 20).slots(2)).unwrap());
    let path = quiver_shm::ring_path(&trunc.0).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(300_000)
        .unwrap();
    let e = Reader::open(&trunc.0, ReaderOptions::default()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Truncated {
                actual: 300_000,
                ..
            }
        ),
        "{e}"
    );

    let crc = named("crc");
    drop(Writer::create(&crc.0, RingOptions::default().size(1 << 20).slots(2)).unwrap());
    let path = quiver_shm::ring_path(&crc.0).unwrap();
    let mut all = std::fs::read(&path).unwrap();
    all[33] ^= 0x40; // slot count
    std::fs::write(&path, &all).unwrap();
    assert_eq!(
        Reader::open(&crc.0, ReaderOptions::default())
            .unwrap_err()
            .kind(),
        "Corrupt"
    );

    assert_eq!(
        Reader::open("no-such-ring-here", ReaderOptions::default())
            .unwrap_err()
            .kind(),
        "NotFound"
    );
    assert_eq!(
        Writer::create("../etc", RingOptions::default())
            .unwrap_err()
            .kind(),
        "InvalidName"
    );

    // Larger than the file system holding rings: refused at creation, nothing left behind.
    let big = named("big");
    let free = {
        // SAFETY: statvfs fills a plain struct.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
        st.f_bavail as u64 * st.f_frsize as u64
    };
    let e = Writer::create(&big.0, RingOptions::default().size(free + (1 << 30))).unwrap_err();
    assert_eq!(e.kind(), "NoSpace", "{e}");
    assert!(!quiver_shm::ring_path(&big.0).unwrap().exists());
    let leftovers = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!(".quiver-{}", big.0))
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn a_ring_of_another_user_is_permission_denied() {
    let ring = Ring::new("perm");
    drop(Writer::create(&ring.0, RingOptions::default().size(1 << 20).slots(2)).unwrap());
    // SAFETY: getuid cannot fail.
    if unsafe { libc::getuid() } == 0 {
        // Root reads any file: check from a child that drops to uid 65534 instead.
        let mut c = spawn(&format!("open-as-nobody:{}", ring.0));
        let line = next_line(&mut BufReader::new(c.stdout.take().unwrap()));
        assert!(line.starts_with("PermissionDenied"), "{line}");
        assert!(line.contains("mode 0600"), "{line}");
        c.wait().unwrap();
    } else {
        let path = quiver_shm::ring_path(&ring.0).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000))
            .unwrap();
        let e = Reader::open(&ring.0, ReaderOptions::default()).unwrap_err();
        assert_eq!(e.kind(), "PermissionDenied", "{e}");
    }
}

#[test]
fn a_damaged_frame_is_corrupt_not_a_crash() {
    let ring = Ring::new("corrupt");
    let mut w = Writer::create(
        &ring.0,
        RingOptions::default().size(1 << 20).slots(2).checksum(true),
    )
    .unwrap();
    w.write(&frame(1, 50, i64::MAX)).unwrap();
    w.write(&frame(2, 50, i64::MAX)).unwrap();
    let g = w.geometry().clone();
    let path = quiver_shm::ring_path(&ring.0).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    use std::os::unix::fs::FileExt;
    // Frame 1: break the IPC continuation marker. Frame 2: flip one body byte (caught by the CRC).
    file.write_at(&[0x00], g.slots_offset + 64).unwrap();
    file.write_at(&[0x5a], g.slots_offset + g.slot_bytes + 64 + 300)
        .unwrap();
    let mut r = Reader::open(&ring.0, ReaderOptions::default()).unwrap();
    let e = r.recv(Some(HANG)).unwrap_err();
    assert_eq!(e.kind(), "Corrupt", "{e}");
    assert!(e.to_string().contains("frame 1"), "{e}");
    let e = r.recv(Some(HANG)).unwrap_err();
    assert!(e.to_string().contains("checksum"), "{e}");
    w.write(&frame(3, 50, i64::MAX)).unwrap();
    let Recv::Frame(f) = r.recv(Some(HANG)).unwrap() else {
        panic!()
    };
    assert_eq!(
        verify(&f.batches[0]),
        3,
        "the reader goes on after a corrupt frame"
    );
}

#[test]
fn batches_pack_into_frames_large_ones_split_and_late_readers_drain_a_closed_ring() {
    let ring = Ring::new("pack");
    let mut w = Writer::create(&ring.0, RingOptions::default().size(9 << 20).slots(8)).unwrap();
    let small: Vec<RecordBatch> = (0..10).map(|k| frame(k, 100, i64::MAX)).collect();
    let seq = w.write_batches(&small).unwrap();
    assert_eq!(seq, 1, "ten small batches share one frame");
    // ~1 MiB slots; 100k rows x 24 B = 2.4 MB splits into frames that fit.
    let big = frame(50, 100_000, i64::MAX);
    let last = w.write(&big).unwrap();
    assert!(last >= 3, "{last}");
    w.close().unwrap();
    let mut r = Reader::open(&ring.0, ReaderOptions::default()).unwrap();
    let Recv::Frame(f) = r.recv(Some(HANG)).unwrap() else {
        panic!()
    };
    assert_eq!(f.batches.len(), 10);
    assert_eq!(
        f.batches.iter().map(verify).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    let mut rows = 0;
    let mut first: Option<i64> = None;
    while let Recv::Frame(f) = r.recv(Some(HANG)).unwrap() {
        for b in &f.batches {
            let s = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            assert_eq!(
                s.value(0),
                50_000_000 + rows as i64,
                "split parts arrive in order"
            );
            first.get_or_insert(s.value(0));
            rows += b.num_rows();
        }
    }
    assert_eq!(rows, 100_000);

    // A single row larger than a slot cannot be split: MessageTooLarge, and nothing written.
    let tiny = Ring::new("tiny");
    let mut w = Writer::create(&tiny.0, RingOptions::default().size(200 << 10).slots(2)).unwrap();
    let capacity = w.geometry().capacity();
    let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, false)]));
    let huge = RecordBatch::try_new(
        schema,
        vec![Arc::new(StringArray::from(vec![
            "x".repeat(capacity as usize),
        ]))],
    )
    .unwrap();
    let e = w.write(&huge).unwrap_err();
    assert_eq!(e.kind(), "MessageTooLarge", "{e}");
    assert_eq!(w.next_seq(), 1);
}
