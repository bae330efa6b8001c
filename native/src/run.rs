//! The statement router: how every native frontend runs SQL.
//!
//! The CLI (`quiver -c`, scripts, the REPL), the sqllogictest harness, and the coming
//! `serve`, `shm` and Python frontends all hand SQL to a [`Router`]. It parses the script once,
//! with the engine's front end ([`quiver_engine::sql`]), then sends each statement where it
//! belongs:
//!
//! - a Delta statement outside DataFusion's grammar (`OPTIMIZE`, `CREATE TABLE ... USING
//!   DELTA` ...) to the Delta writer;
//! - an `INSERT`, `UPDATE`, `DELETE` or `MERGE` whose target is a Delta table (a path, or a
//!   name registered as one) to the Delta writer;
//! - a `COPY ... TO 'shm://ring'` to the shared-memory ring writer ([`crate::shm`]);
//! - everything else, queries first of all, straight to the engine, which plans and runs it
//!   (after binding any `read_shm(...)` tables).
//!   A `SELECT` never touches the write module.

use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::parser::Statement as DFStatement;
use futures::TryStreamExt;
use quiver_engine::Session;
use quiver_engine::arrow::record_batch::RecordBatch;
use quiver_engine::sql::{Parsed, dml_target};

use crate::delta::{DeltaWriter, is_delta_target};
use crate::{Error, Result};

/// Runs SQL against one session, sending Delta writes to its writer.
#[derive(Debug, Clone)]
pub struct Router {
    session: Session,
    writer: DeltaWriter,
}

impl Router {
    /// A router over `session`, writing Delta tables with `writer`.
    pub fn new(session: Session, writer: DeltaWriter) -> Self {
        Self { session, writer }
    }

    /// The session statements run in.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Parses every statement of `sql` before any runs, so a syntax error anywhere runs
    /// nothing.
    ///
    /// # Errors
    /// The first syntax error, with its line and column in `sql`.
    pub fn parse(&self, sql: &str) -> Result<Vec<Parsed>> {
        Ok(self.session.parse(sql)?)
    }

    /// Runs one parsed statement. Query rows arrive on the stream; a write's stream holds
    /// one row saying what it did (its new version first).
    ///
    /// # Errors
    /// Planning errors, and a write's errors (the table stays at its previous version).
    pub async fn execute(&self, statement: Parsed) -> Result<SendableRecordBatchStream> {
        let done = match statement {
            Parsed::Delta(delta) => self.writer.run(&self.session, delta).await?,
            Parsed::Sql(DFStatement::CopyTo(copy)) if crate::shm::is_shm_target(&copy) => {
                crate::shm::copy_to_ring(&self.session, copy).await?
            }
            Parsed::Sql(statement) => match dml_target(&statement) {
                Some(target) if is_delta_target(&self.session, &target).await => {
                    self.writer
                        .write(&self.session, &target, &statement)
                        .await?
                }
                _ => {
                    let plan = self.plan(statement).await?;
                    return Ok(self.session.execute(plan).await?);
                }
            },
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            done.schema(),
            futures::stream::iter([Ok(done)]),
        )))
    }

    /// Plans a statement the engine runs (a query, DDL, COPY to files), binding any
    /// `read_shm(...)` tables first.
    ///
    /// # Errors
    /// Planning errors, and rings that cannot be opened.
    pub async fn plan(&self, mut statement: DFStatement) -> Result<LogicalPlan> {
        // The ring tables are registered until the plan holds them.
        let _rings = crate::shm::bind_read_shm(&self.session, &mut statement).await?;
        Ok(self.session.plan(statement).await?)
    }

    /// Runs every statement of `sql` in order and collects the last one's rows.
    ///
    /// # Errors
    /// The first error; the statements after it do not run.
    pub async fn run(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        let mut last = Vec::new();
        for statement in self.parse(sql)? {
            let stream = self.execute(statement).await?;
            last = stream
                .try_collect()
                .await
                .map_err(|e| Error::from_engine(quiver_engine::Error::from_datafusion(e)))?;
        }
        Ok(last)
    }
}
