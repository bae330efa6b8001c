//! A Delta snapshot as a DataFusion table: file skipping from partition values and
//! `add.stats`, deletion vectors as Parquet row selections, and column mapping undone on the
//! way out.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, MapArray, StringArray, StructArray,
    UInt64Array, make_array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session as CatalogSession;
use datafusion::catalog::TableProvider;
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column as DfColumn, DFSchema, ScalarValue, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema as DfTableSchema;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::{StreamExt, TryStreamExt, stream};
use object_store::ObjectMeta;
use parking_lot::RwLock;
use parquet::arrow::arrow_reader::RowSelection;
use serde_json::Value;

use super::actions::Add;
use super::log::Snapshot;
use super::schema::{Column, TableSchema, partition_values};
use crate::Error;

/// A Delta table as DataFusion sees it: one snapshot, refreshed before each statement when
/// it follows the newest version.
#[derive(Debug)]
pub struct DeltaTable {
    snapshot: RwLock<Arc<Snapshot>>,
    follows_latest: bool,
}

impl DeltaTable {
    pub(crate) fn new(snapshot: Arc<Snapshot>, follows_latest: bool) -> Self {
        Self {
            snapshot: RwLock::new(snapshot),
            follows_latest,
        }
    }

    /// The snapshot queries read now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read())
    }

    /// Whether this table moves to new versions (false when pinned by time travel).
    pub fn follows_latest(&self) -> bool {
        self.follows_latest
    }

    /// Replays commits newer than the current snapshot, if any.
    pub(crate) async fn refresh(&self) -> crate::Result<()> {
        if !self.follows_latest {
            return Ok(());
        }
        let current = self.snapshot();
        if let Some(newer) = current.log.update(&current).await? {
            *self.snapshot.write() = Arc::new(newer);
        }
        Ok(())
    }
}

#[async_trait]
impl TableProvider for DeltaTable {
    fn schema(&self) -> SchemaRef {
        self.snapshot().arrow_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let snapshot = self.snapshot();
        scan(&snapshot, state, projection, filters, limit)
            .await
            .map_err(Error::into_datafusion)
    }
}

