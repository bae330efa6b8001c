#!/usr/bin/env python3
"""TPC-H side by side: Quiver against DuckDB, datafusion-python and Polars.

Every engine reads the same Parquet files (made by tpchgen-cli) and runs the 22
TPC-H queries from shared/testdata. Each (engine, query) pair runs in its own
process: one untimed warm-up, then --runs timed runs, timed inside that process
(Quiver by its own `--timer`, the Python engines with time.perf_counter around
execute + collect). The report gives each engine's median, the ratio
quiver/peer (below 1.0 means Quiver is faster), the geometric mean of those
ratios per peer, and a row-count cross-check against DuckDB.

Examples:
  python3 benches/compare.py --scale 0.01 --queries 1,6 \\
      --quiver ~/.cache/quiver/target/debug/quiver
  python3 benches/compare.py --scale 1          # the full run (release binary)

Plain Python 3.11: the standard library plus the peers, which it installs with
pip unless they are already there (or --skip-install is given).
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_QUERY_DIR = REPO.parent / "shared" / "testdata" / "tpch" / "datafusion" / "benchmarks" / "queries"
if not DEFAULT_QUERY_DIR.is_dir():  # CI clones main with shared/ beside it; a checkout may be elsewhere
    DEFAULT_QUERY_DIR = Path("/work/shared/testdata/tpch/datafusion/benchmarks/queries")

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]
ENGINES = ["quiver", "duckdb", "datafusion", "polars"]
PEERS = ENGINES[1:]
LABELS = {"quiver": "quiver", "duckdb": "duckdb", "datafusion": "datafusion-py", "polars": "polars"}

# Exactly these versions (pyarrow is whatever pip resolves).
PINNED = {"duckdb": "2.0.0", "datafusion": "55.0.0", "polars": "2.1.0", "tpchgen-cli": "4.0.0"}
PIP_INSTALL = [
    sys.executable, "-m", "pip", "install", "--quiet",
    "duckdb==2.0.0", "datafusion==55.0.0", "polars==2.1.0", "tpchgen-cli==4.0.0", "pyarrow",
]

# Quiver's --timer prints seconds with three decimals; a 0.000 is below 0.5 ms.
QUIVER_TIMER_FLOOR = 0.0005
RUN_TIME = re.compile(r"^Run Time: ([0-9]+(?:\.[0-9]+)?)s\s*$")


class SetupError(Exception):
    """A real failure: the harness cannot run (exit 2)."""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- SQL

def split_statements(sql: str) -> list[str]:
    """Splits a script on ';' outside quotes and comments; drops empty statements."""
    out, cur, i, n = [], [], 0, len(sql)
    quote = None
    while i < n:
        c = sql[i]
        if quote:
            cur.append(c)
            if c == quote:
                quote = None
        elif c in ("'", '"'):
            quote = c
            cur.append(c)
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            cur.append(sql[i:j])
            i = j
            continue
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            cur.append(sql[i:j])
            i = j
            continue
        elif c == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return [s.strip() for s in out if strip_comments(s).strip()]


def strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


def first_word(sql: str) -> str:
    m = re.match(r"\s*(\w+|\()", strip_comments(sql))
    return m.group(1).lower() if m else ""


def load_query(path: Path) -> dict:
    """Returns {'pre': [...], 'main': str, 'post': [...]}.

    The timed statement is the one that returns rows (select/with/values); the
    statements before it (q15's CREATE VIEW) and after it (DROP VIEW) run once,
    untimed.
    """
    stmts = split_statements(path.read_text())
    mains = [i for i, s in enumerate(stmts) if first_word(s) in ("select", "with", "values", "(")]
    if len(mains) != 1:
        raise SetupError(f"{path}: expected one query statement, found {len(mains)} among {len(stmts)}")
    i = mains[0]
    return {"pre": stmts[:i], "main": stmts[i], "post": stmts[i + 1:]}


CREATE_VIEW = re.compile(
    r"^\s*create\s+(?:or\s+replace\s+)?view\s+([\w.]+)\s*(?:\(([^)]*)\))?\s+as\s+(.*)$", re.I | re.S
)
DROP_VIEW = re.compile(r"^\s*drop\s+view\s+(?:if\s+exists\s+)?([\w.]+)\s*$", re.I | re.S)


# --------------------------------------------------------------------------- setup

def fmt_scale(scale: float) -> str:
    return str(int(scale)) if float(scale).is_integer() else repr(float(scale))


def installed_version(dist: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def ensure_peers(skip_install: bool) -> dict:
    """Installs the pinned peers unless they are all present; returns their versions."""
    want = dict(PINNED)
    have = {d: installed_version(d) for d in list(want) + ["pyarrow"]}
    missing = [d for d, v in want.items() if have[d] != v]
    if have["pyarrow"] is None:
        missing.append("pyarrow")
    if missing and not skip_install:
        log(f"installing peers ({', '.join(missing)} missing or at another version): {' '.join(PIP_INSTALL[2:])}")
        r = subprocess.run(PIP_INSTALL)
        if r.returncode != 0:
            raise SetupError(f"pip install failed (exit {r.returncode})")
        import importlib
        importlib.invalidate_caches()
        have = {d: installed_version(d) for d in list(want) + ["pyarrow"]}
    elif missing:
        log(f"--skip-install: not installing {', '.join(missing)}; engines without their package are n/a")
    return have


def tpchgen_binary() -> str | None:
    found = shutil.which("tpchgen-cli")
    if found:
        return found
    cand = Path(sys.executable).parent / "tpchgen-cli"
    return str(cand) if cand.exists() else None


def parquet_ok(path: Path) -> bool:
    """Cheap integrity check: a Parquet file starts and ends with PAR1."""
    try:
        size = path.stat().st_size
        if size < 12:
            return False
        with path.open("rb") as f:
            head = f.read(4)
            f.seek(-4, os.SEEK_END)
            tail = f.read(4)
        return head == b"PAR1" and tail == b"PAR1"
    except OSError:
        return False


def find_tables(data_dir: Path) -> dict | None:
    """Maps each table to {'path', 'glob', 'files'} if all 8 are there and whole, else None.

    tpchgen-cli writes <dir>/<table>.parquet, or with --parts a folder
    <dir>/<table>/<table>.<n>.parquet; both layouts are accepted.
    """
    tables = {}
    for t in TABLES:
        single = data_dir / f"{t}.parquet"
        folder = data_dir / t
        if single.is_file():
            files = [single]
            tables[t] = {"path": str(single.resolve()), "glob": str(single.resolve()), "dir": False}
        elif folder.is_dir():
            files = sorted(folder.glob("*.parquet"))
            if not files:
                return None
            tables[t] = {"path": str(folder.resolve()) + "/", "glob": str(folder.resolve() / "*.parquet"), "dir": True}
        else:
            return None
        if not all(parquet_ok(f) for f in files):
            return None
        tables[t]["files"] = [str(f.resolve()) for f in files]
        tables[t]["bytes"] = sum(f.stat().st_size for f in files)
    return tables


def ensure_data(data_dir: Path, scale: float) -> dict:
    tables = find_tables(data_dir)
    if tables:
        return tables
    gen = tpchgen_binary()
    if not gen:
        raise SetupError(f"{data_dir} lacks the TPC-H tables and tpchgen-cli is not installed")
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [gen, "parquet", "-s", fmt_scale(scale), "--output-dir", str(data_dir), "--overwrite"]
    log(f"generating TPC-H SF {fmt_scale(scale)}: {' '.join(cmd)}")
    t0 = time.perf_counter()
    r = subprocess.run(cmd)
    if r.returncode != 0:
        raise SetupError(f"tpchgen-cli failed (exit {r.returncode})")
    tables = find_tables(data_dir)
    if not tables:
        raise SetupError(f"tpchgen-cli ran but {data_dir} still lacks whole files for all of {', '.join(TABLES)}")
    log(f"generated in {time.perf_counter() - t0:.1f}s")
    return tables


def default_quiver() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR")
    base = Path(target) if target else Path.home() / ".cache" / "quiver" / "target"
    return base / "release" / "quiver"


# --------------------------------------------------------------------------- engines

def run_quiver(quiver: Path, tables: dict, q: dict, runs: int, threads: int | None, timeout: float) -> dict:
    """One quiver process per query: the tables, q's pre statements, the query 1 + runs
    times, q's post statements. --timer prints 'Run Time: Xs' after every statement."""
    reps = 1 + runs
    stmts = []
    for t, info in tables.items():
        loc = info["path"].replace("'", "''")
        stmts.append(f"CREATE EXTERNAL TABLE {t} STORED AS PARQUET LOCATION '{loc}'")
    first_query = len(stmts) + len(q["pre"])
    stmts += q["pre"] + [q["main"]] * reps + q["post"]
    with tempfile.TemporaryDirectory(prefix="quiver-compare-") as tmp:
        script = Path(tmp) / "script.sql"
        # ';' on its own line, so a statement ending in a -- comment is still terminated.
        script.write_text("".join(f"{st}\n;\n" for st in stmts))
        # Results go to a file in our temp dir: quiver writes a temp file beside the target and
        # renames it into place, so `-o /dev/null` would try to replace /dev/null itself.
        out = Path(tmp) / "out.csv"
        cmd = [str(quiver), "-f", str(script), "--timer", "--format", "csv", "-o", str(out)]
        if threads:
            cmd += ["--threads", str(threads)]
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timed out after {timeout:g}s"}
        times = [float(m.group(1)) for m in map(RUN_TIME.match, p.stderr.splitlines()) if m]
        errors = [l for l in p.stderr.splitlines() if l.startswith("error")]
        if p.returncode != 0:
            where = len(times) - 1  # the statement that failed printed its time too
            what = "a CREATE EXTERNAL TABLE" if where < len(tables) else (
                "a setup statement" if where < first_query else
                "the query" if where < first_query + reps else "a cleanup statement")
            msg = " | ".join(errors) or p.stderr.strip()[-500:] or f"exit {p.returncode}"
            return {"ok": False, "error": f"exit {p.returncode} in {what}: {msg}"}
        if len(times) != len(stmts):
            return {"ok": False, "error": f"expected {len(stmts)} 'Run Time' lines on stderr, got {len(times)}"}
        mine = times[first_query:first_query + reps]
        rows = quiver_rows(out, reps)
        res = {"ok": True, "warmup": mine[0], "times": mine[1:], "rows": rows}
        if rows is None:
            res["note"] = "could not count rows in the CSV output"
        return res


def quiver_rows(out: Path, reps: int) -> int | None:
    """Rows per result in quiver's CSV output, which ends with `reps` identical results.

    Each result starts with its header line; the header is the record whose last `reps`
    occurrences are evenly spaced and whose last occurrence starts the file's final block.
    Anything before (output of other statements) is ignored. None when it cannot tell.
    """
    if not out.exists():
        return None
    with out.open(newline="") as f:
        records = [tuple(r) for r in csv.reader(f)]
    if not records:
        return None
    positions: dict[tuple, list[int]] = {}
    for i, r in enumerate(records):
        positions.setdefault(r, []).append(i)
    total = len(records)
    best = None
    for r, pos in positions.items():
        if len(pos) < reps:
            continue
        last = pos[-reps:]
        d = total - last[-1]
        if all(b - a == d for a, b in zip(last, last[1:])) and (best is None or last[-1] < best[0]):
            best = (last[-1], d - 1)
    return None if best is None else best[1]


def worker(spec_path: str) -> int:
    """Runs one query on one Python engine; writes a JSON result to spec['result']."""
    spec = json.loads(Path(spec_path).read_text())
    engine, tables, q, runs, threads = spec["engine"], spec["tables"], spec["query"], spec["runs"], spec["threads"]
    res: dict = {"ok": False}
    try:
        if engine == "duckdb":
            res = _duckdb(tables, q, runs, threads)
        elif engine == "datafusion":
            res = _datafusion(tables, q, runs, threads)
        elif engine == "polars":
            res = _polars(tables, q, runs, threads)
        else:
            res = {"ok": False, "error": f"unknown engine {engine}"}
    except BaseException as e:  # noqa: BLE001 - everything becomes a reported failure
        res = {"ok": False, "error": f"{type(e).__name__}: {e}"[:1000]}
    Path(spec["result"]).write_text(json.dumps(res))
    return 0


def _time_runs(run_once, runs: int) -> dict:
    t0 = time.perf_counter()
    rows = run_once()
    warm = time.perf_counter() - t0
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        n = run_once()
        times.append(time.perf_counter() - t0)
        if n != rows:
            raise RuntimeError(f"row count changed between runs: {rows} then {n}")
    return {"ok": True, "warmup": warm, "times": times, "rows": rows}


def _duckdb(tables, q, runs, threads):
    import duckdb
    con = duckdb.connect(config={"threads": threads} if threads else {})
    for t, info in tables.items():
        src = info["glob"].replace("'", "''")
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{src}')")
    for s in q["pre"]:
        con.execute(s)

    def once():
        rel = con.execute(q["main"])
        fetch = getattr(rel, "to_arrow_table", None) or getattr(rel, "fetch_arrow_table", None) or rel.arrow
        return fetch().num_rows

    res = _time_runs(once, runs)
    for s in q["post"]:
        con.execute(s)
    res["threads"] = f"threads={con.execute('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]}"
    return res


def _datafusion(tables, q, runs, threads):
    from datafusion import SessionConfig, SessionContext
    config = SessionConfig()
    if threads:
        config = config.with_target_partitions(threads)
    ctx = SessionContext(config)
    for t, info in tables.items():
        ctx.register_parquet(t, info["path"])
    for s in q["pre"]:
        ctx.sql(s).collect()

    def once():
        return sum(b.num_rows for b in ctx.sql(q["main"]).collect())

    res = _time_runs(once, runs)
    for s in q["post"]:
        ctx.sql(s).collect()
    res["threads"] = f"target_partitions={_datafusion_partitions(threads)} (tokio runtime: all cores)"
    return res


def _datafusion_partitions(threads):
    """The target_partitions the timed context got (read from a twin with information_schema)."""
    from datafusion import SessionConfig, SessionContext
    try:
        config = SessionConfig().with_information_schema(True)
        if threads:
            config = config.with_target_partitions(threads)
        batch = SessionContext(config).sql("SHOW datafusion.execution.target_partitions").collect()[0]
        return batch.column(1)[0].as_py()
    except Exception:  # noqa: BLE001 - only a note
        return threads or "default"


def _polars(tables, q, runs, threads):
    if threads:  # must be set before polars is imported
        os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl
    ctx = pl.SQLContext()
    for t, info in tables.items():
        ctx.register(t, pl.scan_parquet(info["glob"]))
    notes = []
    for s in q["pre"]:
        try:
            ctx.execute(s).collect()
        except Exception as e:  # noqa: BLE001 - Polars SQL may lack CREATE VIEW (col, ...) AS
            m = CREATE_VIEW.match(s)
            if not m:
                raise
            name, cols, body = m.group(1), m.group(2), m.group(3)
            lf = ctx.execute(body)
            if cols:
                names = [c.strip() for c in cols.split(",")]
                lf = lf.rename(dict(zip(lf.collect_schema().names(), names)))
            ctx.register(name, lf)
            notes.append(f"CREATE VIEW {name} registered as a LazyFrame (Polars SQL: {type(e).__name__})")

    def once():
        return ctx.execute(q["main"]).collect().height

    res = _time_runs(once, runs)
    for s in q["post"]:
        try:
            ctx.execute(s).collect()
        except Exception:  # noqa: BLE001
            m = DROP_VIEW.match(s)
            if not m:
                raise
            ctx.unregister(m.group(1))
    res["threads"] = f"thread_pool_size={pl.thread_pool_size()}"
    if notes:
        res["note"] = "; ".join(notes)
    return res


def run_peer(engine: str, tables: dict, q: dict, runs: int, threads: int | None, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"{engine}-compare-") as tmp:
        spec = Path(tmp) / "spec.json"
        result = Path(tmp) / "result.json"
        spec.write_text(json.dumps({"engine": engine, "tables": tables, "query": q, "runs": runs,
                                    "threads": threads, "result": str(result)}))
        try:
            p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", str(spec)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timed out after {timeout:g}s"}
        if not result.exists():
            tail = (p.stderr or p.stdout).strip()[-500:]
            return {"ok": False, "error": f"worker died (exit {p.returncode}): {tail}"}
        return json.loads(result.read_text())


