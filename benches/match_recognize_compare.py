#!/usr/bin/env python3
"""MATCH_RECOGNIZE side by side with the same question asked with window functions.

The question: every maximal run of rising prices per symbol (a row whose price is above the
previous row's), with its first and last time and its length. As a pattern:

    MATCH_RECOGNIZE (PARTITION BY sym ORDER BY ts MEASURES FIRST(up.ts), LAST(up.ts), count(*)
                     PATTERN (up+) DEFINE up AS price > PREV(price))

and as window functions (LAG for the rise, a running count of the other rows to number the
runs, then a GROUP BY), run by DuckDB 2.0 (which has no MATCH_RECOGNIZE on PyPI) and by
Quiver. The issue's shape (a large order, a small one within 10 s, a large one within 20 s;
conditions that read earlier variables' rows) is timed for Quiver alone, as it has no
window-function twin, over the whole table (or the first --issue-rows rows). Its reluctant
gaps (`x*?`) stay short because `b`'s and `c`'s DEFINE bound `ts` by an earlier row: once a row
passes the bound the matcher stops searching from that start. One untimed warm-up, then
--runs timed runs; medians and ratios to DuckDB's window query. The three answers to the runs
question are cross-checked.

    python benches/match_recognize_compare.py               # 2M rows, 100 symbols

Use a release build of the module (`maturin develop --release`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import duckdb
import numpy as np
import pyarrow as pa

import quiver

RUNS_PATTERN = """
SELECT sym, t0, t1, n FROM ticks MATCH_RECOGNIZE (
  PARTITION BY sym ORDER BY ts
  MEASURES FIRST(up.ts) AS t0, LAST(up.ts) AS t1, count(*) AS n
  PATTERN (up+) DEFINE up AS price > PREV(price))"""

RUNS_WINDOWS = """
SELECT sym, min(ts) AS t0, max(ts) AS t1, count(*) AS n FROM (
  SELECT sym, ts, up, sum(CASE WHEN up THEN 0 ELSE 1 END) OVER (PARTITION BY sym ORDER BY ts ROWS UNBOUNDED PRECEDING) AS grp
  FROM (SELECT sym, ts, coalesce(price > lag(price) OVER (PARTITION BY sym ORDER BY ts), false) AS up FROM ticks))
WHERE up GROUP BY sym, grp"""

ISSUE_PATTERN = """
SELECT sym, t1, t3, n FROM ticks_head MATCH_RECOGNIZE (
  PARTITION BY sym ORDER BY ts
  MEASURES FIRST(a.ts) AS t1, LAST(c.ts) AS t3, count(*) AS n
  PATTERN (a x*? b y*? c)
  DEFINE a AS size > 900, b AS size < 100 AND ts <= a.ts + INTERVAL '10 seconds',
         c AS size > 900 AND ts <= b.ts + INTERVAL '20 seconds')"""


def table(rows: int, symbols: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    # Distinct times: each symbol ticks about once a second.
    sym = rng.integers(0, symbols, rows)
    step = max(2, 1_000_000 // symbols)
    ts = np.arange(rows, dtype=np.int64) * step + rng.integers(0, step, rows)
    names = np.array([f"S{i:04d}" for i in range(symbols)])
    return pa.table({
        "sym": pa.array(names[sym]),
        "ts": pa.array(ts, pa.int64()).cast(pa.timestamp("us")),
        "price": pa.array(np.round(rng.uniform(10, 11, rows), 3)),
        "size": pa.array(rng.integers(1, 1000, rows)),
    })


def timed(run, runs: int):
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def rows_of(t: pa.Table) -> list:
    return sorted(zip(*(t.column(c).to_pylist() for c in ("sym", "t0", "t1", "n"))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--issue-rows", type=int, default=0, help="0: every row")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()

    ticks = table(args.rows, args.symbols)
    con = quiver.connect(threads=args.threads)
    con.register("ticks", ticks)
    issue_rows = args.issue_rows or args.rows
    con.register("ticks_head", ticks.slice(0, issue_rows))
    duck = duckdb.connect()
    duck.sql(f"SET threads = {args.threads}")
    duck.register("ticks", ticks)

    def duck_arrow(sql: str) -> pa.Table:
        out = duck.sql(sql).arrow()
        return out.read_all() if isinstance(out, pa.RecordBatchReader) else out

    print(f"quiver {quiver.__file__}; {args.rows} rows, {args.symbols} symbols, "
          f"{args.threads} threads, median of {args.runs}")
    d_time, d_out = timed(lambda: duck_arrow(RUNS_WINDOWS), args.runs)
    qw_time, qw_out = timed(lambda: con.sql(RUNS_WINDOWS).to_arrow(), args.runs)
    qp_time, qp_out = timed(lambda: con.sql(RUNS_PATTERN).to_arrow(), args.runs)
    qi_time, qi_out = timed(lambda: con.sql(ISSUE_PATTERN).to_arrow(), args.runs)
    want = rows_of(d_out)
    same = rows_of(qw_out) == want and rows_of(qp_out) == want
    print(f"{'query':<34}{'time':>10}{'/ duckdb windows':>18}")
    print(f"{'rising runs, duckdb windows':<34}{d_time * 1000:>8.1f}ms{1.0:>18.2f}")
    print(f"{'rising runs, quiver windows':<34}{qw_time * 1000:>8.1f}ms{qw_time / d_time:>18.2f}")
    print(f"{'rising runs, quiver MATCH_RECOGNIZE':<34}{qp_time * 1000:>8.1f}ms{qp_time / d_time:>18.2f}")
    print(f"{'issue pattern, quiver (no twin)':<34}{qi_time * 1000:>8.1f}ms"
          f"{'':>18}  {qi_out.num_rows} matches in {issue_rows} rows")
    print(f"runs found: {len(want)}; answers {'agree' if same else 'DIFFER'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
