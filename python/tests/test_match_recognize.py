"""MATCH_RECOGNIZE against an independent reference: a plain backtracking matcher written
here, over each partition's rows, on random data, random patterns and random conditions.
(DuckDB 2.0 on PyPI does not parse MATCH_RECOGNIZE yet.)

The reference follows SQL:2016's preferment: alternatives left to right, greedy quantifiers
longest first, reluctant ones shortest first; the first match in that order from each start
row wins; AFTER MATCH SKIP PAST LAST ROW resumes after the match (after the start row for an
empty match), TO NEXT ROW after the start row.
"""

from __future__ import annotations

import random
import sys

import pyarrow as pa
import pytest

import quiver

sys.setrecursionlimit(20_000)

SEEDS = [1, 2, 3, 4]
VARS = ["a", "b", "c"]


# --- patterns: ("var", name) | ("cat", [p...]) | ("alt", [p...]) | ("rep", p, min, max, greedy)


def render(p) -> str:
    kind = p[0]
    if kind == "var":
        return p[1]
    if kind == "cat":
        return " ".join(render(q) for q in p[1])
    if kind == "alt":
        return "(" + " | ".join(render(q) for q in p[1]) + ")"
    _, body, lo, hi, greedy = p
    inner = render(body) if body[0] == "var" else f"({render(body)})"
    if (lo, hi) == (0, None):
        q = "*"
    elif (lo, hi) == (1, None):
        q = "+"
    elif (lo, hi) == (0, 1):
        q = "?"
    elif hi is None:
        q = f"{{{lo},}}"
    elif lo == hi:
        q = f"{{{lo}}}"
    else:
        q = f"{{{lo},{hi}}}"
    return inner + q + ("" if greedy else "?")


def random_pattern(rng: random.Random, depth: int = 0):
    """A pattern whose repeated bodies always consume a row."""
    r = rng.random()
    if depth >= 2 or r < 0.35:
        return ("var", rng.choice(VARS + ["x"]))
    if r < 0.6:
        return ("cat", [random_pattern(rng, depth + 1) for _ in range(rng.randint(2, 3))])
    if r < 0.75:
        return ("alt", [random_pattern(rng, depth + 1) for _ in range(2)])
    body = random_pattern(rng, depth + 1)
    while body[0] == "rep" or (body[0] == "alt" and any(q[0] == "rep" for q in body[1])):
        body = ("var", rng.choice(VARS))
    if body[0] == "cat" and all(q[0] == "rep" and q[2] == 0 for q in body[1]):
        body = ("var", rng.choice(VARS))
    lo, hi = rng.choice([(0, None), (1, None), (0, 1), (2, 2), (1, 3), (2, None)])
    return ("rep", body, lo, hi, rng.random() < 0.6)


def can_be_empty(p) -> bool:
    kind = p[0]
    if kind == "var":
        return False
    if kind == "cat":
        return all(can_be_empty(q) for q in p[1])
    if kind == "alt":
        return any(can_be_empty(q) for q in p[1])
    return p[2] == 0 or can_be_empty(p[1])


# --- conditions: (sql, f(rows, i, start, mapped, var) -> bool); rows are dicts in order


def last_of(mapped, start, var, v, i):
    """The row index of the last row mapped to v (the current row when v is being tested)."""
    if v == var:
        return i
    for k in range(len(mapped) - 1, -1, -1):
        if mapped[k] == v:
            return start + k
    return None


def first_of(mapped, start, var, v, i):
    for k, m in enumerate(mapped):
        if m == v:
            return start + k
    return i if v == var else None


def gt(x, y):
    return x is not None and y is not None and x > y


def lt(x, y):
    return x is not None and y is not None and x < y


