//! Runs statements for the CLI: output, progress on stderr, Ctrl-C, timing.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quiver::Error;
use quiver::delta::DeltaWriter;
use quiver::run::Router;
use quiver_engine::Session;
use quiver_engine::output::{Format, OutputOptions, writer};
use quiver_engine::sql::Parsed;
use tokio::runtime::Runtime;

/// How a statement or script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything ran.
    Ok,
    /// An error was reported on stderr.
    Failed,
    /// The user pressed Ctrl-C.
    Cancelled,
    /// Standard output was closed by the reader (`quiver ... | head`): stop quietly.
    PipeClosed,
}

impl Outcome {
    /// The exit code to leave with, or `None` to carry on.
    pub fn failure_code(self) -> Option<ExitCode> {
        match self {
            Outcome::Ok => None,
            Outcome::Failed => Some(ExitCode::FAILURE),
            Outcome::Cancelled => Some(ExitCode::from(130)),
            Outcome::PipeClosed => Some(ExitCode::SUCCESS),
        }
    }
}

/// Where results go when `-o FILE` is given: a temp file beside the target, renamed into
/// place only when every statement succeeded, so a failed run leaves no partial file.
struct OutputFile {
    path: PathBuf,
    sink: Sink,
    results: usize,
}

/// A regular file is written beside its target and renamed into place; anything else
/// (`/dev/null`, a FIFO, a terminal) is written directly, since renaming over it would
/// replace it.
enum Sink {
    Atomic(tempfile::NamedTempFile),
    Direct(std::fs::File),
}

impl Sink {
    fn open(path: &std::path::Path) -> std::io::Result<Self> {
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => Ok(Sink::Direct(
                std::fs::OpenOptions::new().write(true).open(path)?,
            )),
            _ => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                Ok(Sink::Atomic(tempfile::NamedTempFile::new_in(dir)?))
            }
        }
    }

    fn file(&mut self) -> &mut std::fs::File {
        match self {
            Sink::Atomic(t) => t.as_file_mut(),
            Sink::Direct(f) => f,
        }
    }
}

/// Runs statements through the router and writes their results.
pub struct Runner {
    router: Router,
    /// The output format.
    pub format: Format,
    /// Rows shown by the human formats.
    pub max_rows: Option<usize>,
    /// Print run times.
    pub timer: bool,
    output: Option<PathBuf>,
    out_file: Option<OutputFile>,
}

impl Runner {
    /// A runner writing `format` to `output` (standard output when `None`).
    pub fn new(
        session: Session,
        format: Format,
        output: Option<PathBuf>,
        max_rows: Option<usize>,
        timer: bool,
    ) -> Self {
        Self {
            router: Router::new(session, DeltaWriter::default()),
            format,
            max_rows,
            timer,
            output,
            out_file: None,
        }
    }

    /// Uses `writer` (its compression, commit message, checkpoint interval) for Delta writes.
    #[must_use]
    pub fn with_writer(mut self, writer: DeltaWriter) -> Self {
        self.router = Router::new(self.router.session().clone(), writer);
        self
    }

    /// The session statements run in.
    pub fn session(&self) -> &Session {
        self.router.session()
    }

