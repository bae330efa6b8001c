#!/usr/bin/env python3
"""The `quiver` Python package side by side with deltalake, polars and duckdb (issue 14).

One run measures every engine on the same Delta tables on the same machine, with the same
thread count, and prints medians and ratios quiver / peer (below 1.0 means Quiver is faster).

Examples:
  ~/.cache/quiver/venv/bin/python benches/python_compare.py                # 10M rows, 10k commits, 5 runs
  ~/.cache/quiver/venv/bin/python benches/python_compare.py --rows 200000 --commits 300 --runs 2
  ~/.cache/quiver/venv/bin/python benches/python_compare.py --engines deltalake,polars,duckdb
  ~/.cache/quiver/venv/bin/python benches/python_compare.py --workloads selective,aggregate \\
      --threads 2 --json /tmp/python_compare.json --quiver-note "release, maturin build -r"

Quiver is whatever `import quiver` gives in the interpreter that runs this script; its
`__file__` is printed, with a guess at debug or release (a dev-profile module carries DWARF
`.debug_info`, a release one does not). A debug build's times mean nothing.

Tables (generated once under --data-dir, default ~/.cache/quiver/bench/python, and reused
while their `.ready.json` marker matches the parameters):
  sales-r<rows>-d<days>-f<files>   --rows rows (default 10,000,000) written by deltalake's
      write_deltalake in --files-per-day appends (default 4), partitioned by `day` (a date,
      --days partitions, default 50), so every partition holds that many files. Columns:
      id int64, day date, region string (5 values), amount float64, qty int32,
      ts timestamp[us, UTC]. The expected answers of the two queries are computed with numpy
      while generating and kept in the marker.
  commits-c<commits>-k<every>      --commits commits (default 10,000), version 0 with protocol,
      metaData and one add, every later version one add of a 10-row Parquet file. The commit
      JSON is written here (write_deltalake per commit is slow); with --checkpoint-every K,
      deltalake writes a checkpoint at the last multiple of K (default 0: none, so opening
      replays every commit). deltalake then checks the version and row count.

Workloads (each engine runs in its own process; every (engine, workload) has one untimed
warm-up and --runs timed runs; the timed part goes from the table's path to the answer, so
opening the table is included everywhere; each run starts from a fresh connection/table
object made outside the timed part):
  selective   SELECT sum(amount), count(*) FROM t WHERE day = <middle partition> AND qty > 90
  aggregate   SELECT region, sum(amount), avg(qty), count(*) FROM t GROUP BY region
  open        load the snapshot of the commits table (log replay and file list)
  open_count  open the commits table and count its rows
  to_arrow    all rows of the sales table as a pyarrow.Table
  to_polars   all rows of the sales table as a polars.DataFrame

Engines and what they run (also printed with the results):
  quiver             quiver.connect(threads=N) (untimed), then con.register("t", path) and
                     con.sql(...).to_arrow() / .to_polars()
  deltalake          DeltaTable(path) with pyarrow: to_pyarrow_dataset() and an acero plan
                     (scan, filter, aggregate) for the queries, dataset.count_rows(),
                     to_pyarrow_table() (+ pl.from_arrow) for the conversions
  deltalake-qb       DeltaTable(path) with deltalake's QueryBuilder (its DataFusion SQL) for
                     the queries, the count and SELECT * (+ pl.from_arrow)
  polars             pl.scan_delta(path) lazily: filter/group_by/len, .collect(), .to_arrow()
  duckdb             read_parquet([current files of the Delta snapshot], hive_partitioning=true)
                     (the list is taken from deltalake before timing, so duckdb reads no log);
                     the delta extension is not downloaded. No commits-table workloads.

Threads: quiver.connect(threads=N), POLARS_MAX_THREADS=N (set before polars is imported),
duckdb SET threads=N, pa.set_cpu_count(N) in every process, QueryBuilder with
datafusion.execution.target_partitions=N. deltalake's own tokio runtime is not configurable.

Answers are cross-checked: the query results of every engine against numpy's and each other
(floats within a relative 1e-9), row and column counts for the conversions and row counts
for the commits table. A mismatch is printed and the script exits with status 1.

Python 3.11 with pyarrow, numpy, deltalake (1.6.6), polars, duckdb and quiver installed.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import math
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

ENGINES = ("quiver", "deltalake", "deltalake-qb", "polars", "duckdb")
WORKLOADS = ("selective", "aggregate", "open", "open_count", "to_arrow", "to_polars")
SALES_WORKLOADS = {"selective", "aggregate", "to_arrow", "to_polars"}
COMMITS_WORKLOADS = {"open", "open_count"}

REGIONS = ("central", "east", "north", "south", "west")
FIRST_DAY = _dt.date(2024, 1, 1)
QTY_THRESHOLD = 90
SALES_COLUMNS = ("id", "day", "region", "amount", "qty", "ts")
ROWS_PER_COMMIT = 10
SEED = 14
FLOAT_RTOL = 1e-9

SELECTIVE_SQL = (
    "SELECT sum(amount) AS total, count(*) AS n FROM {t} "
    "WHERE day = DATE '{day}' AND qty > " + str(QTY_THRESHOLD)
)
AGGREGATE_SQL = (
    "SELECT region, sum(amount) AS total, avg(qty) AS avg_qty, count(*) AS n "
    "FROM {t} GROUP BY region ORDER BY region"
)
COUNT_SQL = "SELECT count(*) AS n FROM {t}"
ALL_SQL = "SELECT * FROM {t}"


# --------------------------------------------------------------------------------------
# Table generation (parent process)
# --------------------------------------------------------------------------------------


def read_marker(marker: Path, spec: dict) -> Optional[dict]:
    """The marker's content if it was written for exactly `spec`."""
    if not marker.exists():
        return None
    try:
        content = json.loads(marker.read_text())
    except json.JSONDecodeError:
        return None
    return content if content.get("spec") == spec else None


