//! The `quiver` binary, run as a user runs it: formats, files, exit codes, error lines.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn quiver() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quiver"));
    c.env_remove("QUIVER_LOG").stdin(Stdio::null());
    c
}

fn run(args: &[&str]) -> Output {
    quiver().args(args).output().expect("run quiver")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes a small Parquet file (through quiver itself) and returns its path.
fn sample_parquet(dir: &Path) -> PathBuf {
    let path = dir.join("trips.parquet");
    let o = run(&[
        "-c",
        &format!(
            "COPY (SELECT * FROM (VALUES (1, 'a', 2.5), (2, 'b', NULL), (3, 'c', 4.0)) AS t(id, name, fare)) TO '{}' STORED AS PARQUET",
            path.display()
        ),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    path
}

/// Asserts a failure with exactly one `error:` line on stderr and no panic output.
fn assert_one_error_line(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "panic output: {err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(lines[0].contains(needle), "'{needle}' not in: {err}");
}

#[test]
fn count_from_a_quoted_parquet_path_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let file = sample_parquet(dir.path());
    let o = run(&[
        "-c",
        &format!("SELECT count(*) FROM '{}'", file.display()),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "count(*)\n3\n");
}

#[test]
fn every_text_format() {
    let sql = "SELECT * FROM (VALUES (1, 'x'), (2, NULL)) AS t(n, s) ORDER BY n";
    let cases = [
        ("csv", "n,s\n1,x\n2,\n"),
        ("json", "[{\"n\":1,\"s\":\"x\"},{\"n\":2,\"s\":null}]\n"),
        ("ndjson", "{\"n\":1,\"s\":\"x\"}\n{\"n\":2,\"s\":null}\n"),
        (
            "markdown",
            "| n | s |\n| ---: | --- |\n| 1 | x |\n| 2 | NULL |\n",
        ),
    ];
    for (format, expected) in cases {
        let o = run(&["-c", sql, "--format", format]);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        assert_eq!(stdout(&o), expected, "format {format}");
    }
    let o = run(&["-c", sql]);
    let table = stdout(&o);
    assert!(
        table.contains(" n ") && table.contains("varchar") && table.contains("NULL"),
        "{table}"
    );
    assert!(table.trim_end().ends_with("2 rows"), "{table}");
}

#[test]
fn binary_formats_to_files_read_back() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["arrow", "parquet"] {
        let out = dir.path().join(format!("out.{format}"));
        let o = run(&[
            "-c",
            "SELECT * FROM generate_series(1, 1000) AS t(v)",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
        // A quoted path is named after its file, as in DuckDB.
        let o = run(&[
            "-c",
            &format!(
                "SELECT count(*), sum(out.v) AS total FROM '{}'",
                out.display()
            ),
            "--format",
            "csv",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "count(*),total\n1000,500500\n", "{format}");
    }
}

#[test]
fn paths_on_the_command_line_become_tables() {
    let dir = tempfile::tempdir().unwrap();
    let file = sample_parquet(dir.path());
    let o = run(&[
        file.to_str().unwrap(),
        "-c",
        "SELECT name FROM trips WHERE fare > 3",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "name\nc\n");
}

#[test]
fn scripts_run_statement_by_statement() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("report.sql");
    std::fs::write(
        &script,
        "-- a report\nCREATE TABLE t AS VALUES (1), (2), (3);\nSELECT sum(column1) AS total\nFROM t;\n",
    )
    .unwrap();
    let o = run(&["-f", script.to_str().unwrap(), "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "total\n6\n");
    // SQL on standard input works too.
    let mut child = quiver()
        .args(["--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT 41 + 1 AS answer;")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "answer\n42\n");
}

#[test]
fn errors_are_one_clear_line_with_a_nonzero_exit() {
    let o = run(&["-c", "SELECT * FROM"]);
    assert_one_error_line(&o, "syntax error");
    assert!(stderr(&o).contains("Line: 1, Column"), "{}", stderr(&o));

    let o = run(&[
        "-c",
        "CREATE TABLE orders AS VALUES (1); SELECT * FROM sales",
    ]);
    assert_one_error_line(&o, "table 'sales' not found; known tables: orders");

    let o = run(&["-c", "SELECT * FROM 'no/such/file.parquet'"]);
    assert_one_error_line(&o, "no such file or directory");

    let o = run(&["-c", "SELECT 1", "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown format 'yaml'"),
        "{}",
        stderr(&o)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, b"PAR1 this is not parquet PAR1").unwrap();
    let o = run(&["-c", &format!("SELECT * FROM '{}'", bad.display())]);
    assert_one_error_line(&o, "bad.parquet");
}

#[test]
fn a_failed_run_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("result.csv");
    let o = run(&[
        "-c",
        "SELECT 1 AS a; SELECT * FROM missing_table",
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists(), "a partial output file was left behind");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temp files left behind"
    );
    let o = run(&[
        "-c",
        "SELECT 1 AS a",
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "a\n1\n");
}

#[test]
fn read_only_statements_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = sample_parquet(dir.path());
    let before: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let o = quiver()
        .current_dir(dir.path())
        .args([
            "-c",
            &format!(
                "SELECT * FROM '{}'; SELECT * FROM 'nope.parquet'",
                file.display()
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = quiver()
        .args([
            "-c",
            "SELECT * FROM generate_series(1, 5000000)",
            "--format",
            "csv",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn memory_limit_and_threads_are_accepted_and_checked() {
    let o = run(&[
        "--memory-limit",
        "64MB",
        "--threads",
        "2",
        "-c",
        "SELECT count(*) FROM (SELECT v % 1000 AS k FROM generate_series(1, 200000) t(v) ORDER BY v DESC)",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "count(*)\n200000\n");
    let o = run(&["--memory-limit", "lots", "-c", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a size"), "{}", stderr(&o));
}

#[test]
fn the_demo_runs() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["demo", "--dir", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Join Parquet with a CSV lookup table"),
        "{out}"
    );
    assert!(out.contains("2026-03"), "{out}");
    assert!(out.contains("revenue"), "{out}");
    // The market steps: ASOF JOIN and MATCH_RECOGNIZE ran and showed each symbol.
    assert!(out.contains("ASOF JOIN '"), "{out}");
    assert!(out.contains("MATCH_RECOGNIZE ("), "{out}");
    assert!(
        out.contains("avg_vs_mid") && out.contains("patterns"),
        "{out}"
    );
    for sym in ["ACME", "BOLT", "CRUX"] {
        assert!(out.matches(sym).count() >= 2, "{sym} missing: {out}");
    }
    let csv = |args: &[&str]| {
        let o = run(&[args, &["--format", "csv"]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let trips = dir.path().join("trips");
    assert_eq!(
        csv(&[
            "-c",
            &format!(
                "SELECT count(DISTINCT month) AS m FROM '{}/'",
                trips.display()
            )
        ]),
        "m\n3\n"
    );

    // The Delta part: the table the demo kept has a version per write, and the older ones
    // differ from the newest.
    let rides = dir.path().join("rides");
    let counts = csv(&[
        rides.to_str().unwrap(),
        "-c",
        "SELECT count(*) AS n FROM rides VERSION AS OF 0; SELECT count(*) AS n FROM rides VERSION AS OF 1; SELECT count(*) AS n FROM rides",
    ]);
    let counts: Vec<u64> = counts
        .lines()
        .filter(|l| *l != "n")
        .map(|l| l.parse().unwrap())
        .collect();
    let [january, with_february, now] = counts[..] else {
        panic!("three counts expected: {counts:?}");
    };
    assert!(january > 0 && with_february > january, "{counts:?}");
    assert!(
        now < with_february,
        "the DELETE removed nothing: {counts:?}"
    );
    let history = csv(&[
        rides.to_str().unwrap(),
        "-c",
        "SELECT version, operation FROM delta_history(rides) ORDER BY version",
    ]);
    let operations: Vec<&str> = history.lines().skip(1).collect();
    assert_eq!(operations.len(), 4, "{history}");
    assert!(operations[1].ends_with(",WRITE"), "{history}");
    assert!(operations[2].ends_with(",UPDATE"), "{history}");
    assert!(operations[3].ends_with(",DELETE"), "{history}");
    // ... and the demo showed all of it: the counts by version, and the history.
    for n in [january, with_february, now] {
        assert!(out.contains(&format!(" {n} ")), "{n} not shown: {out}");
    }
    assert!(out.contains("DESCRIBE HISTORY rides"), "{out}");
    for operation in ["UPDATE", "DELETE"] {
        assert!(out.contains(&format!(" {operation} ")), "{out}");
    }
}

/// Runs `quiver ARGS` with its standard output on a 100-column pseudo-terminal (util-linux
/// `script`, as the prompt's tests use), with `COLUMNS` set or not, and returns what it
/// printed.
fn on_a_terminal(columns: Option<&str>, args: &[&str]) -> String {
    let quote = |a: &str| format!("'{}'", a.replace('\'', r"'\''"));
    let command = std::iter::once(env!("CARGO_BIN_EXE_quiver"))
        .chain(args.iter().copied())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    // The shell `script` starts resets COLUMNS to the new width after `stty` resizes the
    // terminal (bash's checkwinsize), so COLUMNS is given on quiver's own command line.
    let command = match columns {
        Some(columns) => format!("env COLUMNS={} {command}", quote(columns)),
        None => format!("env -u COLUMNS {command}"),
    };
    let o = Command::new("script")
        .args([
            "-qec",
            &format!("stty rows 24 cols 100; {command}"),
            "/dev/null",
        ])
        .env_remove("QUIVER_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs quiver on a pseudo-terminal");
    assert!(o.status.success(), "{}", stdout(&o));
    stdout(&o).replace('\r', "")
}

/// Thirty numbered columns and a 300-character note.
const WIDE: &str = "SELECT 0 AS c0, 1 AS c1, 2 AS c2, 3 AS c3, 4 AS c4, 5 AS c5, 6 AS c6, 7 AS c7, 8 AS c8, 9 AS c9, 10 AS c10, 11 AS c11, 12 AS c12, 13 AS c13, 14 AS c14, 15 AS c15, 16 AS c16, 17 AS c17, 18 AS c18, 19 AS c19, 20 AS c20, 21 AS c21, 22 AS c22, 23 AS c23, 24 AS c24, 25 AS c25, 26 AS c26, 27 AS c27, 28 AS c28, 29 AS c29, repeat('x', 300) AS note";

#[test]
fn tables_are_fitted_to_the_terminal() {
    let widest = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap();
    let out = on_a_terminal(Some("60"), &["-c", WIDE]);
    assert!(widest(&out) <= 60, "wider than COLUMNS: {out}");
    let header = out.lines().nth(1).unwrap();
    let at = |name: &str| header.find(&format!(" {name} ")).unwrap_or(usize::MAX);
    assert!(
        at("c0") < at("c1") && at("c1") < at("…") && at("…") < at("note"),
        "{out}"
    );
    assert!(
        at("note") < usize::MAX && !header.contains(" c15 "),
        "{out}"
    );
    let shown = header.matches(" c").count() + 1;
    assert!(
        out.ends_with(&format!("1 row, 31 columns ({shown} shown)\n")),
        "{out}"
    );
    assert!(out.contains("xxx…"), "{out}");
    // Without COLUMNS, the terminal's own width.
    let out = on_a_terminal(None, &["-c", WIDE]);
    assert!((61..=100).contains(&widest(&out)), "{out}");
    assert!(out.contains("xxx…") && out.contains(" columns ("), "{out}");

    // Only the table format on a terminal is fitted: not CSV there, and not a table sent to
    // a pipe or to a file, even with COLUMNS set.
    let csv = on_a_terminal(Some("60"), &["-c", WIDE, "--format", "csv"]);
    assert!(
        csv.contains(&"x".repeat(300)) && !csv.contains('…'),
        "{csv}"
    );
    let piped = quiver()
        .env("COLUMNS", "60")
        .args(["-c", WIDE])
        .output()
        .unwrap();
    let piped = stdout(&piped);
    assert!(
        piped.contains(" c15 ") && piped.contains(&"x".repeat(300)),
        "{piped}"
    );
    assert!(piped.ends_with("\n1 row\n"), "{piped}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wide.txt");
    on_a_terminal(Some("60"), &["-c", WIDE, "-o", file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), piped);
}

#[test]
fn log_level_comes_from_quiver_log() {
    let o = quiver()
        .env("QUIVER_LOG", "debug")
        .args(["-c", "SELECT 1"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("DEBUG"),
        "no debug logging: {}",
        stderr(&o)
    );
    let o = run(&["-c", "SELECT 1"]);
    assert!(!stderr(&o).contains("DEBUG") && !stderr(&o).contains("INFO"));
}

#[test]
fn output_to_a_device_writes_through_it() {
    // Renaming a temp file over /dev/null would replace the device.
    let o = run(&["-c", "SELECT 1", "--format", "csv", "-o", "/dev/null"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(!meta.is_file(), "/dev/null became a regular file");
}
