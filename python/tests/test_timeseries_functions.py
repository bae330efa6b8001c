"""Differential tests of the time-series functions against DuckDB 2.0: `time_bucket` over a
sweep of widths, offsets and origins; `time_windows` against a join with DuckDB's bucket
grid; `session_id` against a LAG + running-sum reference; and DataFusion's RANGE frames by
time against DuckDB's. Random data over several seeds; the row sets must be equal exactly.

Timestamps are compared as integer microseconds since the epoch (DuckDB answers in
microseconds; Quiver keeps the input's unit and time zone), so the time zone an engine
labels its answer with does not matter, only the instant.
"""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import quiver

SEEDS = [1, 2, 3]
ROWS = 2000
US_PER_DAY = 86_400_000_000
# 1900-01-01 and 2100-01-01, in microseconds.
WIDE = (-2_208_988_800_000_000, 4_102_444_800_000_000)
# Three days from 2024-03-29 (a month end and a leap day nearby), in microseconds.
NARROW = (1_711_670_400_000_000, 1_711_670_400_000_000 + 3 * US_PER_DAY)
SCALE = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 1}


def random_micros(rng: random.Random, n: int, span: tuple[int, int], nulls: float = 0.03):
    """Timestamps in µs: uniform, plus ties, round values and month/day edges, plus NULLs."""
    lo, hi = span
    out = []
    for _ in range(n):
        r = rng.random()
        if r < nulls:
            out.append(None)
        elif r < 0.15 and out and out[-1] is not None:
            out.append(out[-1])  # a tie
        elif r < 0.35:
            # On a round boundary: whole minutes, hours or days.
            step = rng.choice([60_000_000, 3_600_000_000, US_PER_DAY])
            out.append(rng.randrange(lo // step, hi // step) * step + rng.choice([0, 0, -1, 1]))
        else:
            out.append(rng.randrange(lo, hi))
    return out


def ts_array(micros, unit: str = "us", tz: str | None = None) -> pa.Array:
    """µs values as a timestamp array of the given unit (truncated to whole units)."""
    if unit == "ns":
        values = [None if m is None else m * 1000 for m in micros]
    else:
        values = [None if m is None else m // SCALE[unit] for m in micros]
    return pa.array(values, pa.int64()).cast(pa.timestamp(unit, tz))


def micros_of(col: pa.ChunkedArray | pa.Array) -> list:
    """A temporal column as µs ints (days for dates), floor-divided from nanoseconds."""
    t = col.type
    if pa.types.is_timestamp(t):
        ints = pc.cast(col, pa.int64())
        if t.unit == "ns":
            return [None if v is None else v // 1000 for v in ints.to_pylist()]
        return [None if v is None else v * SCALE[t.unit] for v in ints.to_pylist()]
    if pa.types.is_date32(t):
        return pc.cast(col, pa.int32()).to_pylist()
    if pa.types.is_decimal(t) or pa.types.is_floating(t):
        return [None if v is None else float(v) for v in col.to_pylist()]
    return col.to_pylist()


def rows_of(table: pa.Table) -> list[tuple]:
    cols = [micros_of(table.column(i)) for i in range(table.num_columns)]
    return sorted(zip(*cols), key=lambda r: tuple((v is None, v) for v in r))


def duck_rows(con, sql: str) -> list[tuple]:
    result = con.sql(sql).arrow()
    if isinstance(result, pa.RecordBatchReader):
        result = result.read_all()
    return rows_of(result)


def both(table: pa.Table, quiver_sql: str, duck_sql: str | None = None, tz: str = "UTC"):
    """The rows each engine gives for its query over `table` registered as `t`."""
    q = quiver.connect(threads=2)
    q.register("t", table)
    d = duckdb.connect()
    d.sql(f"SET TimeZone = '{tz}'")
    d.register("t", table)
    return rows_of(q.sql(quiver_sql).to_arrow()), duck_rows(d, duck_sql or quiver_sql)


def assert_same(got: list[tuple], want: list[tuple], what: str):
    assert len(got) == len(want), f"{what}: {len(got)} rows from Quiver, {len(want)} from DuckDB"
    bad = [(g, w) for g, w in zip(got, want) if g != w]
    assert not bad, f"{what}: {len(bad)} rows differ, e.g. quiver {bad[0][0]} vs duckdb {bad[0][1]}"


# --- time_bucket ---------------------------------------------------------------------------

FIXED_WIDTHS = ["1 microsecond", "7 seconds", "1 minute", "5 minutes", "90 minutes", "1 hour", "13 hours",
                "1 day", "3 days", "1 week"]
MONTH_WIDTHS = ["1 month", "2 months", "3 months", "1 year", "5 years"]
OFFSETS = ["0 seconds", "17 minutes", "-3 hours", "2 days", "1 month", "-1 month"]
ORIGINS = ["2024-01-07 00:00:00", "1969-12-31 23:59:59", "1901-07-04 12:34:56"]


def bucket_sql(width: str, origin_type: str, origins=ORIGINS) -> str:
    cols = [f"time_bucket(INTERVAL '{width}', ts) AS b"]
    cols += [f"time_bucket(INTERVAL '{width}', ts, INTERVAL '{o}') AS o{i}" for i, o in enumerate(OFFSETS)]
    cols += [f"time_bucket(INTERVAL '{width}', ts, {origin_type} '{o}') AS r{i}" for i, o in enumerate(origins)]
    return f"SELECT id, {', '.join(cols)} FROM t"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_timeseries_time_bucket_matches_duckdb(seed, unit):
    rng = random.Random(seed)
    micros = random_micros(rng, ROWS, WIDE)
    table = pa.table({"id": pa.array(range(ROWS), pa.int64()), "ts": ts_array(micros, unit)})
    widths = FIXED_WIDTHS + MONTH_WIDTHS + ["1 day 3 hours", "1 day -1 hour"]
    if unit in ("s",):
        widths.remove("1 microsecond")  # a bucket start a second column cannot hold
    for width in widths:
        got, want = both(table, bucket_sql(width, "TIMESTAMP"))
        assert_same(got, want, f"time_bucket('{width}') over timestamp[{unit}], seed {seed}")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_timeseries_time_bucket_with_time_zone_matches_duckdb(seed, tz):
    """DuckDB's TIMESTAMPTZ forms bucket UTC instants; the origin literal is read in the
    session's zone in DuckDB and in the column's zone in Quiver, so the two are set equal."""
    rng = random.Random(seed)
    micros = random_micros(rng, ROWS, WIDE)
    table = pa.table({"id": pa.array(range(ROWS), pa.int64()), "ts": ts_array(micros, "us", tz)})
    for width in FIXED_WIDTHS + MONTH_WIDTHS:
        got, want = both(table, bucket_sql(width, "TIMESTAMP"), tz=tz)
        assert_same(got, want, f"time_bucket('{width}') over timestamptz '{tz}', seed {seed}")


@pytest.mark.parametrize("seed", SEEDS)
def test_timeseries_time_bucket_of_dates_matches_duckdb(seed):
    rng = random.Random(seed)
    days = [None if m is None else m // US_PER_DAY for m in random_micros(rng, ROWS, WIDE)]
    table = pa.table({"id": pa.array(range(ROWS), pa.int64()), "ts": pa.array(days, pa.int32()).cast(pa.date32())})
    origins = ["2024-01-07", "1969-12-31", "1901-07-04"]
    for width in ["1 day", "3 days", "1 week", "7 hours", "36 hours"] + MONTH_WIDTHS:
        got, want = both(table, bucket_sql(width, "DATE", origins))
        assert_same(got, want, f"time_bucket('{width}') over dates, seed {seed}")
    # A TIMESTAMP origin makes the answer a TIMESTAMP, as in DuckDB.
    got, want = both(table, "SELECT id, time_bucket(INTERVAL '5 hours', ts, TIMESTAMP '2024-01-01 01:30:00') AS b FROM t")
    assert_same(got, want, "dates with a timestamp origin")


def test_timeseries_time_bucket_column_widths_and_nulls_match_duckdb():
    rng = random.Random(7)
    n = 500
    widths = [rng.choice(["5 minutes", "1 hour", "2 days", "1 month", "1 year", None]) for _ in range(n)]
    offsets = [rng.choice(["0 seconds", "1 minute", "-2 hours", "3 days", "1 month", None]) for _ in range(n)]
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "ts": ts_array(random_micros(rng, n, WIDE), "us"),
        "w": pa.array(widths, pa.string()),
        "o": pa.array(offsets, pa.string()),
    })
    q = ("SELECT id, time_bucket(CAST(w AS INTERVAL), ts) AS a, time_bucket(CAST(w AS INTERVAL), ts, CAST(o AS INTERVAL)) AS b "
         "FROM t")
    got, want = both(table, q)
    assert_same(got, want, "widths and offsets from columns")


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT time_bucket(INTERVAL '0 minutes', TIMESTAMP '2024-01-01 00:00:00')", "greater than zero"),
        ("SELECT time_bucket(INTERVAL '-1 day', TIMESTAMP '2024-01-01 00:00:00')", "greater than zero"),
        ("SELECT time_bucket(INTERVAL '1 month 1 day', TIMESTAMP '2024-01-01 00:00:00')", "cannot also have days"),
        ("SELECT time_bucket(1.5, TIMESTAMP '2024-01-01 00:00:00')", "must be an INTERVAL"),
        ("SELECT time_bucket(INTERVAL '1 day', 5)", "TIMESTAMP or DATE"),
        ("SELECT time_bucket(INTERVAL '1 day', TIMESTAMP '2024-01-01 00:00:00', 'UTC')", "third argument"),
    ],
)
def test_timeseries_time_bucket_bad_input_is_a_clear_error(sql, message):
    con = quiver.connect()
    with pytest.raises(Exception) as e:
        con.sql(sql).to_arrow()
    assert "time_bucket" in str(e.value) and message in str(e.value), str(e.value)
    with pytest.raises(duckdb.Error):
        duckdb.connect().sql(sql.replace("'UTC'", "42")).fetchall()


# --- time_windows --------------------------------------------------------------------------

WINDOWS = [("10 minutes", "5 minutes"), ("5 minutes", "5 minutes"), ("1 hour", "10 minutes"),
           ("7 minutes", "5 minutes"), ("2 minutes", "5 minutes"), ("1 day", "6 hours"),
           ("90 seconds", "1 minute"), ("1 week", "1 day")]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unit, tz", [("us", None), ("s", None), ("ns", None), ("ms", "UTC"), ("us", "America/New_York")])
def test_timeseries_time_windows_match_a_join_with_duckdb_buckets(seed, unit, tz):
    rng = random.Random(seed)
    table = pa.table({
        "id": pa.array(range(ROWS), pa.int64()),
        "ts": ts_array(random_micros(rng, ROWS, NARROW), unit, tz),
    })
    for size, hop in WINDOWS:
        mine = f"SELECT id, unnest(time_windows(INTERVAL '{size}', INTERVAL '{hop}', ts)) AS w FROM t"
        # Every start on DuckDB's grid (time_bucket's origin) whose window holds ts.
        ref = f"""
            WITH bounds AS (SELECT time_bucket(INTERVAL '{hop}', min(ts) - INTERVAL '{size}') AS lo,
                                   max(ts) AS hi FROM t),
                 grid AS (SELECT unnest(generate_series(lo, hi, INTERVAL '{hop}')) AS w FROM bounds)
            SELECT id, w FROM t JOIN grid ON w <= ts AND ts < w + INTERVAL '{size}'"""
        got, want = both(table, mine, ref, tz=tz or "UTC")
        assert_same(got, want, f"time_windows('{size}', '{hop}') over timestamp[{unit}, {tz}], seed {seed}")


def test_timeseries_time_windows_over_a_wide_range_match_duckdb():
    rng = random.Random(11)
    table = pa.table({"id": pa.array(range(ROWS), pa.int64()), "ts": ts_array(random_micros(rng, ROWS, WIDE))})
    for size, hop in [("3 days", "1 day"), ("10 days", "7 days"), ("1 day", "2 days")]:
        mine = f"SELECT id, unnest(time_windows(INTERVAL '{size}', INTERVAL '{hop}', ts)) AS w FROM t"
        ref = f"""SELECT id, unnest(generate_series(time_bucket(INTERVAL '{hop}', ts - INTERVAL '{size}') + INTERVAL '{hop}',
                                                    time_bucket(INTERVAL '{hop}', ts), INTERVAL '{hop}')) AS w
                  FROM t WHERE ts IS NOT NULL"""
        got, want = both(table, mine, ref)
        assert_same(got, want, f"time_windows('{size}', '{hop}') over 200 years")


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT time_windows(INTERVAL '0 minutes', INTERVAL '1 minute', TIMESTAMP '2024-01-01 00:00:00')", "size must be greater than zero"),
        ("SELECT time_windows(INTERVAL '5 minutes', INTERVAL '-1 minute', TIMESTAMP '2024-01-01 00:00:00')", "hop must be greater than zero"),
        ("SELECT time_windows(INTERVAL '1 month', INTERVAL '1 day', TIMESTAMP '2024-01-01 00:00:00')", "fixed length"),
        ("SELECT time_windows(INTERVAL '1 year', INTERVAL '1 second', TIMESTAMP '2024-01-01 00:00:00')", "fixed length"),
        ("SELECT time_windows(INTERVAL '100 days', INTERVAL '1 second', TIMESTAMP '2024-01-01 00:00:00')", "at most 10000"),
        ("SELECT time_windows(5, INTERVAL '1 second', TIMESTAMP '2024-01-01 00:00:00')", "must be an INTERVAL"),
    ],
)
def test_timeseries_time_windows_bad_input_is_a_clear_error(sql, message):
    con = quiver.connect()
    with pytest.raises(Exception) as e:
        con.sql(sql).to_arrow()
    assert "time_windows" in str(e.value) and message in str(e.value), str(e.value)


