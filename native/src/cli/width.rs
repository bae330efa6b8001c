//! The width of the terminal that tables are fitted to.

use std::io::IsTerminal;

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
    use super::width_from;

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