def sales_batch(offset: int, n: int, days: int, rng) -> tuple[Any, dict]:
    """`n` rows starting at id `offset`, spread evenly over `days` days, and their numpy columns."""
    import numpy as np
    import pyarrow as pa

    day_idx = (np.arange(n, dtype=np.int64) * days) // n
    region_idx = rng.integers(0, len(REGIONS), n)
    amount = rng.random(n) * 1000.0
    qty = rng.integers(1, 101, n, dtype=np.int32)
    first_day = (FIRST_DAY - _dt.date(1970, 1, 1)).days
    micros_per_day = 86_400_000_000
    ts = (first_day + day_idx) * micros_per_day + rng.integers(0, micros_per_day, n)
    table = pa.table(
        {
            "id": pa.array(np.arange(offset, offset + n, dtype=np.int64)),
            "day": pa.array((first_day + day_idx).astype(np.int32)).view(pa.date32()),
            "region": pa.array(REGIONS).take(pa.array(region_idx)),
            "amount": pa.array(amount),
            "qty": pa.array(qty),
            "ts": pa.array(ts).view(pa.timestamp("us", tz="UTC")),
        }
    )
    return table, {"day_idx": day_idx, "region_idx": region_idx, "amount": amount, "qty": qty}


def ensure_sales_table(data_dir: Path, rows: int, days: int, files_per_day: int) -> dict:
    """Generates (or reuses) the partitioned table; returns its path, files and expected answers."""
    import numpy as np
    from deltalake import DeltaTable, write_deltalake

    spec = {"rows": rows, "days": days, "files_per_day": files_per_day, "seed": SEED,
            "qty_threshold": QTY_THRESHOLD, "layout": 1}
    table = data_dir / f"sales-r{rows}-d{days}-f{files_per_day}"
    marker = data_dir / f"{table.name}.ready.json"
    cached = read_marker(marker, spec)
    if cached is not None and (table / "_delta_log").is_dir():
        print(f"  {table.name}: cached")
        expected = cached["expected"]
    else:
        marker.unlink(missing_ok=True)
        shutil.rmtree(table, ignore_errors=True)
        print(f"  {table.name}: generating {rows:,} rows ...", flush=True)
        t0 = time.perf_counter()
        sel_idx = days // 2
        sel_total, sel_n = 0.0, 0
        agg = {r: [0.0, 0, 0] for r in REGIONS}  # sum(amount), sum(qty), count
        offset = 0
        for r in range(files_per_day):
            n = rows // files_per_day + (1 if r < rows % files_per_day else 0)
            rng = np.random.default_rng([SEED, r])
            batch, cols = sales_batch(offset, n, days, rng)
            offset += n
            mask = (cols["day_idx"] == sel_idx) & (cols["qty"] > QTY_THRESHOLD)
            sel_total += float(cols["amount"][mask].sum())
            sel_n += int(mask.sum())
            for k, region in enumerate(REGIONS):
                m = cols["region_idx"] == k
                agg[region][0] += float(cols["amount"][m].sum())
                agg[region][1] += int(cols["qty"][m].sum(dtype=np.int64))
                agg[region][2] += int(m.sum())
            write_deltalake(table, batch, partition_by=["day"], mode="error" if r == 0 else "append")
            del batch, cols
        expected = {
            "day": (FIRST_DAY + _dt.timedelta(days=sel_idx)).isoformat(),
            "selective": {"total": sel_total, "n": sel_n},
            "aggregate": {
                region: {"total": s, "avg_qty": q / c if c else None, "n": c}
                for region, (s, q, c) in agg.items() if c
            },
            "rows": rows,
        }
        dt = DeltaTable(table)
        if dt.count() != rows:
            raise SystemExit(f"generated table has {dt.count()} rows by its statistics, expected {rows}")
        marker.write_text(json.dumps({"spec": spec, "expected": expected}, indent=1))
        print(f"  {table.name}: generated in {time.perf_counter() - t0:.1f}s")
    dt = DeltaTable(table)
    files = [str(Path(u.removeprefix("file://"))) for u in dt.file_uris()]
    print(f"    version {dt.version()}, {len(files)} files, {days} partitions")
    return {"path": str(table), "files": files, "version": dt.version(), "expected": expected,
            "days": days, "files_per_day": files_per_day}