# --- session_id ----------------------------------------------------------------------------

def session_reference(timeout: str, order: str = "ts", cast: str = "") -> str:
    """LAG + running sum in DuckDB: a session starts at a partition's first row and after a gap
    longer than the timeout (either way, for descending orders); NULL ts get NULL."""
    ts = f"CAST(ts AS TIMESTAMP)" if cast else "ts"
    return f"""
        SELECT id, CASE WHEN ts IS NULL THEN NULL ELSE
                   sum(CASE WHEN prev IS NULL OR cur - prev > INTERVAL '{timeout}' OR prev - cur > INTERVAL '{timeout}'
                            THEN 1 ELSE 0 END)
                     OVER (PARTITION BY k ORDER BY {order}, id ROWS UNBOUNDED PRECEDING) END AS s
        FROM (SELECT *, {ts} AS cur,
                     lag({ts} IGNORE NULLS) OVER (PARTITION BY k ORDER BY {order}, id) AS prev FROM t)"""


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_timeseries_session_id_matches_lag_and_running_sum(seed, unit):
    rng = random.Random(seed)
    # Bursts: most gaps short, a few long, to make sessions of several rows.
    micros, t = [], NARROW[0]
    for _ in range(ROWS):
        t += rng.choice([0, 1_000_000, 20_000_000, 90_000_000, 600_000_000, 7_200_000_000]) + rng.randrange(0, 5_000_000)
        micros.append(None if rng.random() < 0.03 else t)
    rng.shuffle(micros)
    table = pa.table({
        "id": pa.array(range(ROWS), pa.int64()),
        "k": pa.array([rng.randrange(8) if rng.random() > 0.02 else None for _ in range(ROWS)], pa.int64()),
        "ts": ts_array(micros, unit),
    })
    for timeout in ["0 seconds", "1 second", "30 seconds", "5 minutes", "1 hour", "1 day"]:
        for order in ["ts", "ts DESC"]:
            mine = f"SELECT id, session_id(ts, INTERVAL '{timeout}') OVER (PARTITION BY k ORDER BY {order}, id) AS s FROM t"
            got, want = both(table, mine, session_reference(timeout, order))
            assert_same(got, want, f"session_id(ts, '{timeout}') ORDER BY {order} over timestamp[{unit}], seed {seed}")


