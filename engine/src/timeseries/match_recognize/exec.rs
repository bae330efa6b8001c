//! MATCH_RECOGNIZE's physical operator: per partition, the pattern matched from each start
//! row in order, every row of every match emitted with its match number and variable.
//!
//! The input arrives partitioned by the PARTITION BY columns (one partition when there are
//! none) and sorted by them and then by ORDER BY, so each partition's rows are contiguous;
//! DataFusion's optimizer adds the repartition and sort this operator asks for. One
//! partition is held in memory at a time.
//!
//! Conditions are evaluated two ways. A conjunct that reads only the current row (and rows
//! at fixed offsets from it, `PREV`/`NEXT`) is evaluated for the whole partition at once, as
//! a column. A conjunct that reads rows mapped to variables so far (`a.ts`, `FIRST(b.x)`)
//! depends on the match being built, so it is evaluated for the one row being tested, and
//! only once the row-local conjuncts of its variable hold.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, RecordBatch, RecordBatchOptions, StringBuilder,
    UInt64Array, UInt64Builder, new_null_array,
};
use datafusion::arrow::compute::{SortOptions, and, concat_batches, take};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{OwnedRow, RowConverter, Rows, SortField};
use datafusion::common::tree_node::TreeNode;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::logical_expr::{Operator, Volatility};
use datafusion::physical_expr::expressions::{BinaryExpr, Column};
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{
    Distribution, EquivalenceProperties, LexOrdering, OrderingRequirements, Partitioning,
    PhysicalExpr, PhysicalSortExpr, ScalarFunctionExpr,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputDistributionRequirements, PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::StreamExt;

use super::pattern::{Conditions, Matcher, Pattern, Program, Verdict};
use super::plan::{Anchor, MatchRecognize, Nav, Skip};

const ASCENDING_NULLS_FIRST: SortOptions = SortOptions {
    descending: false,
    nulls_first: true,
};

/// One conjunct of a DEFINE condition, planned.
#[derive(Debug, Clone)]
pub(crate) struct PhysicalCondition {
    pub var: usize,
    pub expr: Arc<dyn PhysicalExpr>,
    pub row_local: bool,
}

/// A stateful conjunct that bounds the first ORDER BY key by values of rows already in the
/// match (`ts <= a.ts + INTERVAL '10 seconds'`): once it fails at a row, it fails at every
/// later row of the partition while those rows stay, because the key only grows (or only
/// shrinks, for a descending key) within a partition.
#[derive(Debug, Clone)]
struct Bound {
    /// The key's column in the input.
    key: usize,
    /// The navigations the bound's side reads, none of them of the current row.
    navs: Vec<usize>,
}

impl Bound {
    /// `expr`'s bound on the key `(column, descending)`, if it is one.
    fn find(
        expr: &Arc<dyn PhysicalExpr>,
        (key, descending): (usize, bool),
        width: usize,
        navs: &[Nav],
    ) -> Option<Bound> {
        let bin = expr.downcast_ref::<BinaryExpr>()?;
        let is_key = |e: &Arc<dyn PhysicalExpr>| {
            e.downcast_ref::<Column>().is_some_and(|c| c.index() == key)
        };
        // (whether the condition keeps the key below the other side, the other side)
        let (below, other) = match (bin.op(), is_key(bin.left()), is_key(bin.right())) {
            (Operator::Lt | Operator::LtEq, true, false) => (true, bin.right()),
            (Operator::Gt | Operator::GtEq, true, false) => (false, bin.right()),
            (Operator::Gt | Operator::GtEq, false, true) => (true, bin.left()),
            (Operator::Lt | Operator::LtEq, false, true) => (false, bin.left()),
            _ => return None,
        };
        // An ascending key can only pass an upper bound for good, a descending one a lower.
        if below == descending {
            return None;
        }
        let mut read = Vec::new();
        for column in collect_columns(other) {
            let k = column.index().checked_sub(width)?;
            if navs.get(k)?.anchor == Anchor::Current {
                return None;
            }
            read.push(k);
        }
        if read.is_empty() || !deterministic(other) {
            return None;
        }
        Some(Bound { key, navs: read })
    }
}

/// A conjunct that reads the match so far, and the bound on the key it is, if it is one.
type Stateful = (Arc<dyn PhysicalExpr>, Option<Bound>);

/// Whether an expression gives the same value for the same inputs (no `random()`).
fn deterministic(expr: &Arc<dyn PhysicalExpr>) -> bool {
    let mut ok = true;
    let _ = expr.apply(|e| {
        if let Some(f) = e.downcast_ref::<ScalarFunctionExpr>()
            && f.fun().signature().volatility == Volatility::Volatile
        {
            ok = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    ok
}

/// The physical MATCH_RECOGNIZE (see the module's notes).
#[derive(Debug)]
pub(crate) struct MatchRecognizeExec {
    pub(crate) input: Arc<dyn ExecutionPlan>,
    pub(crate) partition_by: Vec<Arc<dyn PhysicalExpr>>,
    pub(crate) order_by: Vec<PhysicalSortExpr>,
    pub(crate) program: Arc<Program>,
    /// The pattern `program` was compiled from.
    pub(crate) pattern: Pattern,
    pub(crate) names: Vec<String>,
    pub(crate) conditions: Vec<PhysicalCondition>,
    pub(crate) navs: Vec<Nav>,
    pub(crate) skip: Skip,
    pub(crate) define_schema: SchemaRef,
    pub(crate) schema: SchemaRef,
    /// Per condition, the bound on the ORDER BY key it is, if it is one.
    bounds: Vec<Option<Bound>>,
    properties: Arc<PlanProperties>,
}

impl MatchRecognizeExec {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        input: Arc<dyn ExecutionPlan>,
        partition_by: Vec<Arc<dyn PhysicalExpr>>,
        order_by: Vec<PhysicalSortExpr>,
        program: Arc<Program>,
        pattern: Pattern,
        names: Vec<String>,
        conditions: Vec<PhysicalCondition>,
        navs: Vec<Nav>,
        skip: Skip,
        define_schema: SchemaRef,
        schema: SchemaRef,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(
                input.properties().output_partitioning().partition_count(),
            ),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        let key = order_by.first().and_then(|s| {
            let column = s.expr.downcast_ref::<Column>()?;
            Some((column.index(), s.options.descending))
        });
        let width = input.schema().fields().len();
        let bounds = conditions
            .iter()
            .map(|c| match key {
                Some(key) if !c.row_local => Bound::find(&c.expr, key, width, &navs),
                _ => None,
            })
            .collect();
        MatchRecognizeExec {
            bounds,
            input,
            partition_by,
            order_by,
            program,
            pattern,
            names,
            conditions,
            navs,
            skip,
            define_schema,
            schema,
            properties,
        }
    }

    fn ordering(&self) -> Option<OrderingRequirements> {
        let keys = self
            .partition_by
            .iter()
            .map(|e| PhysicalSortExpr::new(Arc::clone(e), ASCENDING_NULLS_FIRST));
        LexOrdering::new(keys.chain(self.order_by.iter().cloned())).map(OrderingRequirements::from)
    }
}

impl DisplayAs for MatchRecognizeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MatchRecognizeExec: ")?;
        if !self.partition_by.is_empty() {
            let keys: Vec<String> = self.partition_by.iter().map(|e| e.to_string()).collect();
            write!(f, "partition_by=[{}], ", keys.join(", "))?;
        }
        write!(f, "pattern=(")?;
        self.pattern.fmt_with(f, &self.names)?;
        write!(f, ")")?;
        for (c, bound) in self.conditions.iter().zip(&self.bounds) {
            let how = match (c.row_local, bound) {
                (true, _) => "",
                (false, None) => " per match",
                (false, Some(_)) => " per match, bounds the key",
            };
            write!(f, ", {}: {}{how}", self.names[c.var], c.expr)?;
        }
        Ok(())
    }
}

impl ExecutionPlan for MatchRecognizeExec {
    fn name(&self) -> &str {
        "MatchRecognizeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        InputDistributionRequirements::new(vec![if self.partition_by.is_empty() {
            Distribution::SinglePartition
        } else {
            Distribution::KeyPartitioned(self.partition_by.clone())
        }])
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        self.input_distribution_requirements().into_per_child()
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        vec![self.ordering()]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let exprs = self
            .partition_by
            .iter()
            .chain(self.order_by.iter().map(|s| &s.expr));
        for expr in exprs {
            if f(expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input]: [Arc<dyn ExecutionPlan>; 1] = children
            .try_into()
            .map_err(|_| DataFusionError::Internal("MatchRecognizeExec takes one child".into()))?;
        Ok(Arc::new(MatchRecognizeExec::new(
            input,
            self.partition_by.clone(),
            self.order_by.clone(),
            Arc::clone(&self.program),
            self.pattern.clone(),
            self.names.clone(),
            self.conditions.clone(),
            self.navs.clone(),
            self.skip,
            Arc::clone(&self.define_schema),
            Arc::clone(&self.schema),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let converter = if self.partition_by.is_empty() {
            None
        } else {
            let input_schema = self.input.schema();
            let fields = self
                .partition_by
                .iter()
                .map(|e| Ok(SortField::new(e.data_type(&input_schema)?)))
                .collect::<Result<Vec<_>>>()?;
            Some(RowConverter::new(fields)?)
        };
        let runner = Runner {
            input_schema: self.input.schema(),
            partition_by: self.partition_by.clone(),
            converter,
            program: Arc::clone(&self.program),
            conditions: self.conditions.clone(),
            bounds: self.bounds.clone(),
            names: self.names.clone(),
            navs: self.navs.clone(),
            skip: self.skip,
            define_schema: Arc::clone(&self.define_schema),
            schema: Arc::clone(&self.schema),
            batch_size: context.session_config().batch_size().max(1),
            buffer: Vec::new(),
            last_key: None,
            ready: VecDeque::new(),
        };
        let stream = futures::stream::try_unfold(
            (input, runner, false),
            |(mut input, mut runner, mut done)| async move {
                loop {
                    if let Some(out) = runner.ready.pop_front() {
                        return Ok(Some((out, (input, runner, done))));
                    }
                    if done {
                        return Ok(None);
                    }
                    match input.next().await {
                        Some(batch) => runner.push(batch?)?,
                        None => {
                            runner.flush()?;
                            done = true;
                        }
                    }
                }
            },
        );
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }
}

/// Gathers each partition's rows and matches them.
struct Runner {
    input_schema: SchemaRef,
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    converter: Option<RowConverter>,
    program: Arc<Program>,
    conditions: Vec<PhysicalCondition>,
    bounds: Vec<Option<Bound>>,
    /// The variables' names, for the classifier column.
    names: Vec<String>,
    navs: Vec<Nav>,
    skip: Skip,
    define_schema: SchemaRef,
    schema: SchemaRef,
    batch_size: usize,
    /// The rows of the partition being gathered.
    buffer: Vec<RecordBatch>,
    last_key: Option<OwnedRow>,
    ready: VecDeque<RecordBatch>,
}

impl Runner {
    fn keys(&self, batch: &RecordBatch) -> Result<Option<Rows>> {
        let Some(converter) = &self.converter else {
            return Ok(None);
        };
        let columns = self
            .partition_by
            .iter()
            .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(converter.convert_columns(&columns)?))
    }

    fn push(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let Some(keys) = self.keys(&batch)? else {
            self.buffer.push(batch);
            return Ok(());
        };
        let mut from = 0;
        for i in 0..batch.num_rows() {
            let changed = match i {
                0 => self
                    .last_key
                    .as_ref()
                    .is_some_and(|k| k.row() != keys.row(0)),
                _ => keys.row(i) != keys.row(i - 1),
            };
            if changed {
                if i > from {
                    self.buffer.push(batch.slice(from, i - from));
                }
                self.flush()?;
                from = i;
            }
        }
        self.buffer.push(batch.slice(from, batch.num_rows() - from));
        self.last_key = Some(keys.row(batch.num_rows() - 1).owned());
        Ok(())
    }

    /// Matches the gathered partition.
    fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let rows = concat_batches(&self.input_schema, &self.buffer)?;
        self.buffer.clear();
        let out = self.match_partition(&rows)?;
        let mut offset = 0;
        while offset < out.num_rows() {
            let len = self.batch_size.min(out.num_rows() - offset);
            self.ready.push_back(out.slice(offset, len));
            offset += len;
        }
        Ok(())
    }

    fn match_partition(&self, rows: &RecordBatch) -> Result<RecordBatch> {
        let n = rows.num_rows();
        // Row-local conjuncts, for the whole partition.
        let mut define_columns: Vec<ArrayRef> = rows.columns().to_vec();
        for nav in &self.navs {
            let column = rows.column(nav.column);
            let shifted = if nav.anchor == Anchor::Current {
                let indices: UInt64Array = (0..n)
                    .map(|i| shift(i, nav.offset, n).map(|r| r as u64))
                    .collect();
                take(column.as_ref(), &indices, None)?
            } else {
                new_null_array(column.data_type(), n)
            };
            define_columns.push(shifted);
        }
        let define_batch = RecordBatch::try_new_with_options(
            Arc::clone(&self.define_schema),
            define_columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        let mut local: Vec<Option<BooleanArray>> = vec![None; self.names.len()];
        let mut stateful: Vec<Vec<Stateful>> = vec![Vec::new(); self.names.len()];
        for (c, bound) in self.conditions.iter().zip(&self.bounds) {
            if !c.row_local {
                stateful[c.var].push((Arc::clone(&c.expr), bound.clone()));
                continue;
            }
            let value = c.expr.evaluate(&define_batch)?.into_array(n)?;
            let value = null_as_false(value.as_boolean());
            local[c.var] = Some(match local[c.var].take() {
                Some(acc) => and(&acc, &value)?,
                None => value,
            });
        }
        // Bounds first: the row where one fails for good ends the search sooner.
        let mut refs = vec![Vec::new(); self.names.len()];
        for (var, conjuncts) in stateful.iter_mut().enumerate() {
            conjuncts.sort_by_key(|(_, bound)| bound.is_none());
            for bound in conjuncts.iter().filter_map(|(_, b)| b.as_ref()) {
                for &k in &bound.navs {
                    if let Anchor::First(v) | Anchor::Last(v) = self.navs[k].anchor
                        && !refs[var].contains(&v)
                    {
                        refs[var].push(v);
                    }
                }
            }
        }
        let mut conditions = PartitionConditions {
            rows,
            local,
            stateful,
            refs,
            navs: &self.navs,
            define_schema: &self.define_schema,
        };

        let mut matcher = Matcher::new(&self.program);
        let mut indices = UInt64Builder::with_capacity(n);
        let mut seqs = UInt64Builder::with_capacity(n);
        let mut numbers = UInt64Builder::with_capacity(n);
        let mut classifiers = StringBuilder::new();
        let mut number = 0u64;
        let mut start = 0;
        while start < n {
            let Some(end) = matcher.find(start, n, &mut conditions)? else {
                start += 1;
                continue;
            };
            number += 1;
            if end == start {
                // An empty match: one row with the partition's columns (the start row's) and
                // no position or variable, which every measure leaves out.
                indices.append_value(start as u64);
                seqs.append_null();
                numbers.append_value(number);
                classifiers.append_null();
                start += 1;
                continue;
            }
            for (i, &var) in matcher.mapped.iter().enumerate() {
                indices.append_value((start + i) as u64);
                seqs.append_value((start + i) as u64);
                numbers.append_value(number);
                classifiers.append_value(&self.names[var]);
            }
            start = match self.skip {
                Skip::PastLastRow => end,
                Skip::ToNextRow => start + 1,
            };
        }
        let indices = indices.finish();
        let mut columns = rows
            .columns()
            .iter()
            .map(|c| take(c.as_ref(), &indices, None))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let count = indices.len();
        columns.push(Arc::new(numbers.finish()));
        columns.push(Arc::new(seqs.finish()));
        columns.push(Arc::new(classifiers.finish()));
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(count)),
        )?)
    }
}

