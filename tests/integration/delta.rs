//! Every Delta table in the shared corpora, read by Quiver's own Delta reader and compared
//! with independent answers:
//! - `oracles/delta-tables.deltalake-1.6.6.json` (delta-rs): the newest snapshot's row count
//!   and content hash, and the row count of every earlier version it lists;
//! - the tables' `expected/` folders (Spark's golden answers, DAT's per-version answers).
//!
//! Hashes are computed by `tests/delta/hash.py` exactly as `oracles/README.md` defines them,
//! over Quiver's results written as Arrow IPC files. Tables the oracle could not read are
//! judged by their kind: corrupt logs and tables whose data files were never committed must
//! give an error; tables deltalake lacks a feature for must be read (and match `expected/`
//! where it exists). [`KNOWN_GAPS`] lists what Quiver cannot read yet, and why.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use quiver_engine::Session;
use quiver_engine::arrow::ipc::writer::FileWriter;
use serde_json::Value;

/// Tables Quiver does not read yet, with the reason. A table listed here must still fail
/// (so the list shrinks as the reader grows).
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// Tables Quiver refuses by design, with the words its error must contain. A path reader
/// cannot know a catalog-managed table's newest version (its catalog holds the unpublished
/// commits), so it names the feature rather than show an older version as the newest.
const REFUSED: &[(&str, &str)] = &[(
    "delta-golden/kernel/kernel-defaults/src/test/resources/catalog-owned-preview",
    "reader feature 'catalogManaged' not supported",
)];

/// What one read gave: the IPC file written, or the error.
type Outcome = Result<PathBuf, String>;

async fn read_to_ipc(session: &Session, sql: &str, out: &Path) -> Outcome {
    let run = async {
        let mut statements = session.statements(sql)?;
        let plan = session.plan(statements.remove(0)).await?;
        let stream = session.execute(plan).await?;
        let schema = stream.schema();
        let batches: Vec<_> = stream
            .try_collect()
            .await
            .map_err(quiver_engine::Error::from_datafusion)?;
        let file = std::fs::File::create(out).map_err(|e| quiver_engine::Error::Output {
            message: e.to_string(),
            kind: Some(std::io::ErrorKind::Other),
        })?;
        let mut writer =
            FileWriter::try_new(file, &schema).map_err(|e| quiver_engine::Error::Output {
                message: e.to_string(),
                kind: Some(std::io::ErrorKind::Other),
            })?;
        for b in &batches {
            writer.write(b).map_err(|e| quiver_engine::Error::Output {
                message: e.to_string(),
                kind: Some(std::io::ErrorKind::Other),
            })?;
        }
        writer.finish().map_err(|e| quiver_engine::Error::Output {
            message: e.to_string(),
            kind: Some(std::io::ErrorKind::Other),
        })?;
        Ok::<_, quiver_engine::Error>(())
    };
    run.await
        .map(|()| out.to_path_buf())
        .map_err(|e| e.to_string())
}

/// The Parquet files of an `expected/` answer folder.
fn parquet_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path.display().to_string());
        }
    }
    out.sort();
    out
}

/// `expected/` answers beside a table: `latest` and, for DAT, `vN` folders.
fn expected_answers(table: &Path) -> BTreeMap<String, Vec<String>> {
    let mut answers = BTreeMap::new();
    let Some(expected) = table.parent().map(|p| p.join("expected")) else {
        return answers;
    };
    if !expected.is_dir() {
        return answers;
    }
    let versions: Vec<PathBuf> = std::fs::read_dir(&expected)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    let named: Vec<&PathBuf> = versions
        .iter()
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n == "latest" || (n.starts_with('v') && n[1..].parse::<u64>().is_ok())
            })
        })
        .collect();
    if named.is_empty() {
        let files = parquet_files(&expected);
        if !files.is_empty() {
            answers.insert("latest".to_string(), files);
        }
    } else {
        for dir in named {
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let files = parquet_files(dir);
            if !files.is_empty() {
                answers.insert(name.to_string(), files);
            }
        }
    }
    answers
}