def test_timeseries_session_id_of_dates_matches_reference():
    rng = random.Random(5)
    days = [rng.randrange(19_000, 19_400) if rng.random() > 0.05 else None for _ in range(ROWS)]
    table = pa.table({
        "id": pa.array(range(ROWS), pa.int64()),
        "k": pa.array([rng.randrange(3) for _ in range(ROWS)], pa.int64()),
        "ts": pa.array(days, pa.int32()).cast(pa.date32()),
    })
    for timeout in ["0 days", "1 day", "3 days"]:
        mine = f"SELECT id, session_id(ts, INTERVAL '{timeout}') OVER (PARTITION BY k ORDER BY ts, id) AS s FROM t"
        got, want = both(table, mine, session_reference(timeout, cast="timestamp"))
        assert_same(got, want, f"session_id over dates, timeout {timeout}")


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT session_id(ts, INTERVAL '1 month') OVER (ORDER BY ts) FROM (VALUES (TIMESTAMP '2024-01-01 00:00:00')) AS v(ts)", "fixed length"),
        ("SELECT session_id(ts, INTERVAL '-1 minute') OVER (ORDER BY ts) FROM (VALUES (TIMESTAMP '2024-01-01 00:00:00')) AS v(ts)", "must not be negative"),
        ("SELECT session_id(ts, 5) OVER (ORDER BY ts) FROM (VALUES (TIMESTAMP '2024-01-01 00:00:00')) AS v(ts)", "must be an INTERVAL"),
        ("SELECT session_id(x, INTERVAL '1 minute') OVER (ORDER BY x) FROM (VALUES (1.5)) AS v(x)", "TIMESTAMP or DATE"),
    ],
)
def test_timeseries_session_id_bad_input_is_a_clear_error(sql, message):
    con = quiver.connect()
    with pytest.raises(Exception) as e:
        con.sql(sql).to_arrow()
    assert "session_id" in str(e.value) and message in str(e.value), str(e.value)


