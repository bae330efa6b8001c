//! The command line: arguments, modes (one-shot, script, REPL, demo) and exit codes.

mod exec;
mod repl;
mod shm;
mod shm_bench;
mod width;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use quiver::mmap::MmapChoice;
use quiver_engine::Session;
use quiver_engine::output::Format;

pub use exec::Runner;

/// SQL over Parquet, CSV, JSON, Arrow IPC and Delta files: local, on S3, or over HTTP.
#[derive(Debug, Parser)]
#[command(
    name = "quiver",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
#[command(
    after_help = "Examples:\n  quiver -c \"SELECT count(*) FROM 'data/*.parquet'\"\n  quiver trips.parquet zones.csv          # tables 'trips' and 'zones', then a prompt\n  quiver -f report.sql --format csv -o report.csv\n  quiver demo"
)]
pub struct Args {
    /// Files or folders to register as tables, each named after its file stem.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Run SQL (one or more statements separated by ';') and exit. May be repeated.
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,

    /// Run the SQL statements in FILE and exit. May be repeated.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format: table, csv, json, ndjson, arrow, parquet or markdown.
    #[arg(long, value_name = "FORMAT", default_value = "table", value_parser = parse_format, global = true)]
    pub format: Format,

    /// Write results to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,

    /// Memory operators may use before spilling to disk, such as 2GB or 512MiB.
    #[arg(long, value_name = "SIZE", value_parser = quiver::host::parse_size)]
    pub memory_limit: Option<usize>,

    /// Worker threads (and query partitions); the number of cores by default.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Where spill files go (the system temp dir by default).
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,

    /// Rows shown by the table and markdown formats (0 shows all). Default: all when
    /// running -c or -f, 40 at the prompt.
    #[arg(long, value_name = "N", global = true)]
    pub max_rows: Option<usize>,

    /// Print each statement's run time on stderr.
    #[arg(long)]
    pub timer: bool,

    /// Delta writes: the codec of new Parquet files (zstd, snappy, gzip, lz4, brotli, none).
    #[arg(long, value_name = "CODEC", default_value = "zstd", value_parser = quiver::delta::parse_compression)]
    pub compression: parquet::basic::Compression,

    /// Delta writes: a message stored with each commit (its userMetadata).
    #[arg(long, value_name = "TEXT")]
    pub commit_message: Option<String>,

    /// Delta writes: write a checkpoint every N commits (default: the table's
    /// delta.checkpointInterval, else 10).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_interval: Option<u64>,

    /// Delta writes: let VACUUM use a retention below the table's minimum.
    #[arg(long)]
    pub force: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a small sample dataset in a temp dir and take a tour of Quiver on it.
    Demo {
        /// Keep the sample files in this folder instead of a temp dir.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Look at a Delta table without writing a query.
    Delta {
        #[command(subcommand)]
        action: DeltaCommand,
    },
    /// Serve batch key lookups over HTTP (Arrow IPC or JSON) from tables fed by date
    /// partitions with _SUCCESS markers (local or S3) or a Delta table's newest version.
    #[command(
        after_help = "Example:\n  quiver serve --config serve.yml\n  curl -H 'Content-Type: application/json' -d '{\"keys\": [\"u1\"]}' \\\n       http://127.0.0.1:8080/v1/tables/user_features/fetch"
    )]
    Serve {
        /// The YAML config: server settings and the tables to serve.
        #[arg(long, short = 'c', value_name = "FILE")]
        config: PathBuf,
        /// Listen on this address instead of server.host.
        #[arg(long)]
        host: Option<String>,
        /// Listen on this port instead of server.port (0 picks a free one).
        #[arg(long)]
        port: Option<u16>,
        /// Keep converted files here instead of server.data_dir.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Check the config and exit (0 when it is valid).
        #[arg(long)]
        check: bool,
        /// Load every table once, print each one's status, and exit.
        #[arg(long, conflicts_with = "check")]
        once: bool,
    },
    /// Shared-memory Arrow rings between processes: one writer, many readers, every reader
    /// gets every frame without a copy.
    #[command(
        after_help = "Example:\n  quiver shm create ticks --size 256MiB --slots 8\n  quiver shm write ticks -c \"SELECT * FROM 'ticks.parquet'\" &\n  quiver shm read ticks --follow --format csv"
    )]
    Shm {
        #[command(subcommand)]
        action: shm::ShmCommand,
    },
}

/// `quiver delta ...`.
#[derive(Debug, Subcommand)]
pub enum DeltaCommand {
    /// The table's commits, newest first: version, time, operation, parameters, user metadata.
    History {
        /// The table's folder or URL.
        path: String,
    },
    /// Check the table's integrity: contiguous commits, checkpoints and .crc files that
    /// agree with the log, data files present with their recorded sizes, every version
    /// readable. Exits non-zero on a problem.
    Verify {
        /// The table's folder or URL.
        path: String,
        /// Also read every data file's Parquet footer and compare its row count.
        #[arg(long)]
        deep: bool,
    },
    /// The table's version, protocol, features, files, size and partition columns.
    Info {
        /// The table's folder or URL.
        path: String,
        /// Describe this version instead of the newest.
        #[arg(long)]
        version: Option<u64>,
    },
}

