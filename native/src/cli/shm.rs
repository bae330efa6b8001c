//! `quiver shm ...`: create, write, read, list, inspect and remove shared-memory rings, and
//! measure them. Writing and reading go through SQL (`COPY ... TO 'shm://'`, `read_shm`), so
//! they share the router, the output formats and the errors of every other query.

use std::process::ExitCode;

use clap::Subcommand;
use quiver_shm::admin::{self, Listed, RingStatus};
use quiver_shm::{Policy, RingOptions, Writer};
use tokio::runtime::Runtime;

use super::{Runner, fail};

/// `quiver shm ...`.
#[derive(Debug, Subcommand)]
pub enum ShmCommand {
    /// Create a ring (or take over one whose writer is gone) and leave it waiting for a writer.
    Create {
        name: String,
        /// The ring's size, header and tables included.
        #[arg(long, default_value = "256MiB", value_parser = quiver::host::parse_size)]
        size: usize,
        /// Frames the ring holds.
        #[arg(long, default_value_t = 8)]
        slots: u32,
        /// block: the writer waits for the slowest reader; overwrite: it never waits on
        /// unread frames and lagging readers are told how many they missed.
        #[arg(long, default_value = "block")]
        policy: Policy,
        /// Readers that can attach at once.
        #[arg(long, default_value_t = 64)]
        max_readers: u32,
        /// A CRC-32 of every frame, checked by readers.
        #[arg(long)]
        checksum: bool,
        /// File mode (octal); 0660 shares the ring with the file's group.
        #[arg(long, default_value = "0600", value_parser = parse_mode)]
        mode: u32,
    },
    /// Stream a query's batches into a ring (creating it, or taking it over), then close it.
    #[command(
        after_help = "Example:\n  quiver shm write ticks -c \"SELECT * FROM 'ticks/*.parquet'\""
    )]
    Write {
        name: String,
        /// The query to write.
        #[arg(short = 'c', long = "command", value_name = "SQL")]
        sql: String,
        /// A new ring's size (an existing ring keeps its shape unless a shape option is given).
        #[arg(long, value_parser = quiver::host::parse_size)]
        size: Option<usize>,
        #[arg(long)]
        slots: Option<u32>,
        #[arg(long)]
        policy: Option<Policy>,
        /// How long a write waits for slow readers before failing with RingFull.
        #[arg(long, default_value = "30s")]
        write_timeout: String,
    },
    /// Print a ring's frames: those there now, or with --follow every frame until the
    /// writer closes the ring.
    Read {
        name: String,
        #[arg(long)]
        follow: bool,
        /// oldest, latest (only frames written from now on) or a sequence number.
        #[arg(long = "from", default_value = "oldest")]
        from: String,
        /// Stop after N rows.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// List rings: shape, writer, readers, frames.
    Ls,
    /// One ring in detail: header, every slot and every reader record.
    Stat { name: String },
    /// Remove a ring. Refuses while its writer or a reader is alive, unless --force.
    Rm {
        name: String,
        #[arg(long)]
        force: bool,
    },
    /// Remove rings whose writer is closed or gone and that no live reader holds.
    Gc,
    /// Measure the rings on this machine beside memcpy, a Unix socket and Arrow Flight.
    Bench(crate::cli::shm_bench::BenchArgs),
}

