//! Delta writes through the `quiver` binary, checked by an independent client: the Python
//! `deltalake` package (delta-rs, installed by scripts/setup.sh) reads every version of
//! what Quiver wrote, and writes tables for Quiver to change. Also: the DAT writer case,
//! and four processes appending to one table at once.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::common;
use common::{quiver, testdata, text};

/// Runs `quiver [args] -c sql` and returns standard output; fails the test on an error.
fn run(args: &[&str], sql: &str) -> String {
    let out = quiver()
        .args(args)
        .arg("-c")
        .arg(sql)
        .output()
        .expect("run quiver");
    assert!(
        out.status.success(),
        "quiver failed on {sql}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn peer(args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/delta_peer.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "delta_peer.py {args:?} failed: {}",
        text(&out.stderr)
    );
    out
}

/// A row as comparable JSON: numbers as f64 (Quiver prints 3.0 where Python prints 3.0 or
/// 3), keys sorted.
fn normal(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::from(n.as_f64().expect("finite")),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, normal(v))).collect()),
        other => other,
    }
}

fn sorted_rows(lines: &str) -> Vec<String> {
    let mut rows: Vec<String> = lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| normal(serde_json::from_str(l).expect("a JSON row")).to_string())
        .collect();
    rows.sort();
    rows
}

/// The table's rows at `version` as Quiver reads them.
fn quiver_rows(table: &Path, version: i64) -> Vec<String> {
    sorted_rows(&run(
        &["--format", "ndjson"],
        &format!(
            "SELECT * FROM '{}' VERSION AS OF {version}",
            table.display()
        ),
    ))
}

/// The table's rows at `version` (the newest when `None`) as deltalake reads them.
fn peer_rows(table: &Path, version: Option<i64>) -> Vec<String> {
    let t = table.display().to_string();
    let v = version.map(|v| v.to_string());
    let mut args = vec!["read", t.as_str()];
    if let Some(v) = &v {
        args.push(v);
    }
    sorted_rows(&text(&peer(&args).stdout))
}

fn newest_version(table: &Path) -> i64 {
    text(&peer(&["version", &table.display().to_string()]).stdout)
        .trim()
        .parse()
        .expect("a version")
}

#[test]
fn tables_quiver_writes_read_the_same_in_deltalake_at_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("sales");
    let at = format!("delta.`{}`", t.display());
    // A checkpoint every 4 commits, so deltalake also reads Quiver's checkpoints.
    let opts = [
        "--checkpoint-interval",
        "4",
        "--commit-message",
        "round trip",
    ];
    let statements = [
        format!(
            "CREATE TABLE {at} (id BIGINT NOT NULL, day DATE, name STRING, amount DOUBLE) USING DELTA PARTITIONED BY (day)"
        ),
        format!(
            "INSERT INTO {at} SELECT value, DATE '2024-01-01' + CAST(value % 3 AS INT), 'n' || value, value * 1.5 FROM generate_series(1, 500)"
        ),
        format!(
            "INSERT INTO {at} SELECT value, DATE '2024-01-01' + CAST(value % 3 AS INT), 'n' || value, value * 1.5 FROM generate_series(501, 800)"
        ),
        format!("UPDATE {at} SET amount = amount + 1 WHERE id % 5 = 0"),
        format!("DELETE FROM {at} WHERE id % 7 = 0"),
        format!(
            "MERGE INTO {at} AS t USING (SELECT value AS id, 'm' || value AS name FROM generate_series(750, 900)) AS s ON t.id = s.id \
                 WHEN MATCHED THEN UPDATE SET name = s.name \
                 WHEN NOT MATCHED THEN INSERT (id, day, name, amount) VALUES (s.id, DATE '2024-02-01', s.name, 0.0)"
        ),
        format!("OPTIMIZE {at}"),
        format!(
            "INSERT OVERWRITE {at} SELECT value, DATE '2024-03-01', 'o' || value, value * 2.0 FROM generate_series(1, 50)"
        ),
        format!("RESTORE TABLE {at} TO VERSION AS OF 5"),
        format!("INSERT INTO {at} VALUES (10000, NULL, NULL, NULL)"),
    ];
    for statement in &statements {
        run(&opts, statement);
    }
    let newest = newest_version(&t);
    assert!(newest >= statements.len() as i64 - 2, "version {newest}");
    let checkpoints = std::fs::read_dir(t.join("_delta_log"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".checkpoint.parquet")
        })
        .count();
    assert!(checkpoints >= 2, "{checkpoints} checkpoints");
    for version in 0..=newest {
        let ours = quiver_rows(&t, version);
        let theirs = peer_rows(&t, Some(version));
        assert_eq!(ours.len(), theirs.len(), "row count at version {version}");
        assert_eq!(ours, theirs, "rows at version {version}");
    }
    // The newest version as deltalake sees it holds the restored rows plus the last insert.
    let newest_rows = peer_rows(&t, None);
    assert_eq!(newest_rows.len(), quiver_rows(&t, 5).len() + 1);
    // The commit message is stored with each commit.
    let history = run(
        &["--format", "csv"],
        &format!(
            "SELECT DISTINCT user_metadata FROM delta_history('{}')",
            t.display()
        ),
    );
    assert!(history.contains("round trip"), "{history}");
    // Data files are zstd-compressed by default (pyarrow reads the codec from each footer).
    let codecs = Command::new("python3")
        .args([
            "-c",
            "import glob, sys, pyarrow.parquet as pq\n\
             files = glob.glob(sys.argv[1] + '/**/*.parquet', recursive=True)\n\
             print(sorted({pq.ParquetFile(f).metadata.row_group(0).column(0).compression for f in files if '_delta_log' not in f}))",
            &t.display().to_string(),
        ])
        .output()
        .expect("python3 runs");
    assert_eq!(
        text(&codecs.stdout).trim(),
        "['ZSTD']",
        "{}",
        text(&codecs.stderr)
    );
}

