//! Planning MATCH_RECOGNIZE: the relation planner that reads the clause, the logical node
//! that finds the matches, and the aggregate above it that computes MEASURES.
//!
//! The node ([`MatchRecognize`]) emits every row of every match, tagged with the match's
//! number in its partition (`__mr_match`), the row's position in the partition (`__mr_seq`)
//! and the variable it was mapped to (`__mr_classifier`); an empty match emits one row (the
//! start row's columns, so its partition is known) with NULL position and variable, which
//! every measure filters out. MEASURES become ordinary aggregates over those rows grouped by partition and
//! match: `FIRST(a.ts)` is `first_value(ts ORDER BY __mr_seq) FILTER (WHERE __mr_classifier
//! = 'a')`, `count(*)` counts the match's rows, `sum(b.size)` sums the rows mapped to `b`.
//!
//! DEFINE conditions read the current row's columns and, through navigation, other rows:
//! `PREV(col [, n])` and `NEXT(col [, n])` (rows before and after the current one in the
//! partition), `v.col` and `LAST(v.col)` (the last row mapped to `v` so far), `FIRST(v.col)`
//! (the first), `FIRST(col)` (the match's first row). Each navigation becomes a column
//! `__mr_nav_<k>` of the condition's input that the operator fills per row.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{
    Column, DFSchema, DFSchemaRef, DataFusionError, plan_datafusion_err, plan_err,
};
use datafusion::error::Result;
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::utils::{find_aggregate_exprs, split_conjunction_owned};
use datafusion::logical_expr::{
    Expr, ExprSchemable, Extension, LogicalPlan, LogicalPlanBuilder, SortExpr,
    UserDefinedLogicalNodeCore,
};
use datafusion::optimizer::analyzer::type_coercion::TypeCoercionRewriter;
use datafusion::sql::sqlparser::ast::{
    self, AfterMatchSkip, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, RowsPerMatch,
    TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::pattern::Pattern;

/// The node's column with each output row's match number (from 1 in each partition).
pub(crate) const MATCH_COLUMN: &str = "__mr_match";
/// The node's column with each output row's position in its partition.
pub(crate) const SEQ_COLUMN: &str = "__mr_seq";
/// The node's column with the variable each output row was mapped to.
pub(crate) const CLASSIFIER_COLUMN: &str = "__mr_classifier";
const NAV_PREFIX: &str = "__mr_nav_";
const PLACEHOLDER_PREFIX: &str = "__mr_measure_";

/// Where the search resumes after a match.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, serde::Serialize, serde::Deserialize,
)]
pub(crate) enum Skip {
    /// `AFTER MATCH SKIP PAST LAST ROW` (the default): at the row after the match.
    PastLastRow,
    /// `AFTER MATCH SKIP TO NEXT ROW`: at the row after the match's first row.
    ToNextRow,
}

/// The row a navigation starts from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, serde::Serialize, serde::Deserialize,
)]
pub(crate) enum Anchor {
    /// The row being tested.
    Current,
    /// The match's first row.
    MatchStart,
    /// The first row mapped to the variable (the current row if it is the first).
    First(usize),
    /// The last row mapped to the variable before the current row.
    Last(usize),
}

/// A value from another row that a DEFINE condition reads: column `column` of the row
/// `offset` rows after (negative: before) the anchor row, NULL outside the partition.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, serde::Serialize, serde::Deserialize,
)]
pub(crate) struct Nav {
    pub anchor: Anchor,
    pub offset: i64,
    pub column: usize,
}

/// One conjunct of a variable's DEFINE condition, over the input's columns followed by one
/// column per navigation ([`MatchRecognize::define_schema`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub(crate) struct Condition {
    pub var: usize,
    pub expr: Expr,
    /// Whether it reads only the current row and rows at fixed offsets from it, so it can be
    /// evaluated for a whole partition at once.
    pub row_local: bool,
}

