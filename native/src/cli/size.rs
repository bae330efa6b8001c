//! Sizes: bytes as people write them (`2GB`, `512MiB`, `1.5G`, `1000000`), and the width of
//! the terminal that tables are fitted to.

use std::io::IsTerminal;

/// Parses a byte size. Decimal (`KB`, `MB`, `GB`, `TB`) and binary (`KiB` ...) units are
/// both accepted; a bare `K`/`M`/`G`/`T` is binary, as in most tools.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{s}' is not a size; write it like 2GB or 512MiB"))?;
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
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{s}'; use KB, MB, GB, TB or KiB, MiB, GiB, TiB"
            ));
        }
    };
    let bytes = value * multiplier;
    if !(1.0..=(usize::MAX as f64)).contains(&bytes) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(bytes as usize)
}

/// The width to fit tables to, or `None` to print them whole.
///
/// Only a terminal gets a fitted table: a pipe or a file is read by a program (or kept), and
/// needs every character. The width is `COLUMNS` when that is set to a number, as DuckDB and
/// most command-line tools allow (it also lets tests fix the width), else the terminal's own.
pub fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let terminal = console::Term::stdout().size_checked().map(|(_, cols)| cols);
    width_from(std::env::var("COLUMNS").ok().as_deref(), terminal)
}

/// `COLUMNS` if it is a positive number, else the terminal's width if it reports one (a
/// pseudo-terminal that was never sized says 0).
fn width_from(columns: Option<&str>, terminal: Option<u16>) -> Option<usize> {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .or(terminal.map(usize::from))
        .filter(|&w| w > 0)
}

#[cfg(test)]
mod tests {
    use super::{parse_size, width_from};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5g"), Ok(1610612736));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2 parsecs").is_err());
    }

    #[test]
    fn columns_overrides_the_terminal_width() {
        assert_eq!(width_from(Some("100"), Some(80)), Some(100));
        assert_eq!(width_from(None, Some(80)), Some(80));
        // Not a number: the terminal decides.
        assert_eq!(width_from(Some("wide"), Some(80)), Some(80));
        assert_eq!(width_from(None, None), None);
        assert_eq!(width_from(None, Some(0)), None);
        assert_eq!(width_from(Some("0"), Some(80)), None);
    }
}
