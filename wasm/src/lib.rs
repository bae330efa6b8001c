//! quiver-wasm: the engine compiled to `wasm32-unknown-unknown` behind a wasm-bindgen API.
//!
//! This is the browser and Node home of the planner the native CLI uses. The host gives the
//! engine two kinds of storage: files the page hands over (bytes, or `File`/`Blob` objects
//! read by range) under `memory:///`, and `http(s)` URLs read with range requests through
//! `fetch`. Everything is read-only: statements that would write get a clear error.
//!
//! The parts that do not touch JavaScript (configuration, the read-only rule, encoding
//! results) live here and are tested natively; the bindings are in `browser`.

use std::sync::Arc;

use quiver_engine::arrow::datatypes::{DataType, Schema, SchemaRef};
use quiver_engine::arrow::record_batch::RecordBatch;
use quiver_engine::datafusion::execution::SendableRecordBatchStream;
use quiver_engine::datafusion::sql::parser::Statement;
use quiver_engine::datafusion::sql::sqlparser::ast::Statement as Sql;
use quiver_engine::sql::Parsed;
use quiver_engine::{HostConfig, Session};

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod stores;

/// Where files handed over by the page live; relative paths in SQL resolve against it.
pub const MEMORY_ROOT: &str = "memory:///";

/// The host configuration used in the browser: one partition (no threads) and no spilling.
pub fn browser_config(memory_limit: Option<usize>, batch_size: Option<usize>) -> HostConfig {
    let config = HostConfig::default()
        .with_target_partitions(1)
        .with_spill(false, None)
        .with_memory_limit(memory_limit)
        .with_base_dir(MEMORY_ROOT);
    match batch_size {
        Some(n) => config.with_batch_size(n),
        None => config,
    }
}

/// Refuses statements that write: the browser build reads data and never changes it.
///
/// # Errors
/// A message naming the statement and pointing to the native CLI.
pub fn check_read_only(statement: &Statement) -> Result<(), String> {
    let what = match statement {
        Statement::CopyTo(_) => Some("COPY"),
        Statement::Statement(s) => match s.as_ref() {
            Sql::Insert(_) => Some("INSERT"),
            Sql::Update(_) => Some("UPDATE"),
            Sql::Delete(_) => Some("DELETE"),
            Sql::Merge(_) => Some("MERGE"),
            Sql::Truncate(_) => Some("TRUNCATE"),
            Sql::Copy { .. } => Some("COPY"),
            // An in-memory table built from a query stays in the page; a table with storage
            // (`USING DELTA`, `LOCATION`) would be written.
            Sql::CreateTable(t) if t.query.is_none() || t.location.is_some() => {
                Some("CREATE TABLE")
            }
            _ => None,
        },
        _ => None,
    };
    match what {
        Some(what) => Err(native_only(what)),
        None => Ok(()),
    }
}

fn native_only(what: &str) -> String {
    format!(
        "{what} is native-only: Quiver in the browser reads data but does not write it (use the quiver CLI)"
    )
}