# --------------------------------------------------------------------------- report

def geomean(xs: list[float]) -> float | None:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt_t(r: dict | None) -> str:
    if not r:
        return "-"
    return f"{r['median']:.3f}" if r.get("ok") else "n/a"


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def build_report(results: dict, engines: list[str], qnums: list[int]) -> dict:
    peers = [e for e in engines if e != "quiver"]
    per_query = {}
    ratios = {p: {} for p in peers}
    mismatches, failures = [], []
    ref_engine = next((e for e in ("duckdb", "datafusion", "polars", "quiver") if e in engines), None)
    for n in qnums:
        key = f"q{n}"
        row = results[key]
        for e in engines:
            r = row.get(e)
            if r and not r.get("ok"):
                failures.append({"query": key, "engine": e, "error": r.get("error")})
        qv = row.get("quiver")
        entry = {"ratios": {}}
        for p in peers:
            pr = row.get(p)
            if qv and qv.get("ok") and pr and pr.get("ok") and pr["median"] > 0:
                ratio = max(qv["median"], QUIVER_TIMER_FLOOR) / pr["median"]
                ratios[p][key] = ratio
                entry["ratios"][p] = ratio
        # DuckDB's row count is the reference; if DuckDB failed this query, the next engine's.
        qref = next((e for e in ("duckdb", "datafusion", "polars", "quiver")
                     if e in engines and (row.get(e) or {}).get("ok")), None)
        if qref:
            ref_rows = row[qref]["rows"]
            entry["reference_rows"] = {"engine": qref, "rows": ref_rows}
            for e in engines:
                r = row.get(e)
                if e != qref and r and r.get("ok") and r.get("rows") != ref_rows:
                    mismatches.append({"query": key, "engine": e, "rows": r.get("rows"),
                                       "reference_engine": qref, "reference_rows": ref_rows})
                    r["row_mismatch"] = True
        per_query[key] = entry
    summary = {"geomean_ratio": {}, "queries_compared": {}}
    for p in peers:
        summary["geomean_ratio"][p] = geomean(list(ratios[p].values()))
        summary["queries_compared"][p] = len(ratios[p])
    summary["quiver_slower_than_datafusion"] = (
        [k for k, v in ratios["datafusion"].items() if v > 1.0]
        if "datafusion" in ratios and "quiver" in engines else None)
    summary["row_mismatches"] = mismatches
    summary["failures"] = failures
    summary["row_reference"] = ref_engine
    return {"per_query": per_query, "summary": summary}


