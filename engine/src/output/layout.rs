//! Fitting a table to a width, as DuckDB's CLI does on a terminal.
//!
//! A table that fits is left alone. Otherwise the widest columns are shortened first, all to
//! one common limit, and their cells cut with `…`; when even that would leave columns too
//! narrow to read, columns are left out of the middle and a `…` column stands in their
//! place. The first and last columns stay, since they usually name a row and hold its
//! result, and the rest fill from the left.
//!
//! Widths are terminal columns, not bytes or chars: a CJK character takes two.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// What a cut cell ends with, and what stands in for hidden columns.
pub(super) const ELLIPSIS: &str = "…";

/// comfy-table's condensed UTF-8 preset draws `│ text │`: each column takes its text's width
/// plus a space each side and one border, and the table one more border on the left.
const PER_COLUMN: usize = 3;
const LEFT_EDGE: usize = 1;

/// Cells are shortened to no fewer than this many characters before columns are hidden: a
/// column cut to a handful of characters says less than the notice that columns were left
/// out. DuckDB's CLI uses the same limit.
const MIN_SHORTENED: usize = 20;

/// Which columns a fitted table shows, and how wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    /// The indices of the columns shown, in order.
    pub shown: Vec<usize>,
    /// The widest text allowed in each shown column (parallel to `shown`).
    pub widths: Vec<usize>,
    /// When columns are hidden, the position in `shown` before which the `…` column goes.
    pub gap: Option<usize>,
}

impl Layout {
    /// Lays out columns whose widest text is `natural[i]` in at most `max_width` terminal
    /// columns (borders included). A width too small for even one column still shows the
    /// first, cut to a single character if need be.
    pub fn fit(natural: &[usize], max_width: usize) -> Layout {
        let n = natural.len();
        let limit = largest_limit(natural, max_width.checked_sub(frame(n, false)));
        let readable = limit.is_some_and(|l| l >= MIN_SHORTENED || natural.iter().all(|&w| w <= l));
        // A single column has nothing beside it to hide, so it is only shortened.
        if readable || n <= 1 {
            let limit = limit.unwrap_or(0).max(1);
            return Layout {
                widths: natural.iter().map(|&w| w.min(limit)).collect(),
                shown: (0..n).collect(),
                gap: None,
            };
        }

        // Keep the first column (it usually names the row) and the last (a query's result
        // often comes last), then as many more from the left as fit beside the `…` column,
        // each shortened to the minimum: the order reads as it would unfitted.
        let cost = |i: usize| natural[i].min(MIN_SHORTENED) + PER_COLUMN;
        let mut used = frame(0, true);
        let mut left = Vec::new();
        let mut last = None;
        for i in std::iter::once(0)
            .chain((n > 1).then_some(n - 1))
            .chain(1..n - 1)
        {
            if used + cost(i) > max_width {
                break;
            }
            used += cost(i);
            if i == n - 1 && i > 0 {
                last = Some(i);
            } else {
                left.push(i);
            }
        }
        if left.is_empty() {
            left.push(0);
        }
        let gap = left.len();
        let shown: Vec<usize> = left.into_iter().chain(last).collect();

        // Give the shown columns back whatever room is left.
        let shown_natural: Vec<usize> = shown.iter().map(|&i| natural[i]).collect();
        let limit = largest_limit(
            &shown_natural,
            max_width.checked_sub(frame(shown.len(), true)),
        )
        .unwrap_or(0)
        .max(1);
        Layout {
            widths: shown_natural.iter().map(|&w| w.min(limit)).collect(),
            shown,
            gap: Some(gap),
        }
    }
}

/// The width of a table's borders and padding for `columns` columns, plus the `…` column.
fn frame(columns: usize, with_gap: bool) -> usize {
    let gap = if with_gap {
        ELLIPSIS.width() + PER_COLUMN
    } else {
        0
    };
    LEFT_EDGE + columns * PER_COLUMN + gap
}