def delta_schema_string() -> str:
    fields = [{"name": n, "type": "long", "nullable": True, "metadata": {}} for n in ("id", "v")]
    return json.dumps({"type": "struct", "fields": fields})


def write_commit(table: Path, version: int, ts_ms: int, actions: list[dict]) -> None:
    """Writes `_delta_log/<version>.json` with a commitInfo and `actions`; never overwrites."""
    info = {"commitInfo": {"timestamp": ts_ms, "operation": "WRITE" if version else "CREATE TABLE",
                           "operationParameters": {"mode": "Append"},
                           "engineInfo": "quiver-benches/python_compare.py"}}
    lines = [json.dumps(info)] + [json.dumps(a) for a in actions]
    with open(table / "_delta_log" / f"{version:020d}.json", "x") as f:
        f.write("\n".join(lines) + "\n")


def ensure_commits_table(data_dir: Path, commits: int, checkpoint_every: int) -> dict:
    """Generates (or reuses) the table of `commits` one-file commits; returns its path and rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from deltalake import DeltaTable, QueryBuilder

    spec = {"commits": commits, "rows_per_commit": ROWS_PER_COMMIT,
            "checkpoint_every": checkpoint_every, "layout": 1}
    table = data_dir / f"commits-c{commits}-k{checkpoint_every}"
    marker = data_dir / f"{table.name}.ready.json"
    rows = commits * ROWS_PER_COMMIT
    if read_marker(marker, spec) is not None and (table / "_delta_log").is_dir():
        print(f"  {table.name}: cached")
    else:
        marker.unlink(missing_ok=True)
        shutil.rmtree(table, ignore_errors=True)
        (table / "_delta_log").mkdir(parents=True)
        print(f"  {table.name}: generating {commits:,} commits ...", flush=True)
        t0 = time.perf_counter()
        ts0 = int(time.time() * 1000) - commits
        for version in range(commits):
            ids = list(range(version * ROWS_PER_COMMIT, (version + 1) * ROWS_PER_COMMIT))
            data = pa.table({"id": pa.array(ids, pa.int64()),
                             "v": pa.array([version] * ROWS_PER_COMMIT, pa.int64())})
            name = f"part-{version:06d}.parquet"
            pq.write_table(data, table / name)
            stats = {"numRecords": ROWS_PER_COMMIT,
                     "minValues": {"id": ids[0], "v": version},
                     "maxValues": {"id": ids[-1], "v": version},
                     "nullCount": {"id": 0, "v": 0}}
            actions = [{"add": {"path": name, "partitionValues": {}, "size": (table / name).stat().st_size,
                                "modificationTime": ts0 + version, "dataChange": True,
                                "stats": json.dumps(stats)}}]
            if version == 0:
                actions = [
                    {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
                    {"metaData": {"id": str(uuid.uuid4()), "format": {"provider": "parquet", "options": {}},
                                  "schemaString": delta_schema_string(), "partitionColumns": [],
                                  "configuration": {}, "createdTime": ts0}},
                ] + actions
            write_commit(table, version, ts0 + version, actions)
            if version and version % 2000 == 0:
                print(f"    {version:,} commits", flush=True)
        if checkpoint_every > 0 and commits - 1 >= checkpoint_every:
            at = (commits - 1) // checkpoint_every * checkpoint_every
            DeltaTable(table, version=at).create_checkpoint()
            print(f"    checkpoint at version {at}")
        dt = DeltaTable(table)
        if dt.version() != commits - 1:
            raise SystemExit(f"{table}: deltalake sees version {dt.version()}, expected {commits - 1}")
        got = pa.table(QueryBuilder().register("t", dt)
                       .execute("SELECT count(*) AS n, sum(id) AS s FROM t").read_all()).to_pylist()
        want = [{"n": rows, "s": rows * (rows - 1) // 2}]
        if got != want or dt.count() != rows:
            raise SystemExit(f"{table}: deltalake reads {got} (count() {dt.count()}), expected {want}")
        marker.write_text(json.dumps({"spec": spec}))
        print(f"  {table.name}: generated and verified by deltalake in {time.perf_counter() - t0:.1f}s")
    return {"path": str(table), "commits": commits, "rows": rows, "checkpoint_every": checkpoint_every}


# --------------------------------------------------------------------------------------
# Measurement (worker processes, one per engine)
# --------------------------------------------------------------------------------------


class Op:
    """One (engine, workload): `run(setup())` is timed; `check(result)` summarises it for cross-checks."""

    def __init__(self, method: str, run: Callable[[Any], Any], check: Callable[[Any], Any],
                 setup: Optional[Callable[[], Any]] = None):
        self.method, self.run, self.check, self.setup = method, run, check, setup


def time_op(op: Op, runs: int) -> tuple[list[float], Any]:
    """One untimed warm-up, then `runs` timed runs; the times and the last run's check value."""

    def once() -> tuple[float, Any]:
        state = op.setup() if op.setup else None
        gc.collect()
        t0 = time.perf_counter()
        result = op.run(state)
        elapsed = time.perf_counter() - t0
        check = op.check(result)
        del result, state
        return elapsed, check

    _, check = once()
    times = []
    for _ in range(runs):
        elapsed, check = once()
        times.append(elapsed)
    return times, check