def print_table(results: dict, report: dict, engines: list[str], qnums: list[int]) -> None:
    peers = [e for e in engines if e != "quiver"]
    ref = report["summary"]["row_reference"]
    heads = ["query"] + [f"{LABELS[e]} s" for e in engines] + \
        ([f"q/{LABELS[p]}" for p in peers] if "quiver" in engines else []) + [f"rows ({ref})" if ref else "rows"]
    lines = []
    for n in qnums:
        key = f"q{n}"
        row = results[key]
        cells = [key] + [fmt_t(row.get(e)) + ("!" if (row.get(e) or {}).get("row_mismatch") else "") for e in engines]
        if "quiver" in engines:
            cells += [fmt_ratio(report["per_query"][key]["ratios"].get(p)) for p in peers]
        rr = report["per_query"][key].get("reference_rows")
        cells.append("n/a" if not rr else str(rr["rows"]) + ("" if rr["engine"] == ref else f" ({rr['engine']})"))
        lines.append(cells)
    if "quiver" in engines:
        gm = ["geomean"] + [""] * len(engines) + \
            [fmt_ratio(report["summary"]["geomean_ratio"][p]) for p in peers] + [""]
        lines.append(gm)
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(heads)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(fmt(heads))
    print("  ".join("-" * w for w in widths))
    for l in lines[:-1] if "quiver" in engines else lines:
        print(fmt(l))
    if "quiver" in engines:
        print("  ".join("-" * w for w in widths))
        print(fmt(lines[-1]))
    s = report["summary"]
    print()
    print("Times are medians in seconds; q/peer = quiver median / peer median (below 1.0: quiver is faster);")
    print("geomean over the queries both engines finished; '!' marks a row count that differs from the reference.")
    if "quiver" in engines:
        for p in peers:
            g = s["geomean_ratio"][p]
            print(f"  quiver/{LABELS[p]}: geomean {fmt_ratio(g)} over {s['queries_compared'][p]} queries"
                  + ("" if g is None else f" ({'quiver faster' if g < 1 else 'quiver slower'})"))
        slower = s["quiver_slower_than_datafusion"]
        if slower is not None:
            print(f"  quiver slower than datafusion-python on: {', '.join(slower) if slower else 'none'}")
    if s["row_mismatches"]:
        print("Row-count mismatches:")
        for m in s["row_mismatches"]:
            print(f"  {m['query']} {LABELS[m['engine']]}: {m['rows']} rows, "
                  f"{LABELS[m['reference_engine']]} {m['reference_rows']}")
    else:
        print(f"Row counts: all finished engines agree with {ref or 'each other'}.")
    notes = [(k, e, r["note"]) for k, row in results.items() for e, r in row.items() if r.get("note")]
    if notes:
        print("Notes:")
        for k, e, note in notes:
            print(f"  {k} {LABELS[e]}: {note}")
    if s["failures"]:
        print("Failures (n/a):")
        for f in s["failures"]:
            print(f"  {f['query']} {LABELS[f['engine']]}: {(f['error'] or '').splitlines()[0][:300]}")


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[1],
        epilog="Examples:\n"
               "  python3 benches/compare.py --scale 0.01 --queries 1,6 --quiver ~/.cache/quiver/target/debug/quiver\n"
               "  python3 benches/compare.py --scale 1\n\n"
               "Exit status: 0 when the comparison ran (engine or query failures are reported as n/a);\n"
               "1 with --strict when quiver failed a query or a row count disagreed; 2 when the harness\n"
               "could not run (no quiver binary, no data, failed install, bad arguments).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="TPC-H scale factor (default: 1)")
    ap.add_argument("--quiver", type=Path, default=None,
                    help="the quiver binary (default: $CARGO_TARGET_DIR/release/quiver, else "
                         "~/.cache/quiver/target/release/quiver)")
    ap.add_argument("--runs", type=int, default=3,
                    help="timed runs per query per engine, after one untimed warm-up (default: 3)")
    ap.add_argument("--queries", default=None,
                    help="comma-separated query numbers, e.g. 1,3,6 (default: all 22)")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="Parquet folder; generated with tpchgen-cli when it lacks the 8 tables "
                         "(default: benches/data/sf{scale})")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON results file (default: benches/results/tpch-sf{scale}.json)")
    ap.add_argument("--skip-install", action="store_true",
                    help="do not pip-install missing peers; engines whose package is missing are n/a")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help=f"comma-separated subset of {','.join(ENGINES)} (default: all)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for every engine (default: unset, each engine uses all cores)")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="seconds allowed for one engine's warm-up + runs of one query (default: 1800)")
    ap.add_argument("--query-dir", type=Path, default=DEFAULT_QUERY_DIR,
                    help=f"folder with q1.sql .. q22.sql (default: {DEFAULT_QUERY_DIR})")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 if quiver failed a query or any row count disagreed")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return args
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.scale <= 0:
        ap.error("--scale must be positive")
    if args.threads is not None and args.threads < 1:
        ap.error("--threads must be at least 1")
    try:
        args.qnums = list(range(1, 23)) if not args.queries else \
            [int(x) for x in args.queries.replace(" ", "").split(",") if x]
    except ValueError:
        ap.error(f"--queries: expected numbers like 1,3,6, got {args.queries!r}")
    if not args.qnums or any(not 1 <= n <= 22 for n in args.qnums):
        ap.error("--queries: numbers must be between 1 and 22")
    args.engine_list = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in args.engine_list if e not in ENGINES]
    if bad or not args.engine_list:
        ap.error(f"--engines: unknown {', '.join(bad) or '(none given)'}; choose from {', '.join(ENGINES)}")
    args.engine_list = [e for e in ENGINES if e in args.engine_list]
    sf = fmt_scale(args.scale)
    args.data_dir = args.data_dir or REPO / "benches" / "data" / f"sf{sf}"
    args.out = args.out or REPO / "benches" / "results" / f"tpch-sf{sf}.json"
    args.quiver = (args.quiver or default_quiver()).expanduser()
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args.worker)
    engines = args.engine_list
    try:
        versions = ensure_peers(args.skip_install)
        dist = {"duckdb": "duckdb", "datafusion": "datafusion", "polars": "polars"}
        unavailable = {e for e in engines if e in dist and versions.get(dist[e]) is None}
        if "quiver" in engines:
            if not (args.quiver.is_file() and os.access(args.quiver, os.X_OK)):
                raise SetupError(f"no quiver binary at {args.quiver} (build it with "
                                 "`cargo build --release -p quiver`, or pass --quiver PATH)")
            qv = subprocess.run([str(args.quiver), "--version"], capture_output=True, text=True)
            versions["quiver"] = (qv.stdout.strip() or qv.stderr.strip()) or f"exit {qv.returncode}"
        if not args.query_dir.is_dir():
            raise SetupError(f"no query folder {args.query_dir}")
        queries = {}
        for n in args.qnums:
            path = args.query_dir / f"q{n}.sql"
            if not path.is_file():
                raise SetupError(f"missing query file {path}")
            queries[n] = load_query(path)
        tables = ensure_data(args.data_dir, args.scale)
    except SetupError as e:
        log(f"compare.py: {e}")
        return 2

    thread_note = {}
    results: dict = {}
    started = time.time()
    for n in args.qnums:
        key = f"q{n}"
        results[key] = {}
        for e in engines:
            if e in unavailable:
                results[key][e] = {"ok": False, "error": f"{e} is not installed (--skip-install)"}
                continue
            t0 = time.perf_counter()
            if e == "quiver":
                r = run_quiver(args.quiver, tables, queries[n], args.runs, args.threads, args.timeout)
                if r.get("ok"):
                    r["threads"] = f"--threads {args.threads}" if args.threads else "default (all cores)"
            else:
                r = run_peer(e, tables, queries[n], args.runs, args.threads, args.timeout)
            if r.get("ok"):
                r["median"] = statistics.median(r["times"])
                thread_note.setdefault(e, r.get("threads"))
                status = f"{r['median']:.3f}s median, {r['rows']} rows"
            else:
                status = f"FAILED: {(r.get('error') or '').splitlines()[0][:200] if r.get('error') else '?'}"
            log(f"{key:>4} {LABELS[e]:<13} {status}  [{time.perf_counter() - t0:.1f}s wall]")
            results[key][e] = r

    report = build_report(results, engines, args.qnums)
    print()
    print(f"TPC-H SF {fmt_scale(args.scale)}: {args.runs} timed run(s) after 1 warm-up; {os.cpu_count()} cores; "
          f"data {args.data_dir}")
    print("threads: " + "; ".join(f"{LABELS[e]} {thread_note.get(e, '?')}" for e in engines))
    print()
    print_table(results, report, engines, args.qnums)

    doc = {
        "benchmark": "tpch",
        "scale": args.scale,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 1),
        "runs": args.runs,
        "warmups": 1,
        "queries": [f"q{n}" for n in args.qnums],
        "engines": engines,
        "versions": {k: versions.get(k) for k in ("quiver", "duckdb", "datafusion", "polars", "pyarrow", "tpchgen-cli")},
        "quiver_binary": str(args.quiver) if "quiver" in engines else None,
        "data_dir": str(Path(args.data_dir).resolve()),
        "data_bytes": {t: info["bytes"] for t, info in tables.items()},
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "cpu": _cpu_model()},
        "threads": {"requested": args.threads, **{e: thread_note.get(e) for e in engines}},
        "method": {
            "quiver": "one process per query: CREATE EXTERNAL TABLE x8, then the query 1+runs times, "
                      "`quiver -f script.sql --timer --format csv -o <tmp file>`; times are its 'Run Time' lines "
                      "(plan + execute + CSV write, millisecond resolution; 0.000 counted as 0.0005 in ratios)",
            "duckdb": "one process per query: views over read_parquet; time execute(sql).to_arrow_table()",
            "datafusion": "one process per query: SessionContext.register_parquet; time ctx.sql(sql).collect()",
            "polars": "one process per query: SQLContext over scan_parquet; time execute(sql).collect()",
            "q15": "CREATE VIEW and DROP VIEW run once, untimed; the SELECT is timed",
            "row_check": "row count of each engine's result compared with the reference engine's",
        },
        "results": results,
        **report,
    }
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"\nresults: {args.out}")
    except OSError as e:
        log(f"compare.py: cannot write {args.out}: {e}")
        return 2
    if args.strict:
        s = report["summary"]
        if s["row_mismatches"] or any(f["engine"] == "quiver" for f in s["failures"]):
            return 1
    return 0


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
