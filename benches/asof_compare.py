#!/usr/bin/env python3
"""ASOF JOIN side by side: Quiver (the Python package, in process) against DuckDB 2.0.

Both engines get the same Arrow tables (trades and quotes with random symbols and
microsecond timestamps) registered without a copy, and run the same DuckDB-form query,
materialised as an Arrow table. One untimed warm-up, then --runs timed runs; the report gives
each engine's median and the ratio quiver/duckdb (below 1.0: Quiver is faster). The answers
are cross-checked (row count and the sum of the matched quote ids).

    python benches/asof_compare.py                        # 1M trades x 1M quotes, 100 symbols
    python benches/asof_compare.py --trades 100000 --quotes 100000 --runs 2

Use a release build of the module (`maturin develop --release`); a debug build's times mean
nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import quiver

QUERIES = {
    "asof inner >=": "SELECT t.id, q.qid, q.bid FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts",
    "asof left <=": "SELECT t.id, q.qid, q.bid FROM trades t ASOF LEFT JOIN quotes q ON t.sym = q.sym AND t.ts <= q.ts",
    "asof no keys >=": "SELECT t.id, q.qid FROM trades t ASOF JOIN quotes q ON t.ts >= q.ts",
}


def tables(trades: int, quotes: int, symbols: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    day_us = 86_400_000_000
    names = np.array([f"S{i:04d}" for i in range(symbols)])

    def side(n: int, id_name: str, value_name: str) -> pa.Table:
        # Distinct times, so every match is unique (engines pick among ties as they like).
        ts = rng.permutation(np.unique(rng.integers(0, day_us, n + n // 50 + 10)))[:n]
        return pa.table({
            id_name: pa.array(np.arange(n, dtype=np.int64)),
            "sym": pa.array(names[rng.integers(0, symbols, n)]),
            "ts": pa.array(ts, pa.int64()).cast(pa.timestamp("us")),
            value_name: pa.array(rng.uniform(1, 500, n)),
        })

    return side(trades, "id", "price"), side(quotes, "qid", "bid")


def timed(run, runs: int):
    run()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def check(table: pa.Table) -> tuple[int, int]:
    return table.num_rows, pc.sum(table.column("qid")).as_py() or 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trades", type=int, default=1_000_000)
    ap.add_argument("--quotes", type=int, default=1_000_000)
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()

    trades, quotes = tables(args.trades, args.quotes, args.symbols)
    con = quiver.connect(threads=args.threads)
    con.register("trades", trades)
    con.register("quotes", quotes)
    duck = duckdb.connect()
    duck.sql(f"SET threads = {args.threads}")
    duck.register("trades", trades)
    duck.register("quotes", quotes)

    def duck_arrow(sql: str) -> pa.Table:
        out = duck.sql(sql).arrow()
        return out.read_all() if isinstance(out, pa.RecordBatchReader) else out

    print(f"quiver {quiver.__file__}; {args.trades} trades x {args.quotes} quotes, "
          f"{args.symbols} symbols, {args.threads} threads, median of {args.runs}")
    print(f"{'query':<18}{'quiver':>12}{'duckdb':>12}{'quiver/duckdb':>15}")
    failed = False
    for name, sql in QUERIES.items():
        q_time, q_out = timed(lambda: con.sql(sql).to_arrow(), args.runs)
        d_time, d_out = timed(lambda: duck_arrow(sql), args.runs)
        same = check(q_out) == check(d_out)
        failed |= not same
        print(f"{name:<18}{q_time * 1000:>10.1f}ms{d_time * 1000:>10.1f}ms{q_time / d_time:>15.2f}"
              f"{'' if same else '  ANSWERS DIFFER'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
