//! Tables written by the `deltalake` crate (delta-rs), read back by Quiver's own Delta reader
//! at every version, must equal what `deltalake` itself reads there.
//!
//! The history covers appends, an overwrite, deletes, updates, a merge (upsert), a schema
//! change (a new column), checkpoints every three commits, with and without partitioning.

use crate::common;

use std::collections::BTreeSet;
use std::sync::Arc;

use deltalake::DeltaTable;
use deltalake::kernel::DataType as DeltaType;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use futures::TryStreamExt;
use quiver_engine::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use quiver_engine::arrow::datatypes::{DataType, Field, Schema};
use quiver_engine::arrow::util::display::{ArrayFormatter, FormatOptions};
use quiver_engine::datafusion::prelude::SessionContext;

/// Rows as sorted text lines, columns in name order, so that results compare regardless of
/// row order, column order, file layout or physical types (views, dictionaries).
fn canonical(batches: &[RecordBatch]) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    let options = FormatOptions::default().with_null("NULL");
    for batch in batches {
        let schema = batch.schema();
        let mut names: Vec<(String, usize)> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().clone(), i))
            .collect();
        names.sort();
        let formatters: Vec<(String, ArrayFormatter)> = names
            .iter()
            .map(|(n, i)| {
                (
                    n.clone(),
                    ArrayFormatter::try_new(batch.column(*i).as_ref(), &options).expect("format"),
                )
            })
            .collect();
        for row in 0..batch.num_rows() {
            let line: Vec<String> = formatters
                .iter()
                .map(|(n, f)| format!("{n}={}", f.value(row)))
                .collect();
            // Duplicates are possible rows; keep them apart.
            let mut key = line.join("|");
            while lines.contains(&key) {
                key.push('+');
            }
            lines.insert(key);
        }
    }
    lines
}

fn batch(ids: std::ops::Range<i64>, note: Option<&str>) -> RecordBatch {
    let regions = ["north", "south", "east", "west"];
    let mut fields = vec![
        Field::new("id", DataType::Int64, true),
        Field::new("region", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(ids.clone())),
        Arc::new(StringArray::from_iter_values(
            ids.clone().map(|i| regions[(i % 4) as usize]),
        )),
        Arc::new(Float64Array::from_iter(
            ids.clone().map(|i| (i % 9 != 0).then_some(i as f64 * 1.5)),
        )),
    ];
    if let Some(note) = note {
        fields.push(Field::new("note", DataType::Utf8, true));
        columns.push(Arc::new(StringArray::from_iter_values(
            ids.map(|i| format!("{note}-{i}")),
        )));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch")
}

async fn write(table: DeltaTable, rows: RecordBatch, mode: SaveMode) -> DeltaTable {
    table
        .write(vec![rows])
        .with_save_mode(mode)
        .await
        .expect("write")
}

/// Writes a table through a history of operations; returns its newest version.
async fn write_history(url: url::Url, partitioned: bool) -> i64 {
    let table = DeltaTable::try_from_url(url).await.expect("table handle");
    let mut create = table
        .create()
        .with_column("id", DeltaType::LONG, true, None)
        .with_column("region", DeltaType::STRING, true, None)
        .with_column("amount", DeltaType::DOUBLE, true, None)
        .with_configuration_property(deltalake::TableProperty::CheckpointInterval, Some("3"));
    if partitioned {
        create = create.with_partition_columns(["region"]);
    }
    let table = create.await.expect("create");
    let table = write(table, batch(0..100, None), SaveMode::Append).await;
    let table = write(table, batch(100..180, None), SaveMode::Append).await;
    let (table, _) = table
        .delete()
        .with_predicate("id % 7 = 0")
        .await
        .expect("delete");
    let (table, _) = table
        .update()
        .with_predicate("id < 50")
        .with_update("amount", "amount * 2")
        .await
        .expect("update");
    let ctx = SessionContext::new();
    let source = ctx.read_batch(batch(150..230, None)).expect("source");
    let (table, _) = table
        .merge(source, "target.id = source.id")
        .with_source_alias("source")
        .with_target_alias("target")
        .when_matched_update(|u| u.update("amount", "source.amount + 1000"))
        .expect("matched")
        .when_not_matched_insert(|i| {
            i.set("id", "source.id")
                .set("region", "source.region")
                .set("amount", "source.amount")
        })
        .expect("not matched")
        .await
        .expect("merge");
    let table = write(table, batch(1000..1060, None), SaveMode::Overwrite).await;
    let table = table
        .write(vec![batch(2000..2040, Some("added"))])
        .with_save_mode(SaveMode::Append)
        .with_schema_mode(SchemaMode::Merge)
        .await
        .expect("schema change");
    let (table, _) = table
        .delete()
        .with_predicate("region = 'east'")
        .await
        .expect("delete a region");
    let table = write(table, batch(3000..3030, Some("late")), SaveMode::Append).await;
    i64::try_from(table.version().expect("version")).expect("version fits")
}

async fn deltalake_reads(url: &url::Url, version: i64) -> BTreeSet<String> {
    let table = deltalake::open_table_with_version(url.clone(), version as u64)
        .await
        .expect("deltalake opens the version");
    let provider = table.table_provider().await.expect("provider");
    let ctx = SessionContext::new();
    table
        .update_datafusion_session(&ctx.state())
        .expect("session");
    ctx.register_table("t", provider).expect("register");
    let batches = ctx
        .sql("SELECT * FROM t")
        .await
        .expect("sql")
        .collect()
        .await
        .expect("deltalake reads");
    canonical(&batches)
}

async fn quiver_reads(path: &std::path::Path, version: i64) -> BTreeSet<String> {
    let session = common::session(2);
    let sql = format!(
        "SELECT * FROM read_delta('{}', version => {version})",
        path.display().to_string().replace('\'', "''")
    );
    let mut statements = session.statements(&sql).expect("parse");
    let plan = session.plan(statements.remove(0)).await.expect("plan");
    let batches: Vec<RecordBatch> = session
        .execute(plan)
        .await
        .expect("execute")
        .try_collect()
        .await
        .expect("quiver reads");
    canonical(&batches)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_written_by_deltalake_read_the_same_at_every_version() {
    for partitioned in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = url::Url::from_directory_path(dir.path()).expect("url");
        let newest = write_history(url.clone(), partitioned).await;
        assert!(newest >= 9, "the history made {newest} versions");
        let checkpoints = std::fs::read_dir(dir.path().join("_delta_log"))
            .expect("log")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".checkpoint."))
            .count();
        assert!(checkpoints >= 2, "checkpoints written: {checkpoints}");
        for version in 0..=newest {
            let theirs = deltalake_reads(&url, version).await;
            let ours = quiver_reads(dir.path(), version).await;
            eprintln!(
                "partitioned={partitioned} version {version}: {} rows",
                ours.len()
            );
            assert_eq!(
                ours, theirs,
                "partitioned={partitioned}, version {version}: Quiver and deltalake differ"
            );
        }
    }
}
