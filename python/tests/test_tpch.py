"""TPC-H at scale factor 0.01: the 22 queries over tables registered from pyarrow (read from
tpchgen's .tbl.gz files by pyarrow's own CSV reader) give DuckDB 2.0's answers."""

from __future__ import annotations

import csv
import datetime
import decimal
import re

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import quiver

TYPES = {"BIGINT": pa.int64(), "INT": pa.int32(), "VARCHAR": pa.string(), "DATE": pa.date32(), "DECIMAL": pa.decimal128(15, 2)}
TABLES = {
    "nation": "n_nationkey BIGINT, n_name VARCHAR, n_regionkey BIGINT, n_comment VARCHAR",
    "region": "r_regionkey BIGINT, r_name VARCHAR, r_comment VARCHAR",
    "part": "p_partkey BIGINT, p_name VARCHAR, p_mfgr VARCHAR, p_brand VARCHAR, p_type VARCHAR, p_size INT, p_container VARCHAR, p_retailprice DECIMAL, p_comment VARCHAR",
    "supplier": "s_suppkey BIGINT, s_name VARCHAR, s_address VARCHAR, s_nationkey BIGINT, s_phone VARCHAR, s_acctbal DECIMAL, s_comment VARCHAR",
    "partsupp": "ps_partkey BIGINT, ps_suppkey BIGINT, ps_availqty INT, ps_supplycost DECIMAL, ps_comment VARCHAR",
    "customer": "c_custkey BIGINT, c_name VARCHAR, c_address VARCHAR, c_nationkey BIGINT, c_phone VARCHAR, c_acctbal DECIMAL, c_mktsegment VARCHAR, c_comment VARCHAR",
    "orders": "o_orderkey BIGINT, o_custkey BIGINT, o_orderstatus VARCHAR, o_totalprice DECIMAL, o_orderdate DATE, o_orderpriority VARCHAR, o_clerk VARCHAR, o_shippriority INT, o_comment VARCHAR",
    "lineitem": "l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT, l_linenumber INT, l_quantity DECIMAL, l_extendedprice DECIMAL, l_discount DECIMAL, l_tax DECIMAL, l_returnflag VARCHAR, l_linestatus VARCHAR, l_shipdate DATE, l_commitdate DATE, l_receiptdate DATE, l_shipinstruct VARCHAR, l_shipmode VARCHAR, l_comment VARCHAR",
}


def read_tbl(path, columns: str) -> pa.Table:
    fields = [(c.split()[0], TYPES[c.split()[1]]) for c in columns.split(", ")]
    names = [n for n, _ in fields] + ["trailing"]  # each line ends with '|'
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(delimiter="|"),
        convert_options=pacsv.ConvertOptions(column_types=dict(fields)),
    )
    return table.drop_columns(["trailing"])


@pytest.fixture(scope="module")
def tpch():
    from conftest import require_testdata

    testdata = require_testdata()
    con = quiver.connect(threads=2)
    data = testdata / "tpch" / "tpchgen-rs" / "tpchgen" / "data" / "sf-0.01"
    for name, columns in TABLES.items():
        con.register(name, read_tbl(data / f"{name}.tbl.gz", columns))
    return con, testdata


def cell(value) -> str:
    if isinstance(value, (decimal.Decimal, float)):
        return repr(float(value))
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return "" if value is None else str(value)


def same(got: str, want: str) -> bool:
    if got == want:
        return True
    try:
        x, y = float(got), float(want)
    except ValueError:
        return False
    return abs(x - y) <= 1e-6 * max(abs(x), abs(y), 1.0)


def unqualified(name: str) -> str:
    """DataFusion names unaliased expressions with qualified columns (sum(lineitem.l_tax))."""
    return re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\.(?=[A-Za-z_])", "", name)


@pytest.mark.parametrize("q", range(1, 23))
def test_tpch_query_matches_duckdb(tpch, q):
    con, testdata = tpch
    sql = (testdata / "tpch" / "datafusion" / "benchmarks" / "queries" / f"q{q}.sql").read_text()
    with open(testdata / "oracles" / "tpch-duckdb-2.0.0-answers-sf0.01" / f"q{q}.csv", newline="") as f:
        want = list(csv.reader(f))
    result = None
    # q15 creates and drops a view around its query: keep the last statement with columns.
    for statement in (s for s in sql.split(";") if s.strip()):
        rel = con.execute(statement)
        if rel.columns:
            result = rel.to_arrow()
    assert result is not None
    assert [unqualified(c) for c in result.column_names] == want[0]
    got = [[cell(v) for v in row.values()] for row in result.to_pylist()]
    assert len(got) == len(want) - 1
    for i, (g, w) in enumerate(zip(got, want[1:])):
        assert all(same(a, b) for a, b in zip(g, w)) and len(g) == len(w), (i, g, w)