impl DeltaCommand {
    /// The SQL this short-hand stands for (`verify` is not SQL).
    fn sql(&self) -> String {
        let quote = |p: &str| format!("'{}'", p.replace('\'', "''"));
        match self {
            DeltaCommand::History { path } => format!("DESCRIBE HISTORY {}", quote(path)),
            DeltaCommand::Verify { path, .. } => {
                format!("SELECT * FROM delta_info({})", quote(path))
            }
            DeltaCommand::Info {
                path,
                version: Some(v),
            } => format!("SELECT * FROM delta_info({}, version => {v})", quote(path)),
            DeltaCommand::Info {
                path,
                version: None,
            } => format!("SELECT * FROM delta_info({})", quote(path)),
        }
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>().map_err(|e| e.to_string())
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let args = Args::parse();
    // A server reports its loads and reloads; other commands speak only of problems.
    init_logging(if matches!(args.command, Some(Command::Serve { .. })) {
        "warn,quiver=info"
    } else {
        "warn"
    });
    std::panic::set_hook(Box::new(|info| {
        log::debug!("panic: {info}");
    }));

    let resources = quiver::host::Resources {
        memory_limit: args.memory_limit,
        threads: args.threads.map(usize::from),
        temp_dir: args.temp_dir.clone(),
        // The CLI reads files it does not change while it reads them (data files of Delta
        // tables are immutable, and a query's inputs are not being rewritten by the user), so
        // it maps them for zero-copy reads; QUIVER_MMAP=off reads with ordinary copies.
        mmap: if std::env::var("QUIVER_MMAP").is_ok_and(|v| v == "off") {
            MmapChoice::never()
        } else {
            // SAFETY: see above: files are not truncated or changed in place while read.
            unsafe { MmapChoice::auto() }
        },
        s3: quiver::host::S3Options::default(),
    };
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(threads) = resources.threads {
        rt.worker_threads(threads);
    }
    let rt = match rt.build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };

    let session = match Session::new(quiver::host::config(&resources)) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };

    if let Some(Command::Demo { dir }) = &args.command {
        return crate::demo::run(&rt, session, dir.as_deref());
    }
    if let Some(Command::Serve {
        config,
        host,
        port,
        data_dir,
        check,
        once,
    }) = &args.command
    {
        let options = quiver::serve::Options {
            config: config.clone(),
            host: host.clone(),
            port: *port,
            data_dir: data_dir.clone(),
            check: *check,
            once: *once,
        };
        return match rt.block_on(quiver::serve::run(options)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        };
    }

    if let Err(e) = rt.block_on(register_paths(&session, &args.paths)) {
        return fail(&e);
    }

    let scripted = !args.commands.is_empty() || !args.files.is_empty();
    let interactive = !scripted && std::io::stdin().is_terminal();
    let max_rows = match args.max_rows {
        Some(0) => None,
        Some(n) => Some(n),
        None if interactive => Some(40),
        None => None,
    };
    let mut runner = Runner::new(
        session,
        args.format,
        args.output.clone(),
        max_rows,
        args.timer,
    )
    .with_writer(quiver::delta::DeltaWriter::new(
        quiver::delta::WriteOptions {
            compression: args.compression,
            commit_message: args.commit_message.clone(),
            checkpoint_interval: args.checkpoint_interval,
            force: args.force,
        },
    ));

    if let Some(Command::Shm { action }) = args.command {
        return shm::run(&rt, runner, action);
    }
    if let Some(Command::Delta {
        action: DeltaCommand::Verify { path, deep },
    }) = &args.command
    {
        let report = rt.block_on(quiver::delta::verify_table(runner.session(), path, *deep));
        return match report {
            Ok(report) => {
                print!("{}", report.render());
                if report.passed() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => fail(&e.to_string()),
        };
    }
    if let Some(Command::Delta { action }) = &args.command {
        if let Some(code) = runner.run_script(&rt, &action.sql()).failure_code() {
            return code;
        }
        return runner.finish();
    }
    if scripted {
        for sql in &args.commands {
            if let Some(code) = runner.run_script(&rt, sql).failure_code() {
                return code;
            }
        }
        for file in &args.files {
            let sql = match std::fs::read_to_string(file) {
                Ok(s) => s,
                Err(e) => return fail(&format!("cannot read {}: {e}", file.display())),
            };
            if let Some(code) = runner.run_script(&rt, &sql).failure_code() {
                return code;
            }
        }
        return runner.finish();
    }
    if interactive {
        return repl::run(&rt, runner);
    }
    // SQL piped on standard input.
    let mut sql = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut sql) {
        return fail(&format!("cannot read standard input: {e}"));
    }
    if let Some(code) = runner.run_script(&rt, &sql).failure_code() {
        return code;
    }
    runner.finish()
}

fn init_logging(default: &str) {
    let env = env_logger::Env::default().filter_or("QUIVER_LOG", default);
    let _ = env_logger::Builder::from_env(env)
        .format_timestamp(None)
        .target(env_logger::Target::Stderr)
        .try_init();
}

/// Prints one error line and returns the failure exit code.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

pub use quiver_engine::sources::table_name_for;

async fn register_paths(session: &Session, paths: &[String]) -> Result<(), String> {
    for path in paths {
        let name = table_name_for(path);
        let location = if Path::new(path).is_dir() && !path.ends_with('/') {
            format!("{path}/")
        } else {
            path.clone()
        };
        session
            .register_path(&name, &location)
            .await
            .map_err(|e| e.to_string())?;
        log::info!("registered {path} as table {name}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_come_from_stems() {
        assert_eq!(table_name_for("data/trips.parquet"), "trips");
        assert_eq!(table_name_for("data/sales/"), "sales");
        assert_eq!(
            table_name_for("x/Green-Taxi 2024.csv.gz"),
            "green_taxi_2024"
        );
        assert_eq!(table_name_for("data/events/*.parquet"), "events");
        assert_eq!(table_name_for("2024.csv"), "t_2024");
    }
}