fn sql_path(p: &Path) -> String {
    p.display().to_string().replace('\'', "''")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_tables_match_deltalake_and_expected_answers() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let oracle: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(testdata.join("oracles/delta-tables.deltalake-1.6.6.json"))
            .expect("oracle file"),
    )
    .expect("oracle JSON");
    let tmp = tempfile::tempdir().expect("temp dir");

    // 1. Read every table (newest, and each version the oracle or expected/ knows).
    let mut reads: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut manifest: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, entry) in oracle.iter().enumerate() {
        let name = entry["table"].as_str().expect("table name");
        let table = testdata.join(name);
        let session = common::session(2);
        let mut versions: Vec<Option<i64>> = vec![None];
        if let Some(by_version) = entry["rows_by_version"].as_object() {
            versions.extend(by_version.keys().filter_map(|v| v.parse().ok()).map(Some));
        }
        let expected = expected_answers(&table);
        for key in expected.keys() {
            if let Some(v) = key.strip_prefix('v').and_then(|v| v.parse().ok())
                && !versions.contains(&Some(v))
            {
                versions.push(Some(v));
            }
        }
        for version in versions {
            let (label, sql) = match version {
                None => (
                    "latest".to_string(),
                    format!("SELECT * FROM read_delta('{}')", sql_path(&table)),
                ),
                Some(v) => (
                    format!("v{v}"),
                    format!(
                        "SELECT * FROM read_delta('{}', version => {v})",
                        sql_path(&table)
                    ),
                ),
            };
            let key = format!("{name}@{label}");
            let out = tmp.path().join(format!("{i}-{label}.arrow"));
            let outcome = read_to_ipc(&session, &sql, &out).await;
            if let Ok(path) = &outcome {
                manifest.insert(key.clone(), vec![path.display().to_string()]);
            }
            reads.insert(key, outcome);
        }
        for (label, files) in expected {
            manifest.insert(format!("{name}@expected-{label}"), files);
        }
    }

    // 2. Hash Quiver's results and the expected answers the same way.
    let manifest_path = tmp.path().join("manifest.json");
    let hashes_path = tmp.path().join("hashes.json");
    std::fs::write(
        &manifest_path,
        serde_json::to_string(&manifest).expect("json"),
    )
    .expect("write manifest");
    let status = std::process::Command::new("python3")
        .arg(common::root().join("tests/delta/hash.py"))
        .arg(&manifest_path)
        .arg(&hashes_path)
        .status()
        .expect("python3 runs (scripts/setup.sh installs pyarrow)");
    assert!(status.success(), "tests/delta/hash.py failed");
    let hashes: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(&hashes_path).expect("hashes"))
            .expect("json");

    // 3. Judge each table.
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let mut passed = 0;
    for entry in &oracle {
        let name = entry["table"].as_str().expect("table name");
        let note = entry["note"].as_str().unwrap_or_default();
        let latest = &reads[&format!("{name}@latest")];
        let hash_of = |key: &str| -> Option<(u64, String)> {
            let h = hashes.get(key)?;
            Some((h["rows"].as_u64()?, h["hash"].as_str()?.to_string()))
        };
        let mut problems = Vec::new();
        if let Some((_, words)) = REFUSED.iter().find(|(t, _)| *t == name) {
            match latest {
                Err(e) if e.contains(words) => {}
                other => problems.push(format!("must be refused with \"{words}\", got {other:?}")),
            }
        } else if entry.get("error").is_some() {
            let must_fail = note.contains("negative/corrupt-log")
                || note.contains("log-only table")
                || note.contains("needs harness");
            match (latest, must_fail) {
                (Err(_), true) => {}
                (Ok(_), true) => problems.push(format!(
                    "read without error, but the table is broken ({note})"
                )),
                (Err(e), false) => problems.push(format!("cannot be read: {e}")),
                (Ok(_), false) => {}
            }
        } else {
            match latest {
                Err(e) => problems.push(format!("cannot be read: {e}")),
                Ok(_) => {
                    let want = (
                        entry["rows"].as_u64().unwrap_or_default(),
                        entry["hash"].as_str().unwrap_or_default().to_string(),
                    );
                    match hash_of(&format!("{name}@latest")) {
                        Some(got) if got == want => {}
                        got => problems.push(format!(
                            "newest version: got {got:?}, deltalake reads {want:?}"
                        )),
                    }
                }
            }
            if let Some(by_version) = entry["rows_by_version"].as_object() {
                for (v, rows) in by_version {
                    let key = format!("{name}@v{v}");
                    if rows.as_str().is_some_and(|r| r.starts_with("err:")) {
                        // deltalake could not read this version either (its data files were
                        // never committed, or the log was cleaned): no answer to compare.
                        continue;
                    }
                    match (&reads[&key], hash_of(&key)) {
                        (Ok(_), Some((got, _))) if Some(got) == rows.as_u64() => {}
                        (Err(e), _) => problems.push(format!("version {v}: {e}")),
                        (_, got) => problems.push(format!(
                            "version {v}: got {got:?} rows, deltalake reads {rows}"
                        )),
                    }
                }
            }
        }
        // expected/ answers, where the table has them and Quiver read it. The DAT writer
        // case's answer is the table after an append (the Delta-writes suite checks it).
        let writer_case = note.contains("writer case");
        for (key, answer) in hashes
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{name}@expected-")))
        {
            let label = key.rsplit("@expected-").next().unwrap_or_default();
            let ours = format!("{name}@{label}");
            if !writer_case && reads.get(&ours).is_some_and(Result::is_ok) {
                let want = (answer["rows"].as_u64(), answer["hash"].as_str());
                let got = hashes
                    .get(&ours)
                    .map(|h| (h["rows"].as_u64(), h["hash"].as_str()));
                if got != Some(want) && entry.get("matches_expected") != Some(&Value::Bool(false)) {
                    problems.push(format!("{label}: got {got:?}, expected/ holds {want:?}"));
                }
            }
        }
        if problems.is_empty() {
            passed += 1;
        } else {
            failures.insert(name.to_string(), problems.join("; "));
        }
    }

    let known: BTreeMap<&str, &str> = KNOWN_GAPS.iter().copied().collect();
    let unexpected: Vec<String> = failures
        .iter()
        .filter(|(t, _)| !known.contains_key(t.as_str()))
        .map(|(t, why)| format!("  {t}: {why}"))
        .collect();
    let fixed: Vec<&&str> = known
        .keys()
        .filter(|t| !failures.contains_key(**t))
        .collect();
    eprintln!("{passed} of {} Delta tables agree", oracle.len());
    assert!(
        unexpected.is_empty(),
        "{} tables disagree with their answers:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "now readable, remove from KNOWN_GAPS: {fixed:?}"
    );
}

