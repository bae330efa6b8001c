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
    options: &crate::sources::ReadOptions,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    let batch = if options.history {
        history(&table.snapshot()).await?
    } else if options.info {
        info(&table.snapshot())?
    } else {
        return Ok(Arc::new(table));
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
