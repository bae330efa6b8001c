//! `quiver shm bench`: what rings do on this machine, each figure beside the same transfer
//! through a Unix socket with Arrow IPC, and throughput as a fraction of this machine's
//! memcpy into a `/dev/shm` mapping (the writer's one copy cannot beat it).
//!
//! The other end of every transfer is a second `quiver` process (this binary, started with
//! a hidden `--role`), so every figure crosses a process boundary.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use quiver_shm::{Policy, Reader, ReaderOptions, Recv, RingOptions, Writer};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Frame size for the throughput runs.
    #[arg(long, default_value = "16MiB", value_parser = quiver::host::parse_size)]
    size: usize,
    /// Frames sent in each throughput run.
    #[arg(long, default_value_t = 200)]
    frames: u32,
    /// Round trips in each latency run.
    #[arg(long, default_value_t = 20_000)]
    round_trips: u32,
    /// The other end of a transfer (internal).
    #[arg(long, hide = true)]
    role: Option<String>,
}

fn batch(rows: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(0..rows as i64)),
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| i as f64 * 0.25),
            )),
        ],
    )
    .expect("valid batch")
}

fn ring_name(what: &str) -> String {
    format!("bench-{}-{what}", std::process::id())
}

fn spawn(role: String) -> std::io::Result<(Child, BufReader<std::process::ChildStdout>)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["shm", "bench", "--role", &role])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let out = BufReader::new(child.stdout.take().expect("piped"));
    Ok((child, out))
}

fn line(out: &mut impl BufRead) -> String {
    let mut s = String::new();
    let _ = out.read_line(&mut s);
    s.trim().to_string()
}

fn say(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
    let _ = out.flush();
}

fn await_reader(name: &str) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if let Ok(s) = quiver_shm::admin::status(name)
            && s.readers.iter().any(|r| r.alive)
        {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err(format!("no reader attached to ring '{name}'"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn memcpy_baseline(size: usize, spread: usize) -> Result<f64, String> {
    quiver_shm::memcpy_bandwidth(size, spread)
        .map_err(|e| format!("memcpy probe in {}: {e}", quiver_shm::ring_dir().display()))
}

struct Latency {
    p50: f64,
    p99: f64,
}

fn percentiles(mut one_way_us: Vec<f64>) -> Latency {
    one_way_us.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| one_way_us[((one_way_us.len() as f64 - 1.0) * q) as usize];
    Latency {
        p50: at(0.5),
        p99: at(0.99),
    }
}

fn ring_latency(round_trips: u32, spin: bool) -> Result<Latency, String> {
    let (ping, pong) = (ring_name("ping"), ring_name("pong"));
    let opts = RingOptions::default().size(4 << 20).slots(8);
    let mut w = Writer::create(&ping, opts).map_err(|e| e.to_string())?;
    let (mut child, mut out) =
        spawn(format!("echo:{ping}:{pong}:{spin}")).map_err(|e| e.to_string())?;
    if line(&mut out) != "ready" {
        return Err("the echo process did not start".into());
    }
    await_reader(&ping)?;
    let spin_for = if spin {
        Duration::from_secs(1)
    } else {
        Duration::ZERO
    };
    let mut r =
        Reader::open(&pong, ReaderOptions::default().spin(spin_for)).map_err(|e| e.to_string())?;
    let one = batch(1);
    let mut samples = Vec::with_capacity(round_trips as usize);
    for i in 0..round_trips + 1000 {
        let t = Instant::now();
        w.write(&one).map_err(|e| e.to_string())?;
        match r
            .recv(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?
        {
            Recv::Frame(f) => std::hint::black_box(f),
            other => return Err(format!("echo stopped: {other:?}")),
        };
        if i >= 1000 {
            samples.push(t.elapsed().as_secs_f64() * 1e6 / 2.0);
        }
    }
    w.close().map_err(|e| e.to_string())?;
    let _ = child.wait();
    let _ = quiver_shm::admin::remove(&ping, true);
    let _ = quiver_shm::admin::remove(&pong, true);
    Ok(percentiles(samples))
}

fn ring_throughput(size: u64, frames: u32) -> Result<f64, String> {
    let name = ring_name("bulk");
    let rows = (size / 16) as usize;
    let big = batch(rows);
    let opts = RingOptions::default()
        .size(8 * (size + (1 << 20)) + (1 << 20))
        .slots(8)
        .policy(Policy::Block);
    let mut w = Writer::create(&name, opts).map_err(|e| e.to_string())?;
    let (mut child, mut out) = spawn(format!("drain:{name}")).map_err(|e| e.to_string())?;
    await_reader(&name)?;
    // Warm up: a ring's worth of frames.
    for _ in 0..8 {
        w.write(&big).map_err(|e| e.to_string())?;
    }
    let t = Instant::now();
    for _ in 0..frames {
        w.write(&big).map_err(|e| e.to_string())?;
    }
    w.close().map_err(|e| e.to_string())?;
    let done = line(&mut out);
    let secs = t.elapsed().as_secs_f64();
    let _ = child.wait();
    let _ = quiver_shm::admin::remove(&name, true);
    if done != format!("{}", frames + 8) {
        return Err(format!(
            "the reader got {done} frames, expected {}",
            frames + 8
        ));
    }
    Ok(frames as f64 * big.get_array_memory_size() as f64 / secs)
}

fn socket_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("quiver-bench-{}.sock", std::process::id()))
}

fn socket_latency(round_trips: u32) -> Result<Latency, String> {
    let path = socket_path();
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).map_err(|e| e.to_string())?;
    let (mut child, _out) =
        spawn(format!("sock-echo:{}", path.display())).map_err(|e| e.to_string())?;
    let (stream, _) = listener.accept().map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&path);
    let one = batch(1);
    let mut writer = StreamWriter::try_new(
        BufWriter::new(stream.try_clone().map_err(|e| e.to_string())?),
        &one.schema(),
    )
    .map_err(|e| e.to_string())?;
    writer.flush().map_err(|e| e.to_string())?;
    let mut reader: Option<StreamReader<BufReader<UnixStream>>> = None;
    let mut samples = Vec::with_capacity(round_trips as usize);
    for i in 0..round_trips + 1000 {
        let t = Instant::now();
        writer.write(&one).map_err(|e| e.to_string())?;
        writer.flush().map_err(|e| e.to_string())?;
        let r = match &mut reader {
            Some(r) => r,
            None => reader.insert(
                StreamReader::try_new(
                    BufReader::new(stream.try_clone().map_err(|e| e.to_string())?),
                    None,
                )
                .map_err(|e| e.to_string())?,
            ),
        };
        let got = r
            .next()
            .ok_or("the socket echo stopped")?
            .map_err(|e| e.to_string())?;
        std::hint::black_box(got);
        if i >= 1000 {
            samples.push(t.elapsed().as_secs_f64() * 1e6 / 2.0);
        }
    }
    writer.finish().map_err(|e| e.to_string())?;
    drop(writer);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = child.wait();
    Ok(percentiles(samples))
}

