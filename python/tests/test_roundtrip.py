"""Frames registered from polars and pandas come back with their types and values intact."""

from __future__ import annotations

import datetime
import decimal
import zoneinfo

import pyarrow as pa
import pytest


def typed_table() -> pa.Table:
    """One column of each kind that tends to lose something on the way through an engine."""
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    n = 5
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "day": pa.array([datetime.date(2026, 1, 1 + i) if i != 2 else None for i in range(n)], pa.date32()),
            "at": pa.array(
                [datetime.datetime(2026, 3, 29, 1 + i, 30, tzinfo=paris) if i != 1 else None for i in range(n)],
                pa.timestamp("us", tz="Europe/Paris"),
            ),
            "amount": pa.array(
                [decimal.Decimal(f"{i}1234.56") if i != 3 else None for i in range(n)], pa.decimal128(12, 2)
            ),
            "tags": pa.array([[f"t{i}", None] if i != 4 else None for i in range(n)], pa.list_(pa.string())),
            "point": pa.array(
                [{"x": float(i), "y": None if i == 0 else i} for i in range(n)],
                pa.struct([("x", pa.float64()), ("y", pa.int32())]),
            ),
            "big_text": pa.array(["é" * (i * 1000) if i != 0 else None for i in range(n)], pa.large_string()),
            "view_text": pa.array([f"view {i}" * 3 if i != 2 else None for i in range(n)], pa.string_view()),
            "nothing": pa.nulls(n, pa.int32()),
        }
    )


def test_polars_frame_round_trips(con):
    pl = pytest.importorskip("polars")
    frame = pl.from_arrow(typed_table())
    con.register("frame", frame)
    back = con.sql("SELECT * FROM frame ORDER BY id").to_polars()
    assert back.schema == frame.schema
    assert back.equals(frame)


def test_pandas_frame_round_trips(con):
    pd = pytest.importorskip("pandas")
    frame = typed_table().to_pandas()
    con.register("frame", frame)
    back = con.sql("SELECT * FROM frame ORDER BY id").to_pandas()
    assert list(back.columns) == list(frame.columns)
    assert back.dtypes.equals(frame.dtypes), (back.dtypes, frame.dtypes)
    pd.testing.assert_frame_equal(
        back.map(_plain) if hasattr(back, "map") else back.applymap(_plain),
        frame.map(_plain) if hasattr(frame, "map") else frame.applymap(_plain),
    )


def _plain(value):
    """numpy arrays (pandas' lists) as lists, so frames compare by value."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def test_pyarrow_table_round_trips_with_every_type(con):
    table = typed_table()
    con.register("t", table)
    back = con.sql("SELECT * FROM t ORDER BY id").to_arrow()
    assert back.schema.equals(table.schema), (back.schema, table.schema)
    assert back.equals(table)


def test_polars_reads_a_relation_directly(con):
    pl = pytest.importorskip("polars")
    con.register("t", typed_table())
    frame = pl.DataFrame(con.sql("SELECT id, day, amount FROM t ORDER BY id"))
    assert frame["id"].to_list() == list(range(5))
    assert frame.schema["amount"] == pl.Decimal(12, 2)
