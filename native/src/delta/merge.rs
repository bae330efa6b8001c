//! `MERGE INTO target USING source ON ... WHEN [NOT] MATCHED [BY SOURCE] ... THEN ...`.
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::dataframe::DataFrame;
use datafusion::sql::sqlparser::ast::{
    self as ast, MergeAction, MergeClauseKind, MergeInsertKind, ObjectName, TableFactor,
};
use quiver_engine::Session;
use quiver_engine::sql::Target;

use super::dml::assigned_column;
use super::table::table_schema;
use super::{
    DeltaWriter, check_column, delta_error, delta_state, delta_state_owned, last_ident, plan_sql,
};
use crate::{Error, Result};

impl DeltaWriter {
    pub(super) async fn merge(
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
                return Err(Error::invalid(
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
                    return Err(Error::invalid(
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
}

/// What a query calls a table: its alias, else the last part of its name.
fn alias_or_name(name: &ObjectName, alias: Option<&ast::TableAlias>) -> String {
    alias.map_or_else(|| last_ident(name), |a| a.name.value.clone())
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
    Error::invalid(
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
        return Err(Error::invalid(
            "MERGE",
            "WHEN NOT MATCHED THEN INSERT takes VALUES (...)",
        ));
    };
    let [row] = values.rows.as_slice() else {
        return Err(Error::invalid(
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
        return Err(Error::invalid(
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
