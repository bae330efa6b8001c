//! `time_bucket`: DuckDB's tumbling-window bucket function.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, PrimitiveArray, PrimitiveBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Int64Type, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::calendar::{
    JANUARY_2000_MONTHS, MONDAY_2000_DAYS, Parts, Unit, add_interval, epoch_month, exec_error,
    month_start, out_of_range, plan_error,
};

const NAME: &str = "time_bucket";

/// `time_bucket(bucket_width, ts [, offset | origin])`: the start of the bucket that holds
/// `ts`, with DuckDB's semantics.
///
/// ```sql
/// SELECT time_bucket(INTERVAL '5 minutes', ts) AS b, count(*) FROM ticks GROUP BY b;
/// SELECT time_bucket(INTERVAL '1 day', ts, INTERVAL '6 hours');               -- days from 06:00
/// SELECT time_bucket(INTERVAL '1 week', ts, TIMESTAMP '2024-01-07 00:00:00'); -- Sunday weeks
/// ```
///
/// - Buckets are `[origin + k * width, origin + (k + 1) * width)`. The default origin is
///   2000-01-03 00:00:00, a Monday (so a `1 week` bucket starts on Mondays), for widths in
///   days, hours, minutes, seconds and smaller; it is 2000-01-01 for widths in months and
///   years, which bucket whole calendar months. A width mixing months with days or time is
///   an error, as in DuckDB.
/// - The offset form buckets `ts - offset` and adds the offset back; the origin form uses
///   the given origin (for month widths, the month the origin falls in).
/// - `ts` may be a `TIMESTAMP` of any unit, with or without a time zone, or a `DATE`; the
///   result has the type of `ts` (time zone included). Timestamps with a time zone are
///   bucketed on their UTC instants, as DuckDB's three forms without a time-zone argument do;
///   like DuckDB, such a width cannot mix days with a time part. A DATE is bucketed as the
///   timestamp at its midnight and the bucket's date returned. A bucket start that the unit
///   cannot represent (a 500 ms bucket of second timestamps) is rounded down.
/// - Any NULL argument gives NULL.
///
/// # Errors
/// A width that is not an INTERVAL, that is zero or negative, or that mixes months with
/// days; a timestamp argument that is not a TIMESTAMP or DATE; a result outside the range of
/// the timestamp type.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct TimeBucket {
    signature: Signature,
}

