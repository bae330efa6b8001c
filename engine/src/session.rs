//! [`Session`]: the one place that builds DataFusion's state.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProviderFactory;
use datafusion::catalog::{DynamicFileCatalog, TableProvider, UrlTableFactory};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::{SessionConfig, SessionContext, SessionState};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::CreateExternalTable;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::dialect::dialect_from_str;

use crate::delta::DeltaTable;
use futures::TryStreamExt;

use crate::panic_guard::{PanicGuardStream, guard};
use crate::sources::{PathTables, ReadOptions, rewrite_read_calls};
use crate::sql::{ParseOptions, Parsed};
use crate::stores::LazyStoreRegistry;
use crate::{Error, HostConfig, Result};

/// The files a physical plan scans, so that a read error can name the file.
fn scanned_files(plan: &Arc<dyn ExecutionPlan>) -> Vec<String> {
    let mut files = Vec::new();
    let _ = plan.apply(|node| {
        if let Some(source) = node.downcast_ref::<DataSourceExec>()
            && let Some(config) = source.data_source().downcast_ref::<FileScanConfig>()
        {
            let base = config
                .object_store_url
                .as_str()
                .trim_end_matches('/')
                .to_string();
            for group in &config.file_groups {
                files.extend(group.iter().map(|f| {
                    crate::location::display_location(&base, f.object_meta.location.as_ref())
                }));
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    files.sort();
    files.dedup();
    files
}

/// A SQL session over files and object stores.
///
/// # Example
/// ```
/// use quiver_engine::{HostConfig, Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(HostConfig::default()).unwrap();
/// session.query("CREATE TABLE t AS VALUES (1), (2), (3)").await.unwrap();
/// let batches = session.query("SELECT sum(column1) AS total FROM t").await.unwrap();
/// assert_eq!(batches[0].num_rows(), 1);
/// # });
/// ```
#[derive(Clone)]
pub struct Session {
    ctx: SessionContext,
    paths: Arc<PathTables>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.ctx.session_id())
            .finish()
    }
}

impl Session {
    /// Builds a session for a host.
    ///
    /// # Errors
    /// When the runtime cannot be built (for example a spill directory that does not exist).
    pub fn new(config: HostConfig) -> Result<Self> {
        let mut runtime = RuntimeEnvBuilder::new()
            .with_object_store_registry(Arc::new(LazyStoreRegistry::new(&config)))
            .with_disk_manager_builder(crate::platform::disk_manager(&config));
        if let Some(limit) = config.memory_limit {
            runtime = runtime.with_memory_limit(limit, 1.0);
        }
        let runtime = runtime.build_arc().map_err(Error::from_datafusion)?;

        let session_config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(config.target_partitions)
            .with_batch_size(config.batch_size)
            .with_create_default_catalog_and_schema(true);

        let state = SessionStateBuilder::new()
            .with_config(session_config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_query_planner(Arc::new(crate::timeseries::TimeSeriesQueryPlanner))
            .build();

        // Delta snapshots belong to the session (and its clones), not to the host's
        // description: a table read again replays only the commits since.
        let delta_snapshots = Arc::new(crate::delta::SnapshotCache::default());
        let paths = Arc::new(PathTables::new(config.clone(), delta_snapshots));
        let catalogs = Arc::new(DynamicFileCatalog::new(
            Arc::clone(state.catalog_list()),
            Arc::clone(&paths) as Arc<dyn UrlTableFactory>,
        ));
        let mut state = SessionStateBuilder::new_from_existing(state)
            .with_catalog_list(catalogs)
            .build();
        state.table_factories_mut().insert(
            "DELTA".to_string(),
            Arc::new(DeltaFactory {
                paths: Arc::clone(&paths),
            }),
        );
        let ctx = SessionContext::new_with_state(state);
        ctx.register_udf(crate::delta::variant_to_json_udf());
        crate::timeseries::register(&ctx).map_err(Error::from_datafusion)?;
        paths.attach(ctx.state_weak_ref());
        Ok(Self { ctx, paths })
    }

    /// The DataFusion context, for frontends that register what only they can do (Delta
    /// writes, clusters). Frontends never build their own.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The object store that serves `url` (its scheme and host), as queries read it: one
    /// table of stores for everything a host does with files.
    ///
    /// # Errors
    /// [`Error::Storage`] when the host has no store for the URL's scheme.
    pub fn object_store(&self, url: &url::Url) -> Result<Arc<dyn object_store::ObjectStore>> {
        self.ctx
            .runtime_env()
            .object_store_registry
            .get_store(url)
            .map_err(|e| Error::Storage {
                url: url.to_string(),
                reason: Error::from_datafusion(e).to_string(),
            })
    }

    /// The current DataFusion state.
    pub fn state(&self) -> SessionState {
        self.ctx.state()
    }

    /// Parses every statement of `sql` with the SQL front end ([`crate::sql`]), without
    /// running anything: DataFusion statements and the Delta statements only a writer runs.
    ///
    /// # Errors
    /// [`Error::Syntax`], with the line and column of the problem.
    pub fn parse(&self, sql: &str) -> Result<Vec<Parsed>> {
        let state = self.ctx.state();
        let options = state.config().options();
        let dialect_name = options.sql_parser.dialect;
        let dialect = dialect_from_str(dialect_name).ok_or_else(|| Error::Unsupported {
            what: format!("SQL dialect {dialect_name}"),
        })?;
        crate::sql::parse(
            sql,
            &ParseOptions {
                dialect: dialect.as_ref(),
                recursion_limit: options.sql_parser.recursion_limit.get(),
            },
        )
    }

    /// Parses `sql` into statements the engine plans; a Delta statement that only a writer
    /// runs (`OPTIMIZE`, `CREATE TABLE ... USING DELTA` ...) is an error here.
    ///
    /// # Errors
    /// [`Error::Syntax`], and [`Error::Unsupported`] for a Delta write statement.
    pub fn statements(&self, sql: &str) -> Result<Vec<Statement>> {
        self.parse(sql)?
            .into_iter()
            .map(|parsed| match parsed {
                Parsed::Sql(statement) => Ok(statement),
                Parsed::Delta(delta) => Err(Error::Unsupported {
                    what: format!(
                        "{} here: it changes a Delta table, which the native quiver CLI does",
                        delta.name()
                    ),
                }),
            })
            .collect()
    }

    /// Plans one statement: resolves `read_*` calls and quoted paths, then builds the
    /// logical plan.
    ///
    /// # Errors
    /// Unknown tables, unreadable files, and planning errors.
    pub async fn plan(&self, mut statement: Statement) -> Result<LogicalPlan> {
        // A location resolves as a quoted path does (against the host's base, if any).
        if let Statement::CreateExternalTable(create) = &mut statement {
            for location in &mut create.locations {
                *location = self.paths.absolute(location);
            }
        }
        let calls = rewrite_read_calls(&mut statement)?;
        let names: Vec<String> = calls.iter().map(|c| c.table_name.clone()).collect();
        let result = guard("planning", async {
            self.refresh_delta_tables(&statement).await?;
            for call in &calls {
                let table = match &call.registered {
                    Some(name) => self.registered_delta(name, &call.options).await?,
                    None => self.paths.open(&call.locations, &call.options).await?,
                };
                self.paths.put_scratch(call.table_name.clone(), table);
            }
            let state = self.ctx.state();
            state
                .statement_to_plan(statement)
                .await
                .map_err(|e| self.explain_error(e))
        })
        .await;
        self.paths.clear_scratch(&names);
        result
    }

    /// Runs a plan. DDL (`CREATE`, `DROP`, `SET` ...) takes effect before this returns; query
    /// results arrive on the stream, which reports any panic below it as an error.
    ///
    /// # Errors
    /// Errors raised while starting execution; later ones arrive on the stream.
    pub async fn execute(&self, plan: LogicalPlan) -> Result<SendableRecordBatchStream> {
        guard("starting the query", async {
            let df = self
                .ctx
                .execute_logical_plan(plan)
                .await
                .map_err(|e| self.explain_error(e))?;
            let task_ctx = Arc::new(df.task_ctx());
            let physical = df
                .create_physical_plan()
                .await
                .map_err(Error::from_datafusion)?;
            let files = scanned_files(&physical);
            let stream = execute_stream(physical, task_ctx).map_err(Error::from_datafusion)?;
            Ok(Box::pin(PanicGuardStream::new(stream).naming_files(files))
                as SendableRecordBatchStream)
        })
        .await
    }

    /// Parses, plans and runs every statement in `sql`, in order, and collects the last
    /// statement's rows.
    ///
    /// # Errors
    /// The first error; statements after it do not run.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        let mut last = Vec::new();
        for statement in self.statements(sql)? {
            let plan = self.plan(statement).await?;
            let stream = self.execute(plan).await?;
            last = stream.try_collect().await.map_err(Error::from_datafusion)?;
        }
        Ok(last)
    }

    /// Registers the files at `location` (a file, folder, glob or URL) as table `name`.
    ///
    /// # Errors
    /// When nothing is there or the files cannot be read.
    pub async fn register_path(&self, name: &str, location: &str) -> Result<()> {
        let table = self.open(location, &ReadOptions::default()).await?;
        self.register_table(name, table)
    }

    /// Opens `location` as a table without registering it.
    ///
    /// # Errors
    /// When nothing is there or the files cannot be read.
    pub async fn open(
        &self,
        location: &str,
        options: &ReadOptions,
    ) -> Result<Arc<dyn TableProvider>> {
        guard(
            "opening a table",
            self.paths.open(&[location.to_string()], options),
        )
        .await
    }

    /// Registers a table provider under `name`, replacing any table of that name.
    ///
    /// # Errors
    /// When the name is not a valid table name.
    pub fn register_table(&self, name: &str, table: Arc<dyn TableProvider>) -> Result<()> {
        let _ = self
            .ctx
            .deregister_table(name)
            .map_err(Error::from_datafusion)?;
        self.ctx
            .register_table(name, table)
            .map_err(Error::from_datafusion)?;
        Ok(())
    }

    /// Removes table `name`; true if it existed.
    ///
    /// # Errors
    /// When the name is not a valid table name.
    pub fn deregister_table(&self, name: &str) -> Result<bool> {
        Ok(self
            .ctx
            .deregister_table(name)
            .map_err(Error::from_datafusion)?
            .is_some())
    }

    /// The tables registered in the default schema, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        let options = state.config().options();
        let mut names = self
            .ctx
            .catalog(&options.catalog.default_catalog)
            .and_then(|c| c.schema(&options.catalog.default_schema))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The schema of table `name` (a registered name or a path).
    ///
    /// # Errors
    /// [`Error::TableNotFound`] when there is no such table.
    pub async fn table_schema(&self, name: &str) -> Result<SchemaRef> {
        match self.ctx.table_provider(name).await {
            Ok(t) => Ok(t.schema()),
            Err(e) => Err(self.explain_error(e)),
        }
    }

    /// Brings every registered Delta table the statement reads up to its newest version, so
    /// a query sees commits made since the table was registered (replaying only those).
    async fn refresh_delta_tables(&self, statement: &Statement) -> Result<()> {
        let Ok(references) = self.ctx.state().resolve_table_references(statement) else {
            return Ok(());
        };
        let registered = self.table_names();
        for reference in references {
            // Only tables registered by name follow new commits here; paths are opened (and
            // brought up to date) when the statement is planned.
            let name = reference.table();
            if !registered.iter().any(|r| r == name) {
                continue;
            }
            if let Ok(table) = self.ctx.table_provider(reference.clone()).await
                && let Some(delta) = table.downcast_ref::<DeltaTable>()
            {
                delta.refresh().await?;
            }
        }
        Ok(())
    }

    /// The location (a URL) of the Delta table registered as `name`; `None` when no table
    /// has that name or it is not a Delta table. Writers (the native CLI) use it to find
    /// the table a statement changes.
    pub async fn delta_table_url(&self, name: &str) -> Option<String> {
        let table = self.ctx.table_provider(name).await.ok()?;
        table
            .downcast_ref::<DeltaTable>()
            .map(|delta| delta.snapshot().url())
    }

    /// The log of the Delta table at `url`, listed once, for walking it version by version
    /// with the reader's rules ([`crate::delta::LogWalk`]; `quiver delta verify` uses it).
    ///
    /// # Errors
    /// When the host has no store for `url`, or `_delta_log/` cannot be listed.
    pub async fn delta_log(&self, url: &url::Url) -> Result<crate::delta::LogWalk> {
        let table = datafusion::datasource::listing::ListingTableUrl::parse(url.as_str())
            .map_err(Error::from_datafusion)?;
        let log = crate::delta::DeltaLog::new(
            self.object_store(url)?,
            table.object_store().as_str().to_string(),
            table.prefix().clone(),
        );
        crate::delta::LogWalk::list(log).await
    }

    /// A registered Delta table at another version, or its history.
    async fn registered_delta(
        &self,
        name: &str,
        options: &ReadOptions,
    ) -> Result<Arc<dyn TableProvider>> {
        let table = self
            .ctx
            .table_provider(name)
            .await
            .map_err(|e| self.explain_error(e))?;
        let Some(delta) = table.downcast_ref::<DeltaTable>() else {
            return Err(Error::invalid(
                if options.delta.view == crate::delta::DeltaView::History {
                    "DESCRIBE HISTORY"
                } else {
                    "time travel"
                },
                format!("table '{name}' is not a Delta table"),
            ));
        };
        crate::delta::as_table(delta.as_of(&options.delta.as_of).await?, options.delta.view).await
    }

    /// Rewrites DataFusion's "table not found" into [`Error::TableNotFound`] with the names a
    /// user could have meant.
    fn explain_error(&self, e: DataFusionError) -> Error {
        let err = Error::from_datafusion(e);
        if let Error::DataFusion(inner) = &err {
            let msg = inner.strip_backtrace();
            if let Some(rest) = msg.split_once("table '").map(|(_, r)| r)
                && let Some((qualified, tail)) = rest.split_once('\'')
                && tail.trim_start().starts_with("not found")
            {
                let name = qualified
                    .rsplit('.')
                    .next()
                    .unwrap_or(qualified)
                    .to_string();
                let known = self.table_names();
                let Error::DataFusion(original) = err else {
                    return err;
                };
                return Error::TableNotFound {
                    name,
                    known,
                    original: Some(Box::new(original)),
                };
            }
        }
        err
    }
}

/// `CREATE EXTERNAL TABLE t STORED AS DELTA LOCATION 'path'`.
#[derive(Debug)]
struct DeltaFactory {
    paths: Arc<PathTables>,
}

#[async_trait::async_trait]
impl TableProviderFactory for DeltaFactory {
    async fn create(
        &self,
        _state: &dyn datafusion::catalog::Session,
        cmd: &CreateExternalTable,
    ) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        let options = ReadOptions::for_kind(Some(crate::sources::FileKind::Delta));
        self.paths
            .open(&cmd.locations, &options)
            .await
            .map_err(Error::into_datafusion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_tables_list_the_known_ones() {
        let s = Session::new(HostConfig::default()).unwrap();
        s.query("CREATE TABLE orders AS VALUES (1)").await.unwrap();
        let err = s
            .query("SELECT * FROM sales")
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(err, "table 'sales' not found; known tables: orders");
    }

    #[tokio::test]
    async fn syntax_errors_carry_line_and_column() {
        let s = Session::new(HostConfig::default()).unwrap();
        let err = s.statements("SELECT 1;\nSELEC 2").unwrap_err().to_string();
        assert!(err.starts_with("syntax error"), "{err}");
        assert!(err.contains("Line: 2"), "{err}");
    }
}