/// A condition's values with NULL read as false.
fn null_as_false(values: &BooleanArray) -> BooleanArray {
    match values.nulls() {
        Some(nulls) => BooleanArray::new(values.values() & nulls.inner(), None),
        None => BooleanArray::new(values.values().clone(), None),
    }
}

/// `row + offset` when it is inside a partition of `len` rows.
fn shift(row: usize, offset: i64, len: usize) -> Option<usize> {
    let r = row as i64 + offset;
    (0..len as i64).contains(&r).then_some(r as usize)
}

/// The DEFINE conditions over one partition.
struct PartitionConditions<'a> {
    rows: &'a RecordBatch,
    /// Per variable, the AND of its row-local conjuncts (None: there are none).
    local: Vec<Option<BooleanArray>>,
    /// Per variable, the conjuncts that read the match so far, bounds on the key first.
    stateful: Vec<Vec<Stateful>>,
    /// Per variable, the variables its bounds read.
    refs: Vec<Vec<usize>>,
    navs: &'a [Nav],
    define_schema: &'a SchemaRef,
}

impl PartitionConditions<'_> {
    /// The row a navigation reads for `row` tested as `var`.
    fn nav_row(
        &self,
        nav: &Nav,
        var: usize,
        row: usize,
        start: usize,
        mapped: &[usize],
    ) -> Option<usize> {
        let anchor = match nav.anchor {
            Anchor::Current => Some(row),
            Anchor::MatchStart => Some(start),
            Anchor::First(v) => mapped
                .iter()
                .position(|&m| m == v)
                .map(|i| start + i)
                .or((v == var).then_some(row)),
            Anchor::Last(v) if v == var => Some(row),
            Anchor::Last(v) => mapped.iter().rposition(|&m| m == v).map(|i| start + i),
        }?;
        shift(anchor, nav.offset, self.rows.num_rows())
    }
}