impl TimeBucket {
    pub(super) fn new() -> Self {
        TimeBucket {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The interval type every interval argument is cast to.
pub(super) const INTERVAL: DataType = DataType::Interval(IntervalUnit::MonthDayNano);

/// The type an interval argument is cast to, or `None` when it is not an interval.
pub(super) fn interval_arg(t: &DataType) -> Option<DataType> {
    matches!(t, DataType::Interval(_) | DataType::Null).then_some(INTERVAL)
}

impl ScalarUDFImpl for TimeBucket {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&args.len()) {
            return Err(plan_error(
                NAME,
                format!(
                    "takes (bucket_width INTERVAL, ts TIMESTAMP or DATE [, offset INTERVAL | origin TIMESTAMP]), got {} arguments",
                    args.len()
                ),
            ));
        }
        let width = interval_arg(&args[0]).ok_or_else(|| {
            plan_error(
                NAME,
                format!(
                    "the bucket width must be an INTERVAL such as INTERVAL '5 minutes', not {}",
                    args[0]
                ),
            )
        })?;
        let mut ts = match &args[1] {
            t @ (DataType::Timestamp(_, _) | DataType::Date32) => t.clone(),
            DataType::Date64 => DataType::Date32,
            DataType::Null => DataType::Timestamp(TimeUnit::Microsecond, None),
            other => {
                return Err(plan_error(
                    NAME,
                    format!("the second argument must be a TIMESTAMP or DATE, not {other}"),
                ));
            }
        };
        let mut out = vec![width];
        if let Some(third) = args.get(2) {
            let third = match third {
                DataType::Interval(_) | DataType::Null => INTERVAL,
                DataType::Timestamp(_, _) if ts == DataType::Date32 => {
                    // A DATE with a TIMESTAMP origin is bucketed as a timestamp (DuckDB).
                    ts = third.clone();
                    third.clone()
                }
                DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => ts.clone(),
                other => {
                    return Err(plan_error(
                        NAME,
                        format!(
                            "the third argument must be an INTERVAL offset or a TIMESTAMP origin, not {other} (the time-zone form is not supported)"
                        ),
                    ));
                }
            };
            out.push(ts.clone());
            out.push(third);
        } else {
            out.push(ts);
        }
        Ok(out)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[1].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let ts_type = args.args[1].data_type();
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let out = bucket_array(&arrays[0], &arrays[1], arrays.get(2), &args.args)?;
        debug_assert_eq!(out.data_type(), &ts_type);
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// A width, classified once: a fixed length in domain ticks, or whole months.
#[derive(Debug, Clone, Copy)]
enum Width {
    Ticks(i64),
    Months(i64),
}

struct ShowInterval(Parts);

impl fmt::Display for ShowInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Parts {
            months,
            days,
            nanos,
        } = self.0;
        let mut sep = "";
        if months != 0 {
            write!(f, "{months} months")?;
            sep = " ";
        }
        if days != 0 {
            write!(f, "{sep}{days} days")?;
            sep = " ";
        }
        if nanos != 0 || (months == 0 && days == 0) {
            if nanos % 1_000 == 0 {
                write!(f, "{sep}{} microseconds", nanos / 1_000)?;
            } else {
                write!(f, "{sep}{nanos} nanoseconds")?;
            }
        }
        Ok(())
    }
}

/// Classifies a bucket width as DuckDB does; `zoned` selects the rules of its
/// `TIMESTAMP WITH TIME ZONE` overloads, which refuse a width mixing days and time.
fn classify(p: Parts, unit: Unit, zoned: bool) -> Result<Width> {
    if p.months != 0 {
        if p.days != 0 || p.nanos != 0 {
            return Err(exec_error(
                NAME,
                format!(
                    "a bucket width in months or years cannot also have days or a time part, got {}",
                    ShowInterval(p)
                ),
            ));
        }
        if p.months < 0 {
            return Err(exec_error(
                NAME,
                format!(
                    "the bucket width must be greater than zero, got {}",
                    ShowInterval(p)
                ),
            ));
        }
        return Ok(Width::Months(i64::from(p.months)));
    }
    if zoned && p.days != 0 && p.nanos != 0 {
        return Err(exec_error(
            NAME,
            format!(
                "a bucket width for a TIMESTAMP WITH TIME ZONE cannot mix days with a time part, got {} (write it in hours)",
                ShowInterval(p)
            ),
        ));
    }
    let nanos = p.fixed_nanos().ok_or_else(|| {
        exec_error(
            NAME,
            format!("the bucket width {} is too large", ShowInterval(p)),
        )
    })?;
    if nanos <= 0 {
        return Err(exec_error(
            NAME,
            format!(
                "the bucket width must be greater than zero, got {}",
                ShowInterval(p)
            ),
        ));
    }
    if nanos % unit.tick_nanos() != 0 {
        return Err(exec_error(
            NAME,
            format!(
                "the bucket width {} is finer than the microsecond precision of the timestamps",
                ShowInterval(p)
            ),
        ));
    }
    Ok(Width::Ticks(nanos / unit.tick_nanos()))
}

/// Everything about a row but its timestamp: built once when the width and the third
/// argument are constants, which is the common case.
#[derive(Debug, Clone, Copy)]
struct Rule {
    width: Width,
    /// The origin reduced modulo the width: ticks for `Width::Ticks`, months for `Months`.
    origin: i64,
    offset: Option<Parts>,
    unit: Unit,
}

impl Rule {
    fn new(width: Width, origin: Option<i64>, offset: Option<Parts>, unit: Unit) -> Self {
        let per_day = unit.ticks_per_day();
        let origin = match width {
            Width::Ticks(w) => origin.unwrap_or(MONDAY_2000_DAYS * per_day) % w,
            Width::Months(m) => origin.map_or(JANUARY_2000_MONTHS, |o| epoch_month(o, per_day)) % m,
        };
        Rule {
            width,
            origin,
            offset,
            unit,
        }
    }

