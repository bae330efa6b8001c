//! `INSERT [OVERWRITE]`, `UPDATE` and `DELETE` on Delta tables.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, lit};
use datafusion::sql::sqlparser::ast::{self as ast, AssignmentTarget, ObjectName};
use deltalake::protocol::SaveMode;
use quiver_engine::Session;
use quiver_engine::sql::Target;

use super::table::{count_rows, table_schema};
use super::{
    DeltaWriter, added_rows, check_column, delta_error, delta_state, last_ident, plan_query,
    version_of,
};
use crate::{Error, Result};

impl DeltaWriter {
    pub(super) async fn insert(
        &self,
        session: &Session,
        target: &Target,
        insert: &ast::Insert,
    ) -> Result<RecordBatch> {
        let source = insert.source.as_ref().ok_or_else(|| {
            Error::invalid(
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

    pub(super) async fn update(
        &self,
        session: &Session,
        target: &Target,
        update: &ast::Update,
    ) -> Result<RecordBatch> {
        if update.from.is_some() {
            return Err(Error::invalid(
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

    pub(super) async fn delete(
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
            return Err(Error::invalid(
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
            return Err(Error::invalid(
                "INSERT",
                format!(
                    "{} column(s) are listed but the query gives {}",
                    listed.len(),
                    source.fields().len()
                ),
            ));
        }
        if let Some(unknown) = listed.iter().find(|c| !names.contains(&c.as_str())) {
            return Err(Error::invalid(
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
                None => Err(Error::invalid(
                    "INSERT",
                    format!("column '{}' is NOT NULL and needs a value", f.name()),
                )),
            })
            .collect::<Result<_>>()?
    };
    LogicalPlanBuilder::from(plan)
        .project(exprs)
        .and_then(LogicalPlanBuilder::build)
        .map_err(Error::from)
}

/// The column an assignment sets (`SET t.col = ...` sets `col`), which must exist.
pub(super) fn assigned_column(
    target: &AssignmentTarget,
    schema: &Schema,
    what: &'static str,
) -> Result<String> {
    let column = match target {
        AssignmentTarget::ColumnName(name) => last_ident(name),
        AssignmentTarget::Tuple(_) => {
            return Err(Error::invalid(
                what,
                "set one column at a time: SET a = 1, b = 2",
            ));
        }
    };
    check_column(schema, &column, what)?;
    Ok(column)
}
