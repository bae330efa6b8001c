//! A portable, read-only Delta Lake reader.
//!
//! Neither `deltalake` nor its kernel builds for `wasm32-unknown-unknown`, so the engine
//! reads Delta itself, on both targets, through nothing but an [`object_store::ObjectStore`]:
//! - [`log`]: listing `_delta_log/`, classic, multi-part and v2 checkpoints (with sidecars),
//!   JSON commits, and replay into a [`Snapshot`]; incremental updates of a cached snapshot.
//! - [`schema`]: Delta types as Arrow types, column mapping, supported reader features, and
//!   partition values.
//! - [`dv`]: deletion vectors (inline, UUID-named files, absolute paths), checked against
//!   their size and CRC.
//! - [`provider`]: a snapshot as a DataFusion table, skipping files by partition values and
//!   statistics and handing deletion vectors to the Parquet reader as row selections.
//!
//! Time travel picks a version by number or by instant (in-commit timestamps where the table
//! has them, else commit file times). [`history`] lists commits for `DESCRIBE HISTORY`.

mod actions;
mod audit;
mod checkpoint;
mod dv;
mod log;
mod paths;
mod provider;
mod schema;
mod variant;

pub use variant::variant_to_json_udf;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use object_store::ObjectStore;
use object_store::path::Path;

pub use actions::{Add, DeletionVector, Metadata, Protocol};
pub use audit::{LiveFiles, LogWalk};
pub use log::{DeltaLog, Snapshot};
pub use provider::DeltaTable;

use crate::{Error, Result};

/// Which version of a table to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum AsOf {
    /// The newest, refreshed before each statement.
    #[default]
    Latest,
    /// A version number.
    Version(i64),
    /// The newest version committed at or before this instant.
    Timestamp(DateTime<Utc>),
}

impl AsOf {
    /// Parses a time-travel instant: ISO 8601, with or without fractional seconds, `T` or a
    /// space, and a zone (UTC when none), or a bare date (its midnight, UTC).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for text that is none of these.
    pub fn parse_timestamp(text: &str) -> Result<Self> {
        let t = text.trim();
        let iso = t.replacen(' ', "T", 1);
        if let Ok(dt) = DateTime::parse_from_rfc3339(&iso) {
            return Ok(AsOf::Timestamp(dt.with_timezone(&Utc)));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%#z"] {
            if let Ok(dt) = DateTime::parse_from_str(&iso, format) {
                return Ok(AsOf::Timestamp(dt.with_timezone(&Utc)));
            }
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(&iso, format) {
                return Ok(AsOf::Timestamp(dt.and_utc()));
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(AsOf::Timestamp(
                d.and_time(chrono::NaiveTime::MIN).and_utc(),
            ));
        }
        Err(Error::invalid(
            "TIMESTAMP AS OF",
            format!(
                "'{text}' is not a timestamp; write ISO 8601 such as '2026-01-01 00:00:00' or '2026-01-01T00:00:00.5+02:00'"
            ),
        ))
    }
}

/// What a Delta read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeltaView {
    /// The table's rows.
    #[default]
    Rows,
    /// Its commits, newest first (`DESCRIBE HISTORY t`, `delta_history(t)`).
    History,
    /// A summary of the snapshot: version, protocol, files (`delta_info(t)`).
    Info,
}

/// How a Delta table is read: which version, and what of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DeltaReadOptions {
    /// The version to read.
    pub as_of: AsOf,
    /// The rows, the history or the summary.
    pub view: DeltaView,
}

/// Snapshots already read in this session, by table root, so that reading a table again
/// replays only the commits since.
#[derive(Debug, Default)]
pub(crate) struct SnapshotCache {
    latest: Mutex<HashMap<String, Arc<Snapshot>>>,
}

impl SnapshotCache {
    /// Opens the table at `root` in `store` as of `as_of`.
    pub(crate) async fn open(
        &self,
        store: Arc<dyn ObjectStore>,
        store_url: &str,
        root: Path,
        as_of: &AsOf,
    ) -> Result<DeltaTable> {
        let log = DeltaLog::new(store, store_url.to_string(), root);
        let key = log.display();
        let cached = self
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let latest = async {
            let snapshot = match &cached {
                Some(c) => match log.update(c).await? {
                    Some(newer) => Arc::new(newer),
                    None => Arc::clone(c),
                },
                None => Arc::new(log.snapshot(None).await?),
            };
            self.latest
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.clone(), Arc::clone(&snapshot));
            Ok::<_, Error>(snapshot)
        };
        match as_of {
            AsOf::Latest => Ok(DeltaTable::new(latest.await?, true)),
            AsOf::Version(v) => {
                let snapshot = match &cached {
                    Some(c) if c.version == *v => Arc::clone(c),
                    _ => Arc::new(log.snapshot(Some(*v)).await?),
                };
                Ok(DeltaTable::new(snapshot, false))
            }
            AsOf::Timestamp(at) => {
                let version = log.version_at(*at).await?;
                Ok(DeltaTable::new(
                    Arc::new(log.snapshot(Some(version)).await?),
                    false,
                ))
            }
        }
    }
}