#[test]
fn tables_deltalake_writes_are_changed_by_quiver_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("people");
    let path = t.display().to_string();
    peer(&["write", &path, "error", "1", "100"]);
    peer(&["write", &path, "append", "101", "150"]);
    let at = format!("delta.`{path}`");
    let out = run(
        &[],
        &format!("UPDATE {at} SET name = upper(name) WHERE id <= 10"),
    );
    assert!(out.contains("10"), "{out}");
    run(&[], &format!("DELETE FROM {at} WHERE id > 140"));
    run(
        &[],
        &format!(
            "MERGE INTO {at} t USING (SELECT value AS id FROM generate_series(95, 105)) s ON t.id = s.id \
             WHEN MATCHED THEN UPDATE SET amount = -1.0 \
             WHEN NOT MATCHED THEN INSERT (id, name, amount) VALUES (s.id, 'new', 0.0)"
        ),
    );
    // deltalake reads Quiver's commits, and writes on top of them.
    peer(&["write", &path, "append", "1000", "1004"]);
    let newest = newest_version(&t);
    assert_eq!(newest, 5);
    for version in 0..=newest {
        assert_eq!(
            quiver_rows(&t, version),
            peer_rows(&t, Some(version)),
            "rows at version {version}"
        );
    }
    let counts = run(
        &["--format", "csv"],
        &format!(
            "SELECT count(*) AS n, count(*) FILTER (WHERE name = upper(name) AND name <> 'new') AS upper, \
             count(*) FILTER (WHERE amount = -1.0) AS merged FROM {}",
            format_args!("'{path}'")
        ),
    );
    // 140 rows kept, 10 upper-cased, 11 merged (95..=105 all exist), plus 5 appended.
    assert_eq!(counts.lines().nth(1), Some("145,10,11"), "{counts}");
    let history = text(&peer(&["history", &path]).stdout);
    let operations: Vec<&str> = history.lines().collect();
    assert_eq!(
        operations,
        ["WRITE", "WRITE", "UPDATE", "DELETE", "MERGE", "WRITE"],
        "{history}"
    );
}

#[test]
fn the_dat_writer_case_gives_its_post_append_result() {
    let Some(data) = testdata() else { return };
    let case = data.join("dat/out/tables/writer/reference_table_1");
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("table");
    copy_dir(&case.join("delta"), &t);
    let before = newest_version(&t);
    let out = run(
        &["--format", "csv"],
        &format!(
            "INSERT INTO delta.`{}` SELECT * FROM '{}'",
            t.display(),
            case.join("other/append_content_1.parquet").display()
        ),
    );
    assert_eq!(
        out.lines().nth(1),
        Some(format!("{},1", before + 1).as_str()),
        "{out}"
    );
    let expected = sorted_rows(&run(
        &["--format", "ndjson"],
        &format!(
            "SELECT * FROM '{}'",
            case.join("expected/post_append/table_content.parquet")
                .display()
        ),
    ));
    assert_eq!(expected.len(), 6);
    assert_eq!(peer_rows(&t, None), expected, "deltalake's reading");
    assert_eq!(quiver_rows(&t, before + 1), expected, "Quiver's reading");
}

