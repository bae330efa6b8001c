//! `time_windows`: the hopping windows that contain a timestamp.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, Int64Type, IntervalMonthDayNanoType, TimeUnit,
};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::calendar::{MONDAY_2000_DAYS, Parts, Unit, exec_error, out_of_range, plan_error};
use super::time_bucket::interval_arg;

const NAME: &str = "time_windows";

/// At most this many windows per row, so a typo (`INTERVAL '1 day'` hopping by
/// `INTERVAL '1 second'`) is an error rather than 86,400 rows for every input row.
const MAX_WINDOWS_PER_ROW: i64 = 10_000;

/// `time_windows(size, hop, ts)`: the start of every hopping window `[w, w + size)` that
/// contains `ts`, earliest first, as a list to `unnest`.
///
/// ```sql
/// SELECT w, count(*)
/// FROM (SELECT unnest(time_windows(INTERVAL '10 minutes', INTERVAL '5 minutes', ts)) AS w FROM ev)
/// GROUP BY w;
/// ```
///
/// - Windows start at `origin + k * hop`, where the origin is `time_bucket`'s default,
///   2000-01-03 00:00:00 (a Monday), so `time_windows(x, x, ts)` is `[time_bucket(x, ts)]`
///   and windows of a day or a week start at midnight and on Mondays.
/// - `size` need not be a multiple of `hop`: then a row lies in `floor(size / hop)` or
///   `ceil(size / hop)` windows depending on where it falls, and when `size < hop` some rows
///   lie in none (an empty list, which `unnest` drops). Both are fixed lengths: days count
///   24 hours and timestamps with a time zone are windowed on their UTC instants.
/// - `ts` is a `TIMESTAMP` of any unit, with or without a time zone (kept in the result), or
///   a `DATE` (windowed as a `TIMESTAMP` at midnight). A NULL argument gives a NULL list.
///
/// # Errors
/// A size or hop that is not an INTERVAL, is zero or negative, or is given in months or
/// years; more than 10,000 windows per row.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct TimeWindows {
    signature: Signature,
}

