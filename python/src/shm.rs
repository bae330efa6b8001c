//! `quiver.shm`: shared-memory Arrow rings from Python, on the same `quiver-shm` crate as the
//! CLI and SQL. A reader's batches point into the ring; they reach pyarrow and polars through
//! the Arrow PyCapsule interface without a copy, and the ring slot stays pinned until the
//! last consumer lets go of the buffers.
//!
//! Waiting (for a frame, or for room in a full ring) happens with the GIL released.

use std::collections::VecDeque;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};
use pyo3_arrow::PyRecordBatch;
use pyo3_arrow::ffi::{to_array_pycapsules, to_schema_pycapsule};
use quiver_engine::arrow::array::{Array, RecordBatch, RecordBatchIterator, StructArray};
use quiver_engine::arrow::datatypes::Field;
use quiver_shm::{
    Error as ShmErr, Policy, Reader, ReaderOptions, Recv, RingOptions, Start, Writer,
};

use crate::errors;
use crate::interchange;

pyo3::create_exception!(
    quiver.shm,
    ShmError,
    errors::Error,
    "A shared-memory ring refused or failed; `kind` names what happened (NotFound, Corrupt...)."
);
pyo3::create_exception!(
    quiver.shm,
    AlreadyExists,
    ShmError,
    "The ring exists and its writer is alive."
);
pyo3::create_exception!(quiver.shm, RingNotFound, ShmError, "No ring of that name.");
pyo3::create_exception!(
    quiver.shm,
    RingFull,
    ShmError,
    "The writer waited its write timeout for a slow reader or a pinned slot."
);
pyo3::create_exception!(
    quiver.shm,
    WriterGone,
    ShmError,
    "The ring's writer died without closing it; a new writer may take it over."
);
pyo3::create_exception!(
    quiver.shm,
    Lagged,
    ShmError,
    "This reader fell behind and frames were overwritten; `missed` says how many."
);
pyo3::create_exception!(
    quiver.shm,
    Corrupt,
    ShmError,
    "A ring or frame failed its checks."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<ShmWriter>()?;
    m.add_class::<ShmReader>()?;
    m.add_class::<ShmBatch>()?;
    m.add("ShmError", py.get_type::<ShmError>())?;
    m.add("AlreadyExists", py.get_type::<AlreadyExists>())?;
    m.add("RingNotFound", py.get_type::<RingNotFound>())?;
    m.add("RingFull", py.get_type::<RingFull>())?;
    m.add("WriterGone", py.get_type::<WriterGone>())?;
    m.add("Lagged", py.get_type::<Lagged>())?;
    m.add("Corrupt", py.get_type::<Corrupt>())?;
    Ok(())
}

/// A ring error as the Python exception for its kind, with `kind` (and `missed` for Lagged).
pub fn to_py(e: ShmErr) -> PyErr {
    let message = e.to_string();
    let kind = e.kind();
    let err = match &e {
        ShmErr::AlreadyExists { .. } => AlreadyExists::new_err(message),
        ShmErr::NotFound { .. } => RingNotFound::new_err(message),
        ShmErr::RingFull { .. } => RingFull::new_err(message),
        ShmErr::WriterGone { .. } => WriterGone::new_err(message),
        ShmErr::Lagged { .. } => Lagged::new_err(message),
        ShmErr::Corrupt { .. } | ShmErr::Truncated { .. } | ShmErr::Incompatible { .. } => {
            Corrupt::new_err(message)
        }
        ShmErr::InvalidName { .. } | ShmErr::BadOptions { .. } => PyValueError::new_err(message),
        _ => ShmError::new_err(message),
    };
    Python::attach(|py| {
        let value = err.value(py);
        let _ = value.setattr("kind", kind);
        if let ShmErr::Lagged { missed, .. } = e {
            let _ = value.setattr("missed", missed);
        }
    });
    err
}

fn seconds(v: Option<f64>) -> PyResult<Option<Duration>> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(PyValueError::new_err(format!(
            "timeout must be a non-negative number of seconds, got {s}"
        ))),
    }
}

/// The one writer of a ring. `Writer.create(name, size="256MiB", slots=8, policy="block")`.
#[pyclass(module = "quiver.shm", name = "Writer")]
pub struct ShmWriter {
    inner: Option<Writer>,
    name: String,
}