def selective_rows(rows: list[dict]) -> dict:
    """{total, n} from a one-row result of the selective query."""
    (row,) = rows
    return {"total": row["total"], "n": int(row["n"])}


def aggregate_rows(rows: list[dict]) -> dict:
    """{region: {total, avg_qty, n}} from the aggregate query's rows."""
    return {r["region"]: {"total": r["total"], "avg_qty": r["avg_qty"], "n": int(r["n"])} for r in rows}


def arrow_shape(table) -> dict:
    return {"rows": table.num_rows, "columns": sorted(table.column_names)}


def polars_shape(df) -> dict:
    return {"rows": df.height, "columns": sorted(df.columns)}


def count_of(rows: list[dict]) -> dict:
    (row,) = rows
    return {"rows": int(row["n"])}


def quiver_ops(cfg: dict) -> tuple[dict, dict]:
    import quiver

    threads = cfg["threads"]
    sales, commits = cfg["sales"], cfg["commits"]

    def connect():
        return quiver.connect(threads=threads)

    def query(path: str, sql: str):
        def run(con):
            con.register("t", path)
            return con.sql(sql.format(t="t", day=sales.get("day", ""))).to_arrow().to_pylist()
        return run

    def fetch(path: str, to: str):
        def run(con):
            con.register("t", path)
            rel = con.sql(ALL_SQL.format(t="t"))
            return rel.to_arrow() if to == "arrow" else rel.to_polars()
        return run

    def register_only(con):
        con.register("t", commits["path"])

    native = getattr(getattr(quiver, "_native", None), "__file__", None)
    info = {"version": getattr(quiver, "__version__", "?"), "file": quiver.__file__,
            "native": native, "build": guess_build(native)}
    ops = {
        "selective": Op("con.register + con.sql(...).to_arrow()", query(sales.get("path", ""), SELECTIVE_SQL),
                        selective_rows, connect),
        "aggregate": Op("con.register + con.sql(...).to_arrow()", query(sales.get("path", ""), AGGREGATE_SQL),
                        aggregate_rows, connect),
        "open": Op('con.register("t", path) (loads the snapshot and file list)', register_only,
                   lambda _: None, connect),
        "open_count": Op("con.register + SELECT count(*)", query(commits.get("path", ""), COUNT_SQL),
                         count_of, connect),
        "to_arrow": Op('con.register + con.sql("SELECT * FROM t").to_arrow()',
                       fetch(sales.get("path", ""), "arrow"), arrow_shape, connect),
        "to_polars": Op('con.register + con.sql("SELECT * FROM t").to_polars()',
                        fetch(sales.get("path", ""), "polars"), polars_shape, connect),
    }
    return ops, info


