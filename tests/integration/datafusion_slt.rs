//! DataFusion 55's own sqllogictest files, run through Quiver's `Session` beside stock
//! DataFusion, record by record.
//!
//! The claim under test: Quiver's planner lost nothing. Every record that passes on stock
//! DataFusion 55 (set up exactly as DataFusion's own test binary sets it up) must pass when
//! the same SQL goes through `Session::statements`, `plan` and `execute`.
//!
//! Files whose stock harness registers extra tables or functions before running (rather
//! than creating their data inline in SQL) are left out: they test the harness's fixtures,
//! which a Quiver session does not have.

use crate::common;

use std::path::{Path, PathBuf};

use common::slt::{QuiverDb, configure};
use datafusion_sqllogictest::{DFColumnType, DataFusion, TestContext};
use sqllogictest::Record;

/// Records where Quiver differs from stock DataFusion on purpose: DataFusion refuses
/// `FROM 'path'` unless URL tables are enabled, and reading files by path is one of
/// Quiver's features. (file, line of the record, why)
const INTENDED_DIFFERENCES: &[(&str, u32, &str)] = &[
    ("json.slt", 50, "Quiver reads quoted paths in FROM"),
    ("parquet.slt", 209, "Quiver reads quoted paths in FROM"),
];

/// Files whose DataFusion harness prepares fixtures outside the SQL (see
/// `TestContext::try_new_for_test_file` in datafusion-sqllogictest 55).
const HARNESS_FIXTURES: &[&str] = &[
    "cte.slt",
    "information_schema_table_types.slt",
    "information_schema_columns.slt",
    "map.slt",
    "avro.slt",
    "dynamic_file.slt",
    "joins.slt",
    "range_partitioning.slt",
    "metadata.slt",
    "arrow_field.slt",
    "union_function.slt",
    "aggregate.slt",
    "dictionary_struct.slt",
    "async_udf.slt",
    "cast_extension_type_metadata.slt",
];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

/// Runs each record on its own and reports which passed.
async fn run_records<D, M>(
    mut runner: sqllogictest::Runner<D, M>,
    records: &[Record<DFColumnType>],
) -> Vec<bool>
where
    D: sqllogictest::AsyncDB<ColumnType = DFColumnType>,
    M: sqllogictest::MakeConnection<Conn = D>,
{
    configure(&mut runner);
    let mut passed = Vec::with_capacity(records.len());
    for record in records {
        if matches!(record, Record::Halt { .. }) {
            break;
        }
        let result = runner.run_async(record.clone()).await;
        if let (Err(e), Ok(_)) = (&result, std::env::var("QUIVER_SLT_VERBOSE")) {
            eprintln!("{}", e.to_string().chars().take(600).collect::<String>());
        }
        passed.push(result.is_ok());
    }
    passed
}