impl ShmWriter {
    fn writer(&mut self) -> PyResult<&mut Writer> {
        self.inner.as_mut().ok_or_else(|| {
            PyValueError::new_err(format!("the writer of ring '{}' is closed", self.name))
        })
    }
}

#[pymethods]
impl ShmWriter {
    /// Creates ring `name`, or takes over one whose writer is gone (`AlreadyExists` when its
    /// writer is alive).
    #[staticmethod]
    #[allow(clippy::too_many_arguments)] // each one is a Python keyword argument
    #[pyo3(signature = (name, size=None, slots=8, policy="block", max_readers=64, checksum=false, write_timeout=30.0))]
    fn create(
        py: Python<'_>,
        name: String,
        size: Option<Bound<'_, PyAny>>,
        slots: u32,
        policy: &str,
        max_readers: u32,
        checksum: bool,
        write_timeout: f64,
    ) -> PyResult<Self> {
        let mut opts = RingOptions::default()
            .slots(slots)
            .policy(policy.parse::<Policy>().map_err(PyValueError::new_err)?)
            .max_readers(max_readers)
            .checksum(checksum);
        if let Some(size) = size {
            opts = opts.size(crate::size::parse_size(&size, "size")? as u64);
        }
        let timeout = seconds(Some(write_timeout))?.unwrap_or_default();
        let n = name.clone();
        let w = py
            .detach(move || Writer::create(&n, opts).map(|w| w.with_write_timeout(timeout)))
            .map_err(to_py)?;
        Ok(ShmWriter {
            inner: Some(w),
            name,
        })
    }

    /// Publishes an Arrow object (anything with `__arrow_c_stream__` or `__arrow_c_array__`:
    /// a pyarrow Table or RecordBatch, a polars DataFrame...). Returns the last frame's sequence.
    fn write(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<u64> {
        // One batch (a pyarrow RecordBatch) comes through the array interface, the cheaper
        // import; tables and data frames through the stream interface.
        let batches = if data.hasattr("__arrow_c_array__")? {
            vec![data.extract::<PyRecordBatch>()?.into_inner()]
        } else if data.hasattr("__arrow_c_stream__")? {
            interchange::import_stream(py, data)?.1
        } else {
            let kind = data.get_type().name()?.to_string();
            return Err(PyTypeError::new_err(format!(
                "cannot write a {kind}: expected an object with __arrow_c_stream__ or __arrow_c_array__ (pyarrow, polars)"
            )));
        };
        let w = self.writer()?;
        let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        if batches.is_empty() {
            return Ok(w.next_seq().saturating_sub(1));
        }
        py.detach(|| w.write_batches(&batches)).map_err(to_py)
    }

    /// Ends the stream: readers drain the ring and then see its end. The ring stays for late
    /// readers until `quiver shm rm` or `gc`.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(w) = self.inner.take() {
            py.detach(|| w.close()).map_err(to_py)?;
        }
        Ok(())
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The sequence number the next frame gets.
    #[getter]
    fn next_seq(&mut self) -> PyResult<u64> {
        Ok(self.writer()?.next_seq())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &mut self,
        py: Python<'_>,
        _a: Option<Bound<'_, PyAny>>,
        _b: Option<Bound<'_, PyAny>>,
        _c: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "quiver.shm.Writer('{}'{})",
            self.name,
            if self.inner.is_none() { ", closed" } else { "" }
        )
    }
}

/// A batch read from a ring. Its buffers point into the shared mapping; hand it to
/// `pyarrow.record_batch(b)` or `polars.DataFrame(b)` (no copy). The slot is released when
/// the last buffer is freed.
#[pyclass(module = "quiver.shm", name = "Batch", frozen)]
pub struct ShmBatch {
    batch: RecordBatch,
    #[pyo3(get)]
    seq: u64,
    #[pyo3(get)]
    schema_id: u32,
    #[pyo3(get)]
    publish_time_ns: u64,
}

#[pymethods]
impl ShmBatch {
    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    #[getter]
    fn num_columns(&self) -> usize {
        self.batch.num_columns()
    }

