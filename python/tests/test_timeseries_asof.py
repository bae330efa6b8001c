"""Differential tests of ASOF JOIN against DuckDB 2.0.

Random trades and quotes over several seeds: string, integer and composite keys with NULLs,
times of several types (timestamps of each unit, dates, integers, floats) with NULLs and
ties on the left, all four inequalities, DuckDB's inner `ASOF JOIN` and `ASOF LEFT JOIN`,
and the Snowflake `MATCH_CONDITION` form (left-preserving, checked against DuckDB's ASOF LEFT
JOIN). The right side's times are distinct, so every match is unique and the row
sets must be equal exactly. Quiver runs with several partitions, so the repartitioning and
sorting it asks for are exercised too.
"""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pytest

import quiver

SEEDS = [1, 2, 3]
OPS = [">=", ">", "<=", "<"]
FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}


def make_tables(seed: int, time_type: str, n_left: int = 3000, n_right: int = 2000):
    rng = random.Random(seed)
    syms = ["AAPL", "MSFT", "NVDA", "TSLA", "Z", None]
    span = 5000

    def time_value(v):
        if v is None:
            return None
        if time_type == "float":
            return v / 7.0
        return v

    def maybe_null(v, p=0.03):
        return None if rng.random() < p else v

    left_ts = []
    for _ in range(n_left):
        if left_ts and rng.random() < 0.1:
            left_ts.append(left_ts[-1])  # ties on the left
        else:
            left_ts.append(rng.randrange(-span, 2 * span))
    trades = {
        "id": list(range(n_left)),
        "sym": [rng.choice(syms) for _ in range(n_left)],
        "venue": [maybe_null(rng.randrange(3)) for _ in range(n_left)],
        "ts": [time_value(maybe_null(v)) for v in left_ts],
        "price": [round(rng.uniform(1, 500), 2) for _ in range(n_left)],
    }
    # Right times are distinct (NULLs aside), so each left row has one nearest quote
    # whichever keys a query joins on: DuckDB picks among ties arbitrarily.
    times = rng.sample(range(0, span), n_right)
    quotes = {
        "qid": list(range(n_right)),
        "sym": [rng.choice(syms) for _ in range(n_right)],
        "venue": [maybe_null(rng.randrange(3)) for _ in range(n_right)],
        "ts": [time_value(maybe_null(t, 0.02)) for t in times],
        "bid": [round(rng.uniform(1, 500), 2) for _ in range(n_right)],
    }

    arrow_type = {
        "int": pa.int64(),
        "float": pa.float64(),
        "date": pa.date32(),
        "ts_s": pa.timestamp("s"),
        "ts_ms": pa.timestamp("ms", "UTC"),
        "ts_us": pa.timestamp("us"),
        "ts_ns": pa.timestamp("ns"),
    }[time_type]

    def table(cols):
        ts = cols["ts"]
        if time_type in ("int", "float"):
            ts_arr = pa.array(ts, arrow_type)
        elif time_type == "date":
            ts_arr = pa.array(ts, pa.int32()).cast(pa.date32())
        else:
            ts_arr = pa.array(ts, pa.int64()).cast(arrow_type)
        out = {k: v for k, v in cols.items() if k != "ts"}
        out["ts"] = ts_arr
        return pa.table({k: (v if isinstance(v, pa.Array) else pa.array(v)) for k, v in out.items()})

    return table(trades), table(quotes)


def run_both(trades: pa.Table, quotes: pa.Table, quiver_sql: str, duck_sql: str):
    q = quiver.connect(threads=4)
    q.register("trades", trades)
    q.register("quotes", quotes)
    d = duckdb.connect()
    d.sql("SET TimeZone = 'UTC'")
    d.register("trades", trades)
    d.register("quotes", quotes)
    got = q.sql(quiver_sql).to_arrow().to_pylist()
    want = d.sql(duck_sql).arrow()
    if isinstance(want, pa.RecordBatchReader):
        want = want.read_all()
    want = want.to_pylist()
    rows = lambda table: sorted((tuple(r.values()) for r in table), key=repr)  # noqa: E731
    return rows(got), rows(want)