fn parse_mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("'{s}' is not an octal file mode such as 0600"))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Runs `quiver shm ...`.
pub fn run(rt: &Runtime, mut runner: Runner, action: ShmCommand) -> ExitCode {
    match action {
        ShmCommand::Create {
            name,
            size,
            slots,
            policy,
            max_readers,
            checksum,
            mode,
        } => {
            let opts = RingOptions::default()
                .size(size as u64)
                .slots(slots)
                .policy(policy)
                .max_readers(max_readers)
                .checksum(checksum)
                .mode(mode);
            match Writer::create(&name, opts) {
                Ok(w) => {
                    let g = w.geometry().clone();
                    let how = if w.taken_over() {
                        "took over"
                    } else {
                        "created"
                    };
                    w.leave_open();
                    println!(
                        "{how} ring '{name}': {} slots of {}, policy {}, {} bytes in {}",
                        g.slot_count,
                        human(g.slot_bytes),
                        g.policy.name(),
                        g.total_bytes,
                        quiver_shm::ring_path(&name)
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            }
        }
        ShmCommand::Write {
            name,
            sql,
            size,
            slots,
            policy,
            write_timeout,
        } => {
            let mut options = vec![format!("write_timeout {}", quote(&write_timeout))];
            if let Some(s) = size {
                options.push(format!("size {s}"));
            }
            if let Some(n) = slots {
                options.push(format!("slots {n}"));
            }
            if let Some(p) = policy {
                options.push(format!("policy {}", quote(p.name())));
            }
            let query = sql.trim().trim_end_matches(';');
            let copy = format!(
                "COPY ({query}) TO {} OPTIONS ({})",
                quote(&format!("shm://{name}")),
                options.join(", ")
            );
            finish(rt, runner.run_script(rt, &copy), runner)
        }
        ShmCommand::Read {
            name,
            follow,
            from,
            limit,
        } => {
            // Following, wait as long as it takes for the first frame (it fixes the schema).
            let wait = if follow { ", timeout => '3650d'" } else { "" };
            let mut sql = format!(
                "SELECT * FROM read_shm({}, follow => {follow}, start => {}, copy => false{wait})",
                quote(&name),
                quote(&from)
            );
            if let Some(n) = limit {
                sql.push_str(&format!(" LIMIT {n}"));
            }
            finish(rt, runner.run_script(rt, &sql), runner)
        }
        ShmCommand::Ls => match admin::list() {
            Ok(rings) => {
                print!("{}", render_list(&rings));
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        ShmCommand::Stat { name } => match admin::status(&name) {
            Ok(s) => {
                print!("{}", render_stat(&s));
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        ShmCommand::Rm { name, force } => match admin::remove(&name, force) {
            Ok(()) => {
                println!("removed ring '{name}'");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        ShmCommand::Gc => match admin::gc() {
            Ok(removed) => {
                for r in &removed {
                    println!("removed {r}");
                }
                println!("{} removed", removed.len());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        ShmCommand::Bench(args) => crate::cli::shm_bench::run(args),
    }
}

fn finish(_rt: &Runtime, outcome: super::exec::Outcome, runner: Runner) -> ExitCode {
    if let Some(code) = outcome.failure_code() {
        return code;
    }
    runner.finish()
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn render_list(rings: &[Listed]) -> String {
    let mut rows = vec![vec![
        "name".to_string(),
        "size".into(),
        "slots".into(),
        "policy".into(),
        "writer".into(),
        "epoch".into(),
        "frames".into(),
        "readers".into(),
        "schemas".into(),
    ]];
    for r in rings {
        match r {
            Listed::Ring(s) => rows.push(vec![
                s.name.clone(),
                human(s.geometry.total_bytes),
                s.geometry.slot_count.to_string(),
                s.geometry.policy.name().to_string(),
                format!("{} (pid {})", s.writer.state, s.writer.pid),
                s.writer.epoch.to_string(),
                s.writer.next_seq.saturating_sub(1).to_string(),
                format!(
                    "{} live{}",
                    s.readers.iter().filter(|r| r.alive).count(),
                    match s.readers.iter().filter(|r| !r.alive).count() {
                        0 => String::new(),
                        n => format!(", {n} dead"),
                    }
                ),
                s.schemas.to_string(),
            ]),
            Listed::Broken { name, error } => {
                let mut row = vec![name.clone(), format!("unreadable: {error}")];
                row.resize(9, String::new());
                rows.push(row);
            }
        }
    }
    if rings.is_empty() {
        return format!("no rings in {}\n", quiver_shm::ring_dir().display());
    }
    columns(&rows)
}

fn columns(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn render_stat(s: &RingStatus) -> String {
    let g = &s.geometry;
    let mut out = format!(
        "ring      {}\nfile      {}\nsize      {} ({} bytes)\nslots     {} x {} (payload up to {})\npolicy    {}\nchecksum  {}\nwriter    {} (pid {}, epoch {})\nframes    {} published{}\nschemas   {}\n",
        s.name,
        s.path.display(),
        human(g.total_bytes),
        g.total_bytes,
        g.slot_count,
        human(g.slot_bytes),
        human(g.capacity()),
        g.policy.name(),
        if g.flags & quiver_shm::layout::FLAG_CHECKSUM != 0 {
            "crc32 per frame"
        } else {
            "off"
        },
        s.writer.state,
        s.writer.pid,
        s.writer.epoch,
        s.writer.next_seq.saturating_sub(1),
        if s.writer.state == "closed" {
            format!(", closed after frame {}", s.writer.eos_seq)
        } else {
            String::new()
        },
        s.schemas,
    );
    let mut slots = vec![vec![
        "slot".to_string(),
        "state".into(),
        "seq".into(),
        "bytes".into(),
        "rows".into(),
        "batches".into(),
        "schema".into(),
    ]];
    for sl in &s.slots {
        slots.push(vec![
            sl.index.to_string(),
            sl.state.to_string(),
            sl.seq.to_string(),
            sl.bytes.to_string(),
            sl.rows.to_string(),
            sl.batches.to_string(),
            sl.schema_id.to_string(),
        ]);
    }
    out.push('\n');
    out.push_str(&columns(&slots));
    out.push('\n');
    if s.readers.is_empty() {
        out.push_str("no readers attached\n");
    } else {
        let mut readers = vec![vec![
            "reader".to_string(),
            "pid".into(),
            "alive".into(),
            "next".into(),
            "pinned".into(),
            "lowest pin".into(),
            "lagged".into(),
            "read".into(),
        ]];
        for r in &s.readers {
            readers.push(vec![
                r.index.to_string(),
                r.pid.to_string(),
                if r.alive {
                    "yes".into()
                } else {
                    "no (dead)".into()
                },
                r.cursor.to_string(),
                r.pinned.to_string(),
                r.pin_min
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into()),
                r.lagged.to_string(),
                r.read.to_string(),
            ]);
        }
        out.push_str(&columns(&readers));
    }
    out
}
