//! Planning an ASOF join: the relation planner that reads the join's condition, and the
//! logical node it makes.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, DFSchema, DFSchemaRef, plan_datafusion_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::utils::split_conjunction_owned;
use datafusion::logical_expr::{
    BinaryExpr, Expr, ExprSchemable, Extension, LogicalPlan, Operator, UserDefinedLogicalNodeCore,
};
use datafusion::sql::sqlparser::ast::{
    self, JoinConstraint, JoinOperator, TableFactor, TableWithJoins,
};

use super::{INNER_MARKER, LEFT_MARKER};

/// Which right row an ASOF join picks for a left row with time `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Hash)]
pub(crate) enum Direction {
    /// `l.t >= r.t` (or `>`): the right row with the greatest time at or before `t`.
    Backward,
    /// `l.t <= r.t` (or `<`): the right row with the least time at or after `t`.
    Forward,
}

/// The logical ASOF join: every left row, with the right row of the same keys whose time is
/// the nearest one on the condition's side of the left row's time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AsofJoin {
    pub left: Arc<LogicalPlan>,
    pub right: Arc<LogicalPlan>,
    /// Equality keys `(left, right)`, of one type per pair.
    pub on: Vec<(Expr, Expr)>,
    /// The inequality's sides, of one type.
    pub left_time: Expr,
    pub right_time: Expr,
    pub direction: Direction,
    /// `>=` and `<=` (a right row at exactly the left row's time matches) or `>` and `<`.
    pub inclusive: bool,
    /// Left rows without a match are kept with NULLs (Snowflake's form and `ASOF LEFT JOIN`)
    /// or left out (DuckDB's `ASOF JOIN`).
    pub keep_unmatched: bool,
    pub schema: DFSchemaRef,
}

impl PartialOrd for AsofJoin {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (
            &self.left,
            &self.right,
            &self.on,
            &self.left_time,
            &self.right_time,
            self.direction,
            self.inclusive,
            self.keep_unmatched,
        )
            .partial_cmp(&(
                &other.left,
                &other.right,
                &other.on,
                &other.left_time,
                &other.right_time,
                other.direction,
                other.inclusive,
                other.keep_unmatched,
            ))
    }
}

impl AsofJoin {
    /// The output schema: the left side's fields, then the right side's, which may be NULL.
    pub(crate) fn output_schema(left: &DFSchema, right: &DFSchema) -> Result<DFSchemaRef> {
        let nullable_right = DFSchema::new_with_metadata(
            right
                .iter()
                .map(|(q, f)| (q.cloned(), Arc::new(f.as_ref().clone().with_nullable(true))))
                .collect(),
            right.metadata().clone(),
        )?;
        Ok(Arc::new(left.join(&nullable_right)?))
    }
}

impl UserDefinedLogicalNodeCore for AsofJoin {
    fn name(&self) -> &str {
        "AsofJoin"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.left, &self.right]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        let mut out: Vec<Expr> = self
            .on
            .iter()
            .flat_map(|(l, r)| [l.clone(), r.clone()])
            .collect();
        out.push(self.left_time.clone());
        out.push(self.right_time.clone());
        out
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "AsofJoin: ")?;
        fmt_condition(
            f,
            &self.on,
            (&self.left_time, &self.right_time),
            self.direction,
            self.inclusive,
            self.keep_unmatched,
        )
    }

    /// Projection push-down: an output column comes from one side; the columns the keys and
    /// times read are added by the optimizer.
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let left_len = self.left.schema().fields().len();
        let (left, right): (Vec<usize>, Vec<usize>) =
            output_columns.iter().copied().partition(|&i| i < left_len);
        let right = right.into_iter().map(|i| i - left_len).collect();
        Some(vec![left, right])
    }

    fn with_exprs_and_inputs(&self, exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let [left, right]: [LogicalPlan; 2] = inputs
            .try_into()
            .map_err(|_| plan_datafusion_err!("AsofJoin takes two inputs"))?;
        let mut exprs = exprs;
        let keys = self.on.len() * 2;
        if exprs.len() != keys + 2 {
            return plan_err!("AsofJoin: expected {} expressions", keys + 2);
        }
        let [left_time, right_time]: [Expr; 2] = exprs
            .split_off(keys)
            .try_into()
            .map_err(|_| plan_datafusion_err!("AsofJoin: expected two time expressions"))?;
        let on = exprs
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        let schema = Self::output_schema(left.schema(), right.schema())?;
        Ok(AsofJoin {
            left: Arc::new(left),
            right: Arc::new(right),
            on,
            left_time,
            right_time,
            schema,
            ..*self
        })
    }
}