/// A copy of delta-rs's `simple_table` (five commits) with its commits `0..=upto`.
fn simple_table_copy(testdata: &Path, dir: &Path, upto: usize) {
    let source = testdata.join("delta-rs/crates/test/tests/data/simple_table");
    std::fs::create_dir_all(dir.join("_delta_log")).expect("mkdir");
    for entry in std::fs::read_dir(&source).expect("table").flatten() {
        if entry.path().extension().is_some_and(|e| e == "parquet") {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
        }
    }
    for v in 0..=upto {
        copy_commit(&source, dir, v);
    }
}

fn copy_commit(source: &Path, dir: &Path, v: usize) {
    let name = format!("{v:020}.json");
    std::fs::copy(
        source.join("_delta_log").join(&name),
        dir.join("_delta_log").join(&name),
    )
    .expect("copy commit");
}

async fn count(session: &Session, sql: &str) -> Result<i64, String> {
    let batches = session.query(sql).await.map_err(|e| e.to_string())?;
    let column = batches[0].column(0);
    Ok(column
        .as_any()
        .downcast_ref::<quiver_engine::arrow::array::Int64Array>()
        .expect("count is BIGINT")
        .value(0))
}

#[tokio::test]
async fn timestamps_resolve_to_the_last_commit_at_or_before_them() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let table = tmp.path().join("t");
    simple_table_copy(&testdata, &table, 4);
    // Commit v is made at 2026-01-0{v+1} 00:00:00 UTC (its file time: no in-commit timestamps).
    for v in 0..=4u64 {
        let file = std::fs::File::options()
            .write(true)
            .open(table.join("_delta_log").join(format!("{v:020}.json")))
            .expect("open commit");
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600 + v * 86_400);
        file.set_modified(at).expect("set time");
    }
    let session = common::session(1);
    let path = sql_path(&table);
    let version_rows = |v: i64| {
        let path = path.clone();
        let session = session.clone();
        async move {
            count(
                &session,
                &format!("SELECT count(*) FROM '{path}' VERSION AS OF {v}"),
            )
            .await
        }
    };
    for (at, version) in [
        ("2026-01-01 00:00:00", 0),
        ("2026-01-03T12:30:00", 2),
        ("2026-01-03", 2),
        ("2026-01-03T01:00:00+02:00", 1),
        ("2026-01-04T00:00:00.000Z", 3),
        ("2030-06-01 00:00:00", 4),
    ] {
        let by_time = count(
            &session,
            &format!("SELECT count(*) FROM '{path}' TIMESTAMP AS OF '{at}'"),
        )
        .await
        .expect("time travel");
        let by_function = count(
            &session,
            &format!("SELECT count(*) FROM read_delta('{path}', timestamp => '{at}')"),
        )
        .await
        .expect("read_delta timestamp");
        let want = version_rows(version).await.expect("version");
        assert_eq!((by_time, by_function), (want, want), "at {at}");
    }
    let err = count(
        &session,
        &format!("SELECT count(*) FROM '{path}' TIMESTAMP AS OF '2025-12-31 23:59:59'"),
    )
    .await
    .unwrap_err();
    assert!(err.contains("no version at or before"), "{err}");
    let err = count(
        &session,
        &format!("SELECT count(*) FROM '{path}' TIMESTAMP AS OF 'soon'"),
    )
    .await
    .unwrap_err();
    assert!(err.contains("is not a timestamp"), "{err}");
}

