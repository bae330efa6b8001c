#!/usr/bin/env python3
"""Delta Lake side by side: Quiver's own Delta reader against the Python `deltalake` package.

Usage:
  python3 benches/delta_compare.py [--quiver PATH] [--runs N]

Three tables are generated once into benches/data/delta/ (git-ignored through the root
.gitignore's /benches/data) and reused while their marker file matches:

  commits_10k   version 0 creates the table, versions 1..9999 each append one tiny Parquet
                file (10,000 commits in all), with a checkpoint at version 9990 and 9 more
                commits after it. Commit JSON is written directly (write_deltalake one commit
                at a time is slow); the checkpoint is made by deltalake.
  adds_100k     10 commits of 10,000 add actions each (100,000 files in the snapshot), the
                files being hard links to 10 real Parquet files, then a deltalake checkpoint.
  partitioned   2,000,000 rows partitioned by `day` (a date, 100 days), written by
                write_deltalake in 10 appends so every day holds 10 files with disjoint,
                increasing ranges of `x` (so min/max statistics can skip files).

Each table is checked by deltalake after generation (version, row or file count).

Measured, as medians of --runs timed runs after one warm-up:
  * snapshot load: deltalake `DeltaTable(path)` in this process; Quiver
    `quiver -c "SELECT 1 FROM 'PATH' LIMIT 0"` (Quiver loads the snapshot, file list
    included, while planning). For adds_100k there is also a row where deltalake must
    materialise the file list (`len(dt.file_uris())`); Quiver's number there is the same
    snapshot load, as its snapshot always holds the file list.
  * selective queries on `partitioned`: deltalake `DeltaTable(path)` + `QueryBuilder`, Quiver a
    plain `quiver -c "<query>"` run; both timings include loading the snapshot. Files skipped:
    Quiver's from `EXPLAIN ANALYZE` (`DeltaScanExec: ... files=A of B (C skipped)`),
    deltalake's as all files minus the `files_opened` of its own `EXPLAIN ANALYZE` (falling
    back to `dt.file_uris(file_pruning_predicate=<WHERE clause>)`; both go to the JSON).
Quiver runs as a separate process per run; its wall time includes process start-up, so the
report gives the raw wall time and a net time with the median `quiver -c "SELECT 1"` wall
time subtracted. The ratio is deltalake / Quiver net (above 1 means Quiver is faster).
Both engines' answers are cross-checked; a mismatch is printed loudly.

Results go to stdout (a table) and benches/data/delta/results.json.

Plain Python 3 with deltalake==1.6.6 and pyarrow (installed with pip if missing).
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "benches" / "data" / "delta"
DELTALAKE_VERSION = "1.6.6"

RELEASE_QUIVER = Path("/root/.cache/quiver/release-target/release/quiver")
DEBUG_QUIVER = Path("/root/.cache/quiver/target/debug/quiver")


def ensure_deps() -> None:
    try:
        import deltalake  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", f"deltalake=={DELTALAKE_VERSION}", "pyarrow"],
            check=True,
        )
    import deltalake

    if deltalake.__version__ != DELTALAKE_VERSION:
        print(f"warning: deltalake {deltalake.__version__} is installed, this bench pins {DELTALAKE_VERSION}")


ensure_deps()

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from deltalake import DeltaTable, QueryBuilder, write_deltalake  # noqa: E402
import deltalake  # noqa: E402

# --------------------------------------------------------------------------------------
# Table generation
# --------------------------------------------------------------------------------------

SMALL_SCHEMA = pa.schema([("id", pa.int64()), ("v", pa.int64())])

COMMITS = 10_000  # versions 0..9999
COMMITS_CHECKPOINT = 9_990
COMMITS_ROWS = 10  # rows per appended file

ADDS = 100_000
ADDS_PER_COMMIT = 10_000
ADDS_SOURCES = 10  # real Parquet files the 100,000 entries link to
ADDS_ROWS = 10

DAYS = 100
ROUNDS = 10  # appends; each writes one file per day
ROWS_PER_DAY_ROUND = 2_000
ROWS_PER_DAY = ROUNDS * ROWS_PER_DAY_ROUND
FIRST_DAY = _dt.date(2024, 1, 1)

SPECS = {
    "commits_10k": {"version": COMMITS - 1, "checkpoint": COMMITS_CHECKPOINT, "rows_per_file": COMMITS_ROWS},
    "adds_100k": {"version": ADDS // ADDS_PER_COMMIT, "checkpoint": ADDS // ADDS_PER_COMMIT, "adds": ADDS},
    "partitioned": {"version": ROUNDS - 1, "days": DAYS, "rows": DAYS * ROWS_PER_DAY, "files": DAYS * ROUNDS},
}


def log_file(table: Path, version: int, suffix: str = "json") -> Path:
    return table / "_delta_log" / f"{version:020d}.{suffix}"


def stats_of(t: pa.Table) -> str:
    """Delta `add.stats` for a table of non-null integer columns."""
    import pyarrow.compute as pc

    mins, maxs, nulls = {}, {}, {}
    for name in t.column_names:
        mm = pc.min_max(t[name])
        mins[name] = mm["min"].as_py()
        maxs[name] = mm["max"].as_py()
        nulls[name] = t[name].null_count
    return json.dumps({"numRecords": t.num_rows, "minValues": mins, "maxValues": maxs, "nullCount": nulls})


def add_action(path: str, size: int, stats: str, ts: int) -> dict:
    return {
        "add": {
            "path": path,
            "partitionValues": {},
            "size": size,
            "modificationTime": ts,
            "dataChange": True,
            "stats": stats,
        }
    }


def write_commit(table: Path, version: int, ts: int, actions: list[dict]) -> None:
    info = {
        "commitInfo": {
            "timestamp": ts,
            "operation": "WRITE",
            "operationParameters": {"mode": "Append"},
            "engineInfo": "quiver-benches/delta_compare.py",
        }
    }
    lines = [json.dumps(info)] + [json.dumps(a) for a in actions]
    with open(log_file(table, version), "x") as f:  # "x": never overwrite a version
        f.write("\n".join(lines) + "\n")


def gen_commits_10k(table: Path) -> None:
    DeltaTable.create(table, schema=SMALL_SCHEMA)
    ts0 = int(time.time() * 1000) - COMMITS  # one millisecond per commit, ending about now
    for k in range(1, COMMITS):
        t = pa.table(
            {
                "id": pa.array(range((k - 1) * COMMITS_ROWS, k * COMMITS_ROWS), pa.int64()),
                "v": pa.array([k] * COMMITS_ROWS, pa.int64()),
            }
        )
        name = f"part-{k:05d}.parquet"
        pq.write_table(t, table / name)
        size = (table / name).stat().st_size
        write_commit(table, k, ts0 + k, [add_action(name, size, stats_of(t), ts0 + k)])
        if k == COMMITS_CHECKPOINT:
            DeltaTable(table).create_checkpoint()
        if k % 2000 == 0:
            print(f"    {k} commits", flush=True)


def verify_commits_10k(table: Path) -> None:
    dt = DeltaTable(table)
    n = COMMITS - 1
    assert dt.version() == n, dt.version()
    assert log_file(table, COMMITS_CHECKPOINT, "checkpoint.parquet").exists(), "no checkpoint at 9990"
    got = pa.table(QueryBuilder().register("t", dt).execute("SELECT count(*) AS n, sum(id) AS s FROM t").read_all())
    rows = n * COMMITS_ROWS
    assert got.to_pylist() == [{"n": rows, "s": rows * (rows - 1) // 2}], got.to_pylist()


def gen_adds_100k(table: Path) -> None:
    DeltaTable.create(table, schema=SMALL_SCHEMA)
    src_dir = table / "_sources"  # outside the log: readers never see it
    src_dir.mkdir()
    sources = []
    for i in range(ADDS_SOURCES):
        t = pa.table(
            {
                "id": pa.array(range(i * ADDS_ROWS, (i + 1) * ADDS_ROWS), pa.int64()),
                "v": pa.array([i] * ADDS_ROWS, pa.int64()),
            }
        )
        p = src_dir / f"src-{i}.parquet"
        pq.write_table(t, p)
        sources.append((p, p.stat().st_size, stats_of(t)))
    ts0 = int(time.time() * 1000) - 100
    for c in range(ADDS // ADDS_PER_COMMIT):
        version = c + 1
        actions = []
        for m in range(ADDS_PER_COMMIT):
            j = c * ADDS_PER_COMMIT + m
            src, size, stats = sources[j % ADDS_SOURCES]
            name = f"part-{j:06d}.parquet"
            os.link(src, table / name)
            actions.append(add_action(name, size, stats, ts0 + version))
        write_commit(table, version, ts0 + version, actions)
    DeltaTable(table).create_checkpoint()


def verify_adds_100k(table: Path) -> None:
    dt = DeltaTable(table)
    assert dt.version() == ADDS // ADDS_PER_COMMIT, dt.version()
    assert log_file(table, dt.version(), "checkpoint.parquet").exists(), "no checkpoint"
    n = len(dt.file_uris())
    assert n == ADDS, n
    assert pa.table(dt.get_add_actions(flatten=True)).num_rows == ADDS


def day(d: int) -> _dt.date:
    return FIRST_DAY + _dt.timedelta(days=d)


def gen_partitioned(table: Path) -> None:
    for r in range(ROUNDS):
        xs, days = [], []
        for d in range(DAYS):
            start = d * ROWS_PER_DAY + r * ROWS_PER_DAY_ROUND
            xs.append(pa.array(range(start, start + ROWS_PER_DAY_ROUND), pa.int64()))
            days.append(pa.array([day(d)] * ROWS_PER_DAY_ROUND, pa.date32()))
        x = pa.chunked_array(xs)
        import pyarrow.compute as pc

        t = pa.table({"day": pa.chunked_array(days), "x": x, "y": pc.bit_wise_and(x, 1023)})
        write_deltalake(table, t, partition_by=["day"], mode="error" if r == 0 else "append")


def verify_partitioned(table: Path) -> None:
    dt = DeltaTable(table)
    assert dt.version() == ROUNDS - 1, dt.version()
    assert len(dt.file_uris()) == DAYS * ROUNDS, len(dt.file_uris())
    got = pa.table(QueryBuilder().register("t", dt).execute("SELECT count(*) AS n FROM t").read_all())
    assert got.to_pylist() == [{"n": DAYS * ROWS_PER_DAY}], got.to_pylist()


GENERATORS = {
    "commits_10k": (gen_commits_10k, verify_commits_10k),
    "adds_100k": (gen_adds_100k, verify_adds_100k),
    "partitioned": (gen_partitioned, verify_partitioned),
}


def ensure_table(name: str) -> Path:
    """Generates `name` unless a complete copy with the same spec is already there."""
    table = DATA / name
    marker = DATA / f"{name}.ready.json"
    spec = dict(SPECS[name], deltalake=DELTALAKE_VERSION)
    if (
        marker.exists()
        and json.loads(marker.read_text()) == spec
        and log_file(table, spec["version"]).exists()
        and not log_file(table, spec["version"] + 1).exists()
    ):
        print(f"  {name}: cached (version {spec['version']})")
        return table
    gen, verify = GENERATORS[name]
    marker.unlink(missing_ok=True)
    shutil.rmtree(table, ignore_errors=True)
    table.mkdir(parents=True)
    print(f"  {name}: generating ...", flush=True)
    t0 = time.perf_counter()
    gen(table)
    verify(table)
    marker.write_text(json.dumps(spec))
    print(f"  {name}: generated and verified in {time.perf_counter() - t0:.1f}s")
    return table


# --------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------


def median_time(fn, runs: int) -> tuple[float, object]:
    """Median wall time of `runs` calls after one untimed warm-up; also the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


