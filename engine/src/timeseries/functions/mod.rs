//! `time_bucket`, `time_windows` and `session_id`.
//!
//! - [`time_bucket`](time_bucket::TimeBucket): DuckDB's tumbling buckets, its origins and its
//!   offset and origin forms (DataFusion's own `date_bin` stays, with its 1970 origin).
//! - [`time_windows`](time_windows::TimeWindows): the hopping windows holding a timestamp,
//!   as a list to `unnest`.
//! - [`session_id`](session_id::SessionId): a window function numbering sessions separated
//!   by more than a timeout.
//!
//! Rolling windows by time need no function here: they are DataFusion's
//! `RANGE BETWEEN INTERVAL '...' PRECEDING AND CURRENT ROW` frames (`tests/slt/range_frames.slt`).

use datafusion::logical_expr::{ScalarUDF, WindowUDF};
use datafusion::prelude::SessionContext;

mod calendar;
mod session_id;
mod time_bucket;
mod time_windows;

/// Registers the functions of this module.
pub(crate) fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(time_bucket::TimeBucket::new()));
    ctx.register_udf(ScalarUDF::new_from_impl(time_windows::TimeWindows::new()));
    ctx.register_udwf(WindowUDF::new_from_impl(session_id::SessionId::new()));
}