/// Runs `records` on stock DataFusion and through Quiver; `None` when DataFusion's harness
/// skips the file.
async fn run_both(
    relative: &Path,
    records: &[Record<DFColumnType>],
    scratch: &Path,
) -> Option<(Vec<bool>, Vec<bool>)> {
    let stock_ctx = TestContext::try_new_for_test_file(relative).await?;
    let stock_session = stock_ctx.session_ctx().clone();
    let rel = relative.to_path_buf();
    let stock_runner = sqllogictest::Runner::new(move || {
        let ctx = stock_session.clone();
        let rel = rel.clone();
        async move { Ok(DataFusion::new(ctx, rel, indicatif::ProgressBar::hidden())) }
    });
    let stock = run_records(stock_runner, records).await;
    let _ = std::fs::remove_dir_all(scratch);
    let _ = std::fs::create_dir_all(scratch);

    let session = common::session(4);
    // Match DataFusion's harness defaults.
    session
        .query("SET datafusion.catalog.information_schema = false")
        .await
        .unwrap();
    let quiver_runner = sqllogictest::Runner::new(move || {
        let session = session.clone();
        async move {
            Ok(QuiverDb {
                router: quiver::run::Router::new(session, Default::default()),
                datafusion_errors: true,
            })
        }
    });
    let quiver = run_records(quiver_runner, records).await;

    Some((stock, quiver))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_slt_files_pass_as_on_stock_datafusion() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    // Work on a copy: some files COPY into a scratch folder beside themselves.
    let work = tempfile::tempdir().unwrap();
    copy_dir(&testdata.join("datafusion-slt"), work.path());
    let slt_root = work.path().join("datafusion/sqllogictest");
    std::env::set_current_dir(&slt_root).unwrap();
    let test_files = slt_root.join("test_files");
    let mut files = Vec::new();
    slt_files(&test_files, &mut files);
    files.sort();

    let (mut stock_total, mut quiver_total, mut records_total) = (0usize, 0usize, 0usize);
    let (mut files_run, mut files_all_pass) = (0usize, 0usize);
    let mut regressions = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&test_files).unwrap().to_path_buf();
        let name = relative.file_name().unwrap().to_string_lossy().to_string();
        if HARNESS_FIXTURES.contains(&name.as_str()) {
            continue;
        }
        if let Ok(only) = std::env::var("QUIVER_SLT_ONLY")
            && only != name
        {
            continue;
        }
        let Ok(records) = sqllogictest::parse_file::<DFColumnType>(file) else {
            eprintln!("unparsable: {}", relative.display());
            continue;
        };
        let scratch = slt_root
            .join("test_files/scratch")
            .join(relative.with_extension(""));
        let _ = std::fs::create_dir_all(&scratch);

        let Some((stock, quiver)) = run_both(&relative, &records, &scratch).await else {
            continue;
        };
        // Spill and memory-pressure files depend on timing; a record lost once is run again
        // (both engines, whole file) before it counts.
        let (stock, quiver) = if stock.iter().zip(&quiver).any(|(s, q)| *s && !*q) {
            run_both(&relative, &records, &scratch)
                .await
                .unwrap_or((stock, quiver))
        } else {
            (stock, quiver)
        };

        files_run += 1;
        records_total += stock.len();
        stock_total += stock.iter().filter(|p| **p).count();
        quiver_total += quiver.iter().filter(|p| **p).count();
        if quiver.iter().all(|p| *p) {
            files_all_pass += 1;
        }
        let lost: Vec<usize> = stock
            .iter()
            .zip(&quiver)
            .enumerate()
            .filter(|(_, (s, q))| **s && !**q)
            .filter(|(i, _)| {
                let line = match &records[*i] {
                    Record::Statement { loc, .. } | Record::Query { loc, .. } => loc.line(),
                    _ => 0,
                };
                !INTENDED_DIFFERENCES
                    .iter()
                    .any(|(f, l, _)| *f == name && *l == line)
            })
            .map(|(i, _)| i)
            .collect();
        if !lost.is_empty() {
            let lines: Vec<String> = lost
                .iter()
                .take(5)
                .map(|i| match &records[*i] {
                    Record::Statement { loc, .. } | Record::Query { loc, .. } => loc.to_string(),
                    other => format!("{other:?}").chars().take(80).collect(),
                })
                .collect();
            regressions.push(format!(
                "{}: {} records ({})",
                relative.display(),
                lost.len(),
                lines.join(", ")
            ));
        }
    }
    eprintln!(
        "DataFusion slt corpus: {files_run} files, {records_total} records; stock DataFusion passed {stock_total}, Quiver passed {quiver_total}; {files_all_pass} files pass completely through Quiver"
    );
    assert!(files_run > 50, "only {files_run} DataFusion .slt files ran");
    // The harness itself must be faithful: most records pass on stock DataFusion.
    assert!(
        stock_total * 10 >= records_total * 9,
        "stock DataFusion passed only {stock_total} of {records_total} records: the harness differs from DataFusion's"
    );
    assert!(
        regressions.is_empty(),
        "records that pass on stock DataFusion but not through Quiver:\n{}",
        regressions.join("\n")
    );
}