def condition_menu(rng: random.Random, var: str, used: set[str]):
    """A condition for `var`; those reading another variable pick one of the pattern's."""
    others = sorted(used - {var, "x"})
    other = rng.choice(others) if others else None
    t = rng.choice([20, 50, 80])
    menu = [
        (f"size > {t}", lambda rows, i, s, m, v: gt(rows[i]["size"], t)),
        (f"size < {t}", lambda rows, i, s, m, v: lt(rows[i]["size"], t)),
        (
            "size > PREV(size)",
            lambda rows, i, s, m, v: i > 0 and gt(rows[i]["size"], rows[i - 1]["size"]),
        ),
        (
            "size <= PREV(size, 2)",
            lambda rows, i, s, m, v: i > 1
            and rows[i]["size"] is not None
            and rows[i - 2]["size"] is not None
            and rows[i]["size"] <= rows[i - 2]["size"],
        ),
        (
            "size < NEXT(size)",
            lambda rows, i, s, m, v: i + 1 < len(rows) and lt(rows[i]["size"], rows[i + 1]["size"]),
        ),
        (
            f"size > {other}.size",
            lambda rows, i, s, m, v, o=other: (j := last_of(m, s, v, o, i)) is not None
            and gt(rows[i]["size"], rows[j]["size"]),
        ),
        (
            f"ts <= FIRST({other}.ts) + 4",
            lambda rows, i, s, m, v, o=other: (j := first_of(m, s, v, o, i)) is not None
            and rows[i]["ts"] <= rows[j]["ts"] + 4,
        ),
        (
            f"ts <= {other}.ts + 3",
            lambda rows, i, s, m, v, o=other: (j := last_of(m, s, v, o, i)) is not None
            and rows[i]["ts"] <= rows[j]["ts"] + 3,
        ),
        (
            f"FIRST(ts) + {t // 10} > ts",
            lambda rows, i, s, m, v: rows[s]["ts"] + t // 10 > rows[i]["ts"],
        ),
        (
            f"ts - FIRST(ts) < {t // 10}",
            lambda rows, i, s, m, v: rows[i]["ts"] - rows[s]["ts"] < t // 10,
        ),
        (
            f"{var}.size >= PREV({other}.size)",
            lambda rows, i, s, m, v, o=other: (j := last_of(m, s, v, o, i)) is not None
            and j > 0
            and rows[i]["size"] is not None
            and rows[j - 1]["size"] is not None
            and rows[i]["size"] >= rows[j - 1]["size"],
        ),
    ]
    if other is None:
        menu = [m for m in menu if "None" not in m[0]]
    return rng.choice(menu)


def reference(rows, pattern, conds, skip_past: bool):
    """Every match of a partition: (start, end, mapped variables)."""
    n = len(rows)

    def holds(var, i, start, mapped):
        if var not in conds:
            return True
        return all(f(rows, i, start, mapped, var) for _, f in conds[var])

    def m(p, pos, start, mapped, k):
        kind = p[0]
        if kind == "var":
            if pos < n and holds(p[1], pos, start, mapped):
                return k(pos + 1, mapped + [p[1]])
            return None
        if kind == "cat":
            def chain(idx, pos, mapped):
                if idx == len(p[1]):
                    return k(pos, mapped)
                return m(p[1][idx], pos, start, mapped, lambda q, mm: chain(idx + 1, q, mm))
            return chain(0, pos, mapped)
        if kind == "alt":
            for q in p[1]:
                r = m(q, pos, start, mapped, k)
                if r is not None:
                    return r
            return None
        _, body, lo, hi, greedy = p

        def it(count, pos, mapped):
            def more():
                if hi is not None and count >= hi:
                    return None
                return m(
                    body,
                    pos,
                    start,
                    mapped,
                    lambda q, mm: None if (q == pos and count >= lo) else it(count + 1, q, mm),
                )

            def stop():
                return k(pos, mapped) if count >= lo else None

            for attempt in ((more, stop) if greedy else (stop, more)):
                r = attempt()
                if r is not None:
                    return r
            return None

        return it(0, pos, mapped)

    out = []
    start = 0
    while start < n:
        r = m(pattern, start, start, [], lambda q, mm: (q, mm))
        if r is None:
            start += 1
            continue
        end, mapped = r
        out.append((start, end, mapped))
        start = end if (skip_past and end > start) else start + 1
    return out


