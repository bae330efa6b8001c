//! Delta writes for the native CLI, through the `deltalake` crate: `CREATE TABLE ... USING
//! DELTA`, `INSERT [OVERWRITE]`, `UPDATE`, `DELETE`, `MERGE`, `OPTIMIZE`, `VACUUM`,
//! `CHECKPOINT` and `RESTORE`, in the syntax Delta users know from Spark and Databricks.
//!
//! The engine stays read-only and portable: queries that feed a write (`INSERT ... SELECT`,
//! a `MERGE` source) are planned by the engine's [`Session`], and the table is read back by
//! the engine's own Delta reader. Every statement commits once or not at all: data files a
//! failed statement wrote are never referenced by the log, so readers never see them.

mod parse;
mod verify;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::{Column, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, lit};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self as ast, AssignmentTarget, FromTable, MergeAction, MergeClauseKind, MergeInsertKind,
    ObjectName, Statement as Sql, TableFactor, TableObject,
};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::optimize::OptimizeType;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use deltalake::{FilterOp, FilterValue};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use quiver_engine::statements::{delta_write_kind, split_statements};
use quiver_engine::{Error, Result, Session};
use url::Url;

use parse::{Create, RestoreTo, Target, target_of, target_of_name};
pub use parse::{DeltaStatement, parse};
pub use verify::Report;

/// A statement ready to run: SQL for the engine, or a Delta statement the engine's parser
/// does not know (`CREATE TABLE ... USING DELTA`, `OPTIMIZE`, `VACUUM` ...).
#[derive(Debug)]
pub enum Step {
    /// Planned by the engine, unless [`DeltaWriter::intercept`] takes it.
    Sql(Statement),
    /// Run by [`DeltaWriter::run`].
    Delta(DeltaStatement),
}

/// Parses every statement of `sql` before any runs, so a syntax error anywhere runs
/// nothing. A script with Delta statements is split at its semicolons and each part parsed
/// by the grammar it belongs to; any other script is parsed whole by the engine.
///
/// # Errors
/// The first syntax error.
pub fn steps(session: &Session, sql: &str) -> Result<Vec<Step>> {
    let parts = split_statements(sql);
    if !parts.iter().any(|p| delta_write_kind(p).is_some()) {
        return Ok(session
            .statements(sql)?
            .into_iter()
            .map(Step::Sql)
            .collect());
    }
    let mut steps = Vec::new();
    for part in parts {
        if delta_write_kind(part).is_some() {
            let statement = parse(part).map_err(|e| Error::Syntax {
                message: e.to_string(),
                original: None,
            })?;
            steps.push(Step::Delta(statement));
        } else {
            steps.extend(session.statements(part)?.into_iter().map(Step::Sql));
        }
    }
    Ok(steps)
}

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

/// The default number of commits between checkpoints, as in Delta's own writers.
const CHECKPOINT_INTERVAL: u64 = 10;

impl DeltaWriter {
    /// A writer with `options`.
    pub fn new(options: WriteOptions) -> Self {
        Self { options }
    }