/// The logical MATCH_RECOGNIZE: every row of every match (see the module's notes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct MatchRecognize {
    pub input: Arc<LogicalPlan>,
    /// Columns of the input.
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortExpr>,
    pub pattern: Pattern,
    /// The pattern variables' names; a variable is its index here.
    pub names: Vec<String>,
    pub conditions: Vec<Condition>,
    pub navs: Vec<Nav>,
    pub skip: Skip,
    pub define_schema: DFSchemaRef,
    pub schema: DFSchemaRef,
}

impl PartialOrd for MatchRecognize {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (
            &self.input,
            &self.partition_by,
            &self.order_by,
            &self.pattern,
            &self.names,
            &self.conditions,
            &self.navs,
            self.skip,
        )
            .partial_cmp(&(
                &other.input,
                &other.partition_by,
                &other.order_by,
                &other.pattern,
                &other.names,
                &other.conditions,
                &other.navs,
                other.skip,
            ))
    }
}

impl MatchRecognize {
    /// The schema DEFINE conditions are planned over: the input's columns, then one column
    /// per navigation, of the type of the column it reads.
    pub(crate) fn define_schema(input: &DFSchema, navs: &[Nav]) -> Result<DFSchema> {
        let mut fields: Vec<_> = input
            .iter()
            .map(|(q, f)| (q.cloned(), Arc::clone(f)))
            .collect();
        for (k, nav) in navs.iter().enumerate() {
            if nav.column >= input.fields().len() {
                return plan_err!("MatchRecognize: navigation {k} reads a column the input lacks");
            }
            let t = input.field(nav.column).data_type().clone();
            fields.push((
                None,
                Arc::new(Field::new(format!("{NAV_PREFIX}{k}"), t, true)),
            ));
        }
        DFSchema::new_with_metadata(fields, input.metadata().clone())
    }

    /// The node's output: the input's columns, then the match number, the row's position and
    /// its variable (NULL in an empty match's row).
    pub(crate) fn output_schema(input: &DFSchema) -> Result<DFSchemaRef> {
        let mut fields: Vec<_> = input
            .iter()
            .map(|(q, f)| (q.cloned(), Arc::clone(f)))
            .collect();
        for (name, t, nullable) in [
            (MATCH_COLUMN, DataType::UInt64, false),
            (SEQ_COLUMN, DataType::UInt64, true),
            (CLASSIFIER_COLUMN, DataType::Utf8, true),
        ] {
            fields.push((None, Arc::new(Field::new(name, t, nullable))));
        }
        Ok(Arc::new(DFSchema::new_with_metadata(
            fields,
            input.metadata().clone(),
        )?))
    }
}

impl UserDefinedLogicalNodeCore for MatchRecognize {
    fn name(&self) -> &str {
        "MatchRecognize"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    /// The partition and order expressions; the DEFINE conditions read navigation columns
    /// the input does not have, so they stay inside the node (and every input column is
    /// kept for them).
    fn expressions(&self) -> Vec<Expr> {
        self.partition_by
            .iter()
            .cloned()
            .chain(self.order_by.iter().map(|s| s.expr.clone()))
            .collect()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "MatchRecognize: ")?;
        if !self.partition_by.is_empty() {
            let keys: Vec<String> = self.partition_by.iter().map(|e| e.to_string()).collect();
            write!(f, "PARTITION BY {} ", keys.join(", "))?;
        }
        if !self.order_by.is_empty() {
            let keys: Vec<String> = self.order_by.iter().map(|e| e.to_string()).collect();
            write!(f, "ORDER BY {} ", keys.join(", "))?;
        }
        write!(f, "PATTERN (")?;
        self.pattern.fmt_with(f, &self.names)?;
        write!(f, ")")?;
        for c in &self.conditions {
            write!(f, ", {}: {}", self.names[c.var], c.expr)?;
        }
        if self.skip == Skip::ToNextRow {
            write!(f, ", AFTER MATCH SKIP TO NEXT ROW")?;
        }
        Ok(())
    }