/// Encodes `batches` as an Arrow IPC stream (what `apache-arrow`'s `tableFromIPC` reads).
/// String and binary views become plain strings and binaries first: `apache-arrow` (JS)
/// does not read view types, which DataFusion produces for Parquet strings.
///
/// # Errors
/// The encoder's error, as text.
pub fn to_ipc(schema: SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, String> {
    use quiver_engine::output::{Format, OutputOptions, encode};
    let plain = Arc::new(Schema::new_with_metadata(
        schema
            .fields()
            .iter()
            .map(|f| {
                f.as_ref()
                    .clone()
                    .with_data_type(without_views(f.data_type()))
            })
            .collect::<Vec<_>>(),
        schema.metadata().clone(),
    ));
    let batches = if plain == schema {
        batches.to_vec()
    } else {
        batches
            .iter()
            .map(|b| {
                let columns = b
                    .columns()
                    .iter()
                    .zip(plain.fields())
                    .map(|(c, f)| quiver_engine::arrow::compute::cast(c, f.data_type()))
                    .collect::<Result<Vec<_>, _>>()?;
                RecordBatch::try_new(Arc::clone(&plain), columns)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?
    };
    encode(Format::Arrow, plain, &batches, &OutputOptions::default()).map_err(|e| e.to_string())
}

/// Re-encodes an Arrow IPC stream (a result the page holds) as `format` (csv, json, ndjson,
/// parquet, arrow, markdown), optionally keeping only the rows at `rows`, in that order (a
/// result the page has sorted). The page exports what it shows without running the query
/// again.
///
/// # Errors
/// Bytes that are not an Arrow IPC stream, an unknown format, a row index past the end.
pub fn convert(ipc: &[u8], format: &str, rows: Option<&[u32]>) -> Result<Vec<u8>, String> {
    use quiver_engine::arrow::array::UInt32Array;
    use quiver_engine::arrow::compute::{concat_batches, take_record_batch};
    use quiver_engine::arrow::ipc::reader::StreamReader;
    use quiver_engine::output::{Format, OutputOptions, encode};
    let format: Format = format.parse().map_err(|e| format!("{e}"))?;
    let reader = StreamReader::try_new(std::io::Cursor::new(ipc), None)
        .map_err(|e| format!("not an Arrow IPC stream: {e}"))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not an Arrow IPC stream: {e}"))?;
    let batches = match rows {
        None => batches,
        Some(rows) => {
            let all = concat_batches(&schema, &batches).map_err(|e| e.to_string())?;
            if let Some(&bad) = rows.iter().find(|&&r| r as usize >= all.num_rows()) {
                return Err(format!(
                    "row {bad} is past the end of the result ({} rows)",
                    all.num_rows()
                ));
            }
            let indices = UInt32Array::from(rows.to_vec());
            vec![take_record_batch(&all, &indices).map_err(|e| e.to_string())?]
        }
    };
    let options = OutputOptions {
        max_rows: None,
        row_count: false,
        ..OutputOptions::default()
    };
    encode(format, schema, &batches, &options).map_err(|e| e.to_string())
}

/// `t` with every string or binary view (at any depth) as a plain string or binary.
fn without_views(t: &DataType) -> DataType {
    use quiver_engine::arrow::datatypes::Field;
    let field = |f: &Arc<Field>| {
        Arc::new(
            f.as_ref()
                .clone()
                .with_data_type(without_views(f.data_type())),
        )
    };
    match t {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::ListView(f) | DataType::List(f) => DataType::List(field(f)),
        DataType::LargeListView(f) | DataType::LargeList(f) => DataType::LargeList(field(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(field(f), *n),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect()),
        DataType::Map(f, sorted) => DataType::Map(field(f), *sorted),
        DataType::Dictionary(k, v) => DataType::Dictionary(k.clone(), Box::new(without_views(v))),
        other => other.clone(),
    }
}

/// A table's columns as JSON: `[{"name", "type", "nullable"}]`.
pub fn schema_json(schema: &Schema) -> String {
    let columns: Vec<serde_json::Value> = schema
        .fields()
        .iter()
        .map(|f| {
            serde_json::json!({
                "name": f.name(),
                "type": type_name(f.data_type()),
                "nullable": f.is_nullable(),
            })
        })
        .collect();
    serde_json::Value::Array(columns).to_string()
}

fn type_name(t: &DataType) -> String {
    t.to_string()
}

/// Plans and runs every statement of `sql` in order, refusing writes first; the last
/// statement's rows as a stream (the others have finished when it returns).
///
/// # Errors
/// The engine's error, as text; "no SQL statement to run" for empty text.
pub async fn start(session: &Session, sql: &str) -> Result<SendableRecordBatchStream, String> {
    use futures::TryStreamExt;
    // The engine's front end parses the script; a Delta statement only the native writer
    // runs is named, rather than reported as a syntax error.
    let mut statements = Vec::new();
    for parsed in session.parse(sql).map_err(|e| e.to_string())? {
        match parsed {
            Parsed::Sql(statement) => {
                check_read_only(&statement)?;
                statements.push(statement);
            }
            Parsed::Delta(delta) => return Err(native_only(delta.name())),
        }
    }
    let last = statements.pop().ok_or("no SQL statement to run")?;
    for statement in statements {
        let plan = session.plan(statement).await.map_err(|e| e.to_string())?;
        let stream = session.execute(plan).await.map_err(|e| e.to_string())?;
        stream
            .try_for_each(|_| async { Ok(()) })
            .await
            .map_err(|e| e.to_string())?;
    }
    let plan = session.plan(last).await.map_err(|e| e.to_string())?;
    session.execute(plan).await.map_err(|e| e.to_string())
}

/// As [`start`], with the last statement's schema and rows collected.
///
/// # Errors
/// As [`start`].
pub async fn run(session: &Session, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
    use futures::TryStreamExt;
    let stream = start(session, sql).await?;
    let schema = stream.schema();
    let batches = stream.try_collect().await.map_err(|e| e.to_string())?;
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(sql: &str) -> Statement {
        let session = Session::new(browser_config(None, None)).unwrap();
        session.statements(sql).unwrap().remove(0)
    }

    #[test]
    fn writes_are_refused_by_name() {
        for (sql, what) in [
            ("INSERT INTO t VALUES (1)", "INSERT"),
            ("COPY (SELECT 1) TO 'x.parquet'", "COPY"),
            ("DELETE FROM t WHERE a = 1", "DELETE"),
            ("UPDATE t SET a = 1", "UPDATE"),
            ("CREATE TABLE t (a INT) LOCATION 'x'", "CREATE TABLE"),
        ] {
            let err = check_read_only(&first(sql)).unwrap_err();
            assert!(
                err.starts_with(what) && err.contains("native-only"),
                "{sql}: {err}"
            );
        }
        for sql in [
            "SELECT 1",
            "CREATE VIEW v AS SELECT 1",
            "CREATE TABLE m AS SELECT 1 AS a",
            "EXPLAIN SELECT 1",
        ] {
            assert!(check_read_only(&first(sql)).is_ok(), "{sql}");
        }
    }

    #[tokio::test]
    async fn results_are_arrow_ipc_streams() {
        let session = Session::new(browser_config(None, Some(2))).unwrap();
        let (schema, batches) = run(&session, "SELECT * FROM (VALUES (1), (2), (3)) t(a)")
            .await
            .unwrap();
        let bytes = to_ipc(schema, &batches).unwrap();
        let reader =
            quiver_engine::arrow::ipc::reader::StreamReader::try_new(&bytes[..], None).unwrap();
        let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 3);
        // Views (which apache-arrow in JS cannot read) leave as plain strings.
        let (schema, batches) = run(&session, "SELECT arrow_cast('a', 'Utf8View') AS s")
            .await
            .unwrap();
        let bytes = to_ipc(schema, &batches).unwrap();
        let reader =
            quiver_engine::arrow::ipc::reader::StreamReader::try_new(&bytes[..], None).unwrap();
        assert_eq!(reader.schema().field(0).data_type(), &DataType::Utf8);
        let err = run(&session, "INSERT INTO x VALUES (1)").await.unwrap_err();
        assert!(err.contains("native-only"), "{err}");
        for (sql, what) in [
            ("OPTIMIZE t", "OPTIMIZE"),
            ("SELECT 1; vacuum delta.`/x` RETAIN 0 HOURS", "VACUUM"),
            ("CHECKPOINT t", "CHECKPOINT"),
            ("RESTORE TABLE t TO VERSION AS OF 1", "RESTORE"),
            (
                "CREATE TABLE t (a INT) USING DELTA LOCATION '/x'",
                "CREATE TABLE ... USING DELTA",
            ),
        ] {
            let err = run(&session, sql).await.unwrap_err();
            assert!(
                err.starts_with(what) && err.contains("native-only"),
                "{sql}: {err}"
            );
        }
        // A word in a string or a name is not a statement.
        assert!(run(&session, "SELECT 'OPTIMIZE' AS optimize").await.is_ok());
    }

    #[tokio::test]
    async fn results_convert_to_export_formats_in_the_shown_order() {
        let session = Session::new(browser_config(None, Some(2))).unwrap();
        let (schema, batches) = run(
            &session,
            "SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (3, 'z')) t(a, b)",
        )
        .await
        .unwrap();
        let ipc = to_ipc(schema, &batches).unwrap();
        let csv = convert(&ipc, "csv", None).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "a,b\n1,x\n2,y\n3,z\n");
        // Rows picked and ordered as the page shows them, across batch boundaries.
        let csv = convert(&ipc, "csv", Some(&[2, 0])).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "a,b\n3,z\n1,x\n");
        let parquet = convert(&ipc, "parquet", Some(&[1])).unwrap();
        assert_eq!(&parquet[..4], b"PAR1");
        let reader =
            quiver_engine::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
                bytes::Bytes::from(parquet),
                1024,
            )
            .unwrap();
        let rows: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(rows.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
        let arrow = convert(&ipc, "arrow", None).unwrap();
        assert_eq!(arrow, ipc);
        assert!(
            convert(&ipc, "csv", Some(&[3]))
                .unwrap_err()
                .contains("past the end")
        );
        assert!(
            convert(&ipc, "xlsx", None)
                .unwrap_err()
                .contains("unknown format")
        );
        assert!(
            convert(b"nonsense", "csv", None)
                .unwrap_err()
                .contains("not an Arrow IPC stream")
        );
    }
}