def deltalake_ops(cfg: dict) -> tuple[dict, dict]:
    """deltalake with pyarrow: to_pyarrow_dataset + acero, to_pyarrow_table."""
    import deltalake
    import pyarrow as pa
    import pyarrow.acero as ac
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    sales, commits = cfg["sales"], cfg["commits"]

    def selective(_):
        dataset = DeltaTable(sales["path"]).to_pyarrow_dataset()
        day = _dt.date.fromisoformat(sales["day"])
        flt = (pc.field("day") == pa.scalar(day, pa.date32())) & (pc.field("qty") > QTY_THRESHOLD)
        plan = ac.Declaration.from_sequence([
            ac.Declaration("scan", ac.ScanNodeOptions(dataset, columns=["day", "qty", "amount"], filter=flt)),
            ac.Declaration("filter", ac.FilterNodeOptions(flt)),
            ac.Declaration("aggregate", ac.AggregateNodeOptions(
                [("amount", "sum", None, "total"), ([], "count_all", None, "n")])),
        ])
        return plan.to_table().to_pylist()

    def aggregate(_):
        dataset = DeltaTable(sales["path"]).to_pyarrow_dataset()
        plan = ac.Declaration.from_sequence([
            ac.Declaration("scan", ac.ScanNodeOptions(dataset, columns=["region", "amount", "qty"])),
            ac.Declaration("aggregate", ac.AggregateNodeOptions(
                [("amount", "hash_sum", None, "total"), ("qty", "hash_mean", None, "avg_qty"),
                 ([], "hash_count_all", None, "n")], keys=["region"])),
        ])
        return plan.to_table().to_pylist()

    def open_files(_):
        return len(DeltaTable(commits["path"]).file_uris())

    def open_count(_):
        return DeltaTable(commits["path"]).to_pyarrow_dataset().count_rows()

    def to_arrow(_):
        return DeltaTable(sales["path"]).to_pyarrow_table()

    def to_polars(_):
        import polars as pl

        return pl.from_arrow(DeltaTable(sales["path"]).to_pyarrow_table())

    info = {"version": deltalake.__version__, "pyarrow": pa.__version__,
            "note": "queries: DeltaTable.to_pyarrow_dataset() + pyarrow acero (scan, filter, aggregate)"}
    ops = {
        "selective": Op("DeltaTable(path).to_pyarrow_dataset() + acero scan/filter/aggregate", selective,
                        selective_rows),
        "aggregate": Op("DeltaTable(path).to_pyarrow_dataset() + acero scan/hash aggregate", aggregate,
                        aggregate_rows),
        "open": Op("DeltaTable(path) + len(.file_uris())", open_files, lambda n: {"files": n}),
        "open_count": Op("DeltaTable(path).to_pyarrow_dataset().count_rows()", open_count,
                         lambda n: {"rows": n}),
        "to_arrow": Op("DeltaTable(path).to_pyarrow_table()", to_arrow, arrow_shape),
        "to_polars": Op("pl.from_arrow(DeltaTable(path).to_pyarrow_table())", to_polars, polars_shape),
    }
    return ops, info


def deltalake_qb_ops(cfg: dict) -> tuple[dict, dict]:
    """deltalake's QueryBuilder (DataFusion inside deltalake)."""
    import deltalake
    import pyarrow as pa
    from deltalake import DeltaTable, QueryBuilder

    threads = cfg["threads"]
    sales, commits = cfg["sales"], cfg["commits"]

    def run_sql(path: str, sql: str) -> pa.Table:
        qb = QueryBuilder({"datafusion.execution.target_partitions": str(threads)})
        qb.register("t", DeltaTable(path))
        return pa.table(qb.execute(sql.format(t="t", day=sales.get("day", ""))).read_all())

    def to_polars(_):
        import polars as pl

        return pl.from_arrow(run_sql(sales["path"], ALL_SQL))

    method = "DeltaTable(path) + QueryBuilder().register + execute(...).read_all()"
    info = {"version": deltalake.__version__, "note": "queries: deltalake.QueryBuilder (DataFusion SQL)"}
    ops = {
        "selective": Op(method, lambda _: run_sql(sales["path"], SELECTIVE_SQL).to_pylist(), selective_rows),
        "aggregate": Op(method, lambda _: run_sql(sales["path"], AGGREGATE_SQL).to_pylist(), aggregate_rows),
        "open_count": Op(method + " of SELECT count(*)",
                         lambda _: run_sql(commits["path"], COUNT_SQL).to_pylist(), count_of),
        "to_arrow": Op(method + ' of SELECT * (pa.table)', lambda _: run_sql(sales["path"], ALL_SQL),
                       arrow_shape),
        "to_polars": Op("pl.from_arrow(" + method + " of SELECT *)", to_polars, polars_shape),
    }
    skipped = {"open": "opening is DeltaTable(path), the same as the deltalake row"}
    return ops, dict(info, skipped=skipped)


def polars_ops(cfg: dict) -> tuple[dict, dict]:
    import polars as pl

    sales, commits = cfg["sales"], cfg["commits"]

    def selective(_):
        day = _dt.date.fromisoformat(sales["day"])
        return (pl.scan_delta(sales["path"])
                .filter((pl.col("day") == day) & (pl.col("qty") > QTY_THRESHOLD))
                .select(pl.col("amount").sum().alias("total"), pl.len().alias("n"))
                .collect().to_dicts())

    def aggregate(_):
        return (pl.scan_delta(sales["path"])
                .group_by("region")
                .agg(pl.col("amount").sum().alias("total"), pl.col("qty").mean().alias("avg_qty"),
                     pl.len().alias("n"))
                .collect().to_dicts())

    info = {"version": pl.__version__, "threads": pl.thread_pool_size()}
    ops = {
        "selective": Op("pl.scan_delta(path).filter(...).select(sum, len).collect()", selective,
                        selective_rows),
        "aggregate": Op("pl.scan_delta(path).group_by(region).agg(...).collect()", aggregate,
                        aggregate_rows),
        "open_count": Op("pl.scan_delta(path).select(pl.len()).collect()",
                         lambda _: pl.scan_delta(commits["path"]).select(pl.len().alias("n")).collect().to_dicts(),
                         count_of),
        "to_arrow": Op("pl.scan_delta(path).collect().to_arrow()",
                       lambda _: pl.scan_delta(sales["path"]).collect().to_arrow(), arrow_shape),
        "to_polars": Op("pl.scan_delta(path).collect()", lambda _: pl.scan_delta(sales["path"]).collect(),
                        polars_shape),
    }
    skipped = {"open": "scan_delta is lazy; opening is timed within open_count"}
    return ops, dict(info, skipped=skipped)


