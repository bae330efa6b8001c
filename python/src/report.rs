//! `quiver.Report`: what `Connection.verify` found.

use pyo3::prelude::*;

/// What `Connection.verify` found.
#[pyclass(module = "quiver", frozen, get_all)]
pub struct Report {
    /// True when every check passed.
    pub(crate) passed: bool,
    /// Each check: whether it passed and what it says.
    pub(crate) checks: Vec<(bool, String)>,
    /// The report as `quiver delta verify` prints it.
    pub(crate) text: String,
}

#[pymethods]
impl Report {
    fn __bool__(&self) -> bool {
        self.passed
    }

    fn __str__(&self) -> String {
        self.text.clone()
    }

    fn __repr__(&self) -> String {
        let failed = self.checks.iter().filter(|(ok, _)| !ok).count();
        format!(
            "<quiver.Report passed={} checks={} failed={}>",
            if self.passed { "True" } else { "False" },
            self.checks.len(),
            failed
        )
    }
}