#[tokio::test]
async fn registered_tables_follow_new_commits() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let source = testdata.join("delta-rs/crates/test/tests/data/simple_table");
    let tmp = tempfile::tempdir().expect("temp dir");
    let table = tmp.path().join("t");
    simple_table_copy(&testdata, &table, 3);
    let session = common::session(1);
    session
        .query(&format!(
            "CREATE EXTERNAL TABLE events STORED AS DELTA LOCATION '{}'",
            sql_path(&table)
        ))
        .await
        .expect("create external table");
    let at_three = count(&session, "SELECT count(*) FROM events")
        .await
        .expect("v3");
    assert_eq!(
        at_three,
        count(&session, "SELECT count(*) FROM events VERSION AS OF 3")
            .await
            .expect("v3")
    );
    copy_commit(&source, &table, 4);
    let now = count(&session, "SELECT count(*) FROM events")
        .await
        .expect("v4");
    let v4 = count(&session, "SELECT count(*) FROM events VERSION AS OF 4")
        .await
        .expect("v4");
    assert_eq!(now, v4);
    assert_ne!(now, at_three, "version 4 deletes rows");
    let history = count(
        &session,
        "SELECT count(*) FROM (SELECT * FROM delta_history(events))",
    )
    .await
    .expect("history");
    assert_eq!(history, 5);
    let err = count(&session, "SELECT count(*) FROM events VERSION AS OF 7")
        .await
        .unwrap_err();
    assert!(
        err.contains("version 7 does not exist; the newest version is 4"),
        "{err}"
    );
}

#[tokio::test]
async fn log_paths_that_leave_the_table_are_refused() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    for (case, path) in [
        ("dotdot", "../outside.parquet"),
        ("encoded", "%2e%2e/outside.parquet"),
        ("bucket", "s3://another-bucket/part.parquet"),
    ] {
        let table = tmp.path().join(case);
        simple_table_copy(&testdata, &table, 0);
        let commit = format!(
            "{{\"add\":{{\"path\":\"{path}\",\"partitionValues\":{{}},\"size\":10,\"modificationTime\":0,\"dataChange\":true}}}}\n"
        );
        std::fs::write(
            table.join("_delta_log").join(format!("{:020}.json", 1)),
            commit,
        )
        .expect("write commit");
        let session = common::session(1);
        let err = count(
            &session,
            &format!("SELECT count(*) FROM '{}'", sql_path(&table)),
        )
        .await
        .unwrap_err();
        assert!(
            err.contains(path)
                && (err.contains("escapes the table root")
                    || err.contains("outside the table's store")),
            "{case}: {err}"
        );
    }
}