#[test]
fn four_processes_appending_at_once_lose_and_repeat_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("log");
    let at = format!("delta.`{}`", t.display());
    run(
        &[],
        &format!("CREATE TABLE {at} (writer INT, n INT) USING DELTA"),
    );
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let script: String = (0..25)
                .map(|n| format!("INSERT INTO {at} VALUES ({w}, {n});\n"))
                .collect();
            quiver()
                .args(["--format", "csv", "-c", &script])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn quiver")
        })
        .collect();
    for child in writers {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a writer failed: {}",
            text(&out.stderr)
        );
    }
    let mut versions: Vec<i64> = std::fs::read_dir(t.join("_delta_log"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json")?.parse().ok()
        })
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        (0..=100).collect::<Vec<_>>(),
        "contiguous commits"
    );
    let counts = run(
        &["--format", "csv"],
        &format!(
            "SELECT count(*), count(DISTINCT (writer, n)), \
             (SELECT value FROM delta_info('{0}') WHERE property = 'files') FROM '{0}'",
            t.display()
        ),
    );
    assert_eq!(counts.lines().nth(1), Some("100,100,100"), "{counts}");
    assert_eq!(peer_rows(&t, None).len(), 100);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_writer_killed_at_any_moment_leaves_a_table_with_exactly_its_commits() {
    let dir = tempfile::tempdir().unwrap();
    let script_for = |at: &str| -> String {
        (1..=50)
            .map(|n| format!("INSERT INTO {at} VALUES ({n});\n"))
            .collect()
    };
    // How long 50 appends take on this machine, so the kills land while they run.
    let warm = format!("delta.`{}`", dir.path().join("warm").display());
    run(&[], &format!("CREATE TABLE {warm} (n INT) USING DELTA"));
    let started = std::time::Instant::now();
    run(&[], &script_for(&warm));
    let span = (started.elapsed().as_millis() as u64).max(50);
    // A fixed sequence of kill times (a small LCG), so a failure can be replayed.
    let mut seed: u64 = 0x5eed;
    for run_no in 0..10 {
        let t = dir.path().join(format!("run{run_no}"));
        let at = format!("delta.`{}`", t.display());
        run(&[], &format!("CREATE TABLE {at} (n INT) USING DELTA"));
        let script = script_for(&at);
        let mut child = quiver()
            .args(["--format", "csv", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn quiver");
        let stdout = child.stdout.take().unwrap();
        let acknowledged = std::thread::spawn(move || {
            use std::io::BufRead;
            std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter(|l| l.ends_with(",1"))
                .count() as i64
        });
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = (seed >> 33) % span;
        std::thread::sleep(std::time::Duration::from_millis(delay));
        child.kill().expect("SIGKILL"); // SIGKILL on Unix: no chance to clean up
        child.wait().unwrap();
        let acknowledged = acknowledged.join().unwrap();

        let verify = quiver()
            .args(["delta", "verify", &t.display().to_string()])
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "run {run_no} (killed after {delay} ms): verify failed:\n{}",
            text(&verify.stdout)
        );
        let counts = run(
            &["--format", "csv"],
            &format!(
                "SELECT count(*), count(DISTINCT n), coalesce(max(n), 0), \
                 (SELECT max(version) FROM delta_history('{0}')) FROM '{0}'",
                t.display()
            ),
        );
        let row: Vec<i64> = counts
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        let (rows, distinct, max, version) = (row[0], row[1], row[2], row[3]);
        // Every acknowledged append is there, once, in order; a commit that landed just
        // before the kill but was not yet printed is the only possible extra.
        assert_eq!(rows, distinct, "run {run_no}: an append was written twice");
        assert_eq!(rows, max, "run {run_no}: appends are missing");
        assert_eq!(rows, version, "run {run_no}: one row per commit");
        assert!(
            rows == acknowledged || rows == acknowledged + 1,
            "run {run_no} (killed after {delay} ms): {rows} rows, {acknowledged} acknowledged"
        );
        eprintln!(
            "run {run_no}: killed after {delay} ms, {acknowledged} acknowledged, {rows} committed"
        );
    }
}

/// `verify` reads the log as the reader does: v2 checkpoints written as JSON, with their
/// actions in sidecar Parquet files, are checked against replaying the commits, and a
/// checkpoint whose sidecar is gone is reported (the reader refuses to start from it too).
#[test]
fn verify_checks_v2_json_checkpoints_and_their_sidecars() {
    let Some(data) = testdata() else { return };
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    copy_dir(
        &data.join("delta-kernel-rs/kernel/tests/data/v2-checkpoints-json-with-sidecars"),
        &t,
    );
    let verify = |t: &Path| {
        let o = quiver()
            .args(["delta", "verify", &t.display().to_string()])
            .output()
            .unwrap();
        (o.status.success(), text(&o.stdout))
    };
    let (ok, report) = verify(&t);
    assert!(ok, "{report}");
    for version in 1..=6 {
        assert!(
            report.contains(&format!("ok   checkpoint {version} agrees with the log")),
            "{report}"
        );
        assert!(
            report.contains(&format!("ok   {version}.crc agrees")),
            "{report}"
        );
    }

    let sidecar = std::fs::read_dir(t.join("_delta_log/_sidecars"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("00000000000000000003.checkpoint.0000000002")
        })
        .expect("a sidecar of checkpoint 3");
    std::fs::remove_file(sidecar).unwrap();
    let (ok, report) = verify(&t);
    assert!(!ok, "{report}");
    assert!(
        report.contains("FAIL checkpoint 3 does not read"),
        "{report}"
    );
    assert!(report.contains("ok   checkpoint 4 agrees"), "{report}");
}