/// How plans show an ASOF join's condition: `l.k = r.k, l.t >= r.t, keeping unmatched left
/// rows`, for the logical node and the operator alike.
pub(crate) fn fmt_condition<T: fmt::Display>(
    f: &mut fmt::Formatter,
    on: &[(T, T)],
    (left_time, right_time): (&T, &T),
    direction: Direction,
    inclusive: bool,
    keep_unmatched: bool,
) -> fmt::Result {
    for (l, r) in on {
        write!(f, "{l} = {r}, ")?;
    }
    let operator = match (direction, inclusive) {
        (Direction::Backward, true) => ">=",
        (Direction::Backward, false) => ">",
        (Direction::Forward, true) => "<=",
        (Direction::Forward, false) => "<",
    };
    write!(f, "{left_time} {operator} {right_time}")?;
    if keep_unmatched {
        write!(f, ", keeping unmatched left rows")?;
    }
    Ok(())
}

/// Plans each `(x ASOF JOIN r ...)` relation that the front end nested (see `crate::sql`).
#[derive(Debug, Default)]
pub(crate) struct AsofRelationPlanner;

impl RelationPlanner for AsofRelationPlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        context: &mut dyn RelationPlannerContext,
    ) -> Result<RelationPlanning> {
        match relation {
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } if table_with_joins.joins.len() == 1
                && matches!(
                    table_with_joins.joins[0].join_operator,
                    JoinOperator::AsOf { .. }
                ) =>
            {
                let plan = plan_asof(*table_with_joins, context)?;
                Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
                    plan, alias,
                ))))
            }
            other => Ok(RelationPlanning::Original(Box::new(other))),
        }
    }
}

/// Which side of the join an expression reads.
#[derive(Debug, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    Both,
    Neither,
}

fn side(expr: &Expr, left: &DFSchema, right: &DFSchema) -> Side {
    let (mut l, mut r) = (false, false);
    for column in expr.column_refs() {
        if left.has_column(column) {
            l = true;
        } else if right.has_column(column) {
            r = true;
        }
    }
    match (l, r) {
        (true, false) => Side::Left,
        (false, true) => Side::Right,
        (true, true) => Side::Both,
        (false, false) => Side::Neither,
    }
}

fn asof_err(reason: impl fmt::Display) -> datafusion::error::DataFusionError {
    plan_datafusion_err!("ASOF JOIN: {reason}")
}

/// A column of one side by its unqualified name, for `USING`.
fn using_column(schema: &DFSchema, name: &str, which: &str) -> Result<Expr> {
    let matches = schema.qualified_fields_with_unqualified_name(name);
    match matches.as_slice() {
        [(q, f)] => Ok(Expr::Column(Column::new(q.cloned(), f.name()))),
        [] => Err(asof_err(format!(
            "USING column {name} is not a column of the {which} side"
        ))),
        _ => Err(asof_err(format!(
            "USING column {name} is ambiguous on the {which} side"
        ))),
    }
}

/// Casts both sides of a comparison to their common type.
fn coerce_pair(
    l: Expr,
    r: Expr,
    left: &DFSchema,
    right: &DFSchema,
    what: &str,
) -> Result<(Expr, Expr, DataType)> {
    let (lt, rt) = (l.get_type(left)?, r.get_type(right)?);
    let common = comparison_coercion(&lt, &rt)
        .ok_or_else(|| asof_err(format!("cannot compare {lt} with {rt} in {what}")))?;
    let l = if lt == common {
        l
    } else {
        l.cast_to(&common, left)?
    };
    let r = if rt == common {
        r
    } else {
        r.cast_to(&common, right)?
    };
    Ok((l, r, common))
}

