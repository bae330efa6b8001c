//! Corrupt and fuzzed files, read through the `quiver` binary: each one ends with a clear
//! error (or, for the few that are valid, a result), never a panic, an abort, a hang or a
//! huge allocation.
//!
//! Every file runs in its own process so that an abort is seen as one, and the process's
//! peak memory is taken from the kernel (`wait4`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A process that has not finished reading a small file after this long is hung.
const HANG: Duration = Duration::from_secs(120);
/// Peak resident memory allowed for reading one corrupt file.
const MAX_RSS_KIB: i64 = 1024 * 1024;

fn testdata() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata");
    if dir.is_dir() {
        return Some(dir.canonicalize().unwrap());
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "../shared/testdata is missing and CI=true"
    );
    eprintln!("SKIPPED: ../shared/testdata is not beside the workspace");
    None
}

struct Run {
    status: i32,
    stderr: String,
    max_rss_kib: i64,
}

/// Runs quiver on `sql`, collecting its exit status and peak memory.
fn run_measured(sql: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quiver"))
        .args(["-c", sql, "--format", "ndjson"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let (status, rusage) = loop {
        let mut status = 0;
        // SAFETY: plain FFI with valid out-pointers; the child is ours and not yet reaped.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut rusage) };
        if done == pid {
            break (status, rusage);
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            panic!("quiver hung on: {sql}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::mem::forget(child);
    let stderr = reader.join().unwrap();
    let status = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    Run {
        status,
        stderr,
        max_rss_kib: rusage.ru_maxrss,
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().ends_with(".md"))
        .collect();
    files.sort();
    files
}

#[test]
fn corrupt_and_fuzzed_files_give_clear_errors() {
    let Some(testdata) = testdata() else {
        return;
    };
    let groups = [
        ("read_parquet", testdata.join("parquet-testing/bad_data")),
        (
            "read_parquet",
            testdata.join("arrow-testing/data/parquet/fuzzing"),
        ),
        (
            "read_ipc",
            testdata.join("arrow-testing/data/arrow-ipc-file"),
        ),
        (
            "read_ipc",
            testdata.join("arrow-testing/data/arrow-ipc-stream"),
        ),
    ];
    let mut problems = Vec::new();
    let (mut errors, mut readable) = (0, 0);
    for (function, dir) in groups {
        for file in files_in(&dir) {
            let sql = format!("SELECT * FROM {function}('{}')", file.display());
            let run = run_measured(&sql);
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            match run.status {
                0 => readable += 1,
                1 => {
                    errors += 1;
                    let lines: Vec<&str> = run.stderr.lines().collect();
                    if lines.len() != 1 || !lines[0].starts_with("error: ") {
                        problems.push(format!(
                            "{name}: expected one error line, got {:?}",
                            run.stderr
                        ));
                    } else if !lines[0].contains(&name) {
                        problems.push(format!(
                            "{name}: the error does not name the file: {}",
                            lines[0]
                        ));
                    }
                }
                code => problems.push(format!("{name}: exit status {code}: {}", run.stderr)),
            }
            if run.stderr.contains("panicked") {
                problems.push(format!("{name}: panic output: {}", run.stderr));
            }
            if run.max_rss_kib > MAX_RSS_KIB {
                problems.push(format!(
                    "{name}: peak memory {} MiB",
                    run.max_rss_kib / 1024
                ));
            }
        }
    }
    eprintln!("{errors} files gave errors, {readable} were readable");
    assert!(errors > 50, "only {errors} corrupt files gave errors");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