# --- RANGE frames by time (DataFusion's own) -----------------------------------------------

FRAMES = [
    "sum(v) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '5 minutes' PRECEDING AND CURRENT ROW)",
    "count(*) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '10 minutes' PRECEDING AND INTERVAL '2 minutes' FOLLOWING)",
    "min(v) OVER (PARTITION BY k ORDER BY ts DESC RANGE BETWEEN INTERVAL '3 minutes' PRECEDING AND CURRENT ROW)",
    "max(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN CURRENT ROW AND INTERVAL '1 hour' FOLLOWING)",
    "count(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '1 day' PRECEDING AND INTERVAL '1 hour' PRECEDING)",
    "sum(v) OVER (PARTITION BY k ORDER BY ts DESC RANGE BETWEEN INTERVAL '30 minutes' FOLLOWING AND INTERVAL '2 hours' FOLLOWING)",
    "count(*) OVER (ORDER BY ts NULLS FIRST RANGE BETWEEN INTERVAL '1 minute' PRECEDING AND INTERVAL '1 minute' FOLLOWING)",
    "sum(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '1 day 2 hours' PRECEDING AND CURRENT ROW)",
    "count(*) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL '90 seconds' FOLLOWING)",
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unit, tz", [("us", None), ("s", None), ("ns", None), ("ms", "UTC")])
def test_timeseries_range_frames_match_duckdb(seed, unit, tz):
    rng = random.Random(seed)
    micros = random_micros(rng, ROWS, NARROW, nulls=0.05)
    table = pa.table({
        "id": pa.array(range(ROWS), pa.int64()),
        "k": pa.array([rng.randrange(5) for _ in range(ROWS)], pa.int64()),
        "v": pa.array([rng.randrange(-100, 100) if rng.random() > 0.05 else None for _ in range(ROWS)], pa.int64()),
        "ts": ts_array(micros, unit, tz),
    })
    for i, frame in enumerate(FRAMES):
        got, want = both(table, f"SELECT id, {frame} AS f FROM t")
        assert_same(got, want, f"frame {i} ({frame}) over timestamp[{unit}, {tz}], seed {seed}")


@pytest.mark.parametrize("seed", SEEDS)
def test_timeseries_range_frames_over_dates_match_duckdb(seed):
    rng = random.Random(seed)
    table = pa.table({
        "id": pa.array(range(ROWS), pa.int64()),
        "k": pa.array([rng.randrange(5) for _ in range(ROWS)], pa.int64()),
        "v": pa.array([rng.randrange(-100, 100) for _ in range(ROWS)], pa.int64()),
        "ts": pa.array([rng.randrange(19_000, 19_200) if rng.random() > 0.05 else None for _ in range(ROWS)],
                       pa.int32()).cast(pa.date32()),
    })
    for frame in [
        "sum(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '2 days' PRECEDING AND CURRENT ROW)",
        "count(*) OVER (ORDER BY ts DESC RANGE BETWEEN INTERVAL '7 days' PRECEDING AND INTERVAL '1 day' FOLLOWING)",
    ]:
        got, want = both(table, f"SELECT id, {frame} AS f FROM t")
        assert_same(got, want, f"{frame} over dates, seed {seed}")