#[tokio::test]
async fn corrupt_logs_name_the_file() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let table = tmp.path().join("t");
    simple_table_copy(&testdata, &table, 1);
    let commit = table.join("_delta_log").join(format!("{:020}.json", 1));
    let text = std::fs::read_to_string(&commit).expect("commit");
    std::fs::write(&commit, &text[..text.len() / 2]).expect("truncate");
    let session = common::session(1);
    let err = count(
        &session,
        &format!("SELECT count(*) FROM '{}'", sql_path(&table)),
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("corrupt file") && err.contains("00000000000000000001.json"),
        "{err}"
    );
    // Version 0 is still readable.
    count(
        &session,
        &format!(
            "SELECT count(*) FROM '{}' VERSION AS OF 0",
            sql_path(&table)
        ),
    )
    .await
    .expect("version 0");
}

#[tokio::test]
async fn explain_analyze_reports_skipped_files() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let table = testdata.join("delta-rs/crates/test/tests/data/delta-0.8.0-partitioned");
    let session = common::session(1);
    let batches = session
        .query(&format!(
            "EXPLAIN ANALYZE SELECT count(*) FROM '{}' WHERE year = '2021'",
            sql_path(&table)
        ))
        .await
        .expect("explain analyze");
    let text = quiver_engine::arrow::util::pretty::pretty_format_batches(&batches)
        .expect("format")
        .to_string();
    assert!(text.contains("files=3 of 6 (3 skipped)"), "{text}");
    assert!(text.contains("files_skipped=3"), "{text}");
}

/// Every variant column of a table, as JSON text row by row (nested ones by position).
async fn variants_as_json(session: &Session, table: &Path) -> Vec<Vec<Option<String>>> {
    let sql = format!(
        "SELECT id, variant_to_json(v), variant_to_json(array_of_variants[1]),
                variant_to_json(array_of_variants[2]), variant_to_json(struct_of_variants['v']),
                variant_to_json(map_values(map_of_variants)[1]),
                variant_to_json(array_of_struct_of_variants[4]['v']),
                variant_to_json(struct_of_array_of_variants['v'][2])
         FROM read_delta('{}') ORDER BY id",
        sql_path(table)
    );
    let batches = session.query(&sql).await.expect("variants read");
    let mut rows = Vec::new();
    for batch in &batches {
        let columns: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| {
                quiver_engine::arrow::compute::cast(
                    c,
                    &quiver_engine::arrow::datatypes::DataType::Utf8,
                )
                .expect("as text")
            })
            .collect();
        for r in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| {
                        use quiver_engine::arrow::array::{Array, StringArray};
                        let c = c.as_any().downcast_ref::<StringArray>().expect("text");
                        c.is_valid(r).then(|| c.value(r).to_string())
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// Shredded variants (Spark wrote `typed_value` columns) read as the same values as the
/// same data written unshredded, at the top level and inside arrays, structs and maps.
#[tokio::test]
async fn shredded_variants_read_as_their_unshredded_twins() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let session = common::session(2);
    let plain = variants_as_json(
        &session,
        &testdata.join("delta-rs/crates/test/tests/data/spark-variant-checkpoint"),
    )
    .await;
    assert_eq!(plain.len(), 102);
    for row in &plain {
        let id = row[0].as_deref().expect("id");
        assert_eq!(
            row[1].as_deref(),
            Some(format!("{{\"key\":{id}}}").as_str())
        );
        assert_eq!(row[3], None, "the second array element is null");
    }
    for shredded in [
        "delta-golden/kernel/kernel-defaults/src/test/resources/spark-shredded-variant-preview-delta",
        "delta-rs/crates/test/tests/data/spark-shredded-variant-preview-delta",
    ] {
        let got = variants_as_json(&session, &testdata.join(shredded)).await;
        assert_eq!(got, plain, "{shredded}");
    }
}