    fn with_exprs_and_inputs(&self, exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let [input]: [LogicalPlan; 1] = inputs
            .try_into()
            .map_err(|_| plan_datafusion_err!("MatchRecognize takes one input"))?;
        if exprs.len() != self.partition_by.len() + self.order_by.len() {
            return plan_err!("MatchRecognize: unexpected number of expressions");
        }
        if input.schema().fields().len() != self.input.schema().fields().len() {
            return plan_err!("MatchRecognize: its input's columns changed");
        }
        let (partition_by, order) = exprs.split_at(self.partition_by.len());
        let order_by = self
            .order_by
            .iter()
            .zip(order)
            .map(|(s, e)| s.with_expr(e.clone()))
            .collect();
        let schema = Self::output_schema(input.schema())?;
        Ok(MatchRecognize {
            input: Arc::new(input),
            partition_by: partition_by.to_vec(),
            order_by,
            schema,
            ..self.clone()
        })
    }
}

fn mr_err(reason: impl fmt::Display) -> DataFusionError {
    plan_datafusion_err!("MATCH_RECOGNIZE: {reason}")
}

/// Plans `... MATCH_RECOGNIZE (...)` relations.
#[derive(Debug, Default)]
pub(crate) struct MatchRecognizeRelationPlanner;

impl RelationPlanner for MatchRecognizeRelationPlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        context: &mut dyn RelationPlannerContext,
    ) -> Result<RelationPlanning> {
        match relation {
            TableFactor::MatchRecognize {
                table,
                partition_by,
                order_by,
                measures,
                rows_per_match,
                after_match_skip,
                pattern,
                symbols,
                alias,
            } => {
                let clause = Clause {
                    partition_by,
                    order_by,
                    measures,
                    rows_per_match,
                    after_match_skip,
                    pattern,
                    symbols,
                };
                let input = context.plan(*table)?;
                let plan = plan_match_recognize(input, clause, context)?;
                Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
                    plan, alias,
                ))))
            }
            other => Ok(RelationPlanning::Original(Box::new(other))),
        }
    }
}

/// The parts of a MATCH_RECOGNIZE clause, as parsed.
struct Clause {
    partition_by: Vec<ast::Expr>,
    order_by: Vec<ast::OrderByExpr>,
    measures: Vec<ast::Measure>,
    rows_per_match: Option<RowsPerMatch>,
    after_match_skip: Option<AfterMatchSkip>,
    pattern: ast::MatchRecognizePattern,
    symbols: Vec<ast::SymbolDefinition>,
}

