//! Delta writes through the `deltalake` crate: `CREATE TABLE ... USING DELTA`,
//! `INSERT [OVERWRITE]`, `UPDATE`, `DELETE`, `MERGE`, `OPTIMIZE`, `VACUUM`, `CHECKPOINT` and
//! `RESTORE`, in the syntax Delta users know from Spark and Databricks, and `quiver delta
//! verify`.
//!
//! The engine stays read-only and portable: it parses these statements (see
//! [`quiver_engine::sql`]), plans the queries that feed a write (`INSERT ... SELECT`, a `MERGE`
//! source), and reads the table back with its own Delta reader. The statement router
//! ([`crate::run`]) sends a statement here only when it changes a Delta table. Every
//! statement commits once or not at all: data files a failed statement wrote are never
//! referenced by the log, so readers never see them.
//!
//! One file per operation: [`create`], [`dml`] (INSERT, UPDATE, DELETE), [`merge`],
//! [`maintenance`] (OPTIMIZE, VACUUM, CHECKPOINT, RESTORE); [`table`] finds and opens tables;
//! [`verify`] checks one.

mod create;
mod dml;
mod maintenance;
mod merge;
mod table;
mod verify;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{self as ast, ObjectName, Statement as Sql};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use quiver_engine::Session;
use quiver_engine::sql::{DeltaStatement, Target};

use crate::{Error, Result};

pub use table::{is_delta_target, verify_table};
pub use verify::Report;

/// How writes are made: the CLI's `--compression`, `--commit-message`,
/// `--checkpoint-interval` and `--force`.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// The codec of new Parquet data files (zstd by default).
    pub compression: Compression,
    /// Stored as the commit's `userMetadata`.
    pub commit_message: Option<String>,
    /// Write a checkpoint every this many commits. `None`: the table's
    /// `delta.checkpointInterval`, else 10 as Delta's own default.
    pub checkpoint_interval: Option<u64>,
    /// Let `VACUUM` use a retention shorter than the table's minimum.
    pub force: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            compression: Compression::ZSTD(ZstdLevel::default()),
            commit_message: None,
            checkpoint_interval: None,
            force: false,
        }
    }
}

/// Parses a codec name for `--compression`: zstd, snappy, gzip, lz4, brotli or none.
///
/// # Errors
/// An unknown name.
pub fn parse_compression(name: &str) -> std::result::Result<Compression, String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "zstd" => Compression::ZSTD(ZstdLevel::default()),
        "snappy" => Compression::SNAPPY,
        "gzip" => Compression::GZIP(Default::default()),
        "lz4" => Compression::LZ4_RAW,
        "brotli" => Compression::BROTLI(Default::default()),
        "none" | "uncompressed" => Compression::UNCOMPRESSED,
        other => {
            return Err(format!(
                "unknown compression '{other}'; choose zstd, snappy, gzip, lz4, brotli or none"
            ));
        }
    })
}

/// Runs Delta writes against a session's tables.
#[derive(Debug, Clone, Default)]
pub struct DeltaWriter {
    options: WriteOptions,
}

impl DeltaWriter {
    /// A writer with `options`.
    pub fn new(options: WriteOptions) -> Self {
        Self { options }
    }

    /// Runs a Delta statement (as [`quiver_engine::sql`] parsed it) and returns what it did,
    /// as one small table.
    ///
    /// # Errors
    /// Bad input (a missing table, a column that does not exist, a retention below the
    /// table's minimum) and storage errors; the table stays at its previous version.
    pub async fn run(&self, session: &Session, statement: DeltaStatement) -> Result<RecordBatch> {
        match statement {
            DeltaStatement::Create(create) => self.create(session, *create).await,
            DeltaStatement::Optimize {
                target,
                predicate,
                zorder,
            } => self.optimize(session, &target, predicate, zorder).await,
            DeltaStatement::Vacuum {
                target,
                retain_hours,
                dry_run,
            } => self.vacuum(session, &target, retain_hours, dry_run).await,
            DeltaStatement::Checkpoint { target } => self.checkpoint(session, &target).await,
            DeltaStatement::Restore { target, to } => self.restore(session, &target, to).await,
        }
    }

    fn commit_properties(&self) -> CommitProperties {
        // Checkpoints are written after the commit, at this writer's interval.
        let properties = CommitProperties::default().with_create_checkpoint(false);
        match &self.options.commit_message {
            Some(message) => properties.with_metadata([(
                "userMetadata".to_string(),
                serde_json::Value::String(message.clone()),
            )]),
            None => properties,
        }
    }

    fn writer_properties(&self) -> WriterProperties {
        WriterProperties::builder()
            .set_compression(self.options.compression)
            .build()
    }

    /// What a committed statement did: its version first, then `counts`; a checkpoint is
    /// written first when the version calls for one.
    async fn committed(
        &self,
        target: &Target,
        table: &DeltaTable,
        counts: &[(&str, i64)],
    ) -> Result<RecordBatch> {
        self.after_commit(target, table).await?;
        let mut columns = vec![("version", version_of(table))];
        columns.extend_from_slice(counts);
        summary(&columns)
    }