def assert_same(got, want, what):
    assert len(got) == len(want), f"{what}: {len(got)} rows from Quiver, {len(want)} from DuckDB"
    bad = [(g, w) for g, w in zip(got, want) if g != w]
    assert not bad, f"{what}: {len(bad)} rows differ, e.g. quiver {bad[0][0]} vs duckdb {bad[0][1]}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("time_type", ["int", "ts_us", "ts_ns", "ts_s", "ts_ms", "date", "float"])
def test_asof_duckdb_form_matches_duckdb(seed, time_type):
    trades, quotes = make_tables(seed, time_type)
    for op in OPS:
        for kind in ["ASOF JOIN", "ASOF LEFT JOIN"]:
            sql = (
                f"SELECT t.id, q.qid, q.bid FROM trades t {kind} quotes q "
                f"ON t.sym = q.sym AND t.ts {op} q.ts"
            )
            got, want = run_both(trades, quotes, sql, sql)
            assert_same(got, want, f"{kind} with {op} over {time_type}, seed {seed}")


@pytest.mark.parametrize("seed", SEEDS)
def test_asof_composite_keys_swapped_sides_and_no_keys_match_duckdb(seed):
    trades, quotes = make_tables(seed, "ts_us")
    for op in OPS:
        # Two keys, the inequality written right side first.
        sql = (
            "SELECT t.id, q.qid FROM trades t ASOF LEFT JOIN quotes q "
            f"ON q.venue = t.venue AND q.ts {FLIP[op]} t.ts AND t.sym = q.sym"
        )
        duck = (
            "SELECT t.id, q.qid FROM trades t ASOF LEFT JOIN quotes q "
            f"ON t.venue = q.venue AND t.sym = q.sym AND t.ts {op} q.ts"
        )
        got, want = run_both(trades, quotes, sql, duck)
        assert_same(got, want, f"two keys, {op}, seed {seed}")
        # No keys at all: one partition, the nearest quote of any symbol.
        sql = f"SELECT t.id, q.qid FROM trades t ASOF JOIN quotes q ON t.ts {op} q.ts"
        got, want = run_both(trades, quotes, sql, sql)
        assert_same(got, want, f"no keys, {op}, seed {seed}")


@pytest.mark.parametrize("seed", SEEDS)
def test_asof_using_matches_duckdb(seed):
    trades, quotes = make_tables(seed, "int")
    for kind in ["ASOF JOIN", "ASOF LEFT JOIN"]:
        sql = f"SELECT t.id, q.qid, q.bid FROM trades t {kind} quotes q USING (sym, ts)"
        got, want = run_both(trades, quotes, sql, sql)
        assert_same(got, want, f"{kind} USING (sym, ts), seed {seed}")


@pytest.mark.parametrize("seed", SEEDS)
def test_asof_match_condition_form_keeps_every_left_row(seed):
    trades, quotes = make_tables(seed, "ts_ms")
    for op in OPS:
        for constraint, duck_keys in [("ON t.sym = q.sym", "t.sym = q.sym AND "), ("USING (sym)", "t.sym = q.sym AND "), ("", "")]:
            sql = (
                f"SELECT t.id, q.qid FROM trades t ASOF JOIN quotes q "
                f"MATCH_CONDITION (t.ts {op} q.ts) {constraint}"
            )
            duck = (
                f"SELECT t.id, q.qid FROM trades t ASOF LEFT JOIN quotes q "
                f"ON {duck_keys}t.ts {op} q.ts"
            )
            got, want = run_both(trades, quotes, sql, duck)
            assert len(got) == trades.num_rows
            assert_same(got, want, f"MATCH_CONDITION {op} {constraint!r}, seed {seed}")