def make_table(rng: random.Random, rows: int = 240):
    data = {"sym": [], "ts": [], "size": []}
    for sym in ["p", "q", "r"]:
        ts = rng.randint(0, 5)
        for _ in range(rows // 3):
            ts += rng.randint(1, 3)
            data["sym"].append(sym)
            data["ts"].append(ts)
            data["size"].append(None if rng.random() < 0.04 else rng.randint(0, 100))
    order = list(range(len(data["ts"])))
    rng.shuffle(order)  # the operator must sort
    return pa.table(
        {
            "sym": pa.array([data["sym"][i] for i in order]),
            "ts": pa.array([data["ts"][i] for i in order], pa.int64()),
            "size": pa.array([data["size"][i] for i in order], pa.int64()),
        }
    )


def expected(table: pa.Table, pattern, conds, skip_past: bool, measured_var: str):
    by_sym: dict[str, list[dict]] = {}
    for row in table.to_pylist():
        by_sym.setdefault(row["sym"], []).append(row)
    out = set()
    for sym, rows in by_sym.items():
        rows.sort(key=lambda r: r["ts"])
        for number, (start, end, mapped) in enumerate(reference(rows, pattern, conds, skip_past), 1):
            own = [rows[start + k] for k, v in enumerate(mapped) if v == measured_var]
            sizes = [r["size"] for r in own if r["size"] is not None]
            out.add(
                (
                    sym,
                    number,
                    end - start,
                    rows[start]["ts"] if end > start else None,
                    rows[end - 1]["ts"] if end > start else None,
                    len(own),
                    own[0]["ts"] if own else None,
                    own[-1]["size"] if own else None,
                    sum(sizes) if sizes else None,
                    mapped[-1] if mapped else None,
                )
            )
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_match_recognize_matches_the_reference_matcher(seed):
    rng = random.Random(seed)
    table = make_table(rng)
    con = quiver.connect(threads=2)
    con.register("ev", table)
    checked = 0
    for case in range(30):
        pattern = random_pattern(rng)
        used = set()

        def collect(p):
            if p[0] == "var":
                used.add(p[1])
            elif p[0] in ("cat", "alt"):
                for q in p[1]:
                    collect(q)
            else:
                collect(p[1])

        collect(pattern)
        conds = {}
        for v in sorted(used - {"x"}):
            if rng.random() < 0.85:
                conds[v] = [condition_menu(rng, v, used) for _ in range(rng.randint(1, 2))]
        if not conds:
            # DEFINE is required; an always-true condition keeps the pattern's meaning.
            conds[sorted(used)[0]] = [("TRUE", lambda rows, i, s, m, v: True)]
        skip_past = rng.random() < 0.7
        measured = rng.choice(sorted(used))
        define = ", ".join(
            f"{v} AS " + " AND ".join(f"({sql})" for sql, _ in c) for v, c in conds.items()
        )
        sql = f"""
            SELECT * FROM ev MATCH_RECOGNIZE (
              PARTITION BY sym ORDER BY ts
              MEASURES MATCH_NUMBER() AS m, count(*) AS n, FIRST(ts) AS t0, LAST(ts) AS t1,
                       count({measured}.*) AS nv, FIRST({measured}.ts) AS fv,
                       {measured}.size AS lv, sum({measured}.size) AS sv, CLASSIFIER() AS cl
              ONE ROW PER MATCH
              AFTER MATCH SKIP {"PAST LAST ROW" if skip_past else "TO NEXT ROW"}
              PATTERN ({render(pattern)})
              DEFINE {define}
            )"""
        want = expected(table, pattern, conds, skip_past, measured)
        got = con.sql(sql).to_arrow()
        assert got.column_names == ["sym", "m", "n", "t0", "t1", "nv", "fv", "lv", "sv", "cl"]
        rows = {tuple(r.values()) for r in got.to_pylist()}
        assert rows == want, f"case {case}: {sql}\nmissing {sorted(want - rows, key=str)[:5]}\nextra {sorted(rows - want, key=str)[:5]}"
        checked += len(want)
    assert checked > 0


def test_the_issue_example_with_time_limits():
    """A large order, a small one within 10 seconds, then a large one within 20."""
    ts = [0, 3, 5, 30, 33, 60, 61, 62, 70, 100]
    size = [2000, 5, 1500, 1200, 4, 3000, 8, 2500, 1100, 9]
    table = pa.table(
        {
            "sym": ["s"] * len(ts),
            "ts": pa.array([t * 1_000_000 for t in ts], pa.timestamp("us")),
            "size": size,
        }
    )
    con = quiver.connect()
    con.register("quotes", table)
    got = con.sql(
        """
        SELECT * FROM quotes MATCH_RECOGNIZE (
          PARTITION BY sym ORDER BY ts
          MEASURES FIRST(a.ts) AS t1, LAST(c.ts) AS t3, count(*) AS n
          ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW
          PATTERN (a x*? b y*? c)
          DEFINE a AS size > 1000,
                 b AS size < 10 AND ts <= a.ts + INTERVAL '10 seconds',
                 c AS size > 1000 AND ts <= b.ts + INTERVAL '20 seconds')
        ORDER BY t1"""
    ).to_arrow()
    # 0s large, 3s small (within 10s), 5s large (within 20s of 3s): rows 0..2.
    # 30s large, 33s small, 60s large is 27s after 33s: too late; 62s is too; no match from 30s.
    # From 33s on: 60s large, 61s small, 62s large: rows 5..7.
    t1 = [v.timestamp() for v in got.column("t1").to_pylist()]
    t3 = [v.timestamp() for v in got.column("t3").to_pylist()]
    assert (t1, t3, got.column("n").to_pylist()) == ([0, 60], [5, 62], [3, 3])


@pytest.mark.parametrize(
    "clause, message",
    [
        ("ALL ROWS PER MATCH PATTERN (a) DEFINE a AS size > 1", "ALL ROWS PER MATCH is not supported"),
        ("AFTER MATCH SKIP TO FIRST a PATTERN (a) DEFINE a AS size > 1", "SKIP TO FIRST a is not supported"),
        ("PATTERN (PERMUTE(a, b)) DEFINE a AS size > 1", "PERMUTE is not supported"),
        ("PATTERN ({- b -} a) DEFINE a AS size > 1", "exclusion"),
        ("PATTERN (a) DEFINE z AS size > 1", "z is not a variable of the PATTERN"),
        ("PATTERN (a) DEFINE a AS size", "must be a condition"),
        ("PATTERN (a) DEFINE a AS size > avg(size)", "aggregates in DEFINE"),
        ("PATTERN (a) DEFINE a AS size > 1, a AS size < 5", "appears twice"),
        ("PATTERN (a{3,1}) DEFINE a AS size > 1", "upper bound below"),
        ("PATTERN (a b) DEFINE a AS size > PREV(nope)", "nope is not a column"),
        ("PATTERN (a b) DEFINE a AS size > PREV(zz.size)", "zz in zz.size is not a variable"),
    ],
)
def test_unsupported_or_wrong_clauses_are_named(clause, message):
    con = quiver.connect()
    con.register("ev", pa.table({"sym": ["p"], "ts": [1], "size": [3]}))
    with pytest.raises(quiver.Error) as err:
        con.sql(
            f"SELECT * FROM ev MATCH_RECOGNIZE (PARTITION BY sym ORDER BY ts "
            f"MEASURES count(*) AS n {clause})"
        ).to_arrow()
    assert message in str(err.value)


def test_measures_mixing_variables_in_one_aggregate_are_refused():
    con = quiver.connect()
    con.register("ev", pa.table({"sym": ["p"], "ts": [1], "size": [3]}))
    with pytest.raises(quiver.Error, match="one variable only"):
        con.sql(
            "SELECT * FROM ev MATCH_RECOGNIZE (ORDER BY ts MEASURES sum(a.size + b.size) AS s "
            "PATTERN (a b) DEFINE a AS size > 1)"
        ).to_arrow()


def test_plan_shows_the_operator():
    con = quiver.connect()
    con.register("ev", pa.table({"sym": ["p"], "ts": [1], "size": [3]}))
    plan = con.sql(
        "SELECT * FROM ev MATCH_RECOGNIZE (PARTITION BY sym ORDER BY ts MEASURES count(*) AS n "
        "PATTERN (a b*?) DEFINE a AS size > 1, b AS size > a.size AND ts <= a.ts + 5)"
    ).explain()
    assert "MatchRecognizeExec" in plan
    assert "pattern=(a b*?)" in plan
    # A bound on the ORDER BY key by an earlier row ends the search once passed.
    assert "per match, bounds the key" in plan
    assert plan.count("bounds the key") == 1, plan
