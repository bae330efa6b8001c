//! Python exceptions: one small hierarchy under `quiver.Error`, mapped from the native and
//! engine error enums at the boundary.
//!
//! ```text
//! quiver.Error
//! ├── SqlError            bad SQL text or a plan that cannot be made (.line, .column)
//! ├── TableNotFoundError  a name that is neither registered nor a path
//! ├── DeltaError          a Delta table that cannot be read or written as asked
//! ├── IoError             missing, unreadable or corrupt files; unreachable stores
//! └── InternalError       a bug in Quiver (a caught panic included)
//! ```

use datafusion::error::DataFusionError;
use pyo3::prelude::*;
use quiver_engine::Error as EngineError;

pyo3::create_exception!(
    quiver,
    Error,
    pyo3::exceptions::PyException,
    "The base of every error Quiver raises."
);
pyo3::create_exception!(
    quiver,
    SqlError,
    Error,
    "SQL that does not parse or plan; `line` and `column` locate a syntax error (1-based), or are None."
);
pyo3::create_exception!(
    quiver,
    TableNotFoundError,
    Error,
    "A table name that is neither registered nor a readable path."
);
pyo3::create_exception!(
    quiver,
    DeltaError,
    Error,
    "A Delta table that cannot be read or written as asked (missing version, failed write...)."
);
pyo3::create_exception!(
    quiver,
    IoError,
    Error,
    "A file or store that is missing, unreadable or corrupt."
);
pyo3::create_exception!(
    quiver,
    InternalError,
    Error,
    "A bug in Quiver, including a panic caught below the API. Please report it."
);

/// Registers the exception classes in the module, with `line = column = None` on `SqlError`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("SqlError", py.get_type::<SqlError>())?;
    m.add("TableNotFoundError", py.get_type::<TableNotFoundError>())?;
    m.add("DeltaError", py.get_type::<DeltaError>())?;
    m.add("IoError", py.get_type::<IoError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    let sql_error = py.get_type::<SqlError>();
    sql_error.setattr("line", py.None())?;
    sql_error.setattr("column", py.None())?;
    Ok(())
}

/// A native error as the Python exception a user can catch.
pub fn to_py(e: quiver::Error) -> PyErr {
    let message = e.to_string();
    match e {
        quiver::Error::Engine(engine) => engine_to_py(engine, message),
        quiver::Error::Shm(e) => crate::shm::to_py(e),
        quiver::Error::NotDelta { .. }
        | quiver::Error::NoDeltaTable { .. }
        | quiver::Error::InvalidStatement { .. }
        | quiver::Error::DeltaWrite { .. } => DeltaError::new_err(message),
        quiver::Error::BadLocation { .. }
        | quiver::Error::OutputFile { .. }
        | quiver::Error::PipeClosed => IoError::new_err(message),
        _ => Error::new_err(message),
    }
}

/// An engine error as a Python exception.
pub fn engine(e: EngineError) -> PyErr {
    let message = e.to_string();
    engine_to_py(e, message)
}

fn engine_to_py(e: EngineError, message: String) -> PyErr {
    match e {
        EngineError::Syntax { .. } => sql_error(message, e.syntax_position()),
        EngineError::TableNotFound { .. } => TableNotFoundError::new_err(message),
        EngineError::NotFound { .. }
        | EngineError::CorruptFile { .. }
        | EngineError::UnknownFormat { .. }
        | EngineError::Storage { .. }
        | EngineError::Output { .. } => IoError::new_err(message),
        EngineError::Delta { .. } => DeltaError::new_err(message),
        EngineError::InvalidArgument { .. } => SqlError::new_err(message),
        EngineError::Panic { .. } | EngineError::Internal(_) => InternalError::new_err(message),
        EngineError::DataFusion(df) => datafusion_to_py(&df, message),
        _ => Error::new_err(message),
    }
}

fn datafusion_to_py(e: &DataFusionError, message: String) -> PyErr {
    match e {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            datafusion_to_py(inner, message)
        }
        DataFusionError::Shared(inner) => datafusion_to_py(inner, message),
        DataFusionError::Collection(errors) => match errors.first() {
            Some(first) => datafusion_to_py(first, message),
            None => Error::new_err(message),
        },
        DataFusionError::SQL(..) => SqlError::new_err(message),
        DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_) => SqlError::new_err(message),
        DataFusionError::ArrowError(..)
        | DataFusionError::ParquetError(_)
        | DataFusionError::ObjectStore(_)
        | DataFusionError::IoError(_) => IoError::new_err(message),
        DataFusionError::Internal(_) => InternalError::new_err(message),
        _ => Error::new_err(message),
    }
}

/// A `SqlError` carrying the line and column of a syntax error.
fn sql_error(message: String, location: Option<(u64, u64)>) -> PyErr {
    let err = SqlError::new_err(message);
    if let Some((line, column)) = location {
        Python::attach(|py| {
            let value = err.value(py);
            // Setting attributes on a fresh exception instance cannot fail in practice; if it
            // did, the class-level None stays, which is still a truthful answer.
            let _ = value.setattr("line", line);
            let _ = value.setattr("column", column);
        });
    }
    err
}

/// Runs `f`, turning a panic inside it into `InternalError` (PyO3 would raise its own
/// `PanicException`, which is not a `quiver.Error`).
pub fn guard<T>(during: &str, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(panic_to_py(during, payload.as_ref())))
}

/// A panic payload (from a task or a call) as an `InternalError`.
pub fn panic_to_py(during: &str, payload: &(dyn std::any::Any + Send)) -> PyErr {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    };
    InternalError::new_err(format!(
        "internal error (a bug in Quiver, please report it): panic while {during}: {message}"
    ))
}
