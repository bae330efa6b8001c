//! Arrow across the boundary, through the Arrow PyCapsule interface (`__arrow_c_stream__`):
//! batches in from pyarrow, polars or pandas, and results out, without copying buffers.

use std::sync::Arc;
use std::time::Instant;

use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::PyRecordBatchReader;
use pyo3_arrow::ffi::{ArrayIterator, to_stream_pycapsule};
use quiver_engine::arrow::array::{ArrayRef, RecordBatch, RecordBatchReader, StructArray};
use quiver_engine::arrow::datatypes::{Field, SchemaRef};
use quiver_engine::arrow::error::ArrowError;

use crate::connection::Shared;
use crate::errors;
use crate::runtime::SIGNAL_POLL;

/// Reads a statement's stream to the end.
///
/// # Errors
/// The first error the stream reports, as a Python exception.
pub async fn collect(mut stream: SendableRecordBatchStream) -> PyResult<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        batches.push(batch.map_err(|e| errors::engine(quiver_engine::Error::from_datafusion(e)))?);
    }
    Ok(batches)
}

/// The batches of any object with `__arrow_c_stream__`. The buffers stay where the exporter
/// put them: the batches reference them, and keep the exporter's memory alive until dropped.
///
/// # Errors
/// `TypeError` for an object without the interface; the exporter's errors.
pub fn import_stream(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    if !source.hasattr("__arrow_c_stream__")? {
        let kind = source.get_type().name()?.to_string();
        return Err(PyTypeError::new_err(format!(
            "cannot register a {kind}: expected a path or URL string, or an object with \
             __arrow_c_stream__ (a pyarrow Table or RecordBatchReader, a polars or pandas DataFrame)"
        )));
    }
    errors::guard("importing an Arrow stream", || {
        let reader = source.extract::<PyRecordBatchReader>()?.into_reader()?;
        let schema = reader.schema();
        // An exporter backed by Python code takes the GIL itself when it needs it.
        let batches = py
            .detach(|| reader.collect::<Result<Vec<_>, ArrowError>>())
            .map_err(|e| errors::IoError::new_err(format!("reading the Arrow stream: {e}")))?;
        Ok((schema, batches))
    })
}

/// A capsule holding an Arrow C stream over `reader`, cast to `requested_schema` if asked and
/// possible (the PyCapsule interface's contract).
pub fn export_stream<'py>(
    py: Python<'py>,
    reader: Box<dyn RecordBatchReader + Send>,
    requested_schema: Option<Bound<'py, PyCapsule>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let schema = reader.schema();
    let arrays = reader.map(|batch| Ok(Arc::new(StructArray::from(batch?)) as ArrayRef));
    let field = Field::new_struct("", schema.fields().clone(), false)
        .with_metadata(schema.metadata().clone());
    Ok(to_stream_pycapsule(
        py,
        Box::new(ArrayIterator::new(arrays, Arc::new(field))),
        requested_schema,
    )?)
}

/// The batches of a statement's stream as a blocking [`RecordBatchReader`], for consumers of an
/// Arrow C stream (pyarrow, polars, DuckDB). Each batch is awaited on the connection's
/// runtime with the GIL released.
///
/// Python's signal handlers run at least every [`SIGNAL_POLL`] while the stream is read. When
/// one raises (Ctrl-C), the query stops and the stream ends with an error rather than early, so
/// a consumer never takes a cut-short result for a whole one; a `KeyboardInterrupt` is raised
/// again (`_thread.interrupt_main`) so that Python sees it once the consumer returns.
pub struct BlockingReader {
    schema: SchemaRef,
    stream: Option<SendableRecordBatchStream>,
    shared: Arc<Shared>,
    signals_checked: Instant,
}

impl BlockingReader {
    pub fn new(stream: SendableRecordBatchStream, shared: Arc<Shared>) -> Self {
        Self {
            schema: stream.schema(),
            stream: Some(stream),
            shared,
            signals_checked: Instant::now(),
        }
    }

    /// The next batch, or the end, or why there is none.
    fn step(&mut self) -> Option<Result<RecordBatch, ArrowError>> {
        let runtime = &self.shared.runtime;
        loop {
            let stream = self.stream.as_mut()?;
            // The consumer may call in with the GIL held or not: release it either way while
            // the batch is computed, so other Python threads run.
            let waited = Python::attach(|py| {
                py.detach(|| {
                    runtime
                        .block_on(async { tokio::time::timeout(SIGNAL_POLL, stream.next()).await })
                })
            });
            if waited.is_err() || self.signals_checked.elapsed() >= SIGNAL_POLL {
                self.signals_checked = Instant::now();
                if let Some(reason) = Python::attach(interrupted) {
                    self.stream = None;
                    return Some(Err(ArrowError::ExternalError(reason.into())));
                }
            }
            match waited {
                Err(_elapsed) => continue,
                Ok(Some(Ok(batch))) => return Some(Ok(batch)),
                Ok(Some(Err(e))) => {
                    self.stream = None;
                    let message = quiver_engine::Error::from_datafusion(e).to_string();
                    return Some(Err(ArrowError::ExternalError(message.into())));
                }
                Ok(None) => {
                    self.stream = None;
                    return None;
                }
            }
        }
    }
}

/// Runs Python's signal handlers; what one raised, if any, as the reason a stream stops.
fn interrupted(py: Python<'_>) -> Option<String> {
    let e = py.check_signals().err()?;
    // Described before anything else runs Python code, which could meet the signal again.
    let reason = format!("the query was cancelled: {e}");
    if e.is_instance_of::<PyKeyboardInterrupt>(py) {
        // Raise it again for the Python code that called the consumer. If even that fails,
        // the stream's error still says what happened.
        let _ = py
            .import("_thread")
            .and_then(|m| m.call_method0("interrupt_main"));
    }
    Some(reason)
}

impl Iterator for BlockingReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.stream.as_ref()?;
        // This runs below a C callback, where a panic would abort the process: it becomes
        // the stream's error instead.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.step())) {
            Ok(item) => item,
            Err(_) => {
                self.stream = None;
                Some(Err(ArrowError::ExternalError(
                    "internal error (a bug in Quiver, please report it): panic while reading results"
                        .into(),
                )))
            }
        }
    }
}

impl RecordBatchReader for BlockingReader {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}