fn plan_match_recognize(
    input: LogicalPlan,
    clause: Clause,
    context: &mut dyn RelationPlannerContext,
) -> Result<LogicalPlan> {
    match clause.rows_per_match {
        None | Some(RowsPerMatch::OneRow) => {}
        Some(RowsPerMatch::AllRows(_)) => {
            return Err(mr_err(
                "ALL ROWS PER MATCH is not supported (ONE ROW PER MATCH is)",
            ));
        }
    }
    let skip = match clause.after_match_skip {
        None | Some(AfterMatchSkip::PastLastRow) => Skip::PastLastRow,
        Some(AfterMatchSkip::ToNextRow) => Skip::ToNextRow,
        Some(other) => {
            return Err(mr_err(format!(
                "{other} is not supported (PAST LAST ROW and TO NEXT ROW are)"
            )));
        }
    };
    let input_schema = input.schema().as_ref().clone();

    let mut partition_by = Vec::new();
    for e in clause.partition_by {
        let text = e.to_string();
        match context.sql_to_expr(e, &input_schema)? {
            column @ Expr::Column(_) => partition_by.push(column),
            _ => {
                return Err(mr_err(format!(
                    "PARTITION BY takes columns of the input; {text} is not one"
                )));
            }
        }
    }
    let mut order_by = Vec::new();
    for o in clause.order_by {
        if o.with_fill.is_some() {
            return Err(mr_err("ORDER BY ... WITH FILL is not supported"));
        }
        let asc = o.options.asc.unwrap_or(true);
        let nulls_first = o.options.nulls_first.unwrap_or(!asc);
        let expr = context.sql_to_expr(o.expr, &input_schema)?;
        order_by.push(SortExpr::new(expr, asc, nulls_first));
    }

    let normalize = |ident: &Ident| context_normalize(ident);
    let mut names = Vec::new();
    let pattern = Pattern::from_sql(&clause.pattern, &normalize, &mut names)?;

    // DEFINE: each variable's condition, its navigations made columns.
    let mut navs: Vec<Nav> = Vec::new();
    let mut defined = vec![false; names.len()];
    let mut rewritten = Vec::new();
    for symbol in clause.symbols {
        let name = context_normalize(&symbol.symbol);
        let Some(var) = names.iter().position(|n| *n == name) else {
            return Err(mr_err(format!(
                "DEFINE {name}: {name} is not a variable of the PATTERN"
            )));
        };
        if std::mem::replace(&mut defined[var], true) {
            return Err(mr_err(format!("DEFINE {name} appears twice")));
        }
        let mut definition = symbol.definition;
        let mut rewriter = DefineRewriter {
            var,
            names: &names,
            input: &input_schema,
            navs: &mut navs,
        };
        rewrite_each(&mut definition, |e| rewriter.rewrite(e))
            .map_err(|e| mr_err(format!("DEFINE {name}: {e}")))?;
        rewritten.push((var, name, definition));
    }
    let define_schema = MatchRecognize::define_schema(&input_schema, &navs)?;
    let mut conditions = Vec::new();
    for (var, name, definition) in rewritten {
        let expr = context.sql_to_expr(definition, &define_schema)?;
        let expr = expr
            .rewrite(&mut TypeCoercionRewriter::new(&define_schema))?
            .data;
        if !find_aggregate_exprs([&expr]).is_empty() {
            return Err(mr_err(format!(
                "DEFINE {name}: aggregates in DEFINE are not supported"
            )));
        }
        let expr = match expr.get_type(&define_schema)? {
            DataType::Boolean => expr,
            DataType::Null => expr.cast_to(&DataType::Boolean, &define_schema)?,
            t => {
                return Err(mr_err(format!(
                    "DEFINE {name} must be a condition, not a value of type {t}"
                )));
            }
        };
        for conjunct in split_conjunction_owned(expr) {
            let row_local =
                conjunct
                    .column_refs()
                    .iter()
                    .all(|c| match c.name.strip_prefix(NAV_PREFIX) {
                        Some(k) if c.relation.is_none() => k
                            .parse::<usize>()
                            .map(|k| navs[k].anchor == Anchor::Current)
                            .unwrap_or(true),
                        _ => true,
                    });
            conditions.push(Condition {
                var,
                expr: conjunct,
                row_local,
            });
        }
    }

    let schema = MatchRecognize::output_schema(&input_schema)?;
    let node = MatchRecognize {
        input: Arc::new(input),
        partition_by: partition_by.clone(),
        order_by,
        pattern,
        names: names.clone(),
        conditions,
        navs,
        skip,
        define_schema: Arc::new(define_schema),
        schema: Arc::clone(&schema),
    };
    let matches = LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    });

    // MEASURES: aggregates over each match's rows.
    let partition_names: Vec<String> = partition_by
        .iter()
        .filter_map(|e| match e {
            Expr::Column(c) => Some(c.name.clone()),
            _ => None,
        })
        .collect();
    let mut measures = Vec::new();
    for measure in clause.measures {
        let alias = context.normalize_ident(measure.alias.clone());
        let mut expr = measure.expr;
        let mut rewriter = MeasureRewriter {
            names: &names,
            input: &input_schema,
            partition_names: &partition_names,
            is_aggregate: &|name: &str| {
                context
                    .context_provider()
                    .get_aggregate_meta(&name.to_lowercase())
                    .is_some()
            },
            replacements: HashMap::new(),
        };
        rewrite_each(&mut expr, |e| rewriter.rewrite(e))
            .map_err(|e| mr_err(format!("MEASURES {alias}: {e}")))?;
        let mut restore = Restore(rewriter.replacements);
        let _ = expr.visit(&mut restore);
        let expr = context.sql_to_expr(expr, &schema)?;
        measures.push(expr.alias(alias));
    }
    if measures.is_empty() && partition_by.is_empty() {
        return Err(mr_err(
            "give MEASURES or PARTITION BY: the result has no columns",
        ));
    }
    let aggregates = find_aggregate_exprs(measures.iter());
    let mut group = partition_by.clone();
    group.push(Expr::Column(Column::from_name(MATCH_COLUMN)));
    let aggregated = LogicalPlanBuilder::from(matches)
        .aggregate(group, aggregates.clone())?
        .build()?;
    let rebased = measures
        .into_iter()
        .map(|m| {
            m.transform_down(|e| {
                if aggregates.contains(&e) {
                    let column = Expr::Column(Column::from_name(e.schema_name().to_string()));
                    Ok(Transformed::new(column, true, TreeNodeRecursion::Jump))
                } else {
                    Ok(Transformed::no(e))
                }
            })
            .map(|t| t.data)
        })
        .collect::<Result<Vec<_>>>()?;
    LogicalPlanBuilder::from(aggregated)
        .project(partition_by.into_iter().chain(rebased))?
        .build()
}