/// The largest limit `l` such that columns of widths `min(w, l)` take at most `room`
/// characters in all; `None` when there is no room at all.
fn largest_limit(widths: &[usize], room: Option<usize>) -> Option<usize> {
    let room = room?;
    let total = |limit: usize| widths.iter().map(|&w| w.min(limit)).sum::<usize>();
    let (mut lo, mut hi) = (0, widths.iter().copied().max().unwrap_or(0));
    // total() grows with the limit, so search for the last limit that fits.
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if total(mid) <= room {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// The width of the widest line of `text`.
pub(super) fn text_width(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

/// `text` with each line cut to at most `width` terminal columns, a cut line ending in `…`.
pub(super) fn shorten(text: &str, width: usize) -> Cow<'_, str> {
    if text_width(text) <= width {
        return Cow::Borrowed(text);
    }
    let lines: Vec<String> = text.lines().map(|line| shorten_line(line, width)).collect();
    Cow::Owned(lines.join("\n"))
}

fn shorten_line(line: &str, width: usize) -> String {
    if line.width() <= width {
        return line.to_string();
    }
    let room = width.saturating_sub(ELLIPSIS.width());
    let mut out = String::new();
    let mut used = 0;
    for c in line.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push_str(ELLIPSIS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_width(natural: &[usize], layout: &Layout) -> usize {
        assert_eq!(layout.shown.len(), layout.widths.len());
        for (&i, &w) in layout.shown.iter().zip(&layout.widths) {
            assert!(w <= natural[i], "column {i} widened");
        }
        layout.widths.iter().sum::<usize>() + frame(layout.shown.len(), layout.gap.is_some())
    }

    #[test]
    fn a_table_that_fits_is_unchanged() {
        let natural = [5, 30, 12];
        let layout = Layout::fit(&natural, 80);
        assert_eq!(layout.shown, vec![0, 1, 2]);
        assert_eq!(layout.widths, natural.to_vec());
        assert_eq!(layout.gap, None);
        // Exactly as wide as allowed still fits: 47 + 3 * 3 + 1.
        assert_eq!(Layout::fit(&natural, 57).widths, natural.to_vec());
    }

    #[test]
    fn the_widest_column_is_shortened_first() {
        let natural = [7, 900, 12];
        let layout = Layout::fit(&natural, 80);
        assert_eq!(layout.shown, vec![0, 1, 2]);
        assert_eq!(layout.widths, vec![7, 80 - 10 - 7 - 12, 12]);
        assert_eq!(table_width(&natural, &layout), 80);
    }

    #[test]
    fn middle_columns_are_hidden_when_shortening_is_not_enough() {
        let natural = vec![10; 40];
        let layout = Layout::fit(&natural, 80);
        let shown = layout.shown.len();
        assert!(shown > 2 && shown < 40, "{layout:?}");
        assert_eq!(layout.shown.first(), Some(&0));
        assert_eq!(layout.shown.last(), Some(&39));
        let gap = layout.gap.expect("columns are hidden");
        // The first columns in order, then the gap, then the last: 0, 1, ... , 39.
        assert_eq!(layout.shown[..gap], (0..gap).collect::<Vec<_>>()[..]);
        assert_eq!(gap, shown - 1);
        assert!(table_width(&natural, &layout) <= 80);
        // One more column would not have fitted.
        assert!(table_width(&natural, &layout) + 10 + PER_COLUMN > 80);
    }

    #[test]
    fn shown_columns_get_the_room_left_over() {
        // Two wide columns at the ends and many narrow ones: the ends keep more than the
        // minimum once the middle is hidden.
        let mut natural = vec![8; 30];
        natural[0] = 60;
        natural[29] = 60;
        let layout = Layout::fit(&natural, 100);
        assert!(layout.gap.is_some());
        assert!(layout.widths[0] > MIN_SHORTENED, "{layout:?}");
        assert!(table_width(&natural, &layout) <= 100);
    }

    #[test]
    fn a_tiny_width_still_shows_the_first_column() {
        let layout = Layout::fit(&[50, 50, 50], 6);
        assert_eq!(layout.shown, vec![0]);
        assert_eq!(layout.gap, Some(1));
        assert_eq!(layout.widths, vec![1]);
        // A lone column is cut to fit, however narrow, and never stands beside a `…`.
        let layout = Layout::fit(&[50], 12);
        assert_eq!(
            (layout.shown, layout.widths, layout.gap),
            (vec![0], vec![8], None)
        );
        assert_eq!(Layout::fit(&[50], 2).widths, vec![1]);
        assert!(Layout::fit(&[], 0).shown.is_empty());
    }

    #[test]
    fn the_last_column_stays_and_the_rest_fill_from_the_left() {
        // DESCRIBE HISTORY's shape at 80: version, timestamp and operation are worth more
        // than the second-to-last column.
        let natural = [7, 24, 22, 400, 13, 300, 14];
        let layout = Layout::fit(&natural, 80);
        assert_eq!(layout.shown, vec![0, 1, 2, 6]);
        assert_eq!(layout.gap, Some(3));
        assert!(table_width(&natural, &layout) <= 80);
    }

    #[test]
    fn cells_are_cut_by_display_width() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
        // Each of these takes two columns: four fit beside the ellipsis in nine.
        assert_eq!(shorten("日本語のテキスト", 9), "日本語の…");
        assert_eq!(text_width(&shorten("日本語のテキスト", 9)), 9);
        // Every line of a multi-line cell is cut on its own.
        assert_eq!(shorten("a long line\nok", 6), "a lon…\nok");
        assert_eq!(shorten("xyz", 1), "…");
    }
}
