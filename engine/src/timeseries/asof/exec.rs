//! The ASOF join's physical operator: one merge pass over both sides, sorted by keys and time.
//!
//! Both inputs arrive partitioned by the equality keys (one partition when there are none)
//! and sorted by `(keys, time)` ascending with NULLs first; DataFusion's optimizer adds the
//! repartitions and sorts this operator asks for. Per partition, a cursor walks the right
//! side once while the left side streams by:
//!
//! - backward (`l.t >= r.t`, `>`): the cursor passes every right row ordered at or before
//!   the left row; the last one passed is the match when its keys are the left row's.
//! - forward (`l.t <= r.t`, `<`): the cursor passes every right row ordered before the left
//!   row; the row it stops at is the match when its keys are the left row's.
//!
//! Keys are compared as arrow's row format (bytes that sort as the values do), times as
//! `i64` values that order as the column does. A NULL key or time never matches. Only the
//! right batches between the last match and the cursor stay in memory.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array, new_null_array,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::{CastOptions, SortOptions, cast_with_options, interleave, take};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int64Type, SchemaRef,
};
use datafusion::arrow::row::{Row, RowConverter, Rows, SortField};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_expr::{
    Distribution, EquivalenceProperties, LexOrdering, OrderingRequirements, Partitioning,
    PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputDistributionRequirements, PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::StreamExt;

use super::plan::{AsofJoin, Direction, fmt_condition};

/// Whether a time column of this type can be ordered as `i64` values.
pub(crate) fn orderable(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(_, _)
            | DataType::Date32
            | DataType::Date64
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64
    )
}

/// A float's bits as an `i64` that orders as the float does (`-0.0` taken as `0.0`).
fn ordered_float(f: f64) -> i64 {
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = f.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// A time column as `i64` values in the column's order, and its NULLs.
fn time_values(array: &ArrayRef) -> Result<(Vec<i64>, Option<NullBuffer>)> {
    let nulls = array.logical_nulls();
    let values = match array.data_type() {
        DataType::Float64 => array
            .as_primitive::<Float64Type>()
            .values()
            .iter()
            .map(|&f| ordered_float(f))
            .collect(),
        DataType::Float32 => array
            .as_primitive::<Float32Type>()
            .values()
            .iter()
            .map(|&f| ordered_float(f64::from(f)))
            .collect(),
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .values()
            .iter()
            .map(|&d| i64::from(d))
            .collect(),
        t if orderable(t) => {
            let options = CastOptions {
                safe: false,
                ..Default::default()
            };
            cast_with_options(array, &DataType::Int64, &options)
                .map_err(|e| {
                    DataFusionError::Execution(format!(
                        "ASOF JOIN: a time value does not fit in 64-bit integers: {e}"
                    ))
                })?
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        }
        other => return internal_err!("ASOF JOIN cannot order {other}"),
    };
    Ok((values, nulls))
}

const ASCENDING_NULLS_FIRST: SortOptions = SortOptions {
    descending: false,
    nulls_first: true,
};

/// The physical ASOF join (see the module's notes).
#[derive(Debug)]
pub(crate) struct AsofJoinExec {
    pub(crate) left: Arc<dyn ExecutionPlan>,
    pub(crate) right: Arc<dyn ExecutionPlan>,
    pub(crate) on: Vec<(Arc<dyn PhysicalExpr>, Arc<dyn PhysicalExpr>)>,
    pub(crate) left_time: Arc<dyn PhysicalExpr>,
    pub(crate) right_time: Arc<dyn PhysicalExpr>,
    pub(crate) direction: Direction,
    pub(crate) inclusive: bool,
    pub(crate) keep_unmatched: bool,
    pub(crate) schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl AsofJoinExec {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        left: Arc<dyn ExecutionPlan>,
        right: Arc<dyn ExecutionPlan>,
        on: Vec<(Arc<dyn PhysicalExpr>, Arc<dyn PhysicalExpr>)>,
        left_time: Arc<dyn PhysicalExpr>,
        right_time: Arc<dyn PhysicalExpr>,
        direction: Direction,
        inclusive: bool,
        keep_unmatched: bool,
        schema: SchemaRef,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(
                left.properties().output_partitioning().partition_count(),
            ),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        AsofJoinExec {
            left,
            right,
            on,
            left_time,
            right_time,
            direction,
            inclusive,
            keep_unmatched,
            schema,
            properties,
        }
    }

    /// The order one side must arrive in: its keys, then its time, ascending, NULLs first.
    fn ordering(&self, right: bool) -> Option<OrderingRequirements> {
        let keys = self.on.iter().map(|(l, r)| if right { r } else { l });
        let time = if right {
            &self.right_time
        } else {
            &self.left_time
        };
        let exprs = keys
            .chain(std::iter::once(time))
            .map(|e| PhysicalSortExpr::new(Arc::clone(e), ASCENDING_NULLS_FIRST));
        LexOrdering::new(exprs).map(OrderingRequirements::from)
    }
}

impl DisplayAs for AsofJoinExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsofJoinExec: ")?;
        fmt_condition(
            f,
            &self.on,
            (&self.left_time, &self.right_time),
            self.direction,
            self.inclusive,
            self.keep_unmatched,
        )
    }
}