class QuiverError(RuntimeError):
    pass


class Quiver:
    def __init__(self, binary: Path):
        self.binary = binary

    def run(self, sql: str, fmt: str = "csv") -> str:
        p = subprocess.run(
            [str(self.binary), "--format", fmt, "-c", sql], capture_output=True, text=True
        )
        if p.returncode != 0:
            raise QuiverError(f"quiver exited {p.returncode} on {sql!r}:\n{p.stderr.strip()}")
        return p.stdout

    def timed(self, sql: str, runs: int) -> tuple[float, str]:
        return median_time(lambda: self.run(sql), runs)

    def rows(self, sql: str) -> list[tuple]:
        out = list(csv.reader(io.StringIO(self.run(sql))))
        return [tuple(int(v) if re.fullmatch(r"-?\d+", v) else v for v in row) for row in out[1:]]

    def scan_files(self, sql: str) -> dict:
        """Files read and skipped by the Delta scan, from EXPLAIN ANALYZE."""
        out = self.run(f"EXPLAIN ANALYZE {sql}")
        m = re.search(r"DeltaScanExec: table=[^\n]*?files=(\d+) of (\d+) \((\d+) skipped\)", out)
        if not m:
            raise QuiverError(f"no DeltaScanExec line in EXPLAIN ANALYZE output:\n{out}")
        metric = re.search(r"files_skipped=(\d+)", out)
        return {
            "files_scanned": int(m.group(1)),
            "files_total": int(m.group(2)),
            "files_skipped": int(m.group(3)),
            "files_skipped_metric": int(metric.group(1)) if metric else None,
        }


def quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def dl_query(table: Path, sql: str) -> list[tuple]:
    dt = DeltaTable(table)
    got = pa.table(QueryBuilder().register("t", dt).execute(sql).read_all())
    return [tuple(r.values()) for r in got.to_pylist()]


def dl_files_scanned(table: Path, sql: str) -> int | None:
    """Files deltalake's scan opened, summed from `files_opened=N` in its EXPLAIN ANALYZE."""
    plan = pa.table(QueryBuilder().register("t", DeltaTable(table)).execute(f"EXPLAIN ANALYZE {sql}").read_all())
    text = "\n".join(str(v) for row in plan.to_pylist() for v in row.values())
    opened = [int(n) for n in re.findall(r"files_opened=(\d+)", text)]
    return sum(opened) if opened else None


QUERIES = [
    # (metric name, WHERE clause); both select count(*), sum(x) from `partitioned`.
    ("selective: day = D AND x > T", f"day = '{day(49).isoformat()}' AND x > {49 * ROWS_PER_DAY + 15_500}"),
    ("stats only: x BETWEEN a AND b", f"x BETWEEN {61 * ROWS_PER_DAY + 14_000} AND {61 * ROWS_PER_DAY + 16_999}"),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_quiver = RELEASE_QUIVER if RELEASE_QUIVER.exists() else DEBUG_QUIVER
    ap.add_argument("--quiver", type=Path, default=default_quiver, help=f"Quiver CLI binary (default {default_quiver})")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median reported)")
    args = ap.parse_args()

    if not args.quiver.exists():
        print(f"no Quiver binary at {args.quiver}", file=sys.stderr)
        return 2
    q = Quiver(args.quiver)
    qmtime = _dt.datetime.fromtimestamp(args.quiver.stat().st_mtime).isoformat(timespec="seconds")
    print(f"quiver: {args.quiver} (built {qmtime}); deltalake {deltalake.__version__}; runs {args.runs}")

    DATA.mkdir(parents=True, exist_ok=True)
    print("tables:")
    tables = {name: ensure_table(name) for name in GENERATORS}

    # A build from before the Delta reader refuses Delta tables: stop early rather than
    # filling the report with errors.
    try:
        q.run(f"SELECT 1 FROM {quote(tables['partitioned'])} LIMIT 0")
    except QuiverError as e:
        print(f"{e}\n\n{args.quiver} cannot read these tables; pass a newer build with --quiver", file=sys.stderr)
        return 2

    startup, _ = q.timed("SELECT 1", args.runs)
    print(f"quiver start-up (SELECT 1): {startup * 1000:.1f} ms")

    results: list[dict] = []
    problems: list[str] = []

    def record(metric: str, dl_s: float, qv_raw: float | None, **extra) -> None:
        qv_net = None if qv_raw is None else max(qv_raw - startup, 1e-6)
        row = {"metric": metric, "deltalake_s": dl_s, "quiver_raw_s": qv_raw, "quiver_net_s": qv_net}
        row["ratio"] = None if qv_net is None else dl_s / qv_net
        row.update(extra)
        results.append(row)
        print(f"  measured {metric}", flush=True)

    def quiver_or_none(fn):
        try:
            return fn()
        except QuiverError as e:
            problems.append(str(e))
            print(f"!!! {e}", file=sys.stderr)
            return None

    # Snapshot loads.
    for name, table in tables.items():
        dl_s, _ = median_time(lambda: DeltaTable(table), args.runs)
        qv = quiver_or_none(lambda: q.timed(f"SELECT 1 FROM {quote(table)} LIMIT 0", args.runs))
        record(f"{name}: snapshot load", dl_s, qv and qv[0])
        if name == "adds_100k":
            dl_s, n = median_time(lambda: len(DeltaTable(table).file_uris()), args.runs)
            record(f"{name}: snapshot + file list", dl_s, qv and qv[0], deltalake_files=n)

    # Correctness checks on the unpartitioned tables (untimed).
    t10k = tables["commits_10k"]
    sql = "SELECT count(*) AS n, sum(id) AS s FROM {t}"
    want = dl_query(t10k, sql.format(t="t"))
    got = quiver_or_none(lambda: q.rows(sql.format(t=quote(t10k))))
    if got is not None and got != want:
        problems.append(f"MISMATCH commits_10k count/sum: deltalake {want}, quiver {got}")
    t100k = tables["adds_100k"]
    dl_files = len(DeltaTable(t100k).file_uris())
    got = quiver_or_none(lambda: q.scan_files(f"SELECT count(*) FROM {quote(t100k)} WHERE id < 0"))
    if got is not None and got["files_total"] != dl_files:
        problems.append(f"MISMATCH adds_100k file count: deltalake {dl_files}, quiver {got['files_total']}")

    # Selective queries on the partitioned table.
    part = tables["partitioned"]
    dl_total = len(DeltaTable(part).file_uris())
    for metric, where in QUERIES:
        sql = "SELECT count(*) AS n, sum(x) AS sx FROM {t} WHERE " + where
        dl_s, want = median_time(lambda: dl_query(part, sql.format(t="t")), args.runs)
        dl_kept = len(DeltaTable(part).file_uris(file_pruning_predicate=where))
        dl_opened = dl_files_scanned(part, sql.format(t="t"))
        if dl_opened is not None and dl_opened != dl_kept:
            print(f"  note: deltalake's scan opened {dl_opened} files, file_uris() keeps {dl_kept}")
        qsql = sql.format(t=quote(part))
        qv = quiver_or_none(lambda: q.timed(qsql, args.runs))
        got = quiver_or_none(lambda: q.rows(qsql))
        files = quiver_or_none(lambda: q.scan_files(qsql))
        if got is not None and got != want:
            problems.append(f"MISMATCH {metric}: deltalake {want}, quiver {got}")
        record(
            f"partitioned: {metric}",
            dl_s,
            qv and qv[0],
            answer_deltalake=want,
            answer_quiver=got,
            deltalake_files_skipped=dl_total - (dl_kept if dl_opened is None else dl_opened),
            deltalake_files_kept_by_file_uris=dl_kept,
            deltalake_files_opened=dl_opened,
            quiver_files_skipped=files and files["files_skipped"],
            files_total=dl_total,
            quiver_scan=files,
        )

    # Report.
    def f(v, fmt="{:.4f}"):
        return "-" if v is None else fmt.format(v)

    header = ["metric", "deltalake s", "quiver s (net)", "quiver s (raw)", "ratio dl/qv", "skipped dl", "skipped qv"]
    rows = [
        [
            r["metric"],
            f(r["deltalake_s"]),
            f(r["quiver_net_s"]),
            f(r["quiver_raw_s"]),
            f(r["ratio"], "{:.2f}"),
            f(r.get("deltalake_files_skipped"), "{}"),
            f(r.get("quiver_files_skipped"), "{}"),
        ]
        for r in results
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
    )
    print()
    print(line(header))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    print(f"(quiver net = raw - start-up {startup:.4f}s; ratio > 1 means Quiver is faster;"
          f" files skipped out of {dl_total} for the partitioned queries)")

    if problems:
        print("\n" + "!" * 72)
        for p in problems:
            print(f"!!! {p}")
        print("!" * 72)

    out = {
        "when": _dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "quiver": {"binary": str(args.quiver), "built": qmtime, "startup_s": startup},
        "deltalake": deltalake.__version__,
        "runs": args.runs,
        "results": results,
        "problems": problems,
    }
    (DATA / "results.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"\nwrote {DATA / 'results.json'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