def duckdb_ops(cfg: dict) -> tuple[dict, dict]:
    import duckdb

    threads = cfg["threads"]
    sales = cfg["sales"]
    files = sales.get("files", [])
    source = "read_parquet([{}], hive_partitioning = true)".format(
        ", ".join("'" + f.replace("'", "''") + "'" for f in files))

    def connect():
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        return con

    def query(sql: str):
        def run(con):
            rel = con.sql(sql.format(t=source, day=sales.get("day", "")))
            names = rel.columns
            return [dict(zip(names, row)) for row in rel.fetchall()]
        return run

    probe = duckdb.connect()
    probe.execute("SET autoinstall_known_extensions = false")
    installed = probe.execute(
        "SELECT installed FROM duckdb_extensions() WHERE extension_name = 'delta'").fetchall()
    has_delta = bool(installed and installed[0][0])
    probe.close()
    info = {"version": duckdb.__version__,
            "note": f"read_parquet over the snapshot's {len(files)} files with hive partitioning "
                    f"(delta extension {'installed but not used' if has_delta else 'not installed; not downloaded'})"}
    ops = {
        "selective": Op("read_parquet([files], hive_partitioning) + fetchall()", query(SELECTIVE_SQL),
                        selective_rows, connect),
        "aggregate": Op("read_parquet([files], hive_partitioning) + fetchall()", query(AGGREGATE_SQL),
                        aggregate_rows, connect),
        "to_arrow": Op("con.sql(SELECT * FROM read_parquet(...)).arrow().read_all()",
                       lambda con: con.sql(ALL_SQL.format(t=source)).arrow().read_all(), arrow_shape, connect),
        "to_polars": Op("con.sql(SELECT * FROM read_parquet(...)).pl()",
                        lambda con: con.sql(ALL_SQL.format(t=source)).pl(), polars_shape, connect),
    }
    skipped = {w: "no Delta log reader without the delta extension" for w in ("open", "open_count")}
    return ops, dict(info, skipped=skipped)


ENGINE_OPS = {
    "quiver": quiver_ops,
    "deltalake": deltalake_ops,
    "deltalake-qb": deltalake_qb_ops,
    "polars": polars_ops,
    "duckdb": duckdb_ops,
}