impl TimeWindows {
    pub(super) fn new() -> Self {
        TimeWindows {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for TimeWindows {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() != 3 {
            return Err(plan_error(
                NAME,
                format!(
                    "takes (size INTERVAL, hop INTERVAL, ts TIMESTAMP), got {} arguments",
                    args.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(3);
        for (t, what) in args[..2].iter().zip(["size", "hop"]) {
            out.push(interval_arg(t).ok_or_else(|| {
                plan_error(NAME, format!(
                    "the window {what} must be an INTERVAL such as INTERVAL '5 minutes', not {t}"
                ))
            })?);
        }
        out.push(match &args[2] {
            t @ DataType::Timestamp(_, _) => t.clone(),
            DataType::Date32 | DataType::Date64 | DataType::Null => {
                DataType::Timestamp(TimeUnit::Microsecond, None)
            }
            other => {
                return Err(plan_error(
                    NAME,
                    format!("the third argument must be a TIMESTAMP or DATE, not {other}"),
                ));
            }
        });
        Ok(out)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new(
            "item",
            args[2].clone(),
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let out = windows_array(&arrays[0], &arrays[1], &arrays[2])?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// A positive fixed length in domain ticks.
fn fixed_length(p: Parts, what: &str, unit: Unit) -> Result<i64> {
    if p.months != 0 {
        return Err(exec_error(
            NAME,
            format!(
                "the window {what} must be a fixed length (days, hours, minutes, seconds), not months or years"
            ),
        ));
    }
    let nanos = p
        .fixed_nanos()
        .ok_or_else(|| exec_error(NAME, format!("the window {what} is too large")))?;
    if nanos <= 0 {
        return Err(exec_error(
            NAME,
            format!("the window {what} must be greater than zero"),
        ));
    }
    if nanos % unit.tick_nanos() != 0 {
        return Err(exec_error(
            NAME,
            format!("the window {what} is finer than the microsecond precision of the timestamps"),
        ));
    }
    Ok(nanos / unit.tick_nanos())
}

/// Size and hop of one row, checked.
#[derive(Debug, Clone, Copy)]
struct Hopping {
    size: i64,
    hop: i64,
    /// The origin modulo `hop`.
    origin: i64,
}

impl Hopping {
    fn new(size: Parts, hop: Parts, unit: Unit) -> Result<Self> {
        let size = fixed_length(size, "size", unit)?;
        let hop = fixed_length(hop, "hop", unit)?;
        let most = size / hop + 1;
        if most > MAX_WINDOWS_PER_ROW {
            return Err(exec_error(
                NAME,
                format!(
                    "a size of up to {most} times the hop puts each row in up to {most} windows; at most {MAX_WINDOWS_PER_ROW} are allowed"
                ),
            ));
        }
        Ok(Hopping {
            size,
            hop,
            origin: (MONDAY_2000_DAYS * unit.ticks_per_day()) % hop,
        })
    }

    /// Appends the starts (in ticks) of the windows holding `t`, earliest first.
    #[inline]
    fn push_starts(&self, t: i64, out: &mut Vec<i64>) -> Option<()> {
        // The latest start at or before t, then back by hops while the window reaches t.
        let last = t
            .checked_sub(self.origin)?
            .div_euclid(self.hop)
            .checked_mul(self.hop)?
            .checked_add(self.origin)?;
        let reach = t.checked_sub(self.size)?;
        // Starts w with reach < w <= last.
        let count = (last - reach - 1).div_euclid(self.hop) + 1;
        let first = last - (count - 1).max(0) * self.hop;
        for k in 0..count.max(0) {
            out.push(first + k * self.hop);
        }
        Some(())
    }
}

fn windows_array(size: &ArrayRef, hop: &ArrayRef, ts: &ArrayRef) -> Result<ArrayRef> {
    let ts_type = match ts.data_type() {
        DataType::Null => DataType::Timestamp(TimeUnit::Microsecond, None),
        t => t.clone(),
    };
    let unit = Unit::of(&ts_type)
        .ok_or_else(|| exec_error(NAME, format!("cannot window values of type {ts_type}")))?;
    let field = Arc::new(Field::new("item", ts_type.clone(), true));
    let sizes = size.as_primitive::<IntervalMonthDayNanoType>();
    let hops = hop.as_primitive::<IntervalMonthDayNanoType>();
    let values = cast(ts, &DataType::Int64)?;
    let values = values.as_primitive::<Int64Type>();

    let n = values.len();
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0i32);
    let mut starts: Vec<i64> = Vec::with_capacity(n);
    let mut valid = Vec::with_capacity(n);
    // Size and hop are nearly always constants: check them once per distinct pair.
    let mut last: Option<(Parts, Parts, Hopping)> = None;
    for i in 0..n {
        if values.is_null(i) || sizes.is_null(i) || hops.is_null(i) {
            valid.push(false);
            offsets.push(offsets[i]);
            continue;
        }
        let (s, h) = (Parts::from(sizes.value(i)), Parts::from(hops.value(i)));
        let rule = match last {
            Some((ls, lh, rule)) if ls == s && lh == h => rule,
            _ => {
                let rule = Hopping::new(s, h, unit)?;
                last = Some((s, h, rule));
                rule
            }
        };
        let t = unit.to_ticks(values.value(i), NAME)?;
        let before = starts.len();
        rule.push_starts(t, &mut starts)
            .ok_or_else(|| out_of_range(NAME))?;
        for w in &mut starts[before..] {
            *w = unit.stored_from_ticks(*w);
        }
        valid.push(true);
        let end = i32::try_from(starts.len())
            .map_err(|_| exec_error(NAME, "more than 2^31 windows in one batch"))?;
        offsets.push(end);
    }
    let starts = cast(&Int64Array::from(starts), &ts_type)?;
    let list = ListArray::try_new(
        field,
        OffsetBuffer::new(offsets.into()),
        starts,
        Some(NullBuffer::from(valid)),
    )?;
    Ok(Arc::new(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    fn starts(size: i64, hop: i64, t: i64) -> Vec<i64> {
        let rule = Hopping {
            size,
            hop,
            origin: (MONDAY_2000_DAYS * Unit::Microsecond.ticks_per_day()) % hop,
        };
        let mut out = Vec::new();
        rule.push_starts(t, &mut out).unwrap();
        out
    }

    #[test]
    fn each_row_lies_in_size_over_hop_windows() {
        let t = 7 * MIN + 3;
        assert_eq!(starts(10 * MIN, 5 * MIN, t), [0, 5 * MIN]);
        assert_eq!(starts(5 * MIN, 5 * MIN, t), [5 * MIN]);
        // On a boundary: the window starting there holds it, the one ending there does not.
        assert_eq!(starts(10 * MIN, 5 * MIN, 10 * MIN), [5 * MIN, 10 * MIN]);
        // Size not a multiple of the hop, and size below the hop (gaps).
        assert_eq!(starts(7 * MIN, 5 * MIN, 6 * MIN), [0, 5 * MIN]);
        assert_eq!(starts(7 * MIN, 5 * MIN, 8 * MIN), [5 * MIN]);
        assert_eq!(starts(2 * MIN, 5 * MIN, 8 * MIN), Vec::<i64>::new());
        // Before the epoch.
        assert_eq!(starts(10 * MIN, 5 * MIN, -1), [-10 * MIN, -5 * MIN]);
    }

    #[test]
    fn bad_sizes_and_hops_are_errors() {
        let p = |months, nanos| Parts {
            months,
            days: 0,
            nanos,
        };
        let e = |r: Result<Hopping>| r.unwrap_err().to_string();
        let unit = Unit::Microsecond;
        assert!(
            e(Hopping::new(p(0, 0), p(0, 1000), unit)).contains("size must be greater than zero")
        );
        assert!(
            e(Hopping::new(p(0, 1000), p(0, -1000), unit))
                .contains("hop must be greater than zero")
        );
        assert!(e(Hopping::new(p(1, 0), p(0, 1000), unit)).contains("fixed length"));
        assert!(
            e(Hopping::new(
                p(0, 86_400_000_000_000),
                p(0, 1_000_000_000),
                unit
            ))
            .contains("at most 10000")
        );
    }
}