impl ExecutionPlan for AsofJoinExec {
    fn name(&self) -> &str {
        "AsofJoinExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        if self.on.is_empty() {
            return InputDistributionRequirements::new(vec![
                Distribution::SinglePartition,
                Distribution::SinglePartition,
            ]);
        }
        let (left, right) = self
            .on
            .iter()
            .map(|(l, r)| (Arc::clone(l), Arc::clone(r)))
            .unzip();
        InputDistributionRequirements::co_partitioned(vec![
            Distribution::KeyPartitioned(left),
            Distribution::KeyPartitioned(right),
        ])
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        self.input_distribution_requirements().into_per_child()
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        vec![self.ordering(false), self.ordering(true)]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true, false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.left, &self.right]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let keys = self.on.iter().flat_map(|(l, r)| [l, r]);
        let times = [&self.left_time, &self.right_time];
        for expr in keys.chain(times) {
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
        let [left, right]: [Arc<dyn ExecutionPlan>; 2] = children
            .try_into()
            .map_err(|_| DataFusionError::Internal("AsofJoinExec takes two children".into()))?;
        Ok(Arc::new(AsofJoinExec::new(
            left,
            right,
            self.on.clone(),
            Arc::clone(&self.left_time),
            Arc::clone(&self.right_time),
            self.direction,
            self.inclusive,
            self.keep_unmatched,
            Arc::clone(&self.schema),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let left = self.left.execute(partition, Arc::clone(&context))?;
        let right = self.right.execute(partition, context)?;
        let right_schema = self.right.schema();
        let converter = if self.on.is_empty() {
            None
        } else {
            let fields = self
                .on
                .iter()
                .map(|(l, _)| {
                    let t = l.data_type(&self.left.schema())?;
                    Ok(SortField::new_with_options(t, ASCENDING_NULLS_FIRST))
                })
                .collect::<Result<Vec<_>>>()?;
            Some(RowConverter::new(fields)?)
        };
        let null_row = right_schema
            .fields()
            .iter()
            .map(|f| new_null_array(f.data_type(), 1))
            .collect();
        let merge = Merge {
            left_keys: self.on.iter().map(|(l, _)| Arc::clone(l)).collect(),
            right_keys: self.on.iter().map(|(_, r)| Arc::clone(r)).collect(),
            left_time: Arc::clone(&self.left_time),
            right_time: Arc::clone(&self.right_time),
            converter,
            backward: self.direction == Direction::Backward,
            pass_equal: (self.direction == Direction::Backward) == self.inclusive,
            keep_unmatched: self.keep_unmatched,
            schema: Arc::clone(&self.schema),
            null_row,
            right,
            right_done: false,
            batches: VecDeque::new(),
            base: 0,
            cursor: (0, 0),
            last_passed: None,
        };
        let stream = futures::stream::try_unfold((left, merge), |(mut left, mut merge)| async {
            while let Some(batch) = left.next().await {
                let batch = batch?;
                if batch.num_rows() == 0 {
                    continue;
                }
                let out = merge.join(&batch).await?;
                if out.num_rows() > 0 {
                    return Ok(Some((out, (left, merge))));
                }
            }
            Ok(None)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }
}

/// One right batch with its keys and times ready to compare.
struct RightBatch {
    batch: RecordBatch,
    keys: Option<Rows>,
    times: Vec<i64>,
    time_nulls: Option<NullBuffer>,
}

impl RightBatch {
    fn time(&self, row: usize) -> Option<i64> {
        match &self.time_nulls {
            Some(n) if n.is_null(row) => None,
            _ => Some(self.times[row]),
        }
    }
}

/// The state of one partition's merge.
struct Merge {
    left_keys: Vec<Arc<dyn PhysicalExpr>>,
    right_keys: Vec<Arc<dyn PhysicalExpr>>,
    left_time: Arc<dyn PhysicalExpr>,
    right_time: Arc<dyn PhysicalExpr>,
    converter: Option<RowConverter>,
    backward: bool,
    /// Whether the cursor passes a right row of the same keys and the same time: backward
    /// and inclusive (`>=`), or forward and strict (`<`).
    pass_equal: bool,
    keep_unmatched: bool,
    schema: SchemaRef,
    /// One all-NULL row of the right side, for left rows without a match.
    null_row: Vec<ArrayRef>,
    right: SendableRecordBatchStream,
    right_done: bool,
    /// Right batches kept, `batches[0]` being batch number `base` of the partition.
    batches: VecDeque<RightBatch>,
    base: usize,
    /// The first right row not yet passed, as (batch number, row).
    cursor: (usize, usize),
    /// The last right row passed.
    last_passed: Option<(usize, usize)>,
}

fn evaluate(expr: &Arc<dyn PhysicalExpr>, batch: &RecordBatch) -> Result<ArrayRef> {
    expr.evaluate(batch)?.into_array(batch.num_rows())
}

impl Merge {
    fn keys_of(
        &self,
        exprs: &[Arc<dyn PhysicalExpr>],
        batch: &RecordBatch,
    ) -> Result<Option<(Rows, Option<NullBuffer>)>> {
        let Some(converter) = &self.converter else {
            return Ok(None);
        };
        let columns = exprs
            .iter()
            .map(|e| evaluate(e, batch))
            .collect::<Result<Vec<_>>>()?;
        let nulls = columns.iter().fold(None, |acc: Option<NullBuffer>, c| {
            NullBuffer::union(acc.as_ref(), c.logical_nulls().as_ref())
        });
        Ok(Some((converter.convert_columns(&columns)?, nulls)))
    }

    /// Makes right batch number `n` available; false when the right side has fewer.
    async fn load(&mut self, n: usize) -> Result<bool> {
        while n >= self.base + self.batches.len() {
            if self.right_done {
                return Ok(false);
            }
            match self.right.next().await {
                None => self.right_done = true,
                Some(batch) => {
                    let batch = batch?;
                    if batch.num_rows() == 0 {
                        continue;
                    }
                    let keys = self
                        .keys_of(&self.right_keys, &batch)?
                        .map(|(rows, _)| rows);
                    let (times, time_nulls) = time_values(&evaluate(&self.right_time, &batch)?)?;
                    self.batches.push_back(RightBatch {
                        batch,
                        keys,
                        times,
                        time_nulls,
                    });
                }
            }
        }
        Ok(true)
    }

    fn batch(&self, n: usize) -> &RightBatch {
        &self.batches[n - self.base]
    }

    /// Whether right row `at` has the left row's keys.
    fn same_keys(&self, at: (usize, usize), keys: Option<Row<'_>>) -> bool {
        match (&self.batch(at.0).keys, keys) {
            (Some(rows), Some(k)) => rows.row(at.1) == k,
            _ => true,
        }
    }

    /// Whether the cursor passes right row `at` for a left row with `keys` and time `t`.
    fn passes(&self, at: (usize, usize), keys: Option<Row<'_>>, t: i64) -> bool {
        let b = self.batch(at.0);
        if let (Some(rows), Some(k)) = (&b.keys, keys) {
            match rows.row(at.1).cmp(&k) {
                std::cmp::Ordering::Less => return true,
                std::cmp::Ordering::Greater => return false,
                std::cmp::Ordering::Equal => {}
            }
        }
        match b.time(at.1) {
            None => true,
            Some(rt) => rt < t || (rt == t && self.pass_equal),
        }
    }

    /// The right row matching a left row, moving the cursor forward.
    async fn find(&mut self, keys: Option<Row<'_>>, t: i64) -> Result<Option<(usize, usize)>> {
        loop {
            if !self.load(self.cursor.0).await? {
                break;
            }
            if self.cursor.1 >= self.batch(self.cursor.0).batch.num_rows() {
                self.cursor = (self.cursor.0 + 1, 0);
                continue;
            }
            if !self.passes(self.cursor, keys, t) {
                break;
            }
            self.last_passed = Some(self.cursor);
            self.cursor.1 += 1;
        }
        let candidate = if self.backward {
            self.last_passed
        } else if self.cursor.0 < self.base + self.batches.len() {
            Some(self.cursor)
        } else {
            None
        };
        Ok(candidate
            .filter(|&at| self.same_keys(at, keys) && self.batch(at.0).time(at.1).is_some()))
    }

    /// Joins one left batch.
    async fn join(&mut self, left: &RecordBatch) -> Result<RecordBatch> {
        let keys = self.keys_of(&self.left_keys, left)?;
        let (times, time_nulls) = time_values(&evaluate(&self.left_time, left)?)?;
        let mut matches: Vec<Option<(usize, usize)>> = Vec::with_capacity(left.num_rows());
        for (row, &time) in times.iter().enumerate() {
            let key_null = keys
                .as_ref()
                .and_then(|(_, n)| n.as_ref())
                .is_some_and(|n| n.is_null(row));
            let time_null = time_nulls.as_ref().is_some_and(|n| n.is_null(row));
            if key_null || time_null {
                matches.push(None);
                continue;
            }
            let key = keys.as_ref().map(|(rows, _)| rows.row(row));
            matches.push(self.find(key, time).await?);
        }

        let (left_columns, matches) = if self.keep_unmatched {
            (left.columns().to_vec(), matches)
        } else {
            let rows: UInt32Array = (0..left.num_rows() as u32)
                .filter(|&i| matches[i as usize].is_some())
                .collect();
            let columns = left
                .columns()
                .iter()
                .map(|c| take(c.as_ref(), &rows, None))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            (columns, matches.into_iter().flatten().map(Some).collect())
        };
        let indices: Vec<(usize, usize)> = matches
            .iter()
            .map(|m| m.map_or((0, 0), |(n, row)| (1 + n - self.base, row)))
            .collect();
        let mut columns = left_columns;
        for (j, null) in self.null_row.iter().enumerate() {
            let sources: Vec<&dyn Array> = std::iter::once(null.as_ref())
                .chain(self.batches.iter().map(|b| b.batch.column(j).as_ref()))
                .collect();
            columns.push(interleave(&sources, &indices)?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(indices.len()));
        let out = RecordBatch::try_new_with_options(Arc::clone(&self.schema), columns, &options)?;

        // Right batches before the last match and the cursor are done with.
        let keep = match (self.backward, self.last_passed) {
            (true, Some((n, _))) => n.min(self.cursor.0),
            _ => self.cursor.0,
        };
        while self.base < keep && !self.batches.is_empty() {
            self.batches.pop_front();
            self.base += 1;
        }
        Ok(out)
    }
}

/// Plans [`AsofJoin`] nodes as [`AsofJoinExec`].
#[derive(Debug, Default)]
pub(crate) struct AsofExtensionPlanner;

#[async_trait::async_trait]
impl ExtensionPlanner for AsofExtensionPlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn datafusion::catalog::Session,
        planning_ctx: &datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(join) = node.as_any().downcast_ref::<AsofJoin>() else {
            return Ok(None);
        };
        let (ls, rs) = (logical_inputs[0].schema(), logical_inputs[1].schema());
        let physical = |e, schema| planner.create_physical_expr(e, schema, session, planning_ctx);
        let on = join
            .on
            .iter()
            .map(|(l, r)| Ok((physical(l, ls)?, physical(r, rs)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Arc::new(AsofJoinExec::new(
            Arc::clone(&physical_inputs[0]),
            Arc::clone(&physical_inputs[1]),
            on,
            physical(&join.left_time, ls)?,
            physical(&join.right_time, rs)?,
            join.direction,
            join.inclusive,
            join.keep_unmatched,
            Arc::new(join.schema.as_arrow().clone()),
        ))))
    }
}