fn plan_asof(
    from: TableWithJoins,
    context: &mut dyn RelationPlannerContext,
) -> Result<LogicalPlan> {
    let TableWithJoins {
        relation,
        mut joins,
    } = from;
    let Some(join) = joins.pop() else {
        return plan_err!("ASOF JOIN: no join to plan");
    };
    let JoinOperator::AsOf {
        match_condition,
        constraint,
    } = join.join_operator
    else {
        unreachable!("checked by the caller")
    };
    let left = context.plan(relation)?;
    let right = context.plan(join.relation)?;
    let (ls, rs) = (
        left.schema().as_ref().clone(),
        right.schema().as_ref().clone(),
    );
    let joined = ls.join(&rs)?;

    // DuckDB's form carries a marker; Snowflake's a real condition.
    let marker = match &match_condition {
        ast::Expr::Identifier(ident) if ident.value == INNER_MARKER => Some(false),
        ast::Expr::Identifier(ident) if ident.value == LEFT_MARKER => Some(true),
        _ => None,
    };
    let keep_unmatched = marker.unwrap_or(true);

    let mut conjuncts: Vec<Expr> = Vec::new();
    let mut inequality: Option<Expr> = None;
    match constraint {
        JoinConstraint::On(on) => {
            conjuncts = split_conjunction_owned(context.sql_to_expr(on, &joined)?);
        }
        JoinConstraint::Using(names) => {
            let names: Vec<String> = names
                .into_iter()
                .map(|n| match n.0.as_slice() {
                    [part] => part
                        .as_ident()
                        .map(|i| context.normalize_ident(i.clone()))
                        .ok_or_else(|| asof_err(format!("bad USING column {n}"))),
                    _ => Err(asof_err(format!("USING takes plain column names, not {n}"))),
                })
                .collect::<Result<_>>()?;
            for (i, name) in names.iter().enumerate() {
                let l = using_column(&ls, name, "left")?;
                let r = using_column(&rs, name, "right")?;
                // In DuckDB's form the last USING column is the inequality, `l.c >= r.c`.
                let op = if marker.is_some() && i + 1 == names.len() {
                    Operator::GtEq
                } else {
                    Operator::Eq
                };
                conjuncts.push(Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(l),
                    op,
                    Box::new(r),
                )));
            }
        }
        JoinConstraint::None => {}
        JoinConstraint::Natural => return Err(asof_err("NATURAL is not supported; name the keys")),
    }
    if marker.is_none() {
        inequality = Some(context.sql_to_expr(match_condition, &joined)?);
    }

    let mut on = Vec::new();
    let mut time = None;
    let conditions = inequality.into_iter().map(|e| (e, true));
    for (expr, is_match_condition) in conditions.chain(conjuncts.into_iter().map(|e| (e, false))) {
        let text = expr.to_string();
        let Expr::BinaryExpr(BinaryExpr {
            left: a,
            op,
            right: b,
        }) = expr
        else {
            return Err(asof_err(format!(
                "the condition {text} must compare a column of the left side with one of the right side (filter rows in WHERE)"
            )));
        };
        if is_match_condition
            && !matches!(
                op,
                Operator::GtEq | Operator::Gt | Operator::LtEq | Operator::Lt
            )
        {
            return Err(asof_err(format!(
                "MATCH_CONDITION takes one of >=, >, <= or <, not {op}: {text}"
            )));
        }
        let (sa, sb) = (side(&a, &ls, &rs), side(&b, &ls, &rs));
        let (l, r, op) = match (sa, sb) {
            (Side::Left, Side::Right) => (*a, *b, op),
            // As in DataFusion, MATCH_CONDITION names the left side first.
            (Side::Right, Side::Left) if is_match_condition => {
                let flipped = op.swap().unwrap_or(op);
                return Err(asof_err(format!(
                    "MATCH_CONDITION's left operand must read the left side only: write \
                     {b} {flipped} {a} for {text}"
                )));
            }
            (Side::Right, Side::Left) => (*b, *a, op.swap().unwrap_or(op)),
            _ => {
                return Err(asof_err(format!(
                    "the condition {text} must compare a column of the left side with one of the right side (filter rows in WHERE)"
                )));
            }
        };
        match op {
            Operator::Eq if !is_match_condition => on.push((l, r)),
            Operator::GtEq | Operator::Gt | Operator::LtEq | Operator::Lt => {
                if marker.is_none() && !is_match_condition {
                    return Err(asof_err(format!(
                        "ON takes only equalities joined by AND (the one inequality belongs in \
                         MATCH_CONDITION): {text}"
                    )));
                }
                if time.is_some() {
                    return Err(asof_err(format!(
                        "it takes exactly one inequality (>=, >, <= or <), found a second: {text}"
                    )));
                }
                time = Some((l, r, op));
            }
            _ => {
                return Err(asof_err(format!(
                    "{text}: the ON condition takes equalities joined by AND{}",
                    if marker.is_some() {
                        " and one inequality (>=, >, <= or <)"
                    } else {
                        ""
                    }
                )));
            }
        }
    }
    let Some((lt, rt, op)) = time else {
        return Err(asof_err(
            "it needs an inequality between the two sides' times (>=, >, <= or <), such as t.ts >= q.ts",
        ));
    };
    let (direction, inclusive) = match op {
        Operator::GtEq => (Direction::Backward, true),
        Operator::Gt => (Direction::Backward, false),
        Operator::LtEq => (Direction::Forward, true),
        _ => (Direction::Forward, false),
    };
    // Times are compared as they are: both temporal or both numbers, never a string or a
    // number read as a time.
    let (ltype, rtype) = (lt.get_type(&ls)?, rt.get_type(&rs)?);
    let temporal = |t: &DataType| {
        matches!(
            t,
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
        )
    };
    if !super::exec::orderable(&ltype) || !super::exec::orderable(&rtype) {
        return Err(asof_err(format!(
            "the inequality compares {ltype} with {rtype}; it takes timestamps, dates or numbers"
        )));
    }
    if temporal(&ltype) != temporal(&rtype) {
        return Err(asof_err(format!(
            "the inequality compares {ltype} with {rtype}: a time with a number; cast one side"
        )));
    }
    let (left_time, right_time, time_type) = coerce_pair(lt, rt, &ls, &rs, "the inequality")?;
    // DataFusion's ASOF join (the MATCH_CONDITION form's semantics) refuses floating-point
    // times; DuckDB's form takes them, as DuckDB does.
    if marker.is_none() && matches!(time_type, DataType::Float32 | DataType::Float64) {
        return Err(asof_err(format!(
            "MATCH_CONDITION compares floating-point times ({time_type}), which this form does \
             not take; cast them to an integer or a timestamp, or use DuckDB's form \
             (ASOF JOIN ... ON t.ts >= q.ts)"
        )));
    }
    if !super::exec::orderable(&time_type) {
        return Err(asof_err(format!(
            "the inequality compares values of type {time_type}; it takes timestamps, dates or numbers"
        )));
    }
    let on = on
        .into_iter()
        .map(|(l, r)| coerce_pair(l, r, &ls, &rs, "the keys").map(|(l, r, _)| (l, r)))
        .collect::<Result<Vec<_>>>()?;

    let schema = AsofJoin::output_schema(&ls, &rs)?;
    Ok(LogicalPlan::Extension(Extension {
        node: Arc::new(AsofJoin {
            left: Arc::new(left),
            right: Arc::new(right),
            on,
            left_time,
            right_time,
            direction,
            inclusive,
            keep_unmatched,
            schema,
        }),
    }))
}
