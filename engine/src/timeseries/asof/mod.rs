//! ASOF joins: each left row with the right row of the same keys whose time is nearest on
//! one side of its own.
//!
//! ```sql
//! -- Snowflake's form (DataFusion 56's): every left row kept, NULLs where nothing matches.
//! SELECT t.sym, t.ts, q.bid FROM trades t
//! ASOF JOIN quotes q MATCH_CONDITION (t.ts >= q.ts) ON t.sym = q.sym;
//! -- DuckDB's form: ASOF JOIN keeps matched rows only, ASOF LEFT JOIN keeps every left row.
//! SELECT ... FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts;
//! SELECT ... FROM trades t ASOF LEFT JOIN quotes q USING (sym, ts);  -- last column: >=
//! ```
//!
//! The front end ([`crate::sql`]) reads both forms into sqlparser's `JoinOperator::AsOf`
//! (DuckDB's with a [marker](INNER_MARKER) for its semantics) and nests each join in a
//! relation of its own; [`plan`] plans that relation as an [`AsofJoin`](plan::AsofJoin)
//! node; [`exec`] runs it as a merge over both sides sorted by keys and time.
//!
//! The inequality picks the direction: `>=` / `>` the latest right row at or before the
//! left row's time, `<=` / `<` the earliest at or after it. Keys and times that are NULL
//! never match. Times may be timestamps, dates, integers or floats (floats in DuckDB's form
//! only: the `MATCH_CONDITION` form refuses them, as DataFusion's does); both sides of each
//! comparison are cast to their common type.

pub(crate) mod exec;
pub(crate) mod plan;

/// `MATCH_CONDITION (__quiver_asof_inner)`: DuckDB's `ASOF JOIN`, whose condition is in ON or
/// USING and which keeps only matched left rows.
pub(crate) const INNER_MARKER: &str = "__quiver_asof_inner";
/// `MATCH_CONDITION (__quiver_asof_left)`: DuckDB's `ASOF LEFT JOIN`.
pub(crate) const LEFT_MARKER: &str = "__quiver_asof_left";
