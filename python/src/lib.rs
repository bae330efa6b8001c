//! # quiver-python: the `quiver` Python module
//!
//! A thin layer over the same pieces the CLI uses: a [`quiver_engine::Session`] built from the
//! native host ([`quiver::host::config`]), and the statement router ([`quiver::run::Router`])
//! that sends Delta writes to the Delta writer and everything else to the engine. Nothing here
//! plans or reads SQL itself.
//!
//! - [`connection`]: `quiver.Connection`: registering paths, URLs, Delta versions and Arrow
//!   objects; `sql()` (lazy), `execute()` (now), `tables()`, `history()`, `verify()`.
//! - [`relation`]: `quiver.Relation`: results as pyarrow, polars or pandas, streamed as a
//!   `RecordBatchReader`, or handed to any consumer of `__arrow_c_stream__`.
//! - [`interchange`]: the Arrow PyCapsule interface both ways, without copying buffers.
//! - [`runtime`]: each connection's tokio runtime; callers wait with the GIL released and
//!   Ctrl-C cancels the statement.
//! - [`storage`]: `storage_options=` for S3, over the `AWS_*` variables.
//! - [`errors`]: the exception hierarchy under `quiver.Error`.
//! - [`shm`]: `quiver.shm`: shared-memory ring writers and zero-copy readers.
//! - [`report`], [`size`]: `verify()`'s answer, and sizes as `memory_limit=` takes them.

use pyo3::prelude::*;

mod connection;
mod errors;
mod interchange;
mod relation;
mod report;
mod runtime;
mod shm;
mod size;

/// The native part of the `quiver` package; `quiver/__init__.py` re-exports it.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<connection::Connection>()?;
    m.add_class::<report::Report>()?;
    m.add_class::<relation::Relation>()?;
    errors::register(m)?;
    shm::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