impl Conditions for PartitionConditions<'_> {
    fn holds(&mut self, var: usize, row: usize, start: usize, mapped: &[usize]) -> Result<Verdict> {
        if let Some(local) = &self.local[var]
            && !local.value(row)
        {
            return Ok(Verdict::Fails);
        }
        if self.stateful[var].is_empty() {
            return Ok(Verdict::Holds);
        }
        let mut columns: Vec<ArrayRef> = self
            .rows
            .columns()
            .iter()
            .map(|c| c.slice(row, 1))
            .collect();
        for nav in self.navs {
            let column = self.rows.column(nav.column);
            columns.push(match self.nav_row(nav, var, row, start, mapped) {
                Some(r) => column.slice(r, 1),
                None => new_null_array(column.data_type(), 1),
            });
        }
        let batch = RecordBatch::try_new_with_options(
            Arc::clone(self.define_schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(1)),
        )?;
        for (expr, bound) in &self.stateful[var] {
            let value = expr.evaluate(&batch)?.into_array(1)?;
            let value = value.as_boolean();
            if value.is_valid(0) && value.value(0) {
                continue;
            }
            let for_good = bound.as_ref().is_some_and(|b| {
                // A NULL key may be followed by keys that pass; and a bound that reads the
                // row being tested (the first row of its own variable) moves with it.
                self.rows.column(b.key).is_valid(row)
                    && b.navs.iter().all(|&k| match self.navs[k].anchor {
                        Anchor::First(v) if v == var => mapped.contains(&v),
                        Anchor::Last(v) if v == var => false,
                        _ => true,
                    })
            });
            return Ok(if for_good {
                Verdict::FailsOnward
            } else {
                Verdict::Fails
            });
        }
        Ok(Verdict::Holds)
    }

    fn onward_refs(&self, var: usize) -> &[usize] {
        &self.refs[var]
    }
}