    /// Runs every statement in `sql`; stops at the first error, which is printed.
    pub fn run_script(&mut self, rt: &Runtime, sql: &str) -> Outcome {
        let statements = match self.router.parse(sql) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {}", one_line(&e.to_string()));
                return Outcome::Failed;
            }
        };
        for statement in statements {
            let started = Instant::now();
            let result = rt.block_on(async {
                tokio::select! {
                    r = self.run_statement(statement) => r,
                    _ = tokio::signal::ctrl_c() => Err(Error::Cancelled),
                }
            });
            if self.timer {
                eprintln!("Run Time: {:.4}s", started.elapsed().as_secs_f64());
            }
            match result {
                Ok(()) => {}
                Err(Error::Cancelled) => {
                    eprintln!("cancelled");
                    return Outcome::Cancelled;
                }
                Err(Error::PipeClosed) => return Outcome::PipeClosed,
                Err(e) => {
                    eprintln!("error: {}", one_line(&e.to_string()));
                    return Outcome::Failed;
                }
            }
        }
        Outcome::Ok
    }

    /// Moves a finished `-o` file into place and returns the exit code for a clean run.
    pub fn finish(mut self) -> ExitCode {
        if let Some(OutputFile {
            path,
            sink: Sink::Atomic(temp),
            ..
        }) = self.out_file.take()
            && let Err(e) = temp.persist(&path)
        {
            return super::fail(&format!("cannot write {}: {}", path.display(), e.error));
        }
        ExitCode::SUCCESS
    }

    async fn run_statement(&mut self, statement: Parsed) -> Result<(), Error> {
        let mut stream = self.router.execute(statement).await?;
        let schema = stream.schema();
        if schema.fields().is_empty() {
            // DDL and SET: nothing to show. Drain in case the statement does its work lazily.
            while let Some(batch) = stream.next().await {
                batch?;
            }
            return Ok(());
        }

        let rows = Arc::new(AtomicU64::new(0));
        // Cleared however the statement ends, including when Ctrl-C drops this future.
        let bar = BarGuard(progress_bar(Arc::clone(&rows)));
        let options = OutputOptions {
            max_rows: self.max_rows,
            row_count: true,
            // Fitted to the terminal only when printed there; `-o` files get full text.
            max_width: self
                .output
                .is_none()
                .then(super::width::terminal_width)
                .flatten(),
        };
        let format = self.format;
        let closed = Arc::new(AtomicBool::new(false));
        let result = async {
            let sink: Box<dyn Write + Send + '_> = match &self.output {
                Some(path) => {
                    let out = match &mut self.out_file {
                        Some(out) => out,
                        slot @ None => {
                            let sink = Sink::open(path).map_err(|source| Error::OutputFile {
                                path: path.clone(),
                                source,
                            })?;
                            slot.insert(OutputFile {
                                path: path.clone(),
                                sink,
                                results: 0,
                            })
                        }
                    };
                    out.results += 1;
                    if format.is_binary() && out.results > 1 {
                        return Err(Error::OneResultPerFile {
                            format: format.to_string(),
                        });
                    }
                    Box::new(BufWriter::new(out.sink.file()))
                }
                None => {
                    if format.is_binary() && std::io::stdout().is_terminal() {
                        return Err(Error::BinaryToTerminal {
                            format: format.to_string(),
                        });
                    }
                    Box::new(BufWriter::new(Stdout(Arc::clone(&closed))))
                }
            };
            let mut w = writer(format, schema, sink, &options).map_err(Error::from_engine)?;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                w.write_batch(&batch).map_err(Error::from_engine)?;
            }
            bar.0.finish_and_clear();
            w.finish().map_err(Error::from_engine)?;
            Ok(())
        }
        .await;
        match result {
            Err(_) if closed.load(Ordering::Relaxed) => Err(Error::PipeClosed),
            other => other,
        }
    }
}

/// Standard output that remembers, by the I/O error's kind, that its reader went away
/// (`quiver ... | head`). Some encoders (arrow's CSV writer) keep only the text of the I/O
/// error they met, so the error that reaches the runner cannot say it.
struct Stdout(Arc<AtomicBool>);

impl Stdout {
    fn watch<T>(&self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            self.0.store(true, Ordering::Relaxed);
        }
        result
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = std::io::stdout().write(buf);
        self.watch(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = std::io::stdout().flush();
        self.watch(result)
    }
}

/// Finishes (and erases) a progress bar when dropped.
struct BarGuard(ProgressBar);

impl Drop for BarGuard {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Errors are one line on stderr, whatever the layers below put in them.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A spinner on stderr that appears only on a terminal, and only once a statement has run
/// for a second, showing elapsed time and rows produced so far.
fn progress_bar(rows: Arc<AtomicU64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    if !std::io::stderr().is_terminal() {
        return bar;
    }
    let shown = bar.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if shown.is_finished() {
            return;
        }
        shown.set_draw_target(ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}  (Ctrl-C cancels)")
        {
            shown.set_style(style);
        }
        shown.enable_steady_tick(Duration::from_millis(120));
        while !shown.is_finished() {
            shown.set_message(format!("{} rows", rows.load(Ordering::Relaxed)));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    bar
}