fn socket_throughput(size: u64, frames: u32) -> Result<f64, String> {
    let path = socket_path();
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).map_err(|e| e.to_string())?;
    let (mut child, _out) =
        spawn(format!("sock-drain:{}", path.display())).map_err(|e| e.to_string())?;
    let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&path);
    let big = batch((size / 16) as usize);
    let mut writer = StreamWriter::try_new(
        BufWriter::with_capacity(1 << 20, stream.try_clone().map_err(|e| e.to_string())?),
        &big.schema(),
    )
    .map_err(|e| e.to_string())?;
    for _ in 0..8 {
        writer.write(&big).map_err(|e| e.to_string())?;
    }
    writer.flush().map_err(|e| e.to_string())?;
    let t = Instant::now();
    for _ in 0..frames {
        writer.write(&big).map_err(|e| e.to_string())?;
    }
    writer.finish().map_err(|e| e.to_string())?;
    drop(writer);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut ack = [0u8; 1];
    stream
        .read_exact(&mut ack)
        .map_err(|e| format!("no acknowledgement from the socket reader: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    let _ = child.wait();
    Ok(frames as f64 * big.get_array_memory_size() as f64 / secs)
}

/// The other end of a transfer.
fn child(role: &str) -> Result<(), String> {
    let parts: Vec<&str> = role.splitn(4, ':').collect();
    match parts.as_slice() {
        ["echo", ping, pong, spin] => {
            let spin_for = if *spin == "true" {
                Duration::from_secs(1)
            } else {
                Duration::ZERO
            };
            let mut w = Writer::create(pong, RingOptions::default().size(4 << 20).slots(8))
                .map_err(|e| e.to_string())?;
            let mut r = Reader::open(ping, ReaderOptions::default().spin(spin_for))
                .map_err(|e| e.to_string())?;
            say("ready");
            let reply = batch(1);
            loop {
                match r
                    .recv(Some(Duration::from_secs(30)))
                    .map_err(|e| e.to_string())?
                {
                    Recv::Frame(f) => {
                        std::hint::black_box(f);
                        w.write(&reply).map_err(|e| e.to_string())?;
                    }
                    _ => return Ok(()),
                }
            }
        }
        ["drain", name] => {
            let mut r = Reader::open(name, ReaderOptions::default()).map_err(|e| e.to_string())?;
            let mut n = 0u64;
            while let Recv::Frame(f) = r
                .recv(Some(Duration::from_secs(30)))
                .map_err(|e| e.to_string())?
            {
                std::hint::black_box(f);
                n += 1;
            }
            say(&n.to_string());
            Ok(())
        }
        ["sock-echo", path] => {
            let stream = UnixStream::connect(path).map_err(|e| e.to_string())?;
            let reader = StreamReader::try_new(
                BufReader::new(stream.try_clone().map_err(|e| e.to_string())?),
                None,
            )
            .map_err(|e| e.to_string())?;
            let reply = batch(1);
            let mut writer = StreamWriter::try_new(BufWriter::new(stream), &reply.schema())
                .map_err(|e| e.to_string())?;
            for got in reader {
                std::hint::black_box(got.map_err(|e| e.to_string())?);
                writer.write(&reply).map_err(|e| e.to_string())?;
                writer.flush().map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        ["sock-drain", path] => {
            let mut stream = UnixStream::connect(path).map_err(|e| e.to_string())?;
            let reader = StreamReader::try_new(
                BufReader::with_capacity(1 << 20, stream.try_clone().map_err(|e| e.to_string())?),
                None,
            )
            .map_err(|e| e.to_string())?;
            for got in reader {
                std::hint::black_box(got.map_err(|e| e.to_string())?);
            }
            stream.write_all(&[1]).map_err(|e| e.to_string())?;
            Ok(())
        }
        _ => Err(format!("unknown bench role '{role}'")),
    }
}

pub fn run(args: BenchArgs) -> ExitCode {
    if let Some(role) = &args.role {
        return match child(role) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => super::fail(&format!("bench {role}: {e}")),
        };
    }
    match bench(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&e),
    }
}

fn bench(args: &BenchArgs) -> Result<(), String> {
    let gbs = |b: f64| b / 1e9;
    let mib = args.size as f64 / (1 << 20) as f64;
    say(&format!(
        "quiver shm bench: {} frames of {mib:.0} MiB, {} round trips of a 1-row batch; ring dir {}",
        args.frames,
        args.round_trips,
        quiver_shm::ring_dir().display()
    ));
    let warm = memcpy_baseline(args.size, 1)?;
    say(&format!(
        "memcpy into one warm /dev/shm destination, {mib:.0} MiB:    {:6.2} GB/s",
        gbs(warm)
    ));
    // The ring writes its 8 slots in turn: memcpy with the same pattern is the baseline.
    let memcpy = memcpy_baseline(args.size, 8)?;
    say(&format!(
        "memcpy into 8 /dev/shm destinations in turn, {mib:.0} MiB: {:6.2} GB/s (the baseline below)",
        gbs(memcpy)
    ));
    let ring = ring_throughput(args.size as u64, args.frames)?;
    say(&format!(
        "ring, {mib:.0} MiB frames, 1 reader (zero-copy):       {:6.2} GB/s = {:.0}% of memcpy",
        gbs(ring),
        100.0 * ring / memcpy
    ));
    let sock = socket_throughput(args.size as u64, args.frames)?;
    say(&format!(
        "unix socket + Arrow IPC stream, {mib:.0} MiB batches:  {:6.2} GB/s = {:.0}% of memcpy (ring: {:.1}x)",
        gbs(sock),
        100.0 * sock / memcpy,
        ring / sock
    ));
    let spin = ring_latency(args.round_trips, true)?;
    say(&format!(
        "latency, 1-row batch one way, ring, spinning:    p50 {:7.2} us  p99 {:7.2} us",
        spin.p50, spin.p99
    ));
    let block = ring_latency(args.round_trips, false)?;
    say(&format!(
        "latency, 1-row batch one way, ring, futex:       p50 {:7.2} us  p99 {:7.2} us",
        block.p50, block.p99
    ));
    let s = socket_latency(args.round_trips)?;
    say(&format!(
        "latency, 1-row batch one way, unix socket + IPC: p50 {:7.2} us  p99 {:7.2} us (ring futex: {:.2}x, spinning: {:.2}x of it)",
        s.p50,
        s.p99,
        block.p50 / s.p50,
        spin.p50 / s.p50
    ));
    Ok(())
}