/// Identifier normalization as DataFusion's default (unquoted names lower-cased).
fn context_normalize(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

fn var_of(names: &[String], ident: &Ident) -> Option<usize> {
    let name = context_normalize(ident);
    names.iter().position(|n| *n == name)
}

fn column_index(input: &DFSchema, ident: &Ident) -> Result<usize, String> {
    let name = context_normalize(ident);
    let found = input.qualified_fields_with_unqualified_name(&name);
    match found.as_slice() {
        [(q, f)] => input
            .index_of_column(&Column::new(q.cloned(), f.name()))
            .map_err(|e| e.to_string()),
        [] => Err(format!("{name} is not a column of the input")),
        _ => Err(format!("{name} is ambiguous")),
    }
}

fn function_name(f: &ast::Function) -> String {
    f.name.to_string().to_uppercase()
}

/// The plain arguments of a call, refusing clauses MATCH_RECOGNIZE has no use for.
fn plain_args(f: &ast::Function) -> Result<Vec<ast::Expr>, String> {
    match &f.args {
        FunctionArguments::None => Ok(vec![]),
        FunctionArguments::List(list)
            if list.clauses.is_empty() && list.duplicate_treatment.is_none() =>
        {
            list.args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e.clone()),
                    other => Err(format!("unsupported argument {other} of {}", f.name)),
                })
                .collect()
        }
        _ => Err(format!("unsupported arguments in {f}")),
    }
}

/// A navigation's column: `col` or `v.col`, with the variable if one is named.
fn nav_target(
    names: &[String],
    input: &DFSchema,
    e: &ast::Expr,
) -> Result<(Option<usize>, usize), String> {
    match e {
        ast::Expr::Identifier(ident) => Ok((None, column_index(input, ident)?)),
        ast::Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
            match var_of(names, &parts[0]) {
                Some(v) => Ok((Some(v), column_index(input, &parts[1])?)),
                None => Err(format!(
                    "{} in {e} is not a variable of the PATTERN",
                    parts[0]
                )),
            }
        }
        other => Err(format!(
            "navigation reads a column or variable.column, not {other}"
        )),
    }
}

/// An integer literal offset of `PREV`/`NEXT`.
fn offset_arg(e: &ast::Expr) -> Result<i64, String> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| format!("the offset {n} must be a non-negative integer")),
            other => Err(format!("the offset {other} must be an integer")),
        },
        other => Err(format!("the offset {other} must be an integer literal")),
    }
}

