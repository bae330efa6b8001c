//! Table maintenance: `OPTIMIZE [WHERE ...] [ZORDER BY ...]`, `VACUUM [RETAIN n HOURS] [DRY
//! RUN]`, `CHECKPOINT` and `RESTORE ... TO VERSION|TIMESTAMP AS OF`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::ast;
use deltalake::operations::optimize::OptimizeType;
use deltalake::{FilterOp, FilterValue};
use quiver_engine::Session;
use quiver_engine::delta::AsOf;
use quiver_engine::sql::Target;

use super::table::version_at;
use super::{DeltaWriter, delta_error, delta_state, summary, version_of};
use crate::{Error, Result};

impl DeltaWriter {
    pub(super) async fn optimize(
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

    pub(super) async fn vacuum(
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
                return Err(Error::invalid(
                    "VACUUM",
                    "RETAIN takes a number of hours ≥ 0",
                ));
            }
            builder =
                builder.with_retention_period(chrono::Duration::seconds((hours * 3600.0) as i64));
        }
        let (_, metrics) = builder.await.map_err(|e| {
            let message = e.to_string();
            if message.contains("retention") {
                Error::DeltaWrite {
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
                .map_err(|e| Error::from(DataFusionError::from(e)));
        }
        summary(&[("files_deleted", metrics.files_deleted.len() as i64)])
    }

    pub(super) async fn checkpoint(
        &self,
        session: &Session,
        target: &Target,
    ) -> Result<RecordBatch> {
        let table = self.open(session, target).await?;
        deltalake::checkpoints::create_checkpoint(&table, None)
            .await
            .map_err(|e| delta_error(target, e))?;
        summary(&[("version", version_of(&table))])
    }

    pub(super) async fn restore(
        &self,
        session: &Session,
        target: &Target,
        to: AsOf,
    ) -> Result<RecordBatch> {
        let table = self.open(session, target).await?;
        let builder = table.restore();
        let builder = match to {
            AsOf::Version(v) => builder.with_version_to_restore(v as _),
            // The version time travel reads at that instant, found by the engine's reader,
            // so RESTORE and TIMESTAMP AS OF agree (deltalake alone would take an instant
            // before the first commit as version 0).
            AsOf::Timestamp(at) => {
                builder.with_version_to_restore(version_at(session, target, at).await? as _)
            }
            AsOf::Latest => {
                return Err(Error::invalid(
                    "RESTORE",
                    "say which version: TO VERSION AS OF n or TO TIMESTAMP AS OF '...'",
                ));
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
    Error::invalid(
        "OPTIMIZE",
        format!(
            "WHERE takes comparisons of partition columns with literals joined by AND, not {expr}"
        ),
    )
}
