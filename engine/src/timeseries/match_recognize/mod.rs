//! MATCH_RECOGNIZE (SQL:2016 row pattern recognition), the subset Quiver plans:
//!
//! ```sql
//! SELECT * FROM quotes MATCH_RECOGNIZE (
//!   PARTITION BY sym ORDER BY ts
//!   MEASURES FIRST(a.ts) AS t1, LAST(c.ts) AS t3, count(*) AS n
//!   ONE ROW PER MATCH  AFTER MATCH SKIP PAST LAST ROW
//!   PATTERN (a x*? b y*? c)
//!   DEFINE a AS size > 1000, b AS size < 10 AND ts <= a.ts + INTERVAL '10 seconds',
//!          c AS size > 1000)
//! ```
//!
//! - PATTERN: concatenation, alternation `|`, grouping, `^` and `$`, and the quantifiers
//!   `* + ? {n} {n,} {,m} {n,m}`, greedy or reluctant (`*?`). A variable without a DEFINE
//!   matches any row.
//! - DEFINE: conditions over the current row, `PREV`/`NEXT`, `FIRST`/`LAST` and earlier
//!   variables' rows (`a.ts`).
//! - MEASURES: `FIRST`, `LAST`, `v.col` (its last row), aggregates over the match's rows or
//!   one variable's (`count(*)`, `count(b.*)`, `avg(b.price)`), `MATCH_NUMBER()` and
//!   `CLASSIFIER()`.
//! - ONE ROW PER MATCH (partition columns, then measures); AFTER MATCH SKIP PAST LAST ROW
//!   (the default) or TO NEXT ROW. An empty match (a pattern like `a*` that matches no row)
//!   gives a row whose measures are NULL (counts 0).
//!
//! Everything else (ALL ROWS PER MATCH, SKIP TO FIRST/LAST, PERMUTE, exclusions, SUBSET)
//! is refused by name. [`plan`] plans the clause, [`pattern`] compiles and runs patterns,
//! [`exec`] is the operator.

pub(crate) mod exec;
pub(crate) mod pattern;
pub(crate) mod plan;
