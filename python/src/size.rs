//! Sizes as `connect(memory_limit=...)` and `shm.Writer.create(size=...)` take them: bytes,
//! or text such as `"4GB"`.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A byte count: an int, or a string such as `"4GB"`, `"512MiB"`, `"1.5 GB"`, read with the
/// CLI's `--memory-limit` rules ([`quiver::host::parse_size`]).
/// `what` names the argument in errors.
pub fn parse_size(value: &Bound<'_, PyAny>, what: &str) -> PyResult<usize> {
    if let Ok(n) = value.extract::<usize>() {
        return Ok(n);
    }
    let Ok(text) = value.extract::<String>() else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a number of bytes or a string such as '4GB'"
        )));
    };
    quiver::host::parse_size(&text).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}