/// Runs `rewrite` on each expression in `expr`, outermost first (what it puts in place is
/// visited next), stopping at the first error.
fn rewrite_each(
    expr: &mut ast::Expr,
    rewrite: impl FnMut(&mut ast::Expr) -> Result<(), String>,
) -> Result<(), String> {
    struct Each<F>(F, Option<String>);
    impl<F: FnMut(&mut ast::Expr) -> Result<(), String>> VisitorMut for Each<F> {
        type Break = ();

        fn pre_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<()> {
            match (self.0)(expr) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    self.1 = Some(e);
                    ControlFlow::Break(())
                }
            }
        }
    }
    let mut each = Each(rewrite, None);
    let _ = expr.visit(&mut each);
    each.1.map_or(Ok(()), Err)
}

/// Rewrites a DEFINE condition: navigations become `__mr_nav_<k>` columns, and the defined
/// variable's own columns (`b.ts` in `DEFINE b`) the current row's.
struct DefineRewriter<'a> {
    var: usize,
    names: &'a [String],
    input: &'a DFSchema,
    navs: &'a mut Vec<Nav>,
}

impl DefineRewriter<'_> {
    fn nav_column(&mut self, nav: Nav) -> ast::Expr {
        let nav = match nav.anchor {
            // The last row mapped to the defined variable is the row being tested.
            Anchor::Last(v) if v == self.var => Nav {
                anchor: Anchor::Current,
                ..nav
            },
            _ => nav,
        };
        let k = match self.navs.iter().position(|n| *n == nav) {
            Some(k) => k,
            None => {
                self.navs.push(nav);
                self.navs.len() - 1
            }
        };
        ast::Expr::Identifier(Ident::new(format!("{NAV_PREFIX}{k}")))
    }

    /// `FIRST(x)` / `LAST(x)` as an anchor and column.
    fn first_last(&self, f: &ast::Function) -> Result<Option<(Anchor, usize)>, String> {
        let name = function_name(f);
        if name != "FIRST" && name != "LAST" {
            return Ok(None);
        }
        let args = plain_args(f)?;
        let [arg] = args.as_slice() else {
            return Err(format!("{name} takes one argument here"));
        };
        let (var, column) = nav_target(self.names, self.input, arg)?;
        let anchor = match (name.as_str(), var) {
            ("FIRST", Some(v)) => Anchor::First(v),
            ("FIRST", None) => Anchor::MatchStart,
            (_, Some(v)) => Anchor::Last(v),
            (_, None) => Anchor::Current,
        };
        Ok(Some((anchor, column)))
    }

    fn rewrite(&mut self, expr: &mut ast::Expr) -> Result<(), String> {
        match expr {
            ast::Expr::CompoundIdentifier(parts)
                if parts.len() == 2 && var_of(self.names, &parts[0]).is_some() =>
            {
                let v = var_of(self.names, &parts[0]).unwrap_or_default();
                let column = column_index(self.input, &parts[1])?;
                *expr = if v == self.var {
                    ast::Expr::Identifier(parts[1].clone())
                } else {
                    self.nav_column(Nav {
                        anchor: Anchor::Last(v),
                        offset: 0,
                        column,
                    })
                };
            }
            ast::Expr::Function(f) => {
                let name = function_name(f);
                if let Some((anchor, column)) = self.first_last(f)? {
                    *expr = self.nav_column(Nav {
                        anchor,
                        offset: 0,
                        column,
                    });
                } else if name == "PREV" || name == "NEXT" {
                    let args = plain_args(f)?;
                    let (target, n) = match args.as_slice() {
                        [target] => (target, 1),
                        [target, n] => (target, offset_arg(n)?),
                        _ => return Err(format!("{name} takes one or two arguments")),
                    };
                    let (anchor, column) = match target {
                        ast::Expr::Function(inner) => self.first_last(inner)?.ok_or_else(|| {
                            format!("{name} reads a column, FIRST(...) or LAST(...)")
                        })?,
                        other => {
                            let (var, column) = nav_target(self.names, self.input, other)?;
                            (var.map_or(Anchor::Current, Anchor::Last), column)
                        }
                    };
                    let offset = if name == "PREV" { -n } else { n };
                    *expr = self.nav_column(Nav {
                        anchor,
                        offset,
                        column,
                    });
                } else if matches!(name.as_str(), "CLASSIFIER" | "MATCH_NUMBER") {
                    return Err(format!("{name}() in DEFINE is not supported"));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Rewrites a measure into aggregates over the node's rows. Each rewritten piece is parked
/// under a placeholder name (so the visitor does not descend into it) and put back after.
struct MeasureRewriter<'a> {
    names: &'a [String],
    input: &'a DFSchema,
    partition_names: &'a [String],
    is_aggregate: &'a dyn Fn(&str) -> bool,
    replacements: HashMap<String, ast::Expr>,
}

/// The SQL condition selecting one variable's rows (or every row of the match).
fn classifier_filter(names: &[String], var: Option<usize>) -> String {
    match var {
        Some(v) => format!("{CLASSIFIER_COLUMN} = '{}'", names[v].replace('\'', "''")),
        None => format!("{CLASSIFIER_COLUMN} IS NOT NULL"),
    }
}

fn parse_expr(sql: &str) -> Result<ast::Expr, String> {
    Parser::new(&GenericDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| format!("internal rewrite of {sql} failed: {e}"))
}

/// Strips variable qualifiers from an aggregate's argument, returning the one variable it
/// reads (None: all rows).
struct StripVars<'a> {
    names: &'a [String],
    vars: Vec<usize>,
}

impl VisitorMut for StripVars<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<()> {
        if let ast::Expr::CompoundIdentifier(parts) = expr
            && parts.len() == 2
            && let Some(v) = var_of(self.names, &parts[0])
        {
            if !self.vars.contains(&v) {
                self.vars.push(v);
            }
            *expr = ast::Expr::Identifier(parts[1].clone());
        }
        ControlFlow::Continue(())
    }
}

impl MeasureRewriter<'_> {
    fn park(&mut self, sql: String) -> Result<ast::Expr, String> {
        let expr = parse_expr(&sql)?;
        let name = format!("{PLACEHOLDER_PREFIX}{}", self.replacements.len());
        self.replacements.insert(name.clone(), expr);
        Ok(ast::Expr::Identifier(Ident::new(name)))
    }

    /// The variable an aggregate's arguments read, with the qualifiers removed.
    fn strip(&self, args: &mut [ast::Expr]) -> Result<Option<usize>, String> {
        let mut strip = StripVars {
            names: self.names,
            vars: Vec::new(),
        };
        for a in args.iter_mut() {
            let _ = a.visit(&mut strip);
        }
        match strip.vars.as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(*v)),
            _ => Err("an aggregate may read the rows of one variable only".to_string()),
        }
    }

    fn rewrite(&mut self, expr: &mut ast::Expr) -> Result<(), String> {
        match expr {
            ast::Expr::Identifier(ident) => {
                let name = context_normalize(ident);
                if !self.partition_names.contains(&name)
                    && self.input.has_column_with_unqualified_name(&name)
                {
                    // A bare column is the value at the match's last row.
                    *expr = self.park(format!(
                        "last_value({ident} ORDER BY {SEQ_COLUMN}) FILTER (WHERE {})",
                        classifier_filter(self.names, None)
                    ))?;
                }
            }
            ast::Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                let var = var_of(self.names, &parts[0]);
                let name = context_normalize(&parts[1]);
                if var.is_some() || !self.partition_names.contains(&name) {
                    *expr = self.park(format!(
                        "last_value({} ORDER BY {SEQ_COLUMN}) FILTER (WHERE {})",
                        parts[1],
                        classifier_filter(self.names, var)
                    ))?;
                }
            }
            ast::Expr::Function(f) => {
                let name = function_name(f);
                match name.as_str() {
                    "MATCH_NUMBER" => {
                        *expr = ast::Expr::Identifier(Ident::new(MATCH_COLUMN));
                    }
                    "CLASSIFIER" => {
                        if !plain_args(f)?.is_empty() {
                            return Err("CLASSIFIER takes no arguments here".into());
                        }
                        *expr = self.park(format!(
                            "last_value({CLASSIFIER_COLUMN} ORDER BY {SEQ_COLUMN})"
                        ))?;
                    }
                    "PREV" | "NEXT" => {
                        return Err(format!("{name} in MEASURES is not supported"));
                    }
                    "FIRST" | "LAST" => {
                        let mut args = plain_args(f)?;
                        if args.len() != 1 {
                            return Err(format!("{name} takes one argument here"));
                        }
                        let var = self.strip(&mut args)?;
                        let function = if name == "FIRST" {
                            "first_value"
                        } else {
                            "last_value"
                        };
                        *expr = self.park(format!(
                            "{function}({} ORDER BY {SEQ_COLUMN}) FILTER (WHERE {})",
                            args[0],
                            classifier_filter(self.names, var)
                        ))?;
                    }
                    _ if (self.is_aggregate)(&name) => {
                        if f.filter.is_some() || f.over.is_some() || !f.within_group.is_empty() {
                            return Err(format!(
                                "{name} with FILTER, OVER or WITHIN GROUP is not supported in MEASURES"
                            ));
                        }
                        let FunctionArguments::List(list) = &mut f.args else {
                            return Err(format!("{name} needs arguments"));
                        };
                        let mut var = None;
                        let mut count_rows = false;
                        for arg in list.args.iter_mut() {
                            let arg_expr = match arg {
                                FunctionArg::Unnamed(a) | FunctionArg::Named { arg: a, .. } => a,
                                _ => return Err(format!("unsupported argument of {name}")),
                            };
                            match arg_expr {
                                FunctionArgExpr::Wildcard => count_rows = true,
                                FunctionArgExpr::WildcardWithOptions(_) => {
                                    return Err(format!("{name}(* ...) is not supported"));
                                }
                                FunctionArgExpr::QualifiedWildcard(object) => {
                                    let parts = &object.0;
                                    let ident = match parts.as_slice() {
                                        [p] => p.as_ident().cloned(),
                                        _ => None,
                                    };
                                    match ident.and_then(|i| var_of(self.names, &i)) {
                                        Some(v) => var = Some(v),
                                        None => {
                                            return Err(format!(
                                                "{object}.* names no pattern variable"
                                            ));
                                        }
                                    }
                                    count_rows = true;
                                }
                                FunctionArgExpr::Expr(e) => {
                                    let mut one = [e.clone()];
                                    if let Some(v) = self.strip(&mut one)? {
                                        if var.is_some_and(|w| w != v) {
                                            return Err(
                                                "an aggregate may read the rows of one variable only"
                                                    .into(),
                                            );
                                        }
                                        var = Some(v);
                                    }
                                    let [stripped] = one;
                                    *e = stripped;
                                }
                            }
                        }
                        if count_rows {
                            // count(*) / count(v.*): the match's rows, or v's.
                            list.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(
                                ast::Expr::Identifier(Ident::new(CLASSIFIER_COLUMN)),
                            ))];
                        }
                        let call = f.to_string();
                        *expr = self.park(format!(
                            "{call} FILTER (WHERE {})",
                            classifier_filter(self.names, var)
                        ))?;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Puts the parked pieces back.
struct Restore(HashMap<String, ast::Expr>);

impl VisitorMut for Restore {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<()> {
        if let ast::Expr::Identifier(ident) = expr
            && let Some(replacement) = self.0.remove(&ident.value)
        {
            *expr = replacement;
        }
        ControlFlow::Continue(())
    }
}