def test_asof_inside_larger_queries_matches_duckdb():
    trades, quotes = make_tables(7, "ts_us")
    queries = [
        # An ASOF join after an ordinary join, and another after it; aggregates over it.
        (
            "SELECT t.sym, count(q.qid) AS n, sum(q.bid) AS s FROM trades t "
            "JOIN (SELECT DISTINCT sym FROM quotes) k ON t.sym = k.sym "
            "ASOF LEFT JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts "
            "GROUP BY t.sym"
        ),
        (
            "SELECT t.id, a.qid AS before, b.qid AS after FROM trades t "
            "ASOF LEFT JOIN quotes a ON t.sym = a.sym AND t.ts >= a.ts "
            "ASOF LEFT JOIN quotes b ON t.sym = b.sym AND t.ts < b.ts"
        ),
        # Subqueries on both sides, an alias on the nested join.
        (
            "SELECT x.id, x.qid FROM (SELECT * FROM trades WHERE price > 100) t "
            "ASOF JOIN (SELECT qid, sym, ts FROM quotes WHERE bid < 400) q "
            "ON t.sym = q.sym AND t.ts >= q.ts "
            "CROSS JOIN (SELECT 1) one(c) "
            "JOIN (SELECT id, qid FROM trades t2 ASOF JOIN quotes q2 ON t2.sym = q2.sym AND t2.ts <= q2.ts) x "
            "ON x.id = t.id"
        ),
    ]
    for sql in queries:
        got, want = run_both(trades, quotes, sql, sql)
        assert_same(got, want, sql)


def test_asof_plans_show_the_operator():
    trades, quotes = make_tables(1, "int", 100, 100)
    con = quiver.connect(threads=2)
    con.register("trades", trades)
    con.register("quotes", quotes)
    plan = con.sql(
        "SELECT t.id, q.qid FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts"
    ).explain()
    assert "AsofJoin" in plan and "AsofJoinExec" in plan, plan
    # Only the columns the query and the condition use are read from either side.
    for unused in ("price", "venue", "bid"):
        assert unused not in plan, plan


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT * FROM trades t ASOF JOIN quotes q ON t.sym = q.sym", "needs an inequality"),
        ("SELECT * FROM trades t ASOF JOIN quotes q ON t.ts >= q.ts AND t.ts <= q.ts", "exactly one inequality"),
        ("SELECT * FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts AND t.price > 3",
         "must compare a column of the left side with one of the right side"),
        ("SELECT * FROM trades t ASOF JOIN quotes q ON t.sym <> q.sym AND t.ts >= q.ts", "takes equalities"),
        ("SELECT * FROM trades t ASOF JOIN quotes q MATCH_CONDITION (t.ts >= q.ts) ON t.ts <= q.ts",
         "belongs in MATCH_CONDITION"),
        ("SELECT * FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.sym >= q.sym",
         "it takes timestamps, dates or numbers"),
        ("SELECT * FROM trades t ASOF JOIN quotes q USING (nope, ts)", "USING column nope"),
        # A floating-point or mixed integer/float time in Snowflake's (DataFusion's) form.
        ("SELECT * FROM trades t ASOF JOIN quotes q MATCH_CONDITION (t.price >= q.bid)",
         "MATCH_CONDITION compares floating-point times (Float64)"),
        ("SELECT * FROM trades t ASOF JOIN quotes q MATCH_CONDITION (t.ts <= q.bid) ON t.sym = q.sym",
         "MATCH_CONDITION compares floating-point times"),
        ("SELECT * FROM trades t ASOF JOIN quotes q MATCH_CONDITION (t.ts <= q.sym)",
         "it takes timestamps, dates or numbers"),
        ("SELECT * FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= CAST(q.ts AS TIMESTAMP)",
         "a time with a number"),
        ("SELECT * FROM trades t ASOF JOIN quotes q", None),
    ],
)
def test_asof_bad_input_is_a_clear_error(sql, message):
    trades, quotes = make_tables(1, "int", 10, 10)
    con = quiver.connect()
    con.register("trades", trades)
    con.register("quotes", quotes)
    with pytest.raises(quiver.Error) as err:
        con.sql(sql).to_arrow()
    if message is not None:
        assert message in str(err.value)
    assert "ASOF" in str(err.value) or "MATCH_CONDITION" in str(err.value) or "ON" in str(err.value)
