#!/usr/bin/env python3
"""Delta writes side by side: the `quiver` CLI against the Python `deltalake` package
(delta-rs 1.6.6), on this machine, in one run.

Usage:
  python3 benches/delta_write_compare.py --quiver PATH [--rows N] [--append-rows N]
                                         [--appends N] [--runs N]

Two measurements, each the median of --runs timed runs:

  append   --appends appends of the same --append-rows rows (id BIGINT, value DOUBLE,
           name STRING) read from one Parquet file, into a new table. deltalake:
           `pq.read_table(file)` + `write_deltalake(mode="append")` per append, in this
           process. Quiver: one `quiver -c` process running the appends as
           `INSERT INTO delta.`t` SELECT * FROM 'file'`, minus the median start-up of
           `quiver -c "SELECT 1"`. Reported as rows per second.
  merge    a MERGE of 1% of a --rows table: --rows / 100 source rows (every 100th id, spread
           over every file of the table) update `value` on a match and insert otherwise.
           Each run merges into a fresh copy of the same base table (written once by
           deltalake; the copy is not timed). Both results are cross-checked (row count and
           sum of `value`).

Ratios are deltalake time / Quiver time: above 1 means Quiver is faster.
Data and results go to benches/data/delta_write/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake

DATA = Path(__file__).resolve().parent / "data" / "delta_write"


def rows_table(first: int, count: int) -> pa.Table:
    ids = pa.array(range(first, first + count), pa.int64())
    return pa.table({
        "id": ids,
        "value": pa.array([i * 0.25 for i in range(first, first + count)], pa.float64()),
        "name": pa.array([f"name-{i % 1000}" for i in range(first, first + count)]),
    })


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def quiver(binary: str, sql: str) -> None:
    subprocess.run([binary, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def check(table: Path) -> tuple[int, float]:
    t = DeltaTable(str(table)).to_pyarrow_table(columns=["value"])
    return t.num_rows, round(sum(t.column("value").to_pylist()), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quiver", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--append-rows", type=int, default=1_000_000)
    ap.add_argument("--appends", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"rows": args.rows, "append_rows": args.append_rows,
                                  "appends": args.appends, "runs": args.runs}

    startup = statistics.median(timed(lambda: quiver(args.quiver, "SELECT 1")) for _ in range(5))
    results["quiver_startup_s"] = startup

    # Appends.
    source = DATA / "append.parquet"
    if not source.exists() or pq.ParquetFile(source).metadata.num_rows != args.append_rows:
        pq.write_table(rows_table(0, args.append_rows), source)
    total = args.appends * args.append_rows

    def delta_appends() -> None:
        target = DATA / "append_deltalake"
        shutil.rmtree(target, ignore_errors=True)
        for _ in range(args.appends):
            write_deltalake(str(target), pq.read_table(source), mode="append")

    def quiver_appends() -> None:
        target = DATA / "append_quiver"
        shutil.rmtree(target, ignore_errors=True)
        script = f"CREATE TABLE delta.`{target}` (id BIGINT, value DOUBLE, name STRING) USING DELTA;\n"
        script += "".join(f"INSERT INTO delta.`{target}` SELECT * FROM '{source}';\n"
                          for _ in range(args.appends))
        quiver(args.quiver, script)

    delta_times = [timed(delta_appends) for _ in range(args.runs)]
    quiver_times = [timed(quiver_appends) - startup for _ in range(args.runs)]
    assert check(DATA / "append_deltalake") == check(DATA / "append_quiver"), "append results differ"
    d, q = statistics.median(delta_times), statistics.median(quiver_times)
    results["append"] = {"deltalake_s": d, "quiver_s": q, "deltalake_rows_per_s": total / d,
                         "quiver_rows_per_s": total / q, "ratio": d / q}

    # MERGE of 1%.
    base = DATA / f"base_{args.rows}"
    if not (base / "_delta_log").exists():
        shutil.rmtree(base, ignore_errors=True)
        chunk = 1_000_000
        for first in range(0, args.rows, chunk):
            write_deltalake(str(base), rows_table(first, min(chunk, args.rows - first)),
                            mode="append")
    updates = DATA / f"merge_source_{args.rows}.parquet"
    if not updates.exists():
        ids = list(range(0, args.rows, 100))
        pq.write_table(pa.table({
            "id": pa.array(ids, pa.int64()),
            "value": pa.array([-1.0] * len(ids), pa.float64()),
            "name": pa.array(["merged"] * len(ids)),
        }), updates)
    source_rows = pq.read_table(updates)

    def fresh(name: str) -> Path:
        target = DATA / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(base, target)
        return target

    def delta_merge(target: Path) -> None:
        (DeltaTable(str(target))
         .merge(source_rows, "t.id = s.id", source_alias="s", target_alias="t")
         .when_matched_update(updates={"value": "s.value"})
         .when_not_matched_insert_all()
         .execute())

    def quiver_merge(target: Path) -> None:
        quiver(args.quiver,
               f"MERGE INTO delta.`{target}` AS t USING (SELECT * FROM '{updates}') AS s "
               "ON t.id = s.id WHEN MATCHED THEN UPDATE SET value = s.value "
               "WHEN NOT MATCHED THEN INSERT (id, value, name) VALUES (s.id, s.value, s.name)")

    delta_times, quiver_times = [], []
    for _ in range(args.runs):
        target = fresh("merge_deltalake")
        delta_times.append(timed(lambda: delta_merge(target)))
        target = fresh("merge_quiver")
        quiver_times.append(timed(lambda: quiver_merge(target)) - startup)
    assert check(DATA / "merge_deltalake") == check(DATA / "merge_quiver"), "merge results differ"
    d, q = statistics.median(delta_times), statistics.median(quiver_times)
    results["merge"] = {"deltalake_s": d, "quiver_s": q, "ratio": d / q,
                        "source_rows": source_rows.num_rows}

    (DATA / "results.json").write_text(json.dumps(results, indent=2))
    a, m = results["append"], results["merge"]
    print(f"append {args.appends} x {args.append_rows:,} rows: deltalake {a['deltalake_rows_per_s']:,.0f} rows/s, "
          f"Quiver {a['quiver_rows_per_s']:,.0f} rows/s, ratio {a['ratio']:.2f}")
    print(f"MERGE {source_rows.num_rows:,} rows into {args.rows:,}: deltalake {m['deltalake_s']:.2f} s, "
          f"Quiver {m['quiver_s']:.2f} s, ratio {m['ratio']:.2f}")


if __name__ == "__main__":
    main()
