//! `session_id`: session windows as a window function.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, Int64Builder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{PartitionEvaluator, Signature, Volatility, WindowUDFImpl};
use datafusion::physical_expr::expressions::Literal;

use super::calendar::{NANOS_PER_DAY, Parts, Unit, plan_error};
use super::time_bucket::interval_arg;

const NAME: &str = "session_id";

/// `session_id(ts, timeout) OVER (PARTITION BY ... ORDER BY ts)`: numbers the sessions of a
/// partition 1, 2, 3, ..., starting a new one when the gap to the previous row's `ts` is
/// longer than `timeout` (strictly: a gap equal to the timeout stays in the session).
///
/// ```sql
/// SELECT user_id, s, min(ts), max(ts), count(*)
/// FROM (SELECT *, session_id(ts, INTERVAL '30 minutes')
///                 OVER (PARTITION BY user_id ORDER BY ts) AS s FROM events)
/// GROUP BY user_id, s;
/// ```
///
/// - Rows are taken in the window's order, so order by `ts`; the function does not sort. A
///   gap is the absolute difference, so `ORDER BY ts DESC` numbers sessions from the latest.
/// - A row whose `ts` is NULL gets a NULL session and is skipped: the next row's gap is
///   measured from the last non-NULL `ts`. (With the default `ORDER BY ts`, NULLs sort last.)
/// - `ts` is a `TIMESTAMP` of any unit (with or without a time zone) or a `DATE`; `timeout`
///   is a constant, non-negative INTERVAL without months (days count 24 hours). The
///   result is a BIGINT.
///
/// # Errors
/// A timeout that is not a constant INTERVAL, is negative or has months; a `ts` that is not a
/// TIMESTAMP or DATE.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct SessionId {
    signature: Signature,
}

impl SessionId {
    pub(super) fn new() -> Self {
        SessionId {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl WindowUDFImpl for SessionId {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() != 2 {
            return Err(plan_error(
                NAME,
                format!(
                    "takes (ts TIMESTAMP, timeout INTERVAL), got {} arguments",
                    args.len()
                ),
            ));
        }
        let ts = match &args[0] {
            t @ (DataType::Timestamp(_, _) | DataType::Date32) => t.clone(),
            DataType::Date64 => DataType::Date32,
            DataType::Null => DataType::Timestamp(TimeUnit::Microsecond, None),
            other => {
                return Err(plan_error(
                    NAME,
                    format!("the first argument must be a TIMESTAMP or DATE, not {other}"),
                ));
            }
        };
        let timeout = interval_arg(&args[1]).ok_or_else(|| {
            plan_error(
                NAME,
                format!(
                    "the timeout must be an INTERVAL such as INTERVAL '30 minutes', not {}",
                    args[1]
                ),
            )
        })?;
        Ok(vec![ts, timeout])
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let [ts, timeout] = args.input_exprs() else {
            return Err(plan_error(NAME, "takes (ts TIMESTAMP, timeout INTERVAL)"));
        };
        let unit = args
            .input_fields()
            .first()
            .and_then(|f| Unit::of(f.data_type()));
        let timeout = timeout
            .downcast_ref::<Literal>()
            .map(Literal::value)
            .ok_or_else(|| plan_error(NAME, "the timeout must be a constant INTERVAL"))?;
        let timeout_nanos = match timeout {
            ScalarValue::IntervalMonthDayNano(Some(v)) => {
                let v = *v;
                let p = Parts::from(v);
                if p.months != 0 {
                    return Err(plan_error(
                        NAME,
                        "the timeout must be a fixed length (days, hours, minutes, seconds), not months or years",
                    ));
                }
                let nanos = i128::from(p.days) * i128::from(NANOS_PER_DAY) + i128::from(p.nanos);
                if nanos < 0 {
                    return Err(plan_error(NAME, "the timeout must not be negative"));
                }
                Some(nanos)
            }
            v if v.is_null() => None,
            other => {
                return Err(plan_error(
                    NAME,
                    format!("the timeout must be an INTERVAL, not {}", other.data_type()),
                ));
            }
        };
        let _ = ts;
        Ok(Box::new(Sessions {
            timeout_nanos,
            unit,
        }))
    }

    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(args.name(), DataType::Int64, true)))
    }
}

#[derive(Debug)]
struct Sessions {
    /// `None` for a NULL timeout, which makes every session NULL.
    timeout_nanos: Option<i128>,
    unit: Option<Unit>,
}

/// Nanoseconds per stored value of a column.
fn value_nanos(unit: Unit) -> i128 {
    match unit {
        Unit::Second => 1_000_000_000,
        Unit::Millisecond => 1_000_000,
        Unit::Microsecond => 1_000,
        Unit::Nanosecond => 1,
        Unit::Day => i128::from(NANOS_PER_DAY),
    }
}

impl PartitionEvaluator for Sessions {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let (Some(timeout), Some(unit), Some(ts)) = (self.timeout_nanos, self.unit, values.first())
        else {
            return Ok(Arc::new(Int64Array::new_null(num_rows)));
        };
        let ts = cast(ts, &DataType::Int64)?;
        Ok(Arc::new(number_sessions(
            ts.as_primitive::<Int64Type>(),
            timeout,
            value_nanos(unit),
        )))
    }
}

/// One pass: session numbers for rows in order, gaps measured in nanoseconds as `i128` so
/// no unit or timeout can overflow.
fn number_sessions(ts: &Int64Array, timeout_nanos: i128, value_nanos: i128) -> Int64Array {
    let mut out = Int64Builder::with_capacity(ts.len());
    let mut session = 0i64;
    let mut previous: Option<i64> = None;
    for v in ts.iter() {
        let Some(v) = v else {
            out.append_null();
            continue;
        };
        let gap_too_long = previous
            .is_none_or(|p| (i128::from(v) - i128::from(p)).abs() * value_nanos > timeout_nanos);
        if gap_too_long {
            session += 1;
        }
        previous = Some(v);
        out.append_value(session);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_longer_than_the_timeout_starts_a_session() {
        let ts = Int64Array::from(vec![
            Some(0),
            Some(10),
            Some(20),
            Some(31),
            None,
            Some(41),
            Some(100),
        ]);
        let out = number_sessions(&ts, 10, 1);
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            [Some(1), Some(1), Some(1), Some(2), None, Some(2), Some(3)]
        );
    }

    #[test]
    fn gaps_in_seconds_against_a_timeout_in_nanoseconds() {
        let ts = Int64Array::from(vec![0, 1, 3]);
        let out = number_sessions(&ts, 1_500_000_000, 1_000_000_000);
        assert_eq!(out.values().to_vec(), [1, 1, 2]);
    }
}