    /// The Arrow PyCapsule array interface (a struct array of the columns).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let schema = self.batch.schema();
        let field = Field::new_struct("", schema.fields().clone(), false)
            .with_metadata(schema.metadata().clone());
        let array = StructArray::from(self.batch.clone());
        Ok(to_array_pycapsules(
            py,
            field.into(),
            &array as &dyn Array,
            requested_schema,
        )?)
    }

    /// The Arrow PyCapsule stream interface: a stream of this one batch.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let reader = RecordBatchIterator::new([Ok(self.batch.clone())], self.batch.schema());
        interchange::export_stream(py, Box::new(reader), requested_schema)
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(to_schema_pycapsule(py, self.batch.schema().as_ref())?)
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "quiver.shm.Batch(seq={}, rows={}, columns={})",
            self.seq,
            self.batch.num_rows(),
            self.batch.num_columns()
        )
    }
}

/// A reader of a ring: every reader gets every frame. `Reader(name, start="oldest")`.
#[pyclass(module = "quiver.shm", name = "Reader")]
pub struct ShmReader {
    inner: Reader,
    pending: VecDeque<ShmBatch>,
    closed: bool,
}

impl ShmReader {
    fn pull(&mut self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Option<ShmBatch>> {
        if let Some(b) = self.pending.pop_front() {
            return Ok(Some(b));
        }
        if self.closed {
            return Ok(None);
        }
        let reader = &mut self.inner;
        // Wait in slices so Ctrl-C reaches Python while nothing arrives.
        let slice = Duration::from_millis(100);
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            let wait = match deadline {
                Some(d) => d
                    .saturating_duration_since(std::time::Instant::now())
                    .min(slice),
                None => slice,
            };
            match py.detach(|| reader.recv(Some(wait))).map_err(to_py)? {
                Recv::Frame(f) => {
                    for batch in f.batches {
                        self.pending.push_back(ShmBatch {
                            batch,
                            seq: f.seq,
                            schema_id: f.schema_id,
                            publish_time_ns: f.publish_time_ns,
                        });
                    }
                    if let Some(b) = self.pending.pop_front() {
                        return Ok(Some(b));
                    }
                }
                Recv::Closed => {
                    self.closed = true;
                    return Ok(None);
                }
                Recv::TimedOut => {
                    py.check_signals()?;
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        return Ok(None);
                    }
                }
            }
        }
    }
}

#[pymethods]
impl ShmReader {
    /// `start`: "oldest" (the oldest frame still in the ring), "latest" (frames written from
    /// now on) or a sequence number. `spin`: seconds to spin before sleeping (lower latency,
    /// one busy core). `copy`: copy frames out instead of pinning them.
    #[new]
    #[pyo3(signature = (name, start="oldest", spin=0.0, copy=false))]
    fn new(py: Python<'_>, name: String, start: &str, spin: f64, copy: bool) -> PyResult<Self> {
        let start: Start = start.parse().map_err(PyValueError::new_err)?;
        let spin = seconds(Some(spin))?.unwrap_or_default();
        let opts = ReaderOptions::default().start(start).spin(spin).copy(copy);
        let inner = py
            .detach(move || Reader::open(&name, opts))
            .map_err(to_py)?;
        Ok(ShmReader {
            inner,
            pending: VecDeque::new(),
            closed: false,
        })
    }

    /// The next batch, waiting up to `timeout` seconds (forever with None); None when nothing
    /// arrived in time or the writer closed the ring and everything was read (see `closed`).
    #[pyo3(signature = (timeout=None))]
    fn read(&mut self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<ShmBatch>> {
        self.pull(py, seconds(timeout)?)
    }

    /// True once the writer closed the ring and this reader read every frame.
    #[getter]
    fn closed(&self) -> bool {
        self.closed && self.pending.is_empty()
    }

    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// Frames this reader missed in all (overwritten before it read them).
    #[getter]
    fn lagged(&self) -> u64 {
        self.inner.lagged_total()
    }

    /// The address range of this reader's mapping, to check that buffers point into it.
    #[getter]
    fn mapping(&self) -> (usize, usize) {
        let m = self.inner.mapping();
        (m.start, m.end)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Batches until the writer closes the ring.
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<ShmBatch>> {
        self.pull(py, None)
    }

    fn __repr__(&self) -> String {
        format!(
            "quiver.shm.Reader('{}', next={})",
            self.inner.name(),
            self.inner.cursor()
        )
    }
}
