//! Time-series SQL: what people who analyse ticks, sensor readings, logs and events ask for
//! and DataFusion 55 does not plan.
//!
//! - [`asof`]: `ASOF JOIN`, in DuckDB's and Snowflake's forms.
//! - [`match_recognize`]: MATCH_RECOGNIZE, an SQL:2016 subset.
//! - [`functions`]: `time_bucket` (DuckDB's), `time_windows` (hopping windows) and the
//!   `session_id` window function.
//!
//! Everything here is portable: the CLI, the npm package, the explorer and the Python package
//! all have it.

use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::error::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use datafusion::prelude::SessionContext;

pub(crate) mod asof;
mod functions;
pub(crate) mod match_recognize;

/// Registers the time-series functions and the ASOF join's relation planner in a session's
/// context.
pub(crate) fn register(ctx: &SessionContext) -> Result<()> {
    functions::register(ctx);
    ctx.register_relation_planner(Arc::new(asof::plan::AsofRelationPlanner))?;
    ctx.register_relation_planner(Arc::new(
        match_recognize::plan::MatchRecognizeRelationPlanner,
    ))?;
    Ok(())
}

/// The session's physical planner: DataFusion's, which also plans the time-series nodes.
#[derive(Debug, Default)]
pub(crate) struct TimeSeriesQueryPlanner;

#[async_trait::async_trait]
impl QueryPlanner for TimeSeriesQueryPlanner {
    async fn create_physical_plan(
        &self,
        plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![
            Arc::new(asof::exec::AsofExtensionPlanner),
            Arc::new(match_recognize::exec::MatchRecognizeExtensionPlanner),
        ])
        .create_physical_plan(plan, session)
        .await
    }
}