async fn scan(
    snapshot: &Snapshot,
    state: &dyn CatalogSession,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> crate::Result<Arc<dyn ExecutionPlan>> {
    let schema = &snapshot.schema;
    let logical = Arc::clone(&schema.logical);
    let df_schema = DFSchema::try_from(Arc::clone(&logical)).map_err(Error::from_datafusion)?;

    // 1. Skip files by partition values and statistics.
    let mut files: Vec<&Add> = snapshot.files().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let total = files.len();
    if let Some(predicate) = conjunction(filters.iter().cloned())
        && let Ok(physical) = state.create_physical_expr(predicate, &df_schema)
        && let Some(pruning) = PruningPredicateBuilder::new()
            .with_file_schema(Arc::clone(&logical))
            .build(physical)
    {
        let stats = FileStats::new(&files, schema);
        match pruning.prune(&stats) {
            Ok(keep) => {
                let mut keep = keep.into_iter();
                files.retain(|_| keep.next().unwrap_or(true));
            }
            Err(e) => log::debug!("file skipping not used: {e}"),
        }
    }
    let skipped = total - files.len();

    // 2. The scan of what remains: data columns by physical name, then partition columns.
    let data_columns: Vec<&Column> = schema.columns.iter().filter(|c| !c.partition).collect();
    let partition_columns: Vec<&Column> = schema.columns.iter().filter(|c| c.partition).collect();
    let file_schema = Arc::new(Schema::new(
        data_columns
            .iter()
            .map(|c| Field::new(&c.physical, c.physical_type.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let partition_fields: Vec<FieldRef> = partition_columns
        .iter()
        .map(|c| Arc::new(Field::new(&c.logical, c.data_type.clone(), true)))
        .collect();
    let table_schema = DfTableSchema::builder(Arc::clone(&file_schema))
        .with_table_partition_cols(partition_fields)
        .build();
    let scan_schema = Arc::clone(table_schema.table_schema());

    let mut partitioned = Vec::with_capacity(files.len());
    let with_dv: Vec<&Add> = files
        .iter()
        .copied()
        .filter(|a| a.deletion_vector.is_some())
        .collect();
    let log = &snapshot.log;
    type Pending<'a> = std::pin::Pin<
        Box<dyn std::future::Future<Output = crate::Result<(String, RowSelection)>> + Send + 'a>,
    >;
    let pending: Vec<Pending<'_>> = with_dv
        .into_iter()
        .map(|add| Box::pin(deletion_selection(snapshot, add)) as Pending<'_>)
        .collect();
    let selections: std::collections::HashMap<String, RowSelection> = stream::iter(pending)
        .buffer_unordered(8)
        .try_collect()
        .await?;
    for add in &files {
        let location = super::paths::resolve(log, &add.path)?;
        let values = partition_values(&add.partition_values, &partition_columns).map_err(|m| {
            Error::Delta {
                table: log.display(),
                message: format!("{}: {m}", add.path),
            }
        })?;
        let meta = ObjectMeta {
            location,
            last_modified: chrono::DateTime::from_timestamp_millis(add.modification_time)
                .unwrap_or_default(),
            size: u64::try_from(add.size).unwrap_or_default(),
            e_tag: None,
            version: None,
        };
        let mut file = PartitionedFile::new_from_meta(meta).with_partition_values(values);
        if let Some(selection) = selections.get(&add.path) {
            file = file.with_extension(
                datafusion::datasource::physical_plan::parquet::ParquetRowSelection::new(
                    selection.clone(),
                ),
            );
        }
        partitioned.push(file);
    }

    let mut source = ParquetSource::new(table_schema)
        .with_table_parquet_options(state.table_options().parquet.clone());
    if let Some(predicate) = file_predicate(filters, schema, &scan_schema, state) {
        source = source.with_predicate(predicate);
    }

    // Output columns in the order asked, each the scan's column for it.
    let wanted: Vec<usize> = projection
        .cloned()
        .unwrap_or_else(|| (0..logical.fields().len()).collect());
    let scan_indices: Vec<usize> = wanted
        .iter()
        .map(|&i| {
            let column = &schema.columns[i];
            if column.partition {
                data_columns.len()
                    + partition_columns
                        .iter()
                        .position(|c| c.logical == column.logical)
                        .unwrap_or_default()
            } else {
                data_columns
                    .iter()
                    .position(|c| c.logical == column.logical)
                    .unwrap_or_default()
            }
        })
        .collect();
    let output = Arc::new(
        logical
            .project(&wanted)
            .map_err(|e| Error::from_datafusion(e.into()))?,
    );

    let target = state.config().target_partitions().max(1);
    let mut groups: Vec<Vec<PartitionedFile>> = (0..target.min(partitioned.len()).max(1))
        .map(|_| Vec::new())
        .collect();
    let count = groups.len();
    for (i, file) in partitioned.into_iter().enumerate() {
        groups[i % count].push(file);
    }
    // The store's scheme and authority alone (`memory://`, `s3://bucket`).
    let store_url = url::Url::parse(&log.store_url)
        .map(|u| crate::location::store_key(&u))
        .map_err(|e| Error::Delta {
            table: log.display(),
            message: format!("bad store URL {}: {e}", log.store_url),
        })
        .and_then(|u| ObjectStoreUrl::parse(u).map_err(Error::from_datafusion))?;
    let config = FileScanConfigBuilder::new(store_url, Arc::new(source))
        .with_file_groups(groups.into_iter().map(FileGroup::from).collect())
        .with_projection_indices(Some(scan_indices))
        .map_err(Error::from_datafusion)?
        .with_limit(limit)
        // Only tables with variant columns need each file's layout looked at.
        .with_expr_adapter(
            schema
                .columns
                .iter()
                .any(|c| super::variant::contains_variant(&c.physical_type))
                .then(|| Arc::new(super::variant::VariantAdapterFactory) as _),
        )
        .build();
    let inner: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(config);
    Ok(Arc::new(DeltaScanExec::new(
        inner,
        output,
        snapshot.location(),
        snapshot.version,
        total,
        skipped,
    )))
}

/// The predicate handed to the Parquet reader for row-group and page pruning: the filters
/// over data columns, with names turned physical. Filters it cannot express are left to the
/// filter above the scan.
fn file_predicate(
    filters: &[Expr],
    schema: &TableSchema,
    scan_schema: &SchemaRef,
    state: &dyn CatalogSession,
) -> Option<Arc<dyn PhysicalExpr>> {
    let df_schema = DFSchema::try_from(Arc::clone(scan_schema)).ok()?;
    let usable: Vec<Expr> = filters
        .iter()
        .filter_map(|f| {
            let mut ok = true;
            let renamed = f
                .clone()
                .transform(|e| match e {
                    Expr::Column(c) => match schema.column(&c.name) {
                        Some(col) if !col.partition => Ok(Transformed::yes(Expr::Column(
                            DfColumn::new_unqualified(&col.physical),
                        ))),
                        _ => {
                            ok = false;
                            Ok(Transformed::no(Expr::Column(c)))
                        }
                    },
                    other => Ok(Transformed::no(other)),
                })
                .ok()?
                .data;
            ok.then_some(renamed)
        })
        .filter(|e| !(schema.mapped && references_nested_fields(e)))
        // Variants are compared unshredded; their Parquet statistics describe the shredded
        // columns, if any.
        .filter(|e| !references_variants(e, schema))
        .collect();
    let predicate = conjunction(usable)?;
    state.create_physical_expr(predicate, &df_schema).ok()
}

/// True when `e` reaches into a struct, whose field names differ in files under column
/// mapping.
fn references_nested_fields(e: &Expr) -> bool {
    let mut nested = false;
    let _ = e.apply(|node| {
        if let Expr::ScalarFunction(f) = node
            && f.name() == "get_field"
        {
            nested = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    nested
}

/// True when `e` reads a column that holds variants.
fn references_variants(e: &Expr, schema: &TableSchema) -> bool {
    e.column_refs().iter().any(|c| {
        schema.columns.iter().any(|col| {
            col.physical == c.name && super::variant::contains_variant(&col.physical_type)
        })
    })
}

/// The rows of `add` to read: all but those its deletion vector names.
async fn deletion_selection(
    snapshot: &Snapshot,
    add: &Add,
) -> crate::Result<(String, RowSelection)> {
    let Some(dv) = add.deletion_vector.as_ref() else {
        return Err(Error::Delta {
            table: snapshot.location(),
            message: format!("{} has no deletion vector", add.path),
        });
    };
    let deleted = super::dv::deleted_rows(&snapshot.log, dv).await?;
    let rows = match row_count(add) {
        Some(n) => n,
        None => footer_rows(snapshot, add).await?,
    };
    Ok((add.path.clone(), super::dv::selection(&deleted, rows)))
}

/// The physical row count of a file from its statistics, when recorded.
fn row_count(add: &Add) -> Option<u64> {
    let stats: Value = serde_json::from_str(add.stats.as_deref()?).ok()?;
    stats.get("numRecords")?.as_u64()
}

/// The row count of a file from its Parquet footer.
async fn footer_rows(snapshot: &Snapshot, add: &Add) -> crate::Result<u64> {
    let path = super::paths::resolve(&snapshot.log, &add.path)?;
    #[expect(deprecated)]
    let reader = parquet::arrow::async_reader::ParquetObjectReader::new(
        Arc::clone(&snapshot.log.store),
        path.clone(),
    )
    .with_file_size(u64::try_from(add.size).unwrap_or_default());
    let builder = parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| Error::CorruptFile {
            path: crate::location::display_location(&snapshot.log.store_url, path.as_ref()),
            reason: e.to_string(),
        })?;
    Ok(u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or_default())
}

/// Statistics of the candidate files, for [`PruningPredicate`]: min, max and null counts
/// from `add.stats`, and each partition column's single value.
struct FileStats<'a> {
    files: &'a [&'a Add],
    schema: &'a TableSchema,
    stats: Vec<Option<Value>>,
}

impl<'a> FileStats<'a> {
    fn new(files: &'a [&'a Add], schema: &'a TableSchema) -> Self {
        let stats = files
            .iter()
            .map(|a| {
                a.stats
                    .as_deref()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
            })
            .collect();
        Self {
            files,
            schema,
            stats,
        }
    }

    fn num_records(&self) -> Vec<Option<u64>> {
        self.stats
            .iter()
            .map(|s| s.as_ref()?.get("numRecords")?.as_u64())
            .collect()
    }

    fn partition_array(&self, column: &Column) -> Option<ArrayRef> {
        let values: Vec<ScalarValue> = self
            .files
            .iter()
            .map(|a| partition_values(&a.partition_values, &[column]).ok()?.pop())
            .collect::<Option<_>>()?;
        ScalarValue::iter_to_array(values).ok()
    }

    fn bound(&self, column: &DfColumn, key: &str) -> Option<ArrayRef> {
        let col = self.schema.column(&column.name)?;
        if col.partition {
            return self.partition_array(col);
        }
        let usable = matches!(
            col.data_type,
            DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::Float32
                | DataType::Float64
                | DataType::Decimal128(_, _)
                | DataType::Utf8
                | DataType::Date32
                | DataType::Timestamp(_, _)
        );
        if !usable {
            return None;
        }
        let texts: StringArray = self
            .stats
            .iter()
            .map(|s| {
                let v = s.as_ref()?.get(key)?.get(&col.physical)?;
                match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                }
            })
            .collect();
        let array = cast(&texts, &col.data_type).ok()?;
        if key == "maxValues"
            && let DataType::Timestamp(TimeUnit::Microsecond, tz) = &col.data_type
        {
            // Statistics keep milliseconds: the true maximum may be up to 999 µs later.
            let micros = cast(&array, &DataType::Int64).ok()?;
            let widened: datafusion::arrow::array::Int64Array = micros
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .iter()
                .map(|v| v.map(|v| v.saturating_add(999)))
                .collect();
            return cast(
                &widened,
                &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            )
            .ok();
        }
        Some(array)
    }
}

impl PruningStatistics for FileStats<'_> {
    fn min_values(&self, column: &DfColumn) -> Option<ArrayRef> {
        self.bound(column, "minValues")
    }

    fn max_values(&self, column: &DfColumn) -> Option<ArrayRef> {
        self.bound(column, "maxValues")
    }

    fn num_containers(&self) -> usize {
        self.files.len()
    }

    fn null_counts(&self, column: &DfColumn) -> Option<ArrayRef> {
        let col = self.schema.column(&column.name)?;
        let counts: UInt64Array = if col.partition {
            let values = self.partition_array(col)?;
            self.num_records()
                .into_iter()
                .enumerate()
                .map(|(i, n)| if values.is_null(i) { n } else { Some(0) })
                .collect()
        } else {
            self.stats
                .iter()
                .map(|s| s.as_ref()?.get("nullCount")?.get(&col.physical)?.as_u64())
                .collect()
        };
        Some(Arc::new(counts))
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        Some(Arc::new(UInt64Array::from(self.num_records())))
    }

    fn contained(
        &self,
        _column: &DfColumn,
        _values: &std::collections::HashSet<ScalarValue>,
    ) -> Option<BooleanArray> {
        None
    }
}

/// The scan of a Delta snapshot: reads through the Parquet scan below it, gives columns their
/// logical names and types, and reports how many files were skipped.
#[derive(Debug)]
struct DeltaScanExec {
    inner: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    table: String,
    version: i64,
    files_total: usize,
    files_skipped: usize,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl DeltaScanExec {
    fn new(
        inner: Arc<dyn ExecutionPlan>,
        schema: SchemaRef,
        table: String,
        version: i64,
        files_total: usize,
        files_skipped: usize,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(
                inner.properties().output_partitioning().partition_count(),
            ),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        let metrics = ExecutionPlanMetricsSet::new();
        MetricBuilder::new(&metrics)
            .global_counter("files_skipped")
            .add(files_skipped);
        MetricBuilder::new(&metrics)
            .global_counter("files_scanned")
            .add(files_total - files_skipped);
        Self {
            inner,
            schema,
            table,
            version,
            files_total,
            files_skipped,
            properties,
            metrics,
        }
    }
}

impl DisplayAs for DeltaScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DeltaScanExec: table={}, version={}, files={} of {} ({} skipped)",
            self.table,
            self.version,
            self.files_total - self.files_skipped,
            self.files_total,
            self.files_skipped
        )
    }
}

impl ExecutionPlan for DeltaScanExec {
    fn name(&self) -> &str {
        "DeltaScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.inner]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let inner = children
            .pop()
            .ok_or_else(|| DataFusionError::Internal("DeltaScanExec takes one child".into()))?;
        Ok(Arc::new(DeltaScanExec::new(
            inner,
            Arc::clone(&self.schema),
            self.table.clone(),
            self.version,
            self.files_total,
            self.files_skipped,
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let schema = Arc::clone(&self.schema);
        let stream = self.inner.execute(partition, context)?;
        let out_schema = Arc::clone(&schema);
        let renamed = stream.map(move |batch| {
            let batch = batch?;
            let columns = batch
                .columns()
                .iter()
                .zip(out_schema.fields())
                .map(|(array, field)| retype(array, field.data_type()))
                .collect::<DfResult<Vec<_>>>()?;
            let options = datafusion::arrow::record_batch::RecordBatchOptions::new()
                .with_row_count(Some(batch.num_rows()));
            Ok(RecordBatch::try_new_with_options(
                Arc::clone(&out_schema),
                columns,
                &options,
            )?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, renamed)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn partition_statistics(&self, _partition: Option<usize>) -> DfResult<Arc<Statistics>> {
        Ok(Arc::new(Statistics::new_unknown(&self.schema)))
    }
}

/// Gives `array` the type `target`, which differs at most in nested field names (physical
/// names under column mapping) or in a type the cast kernel bridges.
fn retype(array: &ArrayRef, target: &DataType) -> DfResult<ArrayRef> {
    if array.data_type() == target {
        return Ok(Arc::clone(array));
    }
    Ok(match (array.data_type(), target) {
        (DataType::Struct(_), DataType::Struct(fields)) => {
            let s = array.as_struct();
            let columns = s
                .columns()
                .iter()
                .zip(fields)
                .map(|(c, f)| retype(c, f.data_type()))
                .collect::<DfResult<Vec<_>>>()?;
            Arc::new(StructArray::try_new_with_length(
                fields.clone(),
                columns,
                s.nulls().cloned(),
                s.len(),
            )?)
        }
        (DataType::List(_), DataType::List(field)) => {
            let l = array.as_list::<i32>();
            Arc::new(ListArray::try_new(
                Arc::clone(field),
                l.offsets().clone(),
                retype(l.values(), field.data_type())?,
                l.nulls().cloned(),
            )?)
        }
        (DataType::Map(_, _), DataType::Map(field, sorted)) => {
            let m = array.as_map();
            let entries: ArrayRef = Arc::new(m.entries().clone());
            let entries = retype(&entries, field.data_type())?;
            Arc::new(MapArray::try_new(
                Arc::clone(field),
                m.offsets().clone(),
                entries.as_struct().clone(),
                m.nulls().cloned(),
                *sorted,
            )?)
        }
        _ => match cast(array, target) {
            Ok(a) => a,
            Err(_) => make_array(
                array
                    .to_data()
                    .into_builder()
                    .data_type(target.clone())
                    .build()?,
            ),
        },
    })
}

impl DeltaTable {
    /// The same table at another version.
    ///
    /// # Errors
    /// A version that does not exist, or an instant before the first commit.
    pub async fn as_of(&self, as_of: &super::AsOf) -> crate::Result<DeltaTable> {
        let log = &self.snapshot().log;
        let version = match as_of {
            super::AsOf::Latest => {
                self.refresh().await?;
                return Ok(DeltaTable::new(self.snapshot(), true));
            }
            super::AsOf::Version(v) => *v,
            super::AsOf::Timestamp(at) => log.version_at(*at).await?,
        };
        Ok(DeltaTable::new(
            Arc::new(log.snapshot(Some(version)).await?),
            false,
        ))
    }
}