def guess_build(native: Optional[str]) -> str:
    """'debug' if the native module carries DWARF `.debug_info` (a dev-profile build), else 'release'."""
    if not native or not os.path.exists(native):
        return "unknown (native module not found)"
    try:
        with open(native, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:
                return "unknown (not a 64-bit ELF file)"
            end = "<" if head[5] == 1 else ">"
            shoff = struct.unpack_from(end + "Q", head, 0x28)[0]
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", head, 0x3A)
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            sections = [struct.unpack_from(end + "IIQQQQ", table, i * shentsize) for i in range(shnum)]
            _, _, _, _, str_off, str_size = sections[shstrndx]
            f.seek(str_off)
            strtab = f.read(str_size)
        names = {strtab[s[0]:strtab.index(b"\0", s[0])].decode() for s in sections}
    except (OSError, struct.error, ValueError, IndexError) as e:
        return f"unknown ({e})"
    size_mb = os.path.getsize(native) / 1e6
    if ".debug_info" in names:
        return f"debug (has .debug_info; {size_mb:.0f} MB) - its times mean nothing"
    return f"release (no .debug_info; {size_mb:.0f} MB)"


def worker_main(engine: str, config_path: str, out_path: str) -> None:
    """Runs one engine's workloads and writes {info, results} as JSON to `out_path`."""
    cfg = json.loads(Path(config_path).read_text())
    import pyarrow as pa

    pa.set_cpu_count(cfg["threads"])
    ops, info = ENGINE_OPS[engine](cfg)
    skipped = info.pop("skipped", {})
    results = {}
    for workload in cfg["workloads"]:
        if workload not in ops:
            results[workload] = {"skipped": skipped.get(workload, "not measured for this engine")}
            continue
        op = ops[workload]
        print(f"  {engine:13} {workload:11} ...", end="", flush=True)
        try:
            times, check = time_op(op, cfg["runs"])
        except Exception as e:  # reported with the results; the parent fails the run
            print(f" ERROR {type(e).__name__}: {e}", flush=True)
            results[workload] = {"method": op.method, "error": f"{type(e).__name__}: {e}"}
            continue
        med = statistics.median(times)
        print(f" median {fmt_seconds(med)}", flush=True)
        results[workload] = {"method": op.method, "times": times, "median": med, "min": min(times),
                             "check": check}
    Path(out_path).write_text(json.dumps({"info": info, "results": results}, default=str))


# --------------------------------------------------------------------------------------
# Cross-checks and report (parent process)
# --------------------------------------------------------------------------------------


def close(a: Any, b: Any) -> bool:
    """Equal, with floats compared to a relative FLOAT_RTOL."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=FLOAT_RTOL, abs_tol=1e-9)
    return a == b


def expected_checks(sales: Optional[dict], commits: Optional[dict]) -> dict:
    """The answer every engine must give, per workload, from the generator."""
    want = {}
    if sales:
        exp = sales["expected"]
        want["selective"] = exp["selective"]
        want["aggregate"] = exp["aggregate"]
        shape = {"rows": exp["rows"], "columns": sorted(SALES_COLUMNS)}
        want["to_arrow"] = shape
        want["to_polars"] = shape
    if commits:
        want["open"] = {"files": commits["commits"]}
        want["open_count"] = {"rows": commits["rows"]}
    return want


def cross_check(by_engine: dict, want: dict) -> list[str]:
    """Mismatches against the generator's answers and between engines, as messages."""
    problems = []
    for workload in WORKLOADS:
        seen = []
        for engine, out in by_engine.items():
            res = out["results"].get(workload)
            if not res or "skipped" in res:
                continue
            if "error" in res:
                problems.append(f"{workload}: {engine} failed: {res['error']}")
                continue
            check = res["check"]
            if check is None:  # nothing to compare (quiver's open)
                continue
            if workload in want and not close(check, want[workload]):
                problems.append(f"{workload}: {engine} answered {check}, expected {want[workload]}")
            seen.append((engine, check))
        for (e1, c1), (e2, c2) in zip(seen, seen[1:]):
            if not close(c1, c2):
                problems.append(f"{workload}: {e1} and {e2} disagree: {c1} vs {c2}")
    return problems


def fmt_seconds(s: Optional[float]) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.3f} s"


def ratios(by_engine: dict) -> dict:
    """{workload: {peer: quiver median / peer median}}."""
    out = {}
    quiver = by_engine.get("quiver", {}).get("results", {})
    for workload in WORKLOADS:
        q = quiver.get(workload, {}).get("median")
        if q is None:
            continue
        for engine, res in by_engine.items():
            peer = res["results"].get(workload, {}).get("median")
            if engine != "quiver" and peer:
                out.setdefault(workload, {})[engine] = q / peer
    return out


def print_report(by_engine: dict, rat: dict, args, quiver_info: Optional[dict]) -> None:
    print()
    print(f"threads={args.threads}  runs={args.runs} (+1 warm-up)  medians; "
          f"ratio = quiver / peer (below 1.0: Quiver is faster)")
    if quiver_info:
        print(f"quiver {quiver_info.get('version')} from {quiver_info.get('file')}")
        print(f"  native module: {quiver_info.get('native')}")
        print(f"  build: {quiver_info.get('build')}" + (f"; note: {args.quiver_note}" if args.quiver_note else ""))
    header = f"{'workload':11} {'engine':13} {'median':>11} {'min':>11} {'quiver/peer':>11}  method"
    print()
    print(header)
    print("-" * len(header))
    for workload in WORKLOADS:
        if workload not in args.workloads:
            continue
        first = True
        for engine in args.engines:
            res = by_engine.get(engine, {}).get("results", {}).get(workload)
            if res is None:
                continue
            label = workload if first else ""
            first = False
            if "skipped" in res:
                print(f"{label:11} {engine:13} {'-':>11} {'-':>11} {'':>11}  ({res['skipped']})")
                continue
            if "error" in res:
                print(f"{label:11} {engine:13} {'ERROR':>11} {'':>11} {'':>11}  {res['error']}")
                continue
            r = rat.get(workload, {}).get(engine)
            rtxt = f"{r:.2f}" if r is not None else ""
            print(f"{label:11} {engine:13} {fmt_seconds(res['median']):>11} {fmt_seconds(res['min']):>11} "
                  f"{rtxt:>11}  {res['method']}")
    print()
    for engine in args.engines:
        info = by_engine.get(engine, {}).get("info", {})
        extra = {k: v for k, v in info.items() if k not in ("file", "native", "build")}
        if extra:
            print(f"{engine}: " + ", ".join(f"{k} {v}" for k, v in extra.items()))


