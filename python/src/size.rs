//! Sizes as `connect(memory_limit=...)` takes them: bytes, or text such as `"4GB"`.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A byte count: an int, or a string such as `"4GB"`, `"512MiB"`, `"1.5 GB"`, read with the
/// CLI's `--memory-limit` rules (a copy of them: see NEEDS.md).
pub fn parse_size(value: &Bound<'_, PyAny>) -> PyResult<usize> {
    if let Ok(n) = value.extract::<usize>() {
        return Ok(n);
    }
    let Ok(text) = value.extract::<String>() else {
        return Err(PyTypeError::new_err(
            "memory_limit must be a number of bytes or a string such as '4GB'",
        ));
    };
    size_from_text(&text).ok_or_else(|| {
        PyValueError::new_err(format!(
            "memory_limit: cannot read '{text}' as a size; write bytes or a size such as '4GB' or '512MiB'"
        ))
    })
}

fn size_from_text(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().ok()?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0f64.powi(4),
        _ => return None,
    };
    let bytes = number * multiplier;
    (1.0..=(usize::MAX as f64))
        .contains(&bytes)
        .then_some(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::size_from_text;

    #[test]
    fn sizes_read_as_the_cli_reads_them() {
        assert_eq!(size_from_text("4GB"), Some(4_000_000_000));
        assert_eq!(size_from_text("512MiB"), Some(512 * 1024 * 1024));
        assert_eq!(size_from_text("1.5 gb"), Some(1_500_000_000));
        assert_eq!(size_from_text("lots"), None);
        assert_eq!(size_from_text("0"), None);
    }
}
