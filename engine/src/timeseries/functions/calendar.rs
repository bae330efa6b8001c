//! Integer calendar arithmetic shared by the time-series functions: the ticks a timestamp is
//! counted in, proleptic Gregorian dates, and adding an interval the way DuckDB does
//! (months first, clamped to the end of the month, then days, then the time part).
//!
//! All of it is plain `i64` arithmetic on the values Arrow stores, so the kernels make one
//! pass over a column and allocate nothing per row.

use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use datafusion::error::{DataFusionError, Result};

pub(super) const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// 2000-01-03 (a Monday), DuckDB's and TimescaleDB's origin for buckets of days and shorter,
/// in days since 1970-01-01.
pub(super) const MONDAY_2000_DAYS: i64 = 10_959;

/// 2000-01-01, DuckDB's origin for buckets of months and years, in months since 1970-01.
pub(super) const JANUARY_2000_MONTHS: i64 = 360;

/// How a column's values count time: the stored unit, and the finer "domain" the arithmetic
/// runs in (nanoseconds for nanosecond columns, microseconds for everything else, as in
/// DuckDB whose intervals and timestamps are microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
    /// `Date32`: days since the epoch, bucketed as the timestamp at midnight.
    Day,
}

impl Unit {
    pub(super) fn of(data_type: &DataType) -> Option<Self> {
        Some(match data_type {
            DataType::Timestamp(TimeUnit::Second, _) => Unit::Second,
            DataType::Timestamp(TimeUnit::Millisecond, _) => Unit::Millisecond,
            DataType::Timestamp(TimeUnit::Microsecond, _) => Unit::Microsecond,
            DataType::Timestamp(TimeUnit::Nanosecond, _) => Unit::Nanosecond,
            DataType::Date32 => Unit::Day,
            _ => return None,
        })
    }

    /// Domain ticks per stored value.
    fn scale(self) -> i64 {
        match self {
            Unit::Second => 1_000_000,
            Unit::Millisecond => 1_000,
            Unit::Microsecond | Unit::Nanosecond => 1,
            Unit::Day => 86_400_000_000,
        }
    }

    /// Nanoseconds per domain tick.
    pub(super) fn tick_nanos(self) -> i64 {
        match self {
            Unit::Nanosecond => 1,
            _ => 1_000,
        }
    }

    pub(super) fn ticks_per_day(self) -> i64 {
        NANOS_PER_DAY / self.tick_nanos()
    }

    /// A stored value in domain ticks.
    #[inline]
    pub(super) fn to_ticks(self, v: i64, function: &str) -> Result<i64> {
        v.checked_mul(self.scale())
            .ok_or_else(|| out_of_range(function))
    }

    /// Domain ticks back to the stored unit, rounding down (a bucket that starts between two
    /// representable values is labelled with the earlier one).
    #[inline]
    pub(super) fn stored_from_ticks(self, t: i64) -> i64 {
        t.div_euclid(self.scale())
    }
}

/// A planning error naming the function: `time_bucket: the bucket width must be ...`.
pub(super) fn plan_error(function: &str, reason: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Plan(format!("{function}: {reason}"))
}

/// An execution error naming the function.
pub(super) fn exec_error(function: &str, reason: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{function}: {reason}"))
}

pub(super) fn out_of_range(function: &str) -> DataFusionError {
    DataFusionError::Execution(format!(
        "{function}: the result is outside the range of the timestamp type"
    ))
}

/// An interval as (months, days, nanoseconds), the parts SQL intervals keep apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Parts {
    pub months: i32,
    pub days: i32,
    pub nanos: i64,
}

impl From<IntervalMonthDayNano> for Parts {
    fn from(v: IntervalMonthDayNano) -> Self {
        Parts {
            months: v.months,
            days: v.days,
            nanos: v.nanoseconds,
        }
    }
}

impl Parts {
    pub(super) fn neg(self) -> Self {
        Parts {
            months: -self.months,
            days: -self.days,
            nanos: -self.nanos,
        }
    }

    /// Total length when days count 24 hours, in nanoseconds (`None` on overflow).
    pub(super) fn fixed_nanos(self) -> Option<i64> {
        i64::from(self.days)
            .checked_mul(NANOS_PER_DAY)?
            .checked_add(self.nanos)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(super) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a count of days since 1970-01-01.
pub(super) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Months since 1970-01 of the calendar month a tick count falls in.
#[inline]
pub(super) fn epoch_month(ticks: i64, per_day: i64) -> i64 {
    let (y, m, _) = civil_from_days(ticks.div_euclid(per_day));
    (y - 1970) * 12 + (m - 1)
}

/// The first instant of a month counted from 1970-01, in ticks.
#[inline]
pub(super) fn month_start(month: i64, per_day: i64) -> Option<i64> {
    days_from_civil(1970 + month.div_euclid(12), month.rem_euclid(12) + 1, 1).checked_mul(per_day)
}

/// `ticks + interval` as DuckDB's `Interval::Add` does it: months first (the day clamped to
/// the end of the target month), then days, then the time part.
pub(super) fn add_interval(ticks: i64, iv: Parts, unit: Unit) -> Option<i64> {
    let per_day = unit.ticks_per_day();
    let mut t = ticks;
    if iv.months != 0 {
        let day = t.div_euclid(per_day);
        let time = t.rem_euclid(per_day);
        let (y, m, d) = civil_from_days(day);
        let month = y.checked_mul(12)? + (m - 1) + i64::from(iv.months);
        let (ny, nm) = (month.div_euclid(12), month.rem_euclid(12) + 1);
        let nd = d.min(days_in_month(ny, nm));
        t = days_from_civil(ny, nm, nd)
            .checked_mul(per_day)?
            .checked_add(time)?;
    }
    t.checked_add(i64::from(iv.days).checked_mul(per_day)?)?
        .checked_add(iv.nanos / unit.tick_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for z in [
            -1_000_000, -719_468, -1, 0, 1, 10_957, 10_959, 19_787, 2_932_896,
        ] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{z}");
        }
        assert_eq!(civil_from_days(MONDAY_2000_DAYS), (2000, 1, 3));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(month_start(JANUARY_2000_MONTHS, 1), Some(10_957));
    }

    #[test]
    fn adding_months_clamps_to_the_end_of_the_month() {
        let day = Unit::Microsecond.ticks_per_day();
        let mar31 = days_from_civil(2024, 3, 31) * day + 3;
        let back = add_interval(
            mar31,
            Parts {
                months: -1,
                days: 0,
                nanos: 0,
            },
            Unit::Microsecond,
        );
        assert_eq!(back, Some(days_from_civil(2024, 2, 29) * day + 3));
    }
}