    /// Runs a statement from [`parse`] and returns what it did, as one small table.
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
            DeltaStatement::Checkpoint { target } => {
                let table = self.open(session, &target).await?;
                deltalake::checkpoints::create_checkpoint(&table, None)
                    .await
                    .map_err(|e| delta_error(&target, e))?;
                Ok(summary(&[("version", version_of(&table))]))
            }
            DeltaStatement::Restore { target, to } => self.restore(session, &target, to).await,
        }
    }

    /// Runs one step: a Delta statement or a write into a Delta table here, anything else
    /// through the engine. The rows come back as a stream (a write's is its summary).
    ///
    /// # Errors
    /// As [`DeltaWriter::run`] and the engine's planning.
    pub async fn execute(
        &self,
        session: &Session,
        step: Step,
    ) -> Result<datafusion::execution::SendableRecordBatchStream> {
        let batch = match step {
            Step::Delta(statement) => self.run(session, statement).await?,
            Step::Sql(statement) => match self.intercept(session, &statement).await {
                Some(done) => done?,
                None => {
                    let plan = session.plan(statement).await?;
                    return session.execute(plan).await;
                }
            },
        };
        Ok(Box::pin(
            datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
                batch.schema(),
                futures::stream::iter([Ok(batch)]),
            ),
        ))
    }

    /// Runs `statement` when it is an `INSERT`, `UPDATE`, `DELETE` or `MERGE` into a Delta
    /// table (`` delta.`path` `` or a registered Delta table); `None` leaves it to the
    /// engine (a memory table, a query).
    pub async fn intercept(
        &self,
        session: &Session,
        statement: &Statement,
    ) -> Option<Result<RecordBatch>> {
        let Statement::Statement(sql) = statement else {
            return None;
        };
        let target = match sql.as_ref() {
            Sql::Insert(insert) => match &insert.table {
                TableObject::TableName(name) => target_of_name(name),
                _ => return None,
            },
            Sql::Update(update) => target_of(&update.table.relation)?,
            Sql::Delete(delete) => {
                let tables = match &delete.from {
                    FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
                };
                target_of(&tables.first()?.relation)?
            }
            Sql::Merge(merge) => target_of(&merge.table)?,
            _ => return None,
        };
        if let Target::Name(name) = &target
            && session.delta_table_url(name).await.is_none()
        {
            return None;
        }
        Some(match sql.as_ref() {
            Sql::Insert(insert) => self.insert(session, &target, insert).await,
            Sql::Update(update) => self.update(session, &target, update).await,
            Sql::Delete(delete) => self.delete(session, &target, delete).await,
            Sql::Merge(merge) => self.merge(session, &target, merge).await,
            _ => unreachable!("matched above"),
        })
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

    /// The table behind `target`, which must exist.
    async fn open(&self, session: &Session, target: &Target) -> Result<DeltaTable> {
        let url = resolve(session, target).await?;
        match load_table(url).await {
            Ok(table) if table.version().is_some() => Ok(table),
            Ok(_) => Err(no_table(target)),
            Err(e) if e.to_string().contains("does not exist") => Err(no_table(target)),
            Err(e) => Err(delta_error(target, e)),
        }
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
        Ok(summary(&columns))
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

    async fn create(&self, session: &Session, create: Create) -> Result<RecordBatch> {
        let (location, name) = match (&create.target, &create.location) {
            (Target::Path(path), None) => (path.clone(), None),
            (Target::Path(_), Some(_)) => {
                return Err(invalid(
                    "CREATE TABLE",
                    "give the table either as delta.`path` or with LOCATION, not both",
                ));
            }
            (Target::Name(name), Some(location)) => (location.clone(), Some(name.clone())),
            // A named table without a location lives in a folder of that name here.
            (Target::Name(name), None) => (name.clone(), Some(name.clone())),
        };
        let target = Target::Path(location.clone());
        if let Some(name) = &name
            && session.table_names().iter().any(|t| t == name)
            && !create.or_replace
            && !create.if_not_exists
        {
            return Err(invalid(
                "CREATE TABLE",
                format!("a table named '{name}' already exists"),
            ));
        }
        let url = location_url(&location)?;
        // A new local table's folder is made first (the log store needs it), and removed
        // again if the table is not created.
        let made = match url.to_file_path() {
            Ok(dir) if url.scheme() == "file" && !dir.exists() => {
                std::fs::create_dir_all(&dir).map_err(|e| delta_error(&target, e))?;
                Some(dir)
            }
            _ => None,
        };
        let result = self
            .create_at(session, create, url, &location, name.as_deref(), &target)
            .await;
        if result.is_err()
            && let Some(dir) = made
            && !dir.join("_delta_log").exists()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }

    async fn create_at(
        &self,
        session: &Session,
        create: Create,
        url: Url,
        location: &str,
        name: Option<&str>,
        target: &Target,
    ) -> Result<RecordBatch> {
        let table = load_table(url).await.map_err(|e| delta_error(target, e))?;
        let exists = table.version().is_some();
        if exists && create.if_not_exists {
            if let Some(name) = name {
                session.register_path(name, location).await?;
            }
            return Ok(summary(&[
                ("version", version_of(&table)),
                ("rows_inserted", 0),
            ]));
        }
        if exists && !create.or_replace {
            return Err(Error::Delta {
                table: location.to_string(),
                message: "a Delta table already exists there; use CREATE OR REPLACE TABLE, or INSERT INTO it".into(),
            });
        }
        let configuration: HashMap<String, Option<String>> = create
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        let mode = if exists {
            SaveMode::Overwrite
        } else {
            SaveMode::ErrorIfExists
        };
        let table = match &create.query {
            // Columns only: a CREATE TABLE commit with the schema and no data.
            None => {
                use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
                let arrow = column_schema(session, &create.columns).await?;
                let schema: deltalake::kernel::StructType = (&arrow)
                    .try_into_kernel()
                    .map_err(|e| delta_error(target, e))?;
                let mut builder = table
                    .create()
                    .with_columns(schema.fields().cloned())
                    .with_partition_columns(create.partitioned_by.clone())
                    .with_configuration(configuration)
                    .with_save_mode(mode)
                    .with_commit_properties(self.commit_properties());
                if let Some(name) = name {
                    builder = builder.with_table_name(name);
                }
                if let Some(comment) = &create.comment {
                    builder = builder.with_comment(comment.clone());
                }
                builder.await.map_err(|e| delta_error(target, e))?
            }
            Some(query) => {
                let plan = plan_query(session, query).await?;
                let mut write = table
                    .write(Vec::new())
                    .with_input_plan(plan)
                    .with_session_state(delta_state(session))
                    .with_save_mode(mode)
                    .with_partition_columns(create.partitioned_by.clone())
                    .with_configuration(configuration)
                    .with_writer_properties(self.writer_properties())
                    .with_commit_properties(self.commit_properties());
                if exists {
                    write = write.with_schema_mode(SchemaMode::Overwrite);
                }
                if let Some(name) = name {
                    write = write.with_table_name(name);
                }
                if let Some(comment) = &create.comment {
                    write = write.with_description(comment.clone());
                }
                write.await.map_err(|e| delta_error(target, e))?
            }
        };
        let rows = added_rows(&table).await;
        if let Some(name) = name {
            session.deregister_table(name)?;
            session.register_path(name, location).await?;
        }
        self.committed(target, &table, &[("rows_inserted", rows)])
            .await
    }

    async fn insert(
        &self,
        session: &Session,
        target: &Target,
        insert: &ast::Insert,
    ) -> Result<RecordBatch> {
        let source = insert.source.as_ref().ok_or_else(|| {
            invalid(
                "INSERT",
                "INSERT into a Delta table takes SELECT ... or VALUES ...",
            )
        })?;
        let table = self.open(session, target).await?;
        let schema = table_schema(&table, target)?;
        let plan = plan_query(session, source).await?;
        let plan = fit_to_table(plan, &schema, &insert.columns, target)?;
        let mode = if insert.overwrite {
            SaveMode::Overwrite
        } else {
            SaveMode::Append
        };
        let table = table
            .write(Vec::new())
            .with_input_plan(plan)
            .with_session_state(delta_state(session))
            .with_save_mode(mode)
            .with_cast_safety(false)
            .with_writer_properties(self.writer_properties())
            .with_commit_properties(self.commit_properties())
            .await
            .map_err(|e| delta_error(target, e))?;
        let rows = added_rows(&table).await;
        self.committed(target, &table, &[("rows_inserted", rows)])
            .await
    }

    async fn update(
        &self,
        session: &Session,
        target: &Target,
        update: &ast::Update,
    ) -> Result<RecordBatch> {
        if update.from.is_some() {
            return Err(invalid(
                "UPDATE",
                "UPDATE ... FROM is not supported on Delta tables; use MERGE INTO ... USING",
            ));
        }
        let table = self.open(session, target).await?;
        let schema = table_schema(&table, target)?;
        let mut builder = table.update();
        if let Some(predicate) = &update.selection {
            builder = builder.with_predicate(predicate.to_string());
        }
        for assignment in &update.assignments {
            let column = assigned_column(&assignment.target, &schema, "UPDATE")?;
            builder = builder.with_update(column, assignment.value.to_string());
        }
        let (table, metrics) = builder
            .with_session_state(delta_state(session))
            .with_safe_cast(false)
            .with_writer_properties(self.writer_properties())
            .with_commit_properties(self.commit_properties())
            .await
            .map_err(|e| delta_error(target, e))?;
        self.committed(
            target,
            &table,
            &[("rows_updated", metrics.num_updated_rows as i64)],
        )
        .await
    }

    async fn delete(
        &self,
        session: &Session,
        target: &Target,
        delete: &ast::Delete,
    ) -> Result<RecordBatch> {
        let table = self.open(session, target).await?;
        let before = version_of(&table);
        let mut builder = table.delete();
        if let Some(predicate) = &delete.selection {
            builder = builder.with_predicate(predicate.to_string());
        }
        let (table, metrics) = builder
            .with_session_state(delta_state(session))
            .with_writer_properties(self.writer_properties())
            .with_commit_properties(self.commit_properties())
            .await
            .map_err(|e| delta_error(target, e))?;
        let deleted = match metrics.num_deleted_rows {
            Some(n) => n as i64,
            // Whole files were dropped without reading them: count what left.
            None => {
                count_rows(session, target, Some(before)).await?
                    - count_rows(session, target, None).await?
            }
        };
        self.committed(target, &table, &[("rows_deleted", deleted)])
            .await
    }

    async fn merge(
        &self,
        session: &Session,
        target: &Target,
        merge: &ast::Merge,
    ) -> Result<RecordBatch> {
        let table = self.open(session, target).await?;
        let schema = table_schema(&table, target)?;
        let target_alias = match &merge.table {
            TableFactor::Table { name, alias, .. } => alias_or_name(name, alias.as_ref()),
            _ => "target".to_string(),
        };
        let (source_sql, source_alias) = match &merge.source {
            TableFactor::Table { name, alias, .. } => (
                match alias {
                    Some(alias) => format!("SELECT * FROM {name} {alias}"),
                    None => format!("SELECT * FROM {name}"),
                },
                alias_or_name(name, alias.as_ref()),
            ),
            TableFactor::Derived {
                subquery, alias, ..
            } => (
                match alias {
                    // `(VALUES ...) AS s(id, name)` names the columns.
                    Some(alias) => format!("SELECT * FROM ({subquery}) {alias}"),
                    None => subquery.to_string(),
                },
                alias
                    .as_ref()
                    .map(|a| a.name.value.clone())
                    .unwrap_or_else(|| "source".to_string()),
            ),
            other => {
                return Err(invalid(
                    "MERGE",
                    format!("the source must be a table or a subquery, not {other}"),
                ));
            }
        };
        let on = merge.on.to_string();
        let source_plan = plan_sql(session, &source_sql).await?;
        let source = DataFrame::new(delta_state_owned(session), source_plan);
        let mut builder = table
            .merge(source, on)
            .with_session_state(delta_state(session))
            .with_source_alias(source_alias)
            .with_target_alias(target_alias)
            .with_safe_cast(false)
            .with_writer_properties(self.writer_properties())
            .with_commit_properties(self.commit_properties());
        for clause in &merge.clauses {
            let predicate = clause.predicate.as_ref().map(ToString::to_string);
            let p = predicate.as_deref();
            builder = match (&clause.clause_kind, &clause.action) {
                (MergeClauseKind::Matched, MergeAction::Update(update)) => {
                    let sets = assignments(&update.assignments, &schema)?;
                    builder.when_matched_update(|u| update_clause(u, p, &sets))
                }
                (MergeClauseKind::Matched, MergeAction::Delete { .. }) => {
                    builder.when_matched_delete(|d| delete_clause(d, p))
                }
                (
                    MergeClauseKind::NotMatched | MergeClauseKind::NotMatchedByTarget,
                    MergeAction::Insert(insert),
                ) => {
                    let values = merge_insert_values(insert, &schema)?;
                    builder.when_not_matched_insert(|mut i| {
                        if let Some(p) = p {
                            i = i.predicate(p.to_string());
                        }
                        for (column, value) in &values {
                            i = i.set(column.clone(), value.clone());
                        }
                        i
                    })
                }
                (MergeClauseKind::NotMatchedBySource, MergeAction::Update(update)) => {
                    let sets = assignments(&update.assignments, &schema)?;
                    builder.when_not_matched_by_source_update(|u| update_clause(u, p, &sets))
                }
                (MergeClauseKind::NotMatchedBySource, MergeAction::Delete { .. }) => {
                    builder.when_not_matched_by_source_delete(|d| delete_clause(d, p))
                }
                (kind, action) => {
                    return Err(invalid(
                        "MERGE",
                        format!("WHEN {kind} THEN {action} is not a valid clause"),
                    ));
                }
            }
            .map_err(|e| delta_error(target, e))?;
        }
        // deltalake checks, before it commits, that no target row is matched by two source
        // rows.
        let (table, metrics) = builder.await.map_err(|e| merge_error(target, e))?;
        self.committed(
            target,
            &table,
            &[
                ("rows_inserted", metrics.num_target_rows_inserted as i64),
                ("rows_updated", metrics.num_target_rows_updated as i64),
                ("rows_deleted", metrics.num_target_rows_deleted as i64),
            ],
        )
        .await
    }

    async fn optimize(
        &self,
        session: &Session,
        target: &Target,
        predicate: Option<Box<ast::Expr>>,
        zorder: Vec<String>,
    ) -> Result<RecordBatch> {
        let table = self.open(session, target).await?;
        let mut conditions = Vec::new();
        if let Some(predicate) = &predicate {
            partition_conditions(predicate, &mut conditions)?;
        }
        let filters: Vec<deltalake::FilterLiteral<'_>> = conditions
            .iter()
            .map(|(column, op, values)| {
                let value = if matches!(op, FilterOp::In | FilterOp::NotIn) {
                    FilterValue::Set(values.iter().map(String::as_str).collect())
                } else {
                    FilterValue::Scalar(values[0].as_str())
                };
                (column.as_str(), *op, value)
            })
            .collect();
        let kind = if zorder.is_empty() {
            OptimizeType::Compact
        } else {
            OptimizeType::ZOrder(zorder)
        };
        let (table, metrics) = table
            .optimize()
            .with_session_state(delta_state(session))
            .with_filters(&filters)
            .with_type(kind)
            .with_writer_properties(self.writer_properties())
            .with_commit_properties(self.commit_properties())
            .await
            .map_err(|e| delta_error(target, e))?;
        self.committed(
            target,
            &table,
            &[
                ("files_added", metrics.num_files_added as i64),
                ("files_removed", metrics.num_files_removed as i64),
            ],
        )
        .await
    }

    async fn vacuum(
        &self,
        session: &Session,
        target: &Target,
        retain_hours: Option<f64>,
        dry_run: bool,
    ) -> Result<RecordBatch> {
        let table = self.open(session, target).await?;
        let mut builder = table
            .vacuum()
            .with_dry_run(dry_run)
            .with_enforce_retention_duration(!self.options.force)
            .with_commit_properties(self.commit_properties());
        if let Some(hours) = retain_hours {
            if hours < 0.0 {
                return Err(invalid("VACUUM", "RETAIN takes a number of hours ≥ 0"));
            }
            builder =
                builder.with_retention_period(chrono::Duration::seconds((hours * 3600.0) as i64));
        }
        let (_, metrics) = builder.await.map_err(|e| {
            let message = e.to_string();
            if message.contains("retention") {
                Error::Delta {
                    table: target.to_string(),
                    message: format!(
                        "{message}; a shorter retention can break readers of older versions (quiver --force allows it)"
                    ),
                }
            } else {
                delta_error(target, e)
            }
        })?;
        if dry_run {
            let mut files = metrics.files_deleted;
            files.sort();
            let schema = Arc::new(Schema::new(vec![Field::new(
                "path",
                datafusion::arrow::datatypes::DataType::Utf8,
                false,
            )]));
            let column: ArrayRef = Arc::new(StringArray::from(files));
            return RecordBatch::try_new(schema, vec![column])
                .map_err(|e| Error::from_datafusion(e.into()));
        }
        Ok(summary(&[(
            "files_deleted",
            metrics.files_deleted.len() as i64,
        )]))
    }

    async fn restore(
        &self,
        session: &Session,
        target: &Target,
        to: RestoreTo,
    ) -> Result<RecordBatch> {
        let table = self.open(session, target).await?;
        let builder = table.restore();
        let builder = match &to {
            RestoreTo::Version(v) => builder.with_version_to_restore(*v as _),
            RestoreTo::Timestamp(text) => {
                builder.with_datetime_to_restore(parse_timestamp(text).ok_or_else(|| {
                    invalid(
                        "RESTORE",
                        format!(
                            "'{text}' is not a timestamp (use '2024-01-31 12:00:00' or RFC 3339)"
                        ),
                    )
                })?)
            }
        };
        let (table, metrics) = builder
            .with_commit_properties(self.commit_properties())
            .await
            .map_err(|e| delta_error(target, e))?;
        self.committed(
            target,
            &table,
            &[
                ("files_restored", metrics.num_restored_file as i64),
                ("files_removed", metrics.num_removed_file as i64),
            ],
        )
        .await
    }
}

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

/// Commits to S3 go through deltalake's default log store over the CLI's own S3 store:
/// each commit file is a conditional put (`If-None-Match: *`), which S3 and compatible
/// stores honour, so two writers can never both write version N, and no lock service is
/// needed.
#[derive(Debug)]
struct ConditionalPutLogStore;

impl deltalake::logstore::LogStoreFactory for ConditionalPutLogStore {
    fn with_options(
        &self,
        prefixed_store: deltalake::logstore::ObjectStoreRef,
        root_store: deltalake::logstore::ObjectStoreRef,
        location: &Url,
        options: &deltalake::logstore::StorageConfig,
    ) -> deltalake::DeltaResult<Arc<dyn deltalake::logstore::LogStore>> {
        Ok(deltalake::logstore::default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// Opens the Delta table at `url` (a handle to a new one when nothing is there yet): local
/// paths with deltalake's own store, others with the CLI's stores (see [`crate::host`]).
async fn load_table(url: Url) -> deltalake::DeltaResult<DeltaTable> {
    if url.scheme() == "file" {
        return DeltaTable::try_from_url(url).await;
    }
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        for scheme in ["s3://", "s3a://"] {
            deltalake::logstore::logstore_factories().insert(
                Url::parse(scheme).expect("a scheme URL"),
                Arc::new(ConditionalPutLogStore),
            );
        }
    });
    let store = crate::host::store_for(&url)
        .map_err(|e| deltalake::DeltaTableError::Generic(e.to_string()))?;
    let mut table = deltalake::DeltaTableBuilder::from_url(url.clone())?
        .with_storage_backend(store, url)
        .build()?;
    match table.load().await {
        Ok(()) | Err(deltalake::DeltaTableError::NotATable(_)) => Ok(table),
        Err(e) => Err(e),
    }
}

/// `quiver delta verify`: checks the Delta table at `location` (a path or URL); see
/// [`verify`].
///
/// # Errors
/// A location that is not usable, or a log that cannot be listed.
pub async fn verify_table(
    session: &Session,
    location: &str,
    deep: bool,
) -> std::result::Result<Report, String> {
    let url = location_url(location).map_err(|e| e.to_string())?;
    let store = crate::host::store_for(&url).map_err(|e| e.to_string())?;
    verify::verify(session, store, &url, location, deep).await
}

/// A one-row table of counts: what a statement did.
fn summary(columns: &[(&str, i64)]) -> RecordBatch {
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
    RecordBatch::try_new(schema, arrays).expect("columns match the schema")
}

fn invalid(what: &str, reason: impl Into<String>) -> Error {
    Error::InvalidArgument {
        function: what.to_string(),
        reason: reason.into(),
    }
}

fn delta_error(target: &Target, e: impl std::fmt::Display) -> Error {
    Error::Delta {
        table: target.to_string(),
        message: e.to_string(),
    }
}

fn no_table(target: &Target) -> Error {
    Error::Delta {
        table: target.to_string(),
        message: "there is no Delta table there (no _delta_log); create one with CREATE TABLE ... USING DELTA".into(),
    }
}

fn version_of(table: &DeltaTable) -> i64 {
    table.version().map_or(-1, |v| v as i64)
}

/// The URL of a path or `file://`/`s3://` location.
fn location_url(location: &str) -> Result<Url> {
    if location.contains("://") {
        return Url::parse(location).map_err(|e| invalid("location", format!("{location}: {e}")));
    }
    let path = std::path::absolute(location)
        .map_err(|e| invalid("location", format!("{location}: {e}")))?;
    Url::from_directory_path(&path).map_err(|()| {
        invalid(
            "location",
            format!("{} is not a usable path", path.display()),
        )
    })
}

/// The location of the table a statement names.
async fn resolve(session: &Session, target: &Target) -> Result<Url> {
    match target {
        Target::Path(path) => location_url(path),
        Target::Name(name) => {
            let url = session.delta_table_url(name).await.ok_or_else(|| {
                if session.table_names().iter().any(|t| t == name) {
                    invalid(
                        "write",
                        format!("table '{name}' is not a Delta table; writes go to Delta tables"),
                    )
                } else {
                    Error::TableNotFound {
                        name: name.clone(),
                        known: session.table_names(),
                        original: None,
                    }
                }
            })?;
            Url::parse(&url).map_err(|e| invalid("location", format!("{url}: {e}")))
        }
    }
}

fn table_schema(table: &DeltaTable, target: &Target) -> Result<SchemaRef> {
    let snapshot = table.snapshot().map_err(|e| delta_error(target, e))?;
    Ok(snapshot.snapshot().arrow_schema())
}

/// Plans a query with the engine (paths, `read_*` functions and Delta tables resolve as in
/// any query).
async fn plan_query(session: &Session, query: &ast::Query) -> Result<LogicalPlan> {
    session
        .plan(Statement::Statement(Box::new(Sql::Query(Box::new(
            query.clone(),
        )))))
        .await
}

async fn plan_sql(session: &Session, sql: &str) -> Result<LogicalPlan> {
    let mut statements = session.statements(sql)?;
    let statement = statements
        .pop()
        .ok_or_else(|| invalid("query", "empty query"))?;
    session.plan(statement).await
}

/// The schema a `CREATE TABLE (...)` column list declares: types as the engine reads SQL
/// types (it plans `SELECT CAST(NULL AS type) ...`), `NOT NULL` kept.
async fn column_schema(session: &Session, columns: &[ast::ColumnDef]) -> Result<Schema> {
    let select = columns
        .iter()
        .map(|c| {
            format!(
                "CAST(NULL AS {}) AS \"{}\"",
                c.data_type,
                c.name.value.replace('"', "\"\"")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let typed = plan_sql(session, &format!("SELECT {select}")).await?;
    let fields: Vec<Field> = typed
        .schema()
        .fields()
        .iter()
        .zip(columns)
        .map(|(f, c)| {
            let not_null = c
                .options
                .iter()
                .any(|o| matches!(o.option, ast::ColumnOption::NotNull));
            f.as_ref().clone().with_nullable(!not_null)
        })
        .collect();
    Ok(Schema::new(fields))
}

/// The query's columns as the table's: by position (Spark's rule), or by the names listed
/// in `INSERT INTO t (a, b)`, the others NULL; each cast to the column's type, so a value
/// that does not fit fails the statement.
fn fit_to_table(
    plan: LogicalPlan,
    table: &Schema,
    listed: &[ObjectName],
    target: &Target,
) -> Result<LogicalPlan> {
    let source = Arc::clone(plan.schema());
    let source_column = |i: usize| Expr::Column(Column::from(source.qualified_field(i)));
    let names: Vec<&str> = table.fields().iter().map(|f| f.name().as_str()).collect();
    let exprs: Vec<Expr> = if listed.is_empty() {
        if source.fields().len() != table.fields().len() {
            return Err(invalid(
                "INSERT",
                format!(
                    "the query gives {} column(s), but {target} has {} ({})",
                    source.fields().len(),
                    table.fields().len(),
                    names.join(", ")
                ),
            ));
        }
        table
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| cast(source_column(i), f.data_type().clone()).alias(f.name()))
            .collect()
    } else {
        let listed: Vec<String> = listed.iter().map(last_ident).collect();
        if listed.len() != source.fields().len() {
            return Err(invalid(
                "INSERT",
                format!(
                    "{} column(s) are listed but the query gives {}",
                    listed.len(),
                    source.fields().len()
                ),
            ));
        }
        if let Some(unknown) = listed.iter().find(|c| !names.contains(&c.as_str())) {
            return Err(invalid(
                "INSERT",
                format!(
                    "{target} has no column '{unknown}' (columns: {})",
                    names.join(", ")
                ),
            ));
        }
        table
            .fields()
            .iter()
            .map(|f| match listed.iter().position(|c| c == f.name()) {
                Some(i) => Ok(cast(source_column(i), f.data_type().clone()).alias(f.name())),
                None if f.is_nullable() => {
                    Ok(cast(lit(ScalarValue::Null), f.data_type().clone()).alias(f.name()))
                }
                None => Err(invalid(
                    "INSERT",
                    format!("column '{}' is NOT NULL and needs a value", f.name()),
                )),
            })
            .collect::<Result<_>>()?
    };
    LogicalPlanBuilder::from(plan)
        .project(exprs)
        .and_then(LogicalPlanBuilder::build)
        .map_err(Error::from_datafusion)
}

fn last_ident(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_else(|| name.to_string())
}

/// What a query calls a table: its alias, else the last part of its name.
fn alias_or_name(name: &ObjectName, alias: Option<&ast::TableAlias>) -> String {
    alias.map_or_else(|| last_ident(name), |a| a.name.value.clone())
}

/// The column an assignment sets (`SET t.col = ...` sets `col`), which must exist.
fn assigned_column(target: &AssignmentTarget, schema: &Schema, what: &str) -> Result<String> {
    let column = match target {
        AssignmentTarget::ColumnName(name) => last_ident(name),
        AssignmentTarget::Tuple(_) => {
            return Err(invalid(what, "set one column at a time: SET a = 1, b = 2"));
        }
    };
    check_column(schema, &column, what)?;
    Ok(column)
}

/// An error naming the table's columns when it has no column `column`.
fn check_column(schema: &Schema, column: &str, what: &str) -> Result<()> {
    if schema.field_with_name(column).is_ok() {
        return Ok(());
    }
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    Err(invalid(
        what,
        format!(
            "the table has no column '{column}' (columns: {})",
            names.join(", ")
        ),
    ))
}

fn assignments(list: &[ast::Assignment], schema: &Schema) -> Result<Vec<(String, String)>> {
    list.iter()
        .map(|a| {
            Ok((
                assigned_column(&a.target, schema, "MERGE")?,
                a.value.to_string(),
            ))
        })
        .collect()
}

/// A MERGE error, with deltalake's "matched a target row with multiple source rows" said
/// as what to do about it.
fn merge_error(target: &Target, e: impl std::fmt::Display) -> Error {
    let message = e.to_string();
    let Some((_, detail)) =
        message.split_once("MERGE matched a target row with multiple source rows")
    else {
        return delta_error(target, message);
    };
    let at = detail
        .split_once("(file: ")
        .and_then(|(_, rest)| rest.split_once(", row ordinal in file: "))
        .map(|(file, row)| {
            let row = row.split(')').next().unwrap_or(row);
            format!(" (row {row} of {file})")
        })
        .unwrap_or_default();
    invalid(
        "MERGE",
        format!(
            "a target row{at} matches more than one source row; a MERGE may change each target row once (make the source unique on the join key)"
        ),
    )
}

/// A MERGE `UPDATE SET ...` clause, with its `AND` condition.
fn update_clause(
    mut update: deltalake::operations::merge::UpdateBuilder,
    predicate: Option<&str>,
    sets: &[(String, String)],
) -> deltalake::operations::merge::UpdateBuilder {
    if let Some(p) = predicate {
        update = update.predicate(p.to_string());
    }
    for (column, value) in sets {
        update = update.update(column.clone(), value.clone());
    }
    update
}

/// A MERGE `DELETE` clause, with its `AND` condition.
fn delete_clause(
    delete: deltalake::operations::merge::DeleteBuilder,
    predicate: Option<&str>,
) -> deltalake::operations::merge::DeleteBuilder {
    match predicate {
        Some(p) => delete.predicate(p.to_string()),
        None => delete,
    }
}

/// `INSERT (a, b) VALUES (s.a, s.b)` of a MERGE as (column, expression) pairs; without a
/// column list the values go to the table's columns in order.
fn merge_insert_values(
    insert: &ast::MergeInsertExpr,
    schema: &Schema,
) -> Result<Vec<(String, String)>> {
    let MergeInsertKind::Values(values) = &insert.kind else {
        return Err(invalid(
            "MERGE",
            "WHEN NOT MATCHED THEN INSERT takes VALUES (...)",
        ));
    };
    let [row] = values.rows.as_slice() else {
        return Err(invalid(
            "MERGE",
            "INSERT in a MERGE takes one row of VALUES",
        ));
    };
    let columns: Vec<String> = if insert.columns.is_empty() {
        schema.fields().iter().map(|f| f.name().clone()).collect()
    } else {
        insert.columns.iter().map(last_ident).collect()
    };
    if columns.len() != row.len() {
        return Err(invalid(
            "MERGE",
            format!(
                "INSERT names {} column(s) but gives {} value(s)",
                columns.len(),
                row.len()
            ),
        ));
    }
    for column in &columns {
        check_column(schema, column, "MERGE")?;
    }
    Ok(columns
        .into_iter()
        .zip(row.iter().map(ToString::to_string))
        .collect())
}

/// How a query names the table: its quoted path or its registered name.
fn table_sql(target: &Target) -> String {
    match target {
        Target::Path(path) => format!("'{}'", path.replace('\'', "''")),
        Target::Name(name) => name.clone(),
    }
}

/// Rows of the table at `version` (the newest when `None`), read by the engine.
async fn count_rows(session: &Session, target: &Target, version: Option<i64>) -> Result<i64> {
    let at = version
        .map(|v| format!(" VERSION AS OF {v}"))
        .unwrap_or_default();
    let sql = format!("SELECT count(*) AS n FROM {}{at}", table_sql(target));
    let batches = session.query(&sql).await?;
    Ok(batches
        .first()
        .and_then(|b| b.column(0).as_any().downcast_ref::<Int64Array>())
        .map_or(0, |a| a.value(0)))
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

/// `OPTIMIZE ... WHERE` conditions as (column, operator, values): comparisons of a
/// partition column with literals, joined by AND.
fn partition_conditions(
    expr: &ast::Expr,
    out: &mut Vec<(String, FilterOp, Vec<String>)>,
) -> Result<()> {
    use ast::{BinaryOperator as B, Expr as E};
    let literal = |e: &E| -> Option<String> {
        match e {
            E::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => Some(s.clone()),
                ast::Value::Number(n, _) => Some(n.to_string()),
                ast::Value::Boolean(b) => Some(b.to_string()),
                _ => None,
            },
            _ => None,
        }
    };
    let column = |e: &E| -> Option<String> {
        match e {
            E::Identifier(i) => Some(i.value.clone()),
            E::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
            _ => None,
        }
    };
    match expr {
        E::Nested(inner) => partition_conditions(inner, out),
        E::BinaryOp {
            left,
            op: B::And,
            right,
        } => {
            partition_conditions(left, out)?;
            partition_conditions(right, out)
        }
        E::BinaryOp { left, op, right } => {
            let op = match op {
                B::Eq => FilterOp::Eq,
                B::NotEq => FilterOp::Ne,
                B::Lt => FilterOp::Lt,
                B::LtEq => FilterOp::Le,
                B::Gt => FilterOp::Gt,
                B::GtEq => FilterOp::Ge,
                _ => return Err(optimize_where(expr)),
            };
            let (Some(c), Some(v)) = (column(left), literal(right)) else {
                return Err(optimize_where(expr));
            };
            out.push((c, op, vec![v]));
            Ok(())
        }
        E::InList {
            expr: inner,
            list,
            negated,
        } => {
            let c = column(inner).ok_or_else(|| optimize_where(expr))?;
            let values = list
                .iter()
                .map(|e| literal(e).ok_or_else(|| optimize_where(expr)))
                .collect::<Result<Vec<_>>>()?;
            out.push((
                c,
                if *negated {
                    FilterOp::NotIn
                } else {
                    FilterOp::In
                },
                values,
            ));
            Ok(())
        }
        _ => Err(optimize_where(expr)),
    }
}

fn optimize_where(expr: &ast::Expr) -> Error {
    invalid(
        "OPTIMIZE",
        format!(
            "WHERE takes comparisons of partition columns with literals joined by AND, not {expr}"
        ),
    )
}

/// `2024-01-31`, `2024-01-31 12:00:00[.fff]` (UTC) or RFC 3339.
fn parse_timestamp(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text.trim(), format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_in_the_forms_people_write() {
        for text in [
            "2024-01-31",
            "2024-01-31 12:00:00",
            "2024-01-31T12:00:00.5",
            "2024-01-31T12:00:00+02:00",
        ] {
            assert!(parse_timestamp(text).is_some(), "{text}");
        }
        assert!(parse_timestamp("yesterday").is_none());
    }

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