/// What a `read_delta` / `delta_history` / `delta_info` call reads: the rows, the history or
/// the summary.
pub(crate) async fn as_table(
    table: DeltaTable,
    view: DeltaView,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    let batch = match view {
        DeltaView::Rows => return Ok(Arc::new(table)),
        DeltaView::History => history(&table.snapshot()).await?,
        DeltaView::Info => info(&table.snapshot())?,
    };
    let table = datafusion::datasource::MemTable::try_new(batch.schema(), vec![vec![batch]])
        .map_err(Error::from_datafusion)?;
    Ok(Arc::new(table))
}

/// The table's commits, newest first, as `DESCRIBE HISTORY` shows them.
///
/// # Errors
/// When the log cannot be listed or a commit cannot be read.
pub async fn history(snapshot: &Snapshot) -> Result<RecordBatch> {
    let commits = snapshot.log.commits().await?;
    let text = |c: &log::CommitSummary, key: &str| -> Option<String> {
        match c.info.get(key)? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    };
    let string_column = |key: &str| -> ArrayRef {
        Arc::new(
            commits
                .iter()
                .map(|c| text(c, key))
                .collect::<StringArray>(),
        )
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int64, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("operation", DataType::Utf8, true),
        Field::new("operation_parameters", DataType::Utf8, true),
        Field::new("user_metadata", DataType::Utf8, true),
        Field::new("operation_metrics", DataType::Utf8, true),
        Field::new("engine_info", DataType::Utf8, true),
    ]));
    let engine: StringArray = commits
        .iter()
        .map(|c| text(c, "engineInfo").or_else(|| text(c, "clientVersion")))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(commits.iter().map(|c| c.version).collect::<Int64Array>()),
        Arc::new(
            commits
                .iter()
                .map(|c| Some(c.timestamp.timestamp_millis()))
                .collect::<TimestampMillisecondArray>()
                .with_timezone("UTC"),
        ),
        string_column("operation"),
        string_column("operationParameters"),
        string_column("userMetadata"),
        string_column("operationMetrics"),
        Arc::new(engine),
    ];
    RecordBatch::try_new(schema, columns).map_err(|e| Error::from_datafusion(e.into()))
}

