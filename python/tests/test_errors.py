"""Bad input raises the right exception, with a message a person can act on, and leaves the
connection working."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import quiver


def test_the_hierarchy():
    for cls in (quiver.SqlError, quiver.TableNotFoundError, quiver.DeltaError, quiver.IoError, quiver.InternalError):
        assert issubclass(cls, quiver.Error)
    assert issubclass(quiver.Error, Exception)
    assert quiver.SqlError.line is None and quiver.SqlError.column is None


def test_a_missing_file(con, tmp_path):
    missing = tmp_path / "nowhere" / "missing.parquet"
    with pytest.raises(quiver.IoError) as raised:
        con.register("m", str(missing))
    assert "missing.parquet" in str(raised.value)
    with pytest.raises(quiver.Error) as raised:
        con.sql(f"SELECT * FROM '{missing}'")
    assert "missing.parquet" in str(raised.value)
    assert con.sql("SELECT 1 AS ok").to_arrow().column("ok").to_pylist() == [1]


def test_bad_sql_carries_line_and_column(con):
    with pytest.raises(quiver.SqlError) as raised:
        con.sql("SELECT 1;\nSELEC 2")
    assert raised.value.line == 2
    assert raised.value.column == 1
    assert "SELEC" in str(raised.value)
    text = "SELECT *\nFROM (VALUES (1)) t WHERE\n  ORDER BY 1"
    with pytest.raises(quiver.SqlError) as raised:
        con.sql(text)
    line, column = raised.value.line, raised.value.column
    assert line == 3
    # The token the message names is where line and column point.
    found = str(raised.value).split("found: ")[1].split(" ")[0]
    assert text.splitlines()[line - 1][column - 1 :].startswith(found)


def test_nothing_runs_when_a_later_statement_does_not_parse(con):
    with pytest.raises(quiver.SqlError):
        con.execute("CREATE TABLE should_not_exist AS VALUES (1); SELEC 2")
    assert "should_not_exist" not in con.tables()


def test_an_unknown_table_lists_the_known_ones(con):
    con.register("orders", pa.table({"a": [1]}))
    with pytest.raises(quiver.TableNotFoundError) as raised:
        con.sql("SELECT * FROM sales")
    assert "sales" in str(raised.value) and "orders" in str(raised.value)


def test_an_unknown_column_is_a_sql_error(con):
    con.register("t", pa.table({"a": [1]}))
    with pytest.raises(quiver.SqlError) as raised:
        con.sql("SELECT nope FROM t")
    assert "nope" in str(raised.value)


def test_a_corrupt_parquet_file_names_itself(con, tmp_path):
    path = tmp_path / "broken.parquet"
    pq.write_table(pa.table({"v": list(range(10_000))}), path, compression="snappy")
    data = bytearray(path.read_bytes())
    # Keep the footer (so the schema reads) and ruin the pages.
    for i in range(8, len(data) // 2):
        data[i] = 0xFF ^ data[i]
    path.write_bytes(bytes(data))
    with pytest.raises((pa.ArrowException, OSError)):
        pq.read_table(path)  # the independent reader agrees it is corrupt
    with pytest.raises(quiver.IoError) as raised:
        con.register("b", str(path))
        con.sql("SELECT sum(v) FROM b").to_arrow()
    assert "broken.parquet" in str(raised.value)
    assert con.sql("SELECT 2 AS ok").to_arrow().column("ok").to_pylist() == [2]


def test_corrupt_files_from_the_corpora(con, testdata):
    bad = sorted((testdata / "parquet-testing" / "bad_data").glob("*.parquet"))
    assert bad, "no corrupt Parquet files in the corpora"
    checked = 0
    for path in bad:
        try:
            pq.read_table(path)
            continue  # readable by pyarrow: not a corrupt file for this test
        except Exception:  # noqa: BLE001
            pass
        with pytest.raises(quiver.Error) as raised:
            con.sql(f"SELECT * FROM '{path}'").to_arrow()
        assert not isinstance(raised.value, quiver.InternalError), (path, raised.value)
        assert path.name in str(raised.value), (path, str(raised.value))
        checked += 1
    assert checked > 0


def test_an_object_without_the_arrow_interface(con):
    for source in (object(), 42, [1, 2, 3], {"a": [1]}):
        with pytest.raises(TypeError) as raised:
            con.register("x", source)
        assert "__arrow_c_stream__" in str(raised.value)


def test_bad_version_numbers(con, tmp_path):
    deltalake = pytest.importorskip("deltalake")
    path = tmp_path / "lake"
    deltalake.write_deltalake(str(path), pa.table({"v": [1, 2]}))
    deltalake.write_deltalake(str(path), pa.table({"v": [3]}), mode="append")
    newest = deltalake.DeltaTable(str(path)).version()
    with pytest.raises(quiver.DeltaError) as raised:
        con.register("t", str(path), version=newest + 5)
    assert str(newest + 5) in str(raised.value)
    with pytest.raises(ValueError, match="0 or more"):
        con.register("t", str(path), version=-1)
    with pytest.raises(TypeError, match="int"):
        con.register("t", str(path), version="1")
    with pytest.raises(ValueError, match="not both"):
        con.register("t", str(path), version=1, timestamp="2026-01-01")
    with pytest.raises(ValueError, match="timestamp"):
        con.register("t", str(path), timestamp="yesterday-ish")
    with pytest.raises(quiver.DeltaError):
        con.sql(f"SELECT * FROM '{path}' VERSION AS OF {newest + 5}").to_arrow()
    con.register("t", str(path), version=0)
    assert con.sql("SELECT count(*) AS c FROM t").to_arrow().column("c").to_pylist() == [2]


def test_time_travel_on_in_memory_data_is_refused(con):
    with pytest.raises(ValueError, match="Delta"):
        con.register("x", pa.table({"a": [1]}), version=1)