    /// Writes a checkpoint when the new version is a multiple of the interval.
    async fn after_commit(&self, target: &Target, table: &DeltaTable) -> Result<()> {
        let Some(version) = table.version() else {
            return Ok(());
        };
        let interval = self.options.checkpoint_interval.or_else(|| {
            table
                .snapshot()
                .ok()?
                .metadata()
                .configuration()
                .get("delta.checkpointInterval")?
                .parse()
                .ok()
        });
        let interval = interval.unwrap_or(CHECKPOINT_INTERVAL);
        if version > 0 && interval > 0 && version.is_multiple_of(interval) {
            deltalake::checkpoints::create_checkpoint(table, None)
                .await
                .map_err(|e| delta_error(target, e))?;
        }
        Ok(())
    }

    /// Runs an `INSERT`, `UPDATE`, `DELETE` or `MERGE` whose target (see
    /// [`quiver_engine::sql::dml_target`]) is a Delta table, and returns what it did.
    ///
    /// # Errors
    /// As [`DeltaWriter::run`]; a statement of another kind is
    /// [`Error::InvalidStatement`].
    pub async fn write(
        &self,
        session: &Session,
        target: &Target,
        statement: &Statement,
    ) -> Result<RecordBatch> {
        let Statement::Statement(sql) = statement else {
            return Err(Error::invalid(
                "write",
                "not an INSERT, UPDATE, DELETE or MERGE",
            ));
        };
        match sql.as_ref() {
            Sql::Insert(insert) => self.insert(session, target, insert).await,
            Sql::Update(update) => self.update(session, target, update).await,
            Sql::Delete(delete) => self.delete(session, target, delete).await,
            Sql::Merge(merge) => self.merge(session, target, merge).await,
            _ => Err(Error::invalid(
                "write",
                "not an INSERT, UPDATE, DELETE or MERGE",
            )),
        }
    }
}

/// The default number of commits between checkpoints, as in Delta's own writers.
const CHECKPOINT_INTERVAL: u64 = 10;

/// The session's state (its object stores, configuration and functions) with deltalake's
/// planner, which knows the plan nodes deltalake's writers add.
fn delta_state_owned(session: &Session) -> datafusion::execution::SessionState {
    datafusion::execution::SessionStateBuilder::new_from_existing(session.state())
        .with_query_planner(deltalake::delta_datafusion::planner::DeltaPlanner::new())
        .build()
}

fn delta_state(session: &Session) -> Arc<datafusion::execution::SessionState> {
    Arc::new(delta_state_owned(session))
}

/// A one-row table of counts: what a statement did.
fn summary(columns: &[(&str, i64)]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, _)| {
                Field::new(*name, datafusion::arrow::datatypes::DataType::Int64, false)
            })
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|(_, v)| Arc::new(Int64Array::from(vec![*v])) as ArrayRef)
        .collect();
    RecordBatch::try_new(schema, arrays)
        .map_err(|e| quiver_engine::Error::Internal(format!("a write's summary: {e}")).into())
}

fn delta_error(target: &Target, e: impl std::fmt::Display) -> Error {
    Error::DeltaWrite {
        table: target.to_string(),
        message: e.to_string(),
    }
}

fn version_of(table: &DeltaTable) -> i64 {
    table.version().map_or(-1, |v| v as i64)
}

/// Plans a query with the engine (paths, `read_*` functions and Delta tables resolve as in
/// any query).
async fn plan_query(session: &Session, query: &ast::Query) -> Result<LogicalPlan> {
    Ok(session
        .plan(Statement::Statement(Box::new(Sql::Query(Box::new(
            query.clone(),
        )))))
        .await?)
}

async fn plan_sql(session: &Session, sql: &str) -> Result<LogicalPlan> {
    let mut statements = session.statements(sql)?;
    let statement = statements
        .pop()
        .ok_or_else(|| Error::invalid("query", "empty query"))?;
    Ok(session.plan(statement).await?)
}

fn last_ident(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_else(|| name.to_string())
}

/// An error naming the table's columns when it has no column `column`.
fn check_column(schema: &Schema, column: &str, what: &'static str) -> Result<()> {
    if schema.field_with_name(column).is_ok() {
        return Ok(());
    }
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    Err(Error::invalid(
        what,
        format!(
            "the table has no column '{column}' (columns: {})",
            names.join(", ")
        ),
    ))
}

/// The rows the newest commit added, from its `operationMetrics`.
async fn added_rows(table: &DeltaTable) -> i64 {
    let Some(version) = table.version() else {
        return 0;
    };
    let Ok(Some(bytes)) = table.log_store().read_commit_entry(version).await else {
        return 0;
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|action| {
            let metrics = action.get("commitInfo")?.get("operationMetrics")?;
            let n = metrics
                .get("num_added_rows")
                .or_else(|| metrics.get("numOutputRows"))?;
            n.as_i64().or_else(|| n.as_str()?.parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_names() {
        assert!(matches!(
            parse_compression("ZSTD"),
            Ok(Compression::ZSTD(_))
        ));
        assert!(matches!(
            parse_compression("none"),
            Ok(Compression::UNCOMPRESSED)
        ));
        assert!(parse_compression("rar").is_err());
    }
}