    #[inline]
    fn floor(&self, t: i64) -> Option<i64> {
        match self.width {
            Width::Ticks(w) => t
                .checked_sub(self.origin)?
                .div_euclid(w)
                .checked_mul(w)?
                .checked_add(self.origin),
            Width::Months(m) => {
                let per_day = self.unit.ticks_per_day();
                let months = epoch_month(t, per_day) - self.origin;
                month_start(months.div_euclid(m) * m + self.origin, per_day)
            }
        }
    }

    /// The bucket of one value in the stored unit.
    #[inline]
    fn apply(&self, v: i64) -> Result<i64> {
        let t = self.unit.to_ticks(v, NAME)?;
        let b = match self.offset {
            None => self.floor(t),
            Some(off) => add_interval(t, off.neg(), self.unit)
                .and_then(|s| self.floor(s))
                .and_then(|b| add_interval(b, off, self.unit)),
        };
        b.map(|b| self.unit.stored_from_ticks(b))
            .ok_or_else(|| out_of_range(NAME))
    }
}

/// The third argument, as the rule needs it.
enum Third<'a> {
    None,
    Offset(&'a PrimitiveArray<IntervalMonthDayNanoType>),
    Origin(Int64Array),
}

/// A temporal array's stored values as `i64`.
fn as_i64(a: &ArrayRef) -> Result<Int64Array> {
    Ok(cast(a, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

/// The kernel: one pass over the timestamps, the rule built once when it can be.
fn bucket_array(
    width: &ArrayRef,
    ts: &ArrayRef,
    third: Option<&ArrayRef>,
    args: &[ColumnarValue],
) -> Result<ArrayRef> {
    let ts_type = ts.data_type().clone();
    if ts_type == DataType::Null {
        return Ok(ts.clone());
    }
    let unit = Unit::of(&ts_type)
        .ok_or_else(|| exec_error(NAME, format!("cannot bucket values of type {ts_type}")))?;
    let zoned = matches!(ts_type, DataType::Timestamp(_, Some(_)));
    let widths = width.as_primitive::<IntervalMonthDayNanoType>();
    let third = match third {
        None => Third::None,
        Some(a) if matches!(a.data_type(), DataType::Interval(_)) => {
            Third::Offset(a.as_primitive::<IntervalMonthDayNanoType>())
        }
        Some(a) if a.data_type() == &DataType::Null => {
            return Ok(datafusion::arrow::array::new_null_array(&ts_type, ts.len()));
        }
        Some(a) => Third::Origin(as_i64(a)?),
    };
    let values = as_i64(ts)?;

    let constant = |i: usize| matches!(args.get(i), Some(ColumnarValue::Scalar(_)) | None);
    let out: Int64Array = if constant(0) && constant(2) {
        // One rule for the whole column.
        if widths.is_null(0) {
            return Ok(datafusion::arrow::array::new_null_array(&ts_type, ts.len()));
        }
        let (origin, offset) = match &third {
            Third::None => (None, None),
            Third::Offset(o) if o.is_null(0) => {
                return Ok(datafusion::arrow::array::new_null_array(&ts_type, ts.len()));
            }
            Third::Offset(o) => (None, Some(Parts::from(o.value(0)))),
            Third::Origin(o) if o.is_null(0) => {
                return Ok(datafusion::arrow::array::new_null_array(&ts_type, ts.len()));
            }
            Third::Origin(o) => (Some(unit.to_ticks(o.value(0), NAME)?), None),
        };
        let rule = Rule::new(
            classify(widths.value(0).into(), unit, zoned)?,
            origin,
            offset,
            unit,
        );
        values.try_unary(|v| rule.apply(v))?
    } else {
        let mut out = PrimitiveBuilder::<Int64Type>::with_capacity(values.len());
        for i in 0..values.len() {
            let (origin, offset, third_null) = match &third {
                Third::None => (None, None, false),
                Third::Offset(o) => (None, Some(Parts::from(o.value(i))), o.is_null(i)),
                Third::Origin(o) => (Some(o.value(i)), None, o.is_null(i)),
            };
            if values.is_null(i) || widths.is_null(i) || third_null {
                out.append_null();
                continue;
            }
            let origin = origin.map(|o| unit.to_ticks(o, NAME)).transpose()?;
            let rule = Rule::new(
                classify(widths.value(i).into(), unit, zoned)?,
                origin,
                offset,
                unit,
            );
            out.append_value(rule.apply(values.value(i))?);
        }
        out.finish()
    };

    if unit == Unit::Day {
        let days: PrimitiveArray<Date32Type> =
            out.try_unary(|d| i32::try_from(d).map_err(|_| out_of_range(NAME)))?;
        Ok(Arc::new(days))
    } else {
        Ok(cast(&out, &ts_type)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Date32Array, IntervalMonthDayNanoArray, TimestampSecondArray};
    use datafusion::arrow::datatypes::IntervalMonthDayNano;

    fn iv(months: i32, days: i32, nanos: i64) -> ArrayRef {
        Arc::new(IntervalMonthDayNanoArray::from(vec![
            IntervalMonthDayNano::new(months, days, nanos),
        ]))
    }

    fn scalar_args(n: usize) -> Vec<ColumnarValue> {
        // Only the Scalar/Array distinction matters to the kernel.
        let mut v = vec![ColumnarValue::Scalar(ScalarValue::Null)];
        v.push(ColumnarValue::Array(Arc::new(Int64Array::from(vec![0; n]))));
        v.push(ColumnarValue::Scalar(ScalarValue::Null));
        v
    }

    const MIN: i64 = 60_000_000_000;

    #[test]
    fn seconds_keep_their_unit_and_time_zone() {
        let ts: ArrayRef = Arc::new(
            TimestampSecondArray::from(vec![Some(1_709_633_000), None, Some(-1)])
                .with_timezone("+05:30"),
        );
        let out = bucket_array(&iv(0, 0, 5 * MIN), &ts, None, &scalar_args(3)).unwrap();
        assert_eq!(out.data_type(), ts.data_type());
        let out = out.as_primitive::<datafusion::arrow::datatypes::TimestampSecondType>();
        assert_eq!(out.value(0), 1_709_633_000 - 1_709_633_000 % 300);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), -300);
    }

    #[test]
    fn dates_bucket_to_dates_from_the_monday_origin() {
        // 2024-03-05 is a Tuesday: its week starts on Monday 2024-03-04.
        let d = super::super::calendar::days_from_civil(2024, 3, 5) as i32;
        let ts: ArrayRef = Arc::new(Date32Array::from(vec![d]));
        let out = bucket_array(&iv(0, 7, 0), &ts, None, &scalar_args(1)).unwrap();
        assert_eq!(out.as_primitive::<Date32Type>().value(0), d - 1);
        let out = bucket_array(&iv(1, 0, 0), &ts, None, &scalar_args(1)).unwrap();
        assert_eq!(out.as_primitive::<Date32Type>().value(0), d - 4);
    }

    #[test]
    fn bad_widths_name_the_function_and_the_problem() {
        let ts: ArrayRef = Arc::new(TimestampSecondArray::from(vec![0]));
        for (width, want) in [
            (iv(0, 0, 0), "greater than zero"),
            (iv(0, -1, 0), "greater than zero"),
            (iv(-1, 0, 0), "greater than zero"),
            (iv(1, 1, 0), "months or years cannot also have days"),
        ] {
            let e = bucket_array(&width, &ts, None, &scalar_args(1))
                .unwrap_err()
                .to_string();
            assert!(e.contains("time_bucket: ") && e.contains(want), "{e}");
        }
        let zoned: ArrayRef = Arc::new(TimestampSecondArray::from(vec![0]).with_timezone("UTC"));
        let e = bucket_array(&iv(0, 1, MIN), &zoned, None, &scalar_args(1)).unwrap_err();
        assert!(e.to_string().contains("cannot mix days"), "{e}");
    }
}