/// What `quiver delta info` prints: version, protocol, features, files, size, partitioning.
///
/// # Errors
/// Never in practice; the result is built from the snapshot in memory.
pub fn info(snapshot: &Snapshot) -> Result<RecordBatch> {
    let files: Vec<&Add> = snapshot.files().collect();
    let size: i64 = files.iter().map(|a| a.size).sum();
    let rows: Option<u64> = files
        .iter()
        .map(|a| {
            let stats: serde_json::Value = serde_json::from_str(a.stats.as_deref()?).ok()?;
            let n = stats.get("numRecords")?.as_u64()?;
            let deleted = a
                .deletion_vector
                .as_ref()
                .map_or(0, |d| u64::try_from(d.cardinality).unwrap_or_default());
            Some(n.saturating_sub(deleted))
        })
        .sum();
    let list = |v: &Option<Vec<String>>| v.as_ref().map_or("-".to_string(), |f| f.join(", "));
    let m = &snapshot.metadata;
    let pairs: Vec<(&str, String)> = vec![
        ("location", snapshot.location()),
        ("version", snapshot.version.to_string()),
        ("id", m.id.clone().unwrap_or_default()),
        ("name", m.name.clone().unwrap_or_default()),
        ("description", m.description.clone().unwrap_or_default()),
        (
            "created",
            m.created_time
                .and_then(DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
        ),
        (
            "min_reader_version",
            snapshot.protocol.min_reader_version.to_string(),
        ),
        (
            "min_writer_version",
            snapshot.protocol.min_writer_version.to_string(),
        ),
        ("reader_features", list(&snapshot.protocol.reader_features)),
        ("writer_features", list(&snapshot.protocol.writer_features)),
        ("partition_columns", m.partition_columns.join(", ")),
        (
            "column_mapping",
            m.config("delta.columnMapping.mode")
                .unwrap_or("none")
                .to_string(),
        ),
        ("files", files.len().to_string()),
        ("size_bytes", size.to_string()),
        (
            "rows",
            rows.map_or("unknown (files without statistics)".into(), |r| {
                r.to_string()
            }),
        ),
        (
            "files_with_deletion_vectors",
            files
                .iter()
                .filter(|a| a.deletion_vector.is_some())
                .count()
                .to_string(),
        ),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("property", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(pairs.iter().map(|(k, _)| Some(*k)).collect::<StringArray>()),
            Arc::new(
                pairs
                    .iter()
                    .map(|(_, v)| Some(v.as_str()))
                    .collect::<StringArray>(),
            ),
        ],
    )
    .map_err(|e| Error::from_datafusion(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use object_store::ObjectStoreExt;
    use object_store::memory::InMemory;

    const PROTOCOL: &str = r#"{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}"#;

    /// A `metaData` action whose schema has a `long` column `id` and a `void` column `v`;
    /// without the schema when `schema` is false.
    fn metadata(schema: bool) -> String {
        let fields = r#"{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"v","type":"void","nullable":true,"metadata":{}}]}"#;
        let schema = if schema {
            format!(r#""schemaString":{},"#, serde_json::Value::from(fields))
        } else {
            String::new()
        };
        format!(
            r#"{{"metaData":{{"id":"t","format":{{"provider":"parquet","options":{{}}}},{schema}"partitionColumns":[],"configuration":{{}},"createdTime":0}}}}"#
        )
    }

    /// Writes a Parquet file holding `id` alone (Spark writes no void columns) as
    /// `t/part-0.parquet`, and returns its `add` action.
    async fn data_file(store: &InMemory) -> String {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2]))]).unwrap();
        let mut bytes = Vec::new();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let size = bytes.len();
        store
            .put(&"t/part-0.parquet".into(), bytes.into())
            .await
            .unwrap();
        format!(
            r#"{{"add":{{"path":"part-0.parquet","partitionValues":{{}},"size":{size},"modificationTime":0,"dataChange":true}}}}"#
        )
    }

    /// A session over a table `t` whose commits hold `commits`' actions, one line each.
    async fn table(store: Arc<InMemory>, commits: &[Vec<String>]) -> crate::Session {
        for (version, actions) in commits.iter().enumerate() {
            let path = format!("t/_delta_log/{version:020}.json");
            store
                .put(
                    &path.as_str().into(),
                    actions.join("\n").into_bytes().into(),
                )
                .await
                .unwrap();
        }
        crate::Session::new(crate::HostConfig::in_memory(store)).unwrap()
    }

    async fn shown(session: &crate::Session, sql: &str) -> crate::Result<String> {
        let batches = session.query(sql).await?;
        Ok(pretty_format_batches(&batches).unwrap().to_string())
    }

    #[tokio::test]
    async fn void_columns_read_as_nulls() {
        let store = Arc::new(InMemory::new());
        let add = data_file(&store).await;
        let session = table(
            Arc::clone(&store),
            &[vec![PROTOCOL.into(), metadata(true), add]],
        )
        .await;
        let out = shown(
            &session,
            "SELECT id, v, arrow_typeof(v) AS t FROM read_delta('t') ORDER BY id",
        )
        .await
        .unwrap();
        let expected = [
            "+----+---+------+",
            "| id | v | t    |",
            "+----+---+------+",
            "| 1  |   | Null |",
            "| 2  |   | Null |",
            "+----+---+------+",
        ];
        assert_eq!(out, expected.join("\n"));
    }

    #[tokio::test]
    async fn a_schema_given_in_a_later_commit_is_read_from_that_version() {
        let store = Arc::new(InMemory::new());
        let add = data_file(&store).await;
        let session = table(
            Arc::clone(&store),
            &[
                vec![PROTOCOL.into(), metadata(false)],
                vec![metadata(true), add],
            ],
        )
        .await;
        let err = shown(&session, "SELECT * FROM read_delta('t', version => 0)")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("version 0 has no schema") && err.contains("schemaString"),
            "{err}"
        );
        let out = shown(&session, "SELECT count(*) AS n FROM read_delta('t')")
            .await
            .unwrap();
        assert!(out.contains("| 2 |"), "{out}");
        let out = shown(&session, "SELECT count(*) AS n FROM 't' VERSION AS OF 1")
            .await
            .unwrap();
        assert!(out.contains("| 2 |"), "{out}");
    }

    #[test]
    fn timestamps_take_iso_8601_forms() {
        let utc = |s: &str| match AsOf::parse_timestamp(s).unwrap() {
            AsOf::Timestamp(t) => t.to_rfc3339(),
            other => panic!("{other:?}"),
        };
        assert_eq!(utc("2026-01-01 00:00:00"), "2026-01-01T00:00:00+00:00");
        assert_eq!(
            utc("2026-01-01T00:00:00.250Z"),
            "2026-01-01T00:00:00.250+00:00"
        );
        assert_eq!(
            utc("2026-01-01T02:00:00+02:00"),
            "2026-01-01T00:00:00+00:00"
        );
        assert_eq!(utc("2026-01-01"), "2026-01-01T00:00:00+00:00");
        assert!(AsOf::parse_timestamp("yesterday").is_err());
    }
}