def run_worker(engine: str, cfg: dict, tmp: Path) -> dict:
    """Runs `engine` in a fresh interpreter (same executable) and returns its JSON output."""
    config_path, out_path = tmp / f"{engine}.config.json", tmp / f"{engine}.out.json"
    config_path.write_text(json.dumps(cfg))
    env = dict(os.environ, POLARS_MAX_THREADS=str(cfg["threads"]))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine,
           "--worker-config", str(config_path), "--worker-out", str(out_path)]
    proc = subprocess.run(cmd, env=env)
    if proc.returncode != 0 or not out_path.exists():
        msg = f"worker exited with status {proc.returncode}"
        return {"info": {}, "results": {w: {"error": msg} for w in cfg["workloads"]}}
    return json.loads(out_path.read_text())


def parse_list(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [x for x in items if x not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return items


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000, help="rows of the partitioned table (10M)")
    p.add_argument("--days", type=int, default=50, help="partitions (days) of the partitioned table (50)")
    p.add_argument("--files-per-day", type=int, default=4, help="appends, so files per partition (4)")
    p.add_argument("--commits", type=int, default=10_000, help="commits of the commits table (10000)")
    p.add_argument("--checkpoint-every", type=int, default=0,
                   help="checkpoint the commits table at the last multiple of K (0: no checkpoint)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per (engine, workload), after 1 warm-up")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for every engine")
    p.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, of: " + ", ".join(ENGINES))
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated, of: " + ", ".join(WORKLOADS))
    p.add_argument("--data-dir", type=Path, default=Path("~/.cache/quiver/bench/python"),
                   help="where the tables are generated and cached")
    p.add_argument("--json", type=Path, help="write the results as JSON here")
    p.add_argument("--quiver-note", default="", help="free text about the quiver build, kept in the output")
    p.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    p.add_argument("--worker-config", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return args
    args.engines = parse_list(args.engines, ENGINES, "engine")
    args.workloads = parse_list(args.workloads, WORKLOADS, "workload")
    if args.rows < args.days * args.files_per_day or args.days < 1 or args.files_per_day < 1:
        p.error("--rows must be at least --days x --files-per-day")
    if args.commits < 1 or args.runs < 1 or args.threads < 1:
        p.error("--commits, --runs and --threads must be positive")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(args.worker, args.worker_config, args.worker_out)
        return 0

    data_dir = args.data_dir.expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"python {platform.python_version()} ({sys.executable}), {platform.machine()}, "
          f"{os.cpu_count()} cores; threads={args.threads}")
    print(f"tables in {data_dir}:")
    sales = commits = None
    if SALES_WORKLOADS & set(args.workloads):
        sales = ensure_sales_table(data_dir, args.rows, args.days, args.files_per_day)
    if COMMITS_WORKLOADS & set(args.workloads):
        commits = ensure_commits_table(data_dir, args.commits, args.checkpoint_every)

    cfg = {
        "threads": args.threads,
        "runs": args.runs,
        "workloads": args.workloads,
        "sales": {"path": sales["path"], "files": sales["files"], "day": sales["expected"]["day"]} if sales else {},
        "commits": {"path": commits["path"]} if commits else {},
    }
    by_engine = {}
    with tempfile.TemporaryDirectory(prefix="python_compare.") as tmp:
        for engine in args.engines:
            print(f"{engine}:", flush=True)
            by_engine[engine] = run_worker(engine, cfg, Path(tmp))

    quiver_info = by_engine.get("quiver", {}).get("info") or None
    rat = ratios(by_engine)
    problems = cross_check(by_engine, expected_checks(sales, commits))
    print_report(by_engine, rat, args, quiver_info)

    if args.json:
        report = {
            "when": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"platform": platform.platform(), "cores": os.cpu_count(),
                        "python": platform.python_version(), "executable": sys.executable},
            "settings": {"threads": args.threads, "runs": args.runs, "warmups": 1,
                         "engines": args.engines, "workloads": args.workloads},
            "quiver": dict(quiver_info or {}, note=args.quiver_note),
            "tables": {
                "sales": {k: v for k, v in sales.items() if k != "files"} | {"files": len(sales["files"])}
                if sales else None,
                "commits": commits,
            },
            "sql": {"selective": SELECTIVE_SQL, "aggregate": AGGREGATE_SQL, "count": COUNT_SQL, "all": ALL_SQL},
            "engines": by_engine,
            "ratios_quiver_over_peer": rat,
            "mismatches": problems,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=str))
        print(f"results written to {args.json}")

    if problems:
        print("\n!!! CROSS-CHECK FAILED:", file=sys.stderr)
        for msg in problems:
            print(f"!!!   {msg}", file=sys.stderr)
        return 1
    print("cross-checks passed: every engine gave the expected answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
