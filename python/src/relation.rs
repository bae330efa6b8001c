//! `quiver.Relation`: a planned query, run each time its rows are asked for, or the held
//! output of a statement that already ran.

use std::sync::Arc;

use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use pyo3_arrow::{PyRecordBatchReader, PySchema, PyTable};
use quiver_engine::arrow::array::{Array, RecordBatch, StringArray};
use quiver_engine::arrow::datatypes::SchemaRef;
use quiver_engine::output::{Format, OutputOptions, writer};

use crate::connection::Shared;
use crate::errors;
use crate::interchange::{self, BlockingReader};

/// What a relation holds.
#[derive(Debug, Clone)]
pub enum Body {
    /// A query's plan, run on demand.
    Plan(LogicalPlan),
    /// The output of a statement that already ran (DDL, a Delta write, history).
    Batches(SchemaRef, Vec<RecordBatch>),
}

/// The rows of a query, produced when asked for: `to_arrow()`, `to_polars()`, `to_pandas()`,
/// `fetch_record_batch()` (streaming), or any consumer of `__arrow_c_stream__`
/// (`pyarrow.table(rel)`, `polars.DataFrame(rel)`, DuckDB). Each of these runs the query again.
#[pyclass(module = "quiver", frozen)]
pub struct Relation {
    shared: Arc<Shared>,
    body: Body,
}

impl Relation {
    pub fn new(shared: Arc<Shared>, body: Body) -> Self {
        Self { shared, body }
    }

    fn schema_ref(&self) -> SchemaRef {
        match &self.body {
            Body::Plan(plan) => Arc::new(plan.schema().as_arrow().clone()),
            Body::Batches(schema, _) => Arc::clone(schema),
        }
    }

    /// Starts `body` running and returns its stream (rows are computed as it is read).
    async fn start(shared: Arc<Shared>, body: Body) -> PyResult<SendableRecordBatchStream> {
        match body {
            Body::Plan(plan) => shared.session().execute(plan).await.map_err(errors::engine),
            Body::Batches(schema, batches) => Ok(Box::pin(RecordBatchStreamAdapter::new(
                schema,
                futures::stream::iter(batches.into_iter().map(Ok)),
            ))),
        }
    }

    /// Runs `body` to the end, with the GIL released and Ctrl-C cancelling it.
    fn collect_body(&self, py: Python<'_>, body: Body) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
        let shared = Arc::clone(&self.shared);
        self.shared.runtime.wait(py, "running a query", async move {
            let stream = Self::start(shared, body).await?;
            let schema = stream.schema();
            Ok((schema, interchange::collect(stream).await?))
        })
    }

    /// A stream over the rows, started now and read by whoever consumes it.
    fn stream(&self, py: Python<'_>) -> PyResult<BlockingReader> {
        let shared = Arc::clone(&self.shared);
        let body = self.body.clone();
        let stream = self
            .shared
            .runtime
            .wait(py, "starting a query", Self::start(shared, body))?;
        Ok(BlockingReader::new(stream, Arc::clone(&self.shared)))
    }

    /// The first `max_rows` rows as a text table, and whether there were more.
    fn render(&self, py: Python<'_>, max_rows: usize) -> PyResult<String> {
        let body = match &self.body {
            Body::Plan(plan) => Body::Plan(
                LogicalPlanBuilder::from(plan.clone())
                    .limit(0, Some(max_rows + 1))
                    .and_then(LogicalPlanBuilder::build)
                    .map_err(|e| errors::engine(quiver_engine::Error::from_datafusion(e)))?,
            ),
            held => held.clone(),
        };
        let (schema, batches) = self.collect_body(py, body)?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let mut out = Vec::new();
        let options = OutputOptions {
            max_rows: Some(max_rows),
            row_count: false,
            max_width: None,
        };
        let mut w = writer(Format::Table, schema, &mut out, &options).map_err(errors::engine)?;
        for batch in &batches {
            w.write_batch(batch).map_err(errors::engine)?;
        }
        w.finish().map_err(errors::engine)?;
        let mut text = String::from_utf8_lossy(&out).trim_end().to_string();
        if rows > max_rows {
            text.push_str(&format!("\n(first {max_rows} rows shown)"));
        } else {
            text.push_str(&format!("\n{rows} row{}", if rows == 1 { "" } else { "s" }));
        }
        Ok(text)
    }
}

#[pymethods]
impl Relation {
    /// The result's schema, as a `pyarrow.Schema` (through `__arrow_c_schema__`).
    #[getter]
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PySchema::new(self.schema_ref()).into_pyarrow(py)
    }

    /// The result's column names.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// Runs the query and returns a `pyarrow.Table` over its batches, without a copy.
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (schema, batches) = self.collect_body(py, self.body.clone())?;
        PyTable::try_new(batches, schema)?.into_pyarrow(py)
    }

    /// Runs the query and returns a `polars.DataFrame`.
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let table = self.to_arrow(py)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("rechunk", false)?;
        py.import("polars")?
            .call_method("from_arrow", (table,), Some(&kwargs))
    }

    /// Runs the query and returns a `pandas.DataFrame` (through pyarrow).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_arrow(py)?.call_method0("to_pandas")
    }

    /// Starts the query and returns a `pyarrow.RecordBatchReader` that computes batches as
    /// they are read, so memory stays bounded by what the reader holds.
    fn fetch_record_batch<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let reader = self.stream(py)?;
        PyRecordBatchReader::new(Box::new(reader)).into_pyarrow(py)
    }

    /// The Arrow PyCapsule stream interface: starts the query; the consumer reads its batches.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let reader = self.stream(py)?;
        interchange::export_stream(py, Box::new(reader), requested_schema)
    }

    /// The result schema as an Arrow C schema capsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(pyo3_arrow::ffi::to_schema_pycapsule(
            py,
            self.schema_ref().as_ref(),
        )?)
    }

    /// The query's plans as text: logical and physical; `analyze` runs it and adds metrics.
    #[pyo3(signature = (verbose=false, analyze=false))]
    fn explain(&self, py: Python<'_>, verbose: bool, analyze: bool) -> PyResult<String> {
        let Body::Plan(plan) = &self.body else {
            return Ok("the statement has already run; its output is held in memory".into());
        };
        let explained = LogicalPlanBuilder::from(plan.clone())
            .explain(verbose, analyze)
            .and_then(LogicalPlanBuilder::build)
            .map_err(|e| errors::engine(quiver_engine::Error::from_datafusion(e)))?;
        let (_, batches) = self.collect_body(py, Body::Plan(explained))?;
        let mut text = String::new();
        for batch in &batches {
            let column = |name: &str| {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                    .cloned()
            };
            let (Some(kinds), Some(plans)) = (column("plan_type"), column("plan")) else {
                continue;
            };
            for i in 0..batch.num_rows() {
                if kinds.is_valid(i) && plans.is_valid(i) {
                    text.push_str(&format!("{}:\n{}\n\n", kinds.value(i), plans.value(i)));
                }
            }
        }
        Ok(text.trim_end().to_string())
    }

    /// Prints the first `max_rows` rows as a table.
    #[pyo3(signature = (max_rows=20))]
    fn show(&self, py: Python<'_>, max_rows: usize) -> PyResult<()> {
        let text = self.render(py, max_rows)?;
        py.import("builtins")?.call_method1("print", (text,))?;
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, 10)
    }
}
