//! TPC-H at scale factor 0.01: all 22 queries, answered as DuckDB 2.0 answers them.
//!
//! The `.tbl.gz` files written by tpchgen-rs are converted to Parquet through Quiver itself
//! (CSV in, Parquet out), then each query runs over the Parquet tables and its result is
//! compared with `oracles/tpch-duckdb-2.0.0-answers-sf0.01/qN.csv`: strings exactly,
//! numbers to a relative 1e-6 (DuckDB prints doubles where DataFusion keeps decimals).

use crate::common;

use futures::TryStreamExt;
use quiver_engine::Session;
use quiver_engine::output::{Format, OutputOptions, encode};

/// Splits one CSV line, honouring double quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            other => cur.push(other),
        }
    }
    fields.push(cur);
    fields
}

fn cells_match(a: &str, b: &str) -> bool {
    if a.trim() == b.trim() {
        return true;
    }
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

/// Runs every statement of a query file and returns the last result as CSV.
async fn run_csv(session: &Session, sql: &str) -> Result<String, String> {
    let mut csv = None;
    for statement in session.statements(sql).map_err(|e| e.to_string())? {
        let plan = session.plan(statement).await.map_err(|e| e.to_string())?;
        let stream = session.execute(plan).await.map_err(|e| e.to_string())?;
        let schema = stream.schema();
        let batches: Vec<_> = stream.try_collect().await.map_err(|e| e.to_string())?;
        if schema.fields().is_empty() {
            continue;
        }
        let out = encode(Format::Csv, schema, &batches, &OutputOptions::default())
            .map_err(|e| e.to_string())?;
        csv = Some(String::from_utf8(out).map_err(|e| e.to_string())?);
    }
    csv.ok_or_else(|| "no result".into())
}

/// Unaliased expressions are named with qualified columns by DataFusion
/// (`sum(lineitem.l_quantity)`) and without by DuckDB (`sum(l_quantity)`).
fn unqualified(name: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == '.' && !word.is_empty() && !word.chars().all(|d| d.is_ascii_digit()) {
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&word);
    out
}

fn compare(got: &str, want: &str) -> Result<(), String> {
    let mut got: Vec<Vec<String>> = got.lines().map(csv_fields).collect();
    if let Some(header) = got.first_mut() {
        *header = header.iter().map(|h| unqualified(h)).collect();
    }
    let want: Vec<Vec<String>> = want.lines().map(csv_fields).collect();
    if got.first() != want.first() {
        return Err(format!(
            "columns {:?}, expected {:?}",
            got.first(),
            want.first()
        ));
    }
    if got.len() != want.len() {
        return Err(format!(
            "{} rows, expected {}",
            got.len() - 1,
            want.len() - 1
        ));
    }
    for (i, (g, w)) in got.iter().zip(&want).enumerate().skip(1) {
        if g.len() != w.len() || !g.iter().zip(w).all(|(a, b)| cells_match(a, b)) {
            return Err(format!("row {i}: {g:?}, expected {w:?}"));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_sf001_matches_duckdb() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let session = common::session(2);
    let parquet = tempfile::tempdir().unwrap();
    common::tpch::load(
        &session,
        &testdata.join("tpch/tpchgen-rs/tpchgen/data/sf-0.01"),
        parquet.path(),
    )
    .await;
    let queries = testdata.join("tpch/datafusion/benchmarks/queries");
    let answers = testdata.join("oracles/tpch-duckdb-2.0.0-answers-sf0.01");
    let mut failures = Vec::new();
    for q in 1..=22 {
        let sql = std::fs::read_to_string(queries.join(format!("q{q}.sql"))).unwrap();
        let want = std::fs::read_to_string(answers.join(format!("q{q}.csv"))).unwrap();
        match run_csv(&session, &sql).await {
            Ok(got) => {
                if let Err(e) = compare(&got, &want) {
                    failures.push(format!("q{q}: {e}"));
                }
            }
            Err(e) => failures.push(format!("q{q}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "TPC-H answers differ from DuckDB's:\n{}",
        failures.join("\n")
    );
}
