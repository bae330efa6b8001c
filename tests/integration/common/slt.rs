//! A sqllogictest database driven through Quiver's [`Session`], with DataFusion's own value
//! formatting so that DataFusion's `.slt` files read the same.

use async_trait::async_trait;
use datafusion_sqllogictest::{DFColumnType, convert_batches, convert_schema_to_types};
use futures::TryStreamExt;
use quiver_engine::Error;
use sqllogictest::DBOutput;

/// Runs each record's SQL through the native statement router, the path the CLI takes (Delta
/// writes through its writer, everything else planned and run by the engine's `Session`).
pub struct QuiverDb {
    pub router: quiver::run::Router,
    /// Report errors as stock DataFusion words them (for DataFusion's own test files),
    /// rather than as Quiver shows them to people.
    pub datafusion_errors: bool,
}

/// An error from a statement, as text.
#[derive(Debug)]
pub struct SltError(pub String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

impl QuiverDb {
    /// DataFusion's test files expect its own error text ("DataFusion error: ..."), so in
    /// that mode an error that came from DataFusion is shown as DataFusion's runner shows it.
    fn error(&self, e: Error) -> SltError {
        match e.as_datafusion() {
            Some(df) if self.datafusion_errors => {
                SltError(format!("DataFusion error: {}", df.strip_backtrace()))
            }
            _ => SltError(e.to_string()),
        }
    }

    fn native_error(&self, e: quiver::Error) -> SltError {
        match e {
            quiver::Error::Engine(e) => self.error(e),
            other => SltError(other.to_string()),
        }
    }
}

#[async_trait]
impl sqllogictest::AsyncDB for QuiverDb {
    type Error = SltError;
    type ColumnType = DFColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DFColumnType>, SltError> {
        // Statements go through the native router, as `quiver -c` runs them (Delta writes
        // included).
        let statements = self.router.parse(sql).map_err(|e| self.native_error(e))?;
        let mut output = DBOutput::StatementComplete(0);
        for statement in statements {
            let stream = self
                .router
                .execute(statement)
                .await
                .map_err(|e| self.native_error(e))?;
            let schema = stream.schema();
            let batches: Vec<_> = stream
                .try_collect()
                .await
                .map_err(|e| self.error(Error::from_datafusion(e)))?;
            let types = convert_schema_to_types(schema.fields());
            let rows =
                convert_batches(&schema, batches, false).map_err(|e| SltError(e.to_string()))?;
            output = if rows.is_empty() && types.is_empty() {
                DBOutput::StatementComplete(0)
            } else {
                DBOutput::Rows { types, rows }
            };
        }
        Ok(output)
    }

    fn engine_name(&self) -> &str {
        "DataFusion"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }

    async fn shutdown(&mut self) {}
}

/// Configures a runner the way DataFusion's own sqllogictest binary does.
pub fn configure<
    D: sqllogictest::AsyncDB<ColumnType = DFColumnType>,
    M: sqllogictest::MakeConnection<Conn = D>,
>(
    runner: &mut sqllogictest::Runner<D, M>,
) {
    runner.with_column_validator(sqllogictest::strict_column_validator);
    runner.with_normalizer(datafusion_sqllogictest::value_normalizer);
    runner.with_validator(datafusion_sqllogictest::df_value_validator);
}