/// Plans [`MatchRecognize`] nodes as [`MatchRecognizeExec`].
#[derive(Debug, Default)]
pub(crate) struct MatchRecognizeExtensionPlanner;

#[async_trait::async_trait]
impl ExtensionPlanner for MatchRecognizeExtensionPlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn datafusion::catalog::Session,
        planning_ctx: &datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(mr) = node.as_any().downcast_ref::<MatchRecognize>() else {
            return Ok(None);
        };
        let input_schema = logical_inputs[0].schema();
        let physical = |e, schema| planner.create_physical_expr(e, schema, session, planning_ctx);
        let partition_by = mr
            .partition_by
            .iter()
            .map(|e| physical(e, input_schema))
            .collect::<Result<Vec<_>>>()?;
        let order_by = mr
            .order_by
            .iter()
            .map(|s| {
                Ok(PhysicalSortExpr::new(
                    physical(&s.expr, input_schema)?,
                    SortOptions {
                        descending: !s.asc,
                        nulls_first: s.nulls_first,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let conditions = mr
            .conditions
            .iter()
            .map(|c| {
                Ok(PhysicalCondition {
                    var: c.var,
                    expr: physical(&c.expr, &mr.define_schema)?,
                    row_local: c.row_local,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Arc::new(MatchRecognizeExec::new(
            Arc::clone(&physical_inputs[0]),
            partition_by,
            order_by,
            Arc::new(mr.pattern.compile()?),
            mr.pattern.clone(),
            mr.names.clone(),
            conditions,
            mr.navs.clone(),
            mr.skip,
            Arc::new(mr.define_schema.as_arrow().clone()),
            Arc::new(mr.schema.as_arrow().clone()),
        ))))
    }
}
