"""Delta writes through the same router as the CLI, checked by reading the tables back with
deltalake; a failed write leaves the table as it was."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import quiver
from rows import sorted_rows

deltalake = pytest.importorskip("deltalake")


def read(path: Path, version=None) -> pa.Table:
    return deltalake.DeltaTable(str(path), version=version).to_pyarrow_table()


def log_files(path: Path) -> set:
    return {p.name for p in (path / "_delta_log").iterdir()}


@pytest.fixture
def sales(con, tmp_path) -> Path:
    path = tmp_path / "sales"
    con.execute(
        f"CREATE TABLE delta.`{path}` (id BIGINT NOT NULL, region STRING, amount DOUBLE) USING DELTA"
    )
    return path


def test_create_insert_update_delete_merge(con, sales):
    out = con.execute(
        f"INSERT INTO delta.`{sales}` VALUES (1, 'north', 10.0), (2, 'south', 20.0), (3, 'north', 30.0)"
    ).to_arrow()
    assert out.num_rows == 1  # what the write did, as the CLI prints it
    assert sorted_rows(read(sales)) == sorted_rows(
        pa.table({"id": [1, 2, 3], "region": ["north", "south", "north"], "amount": [10.0, 20.0, 30.0]})
    )

    con.register("sales", str(sales))
    con.execute("UPDATE sales SET amount = amount * 2 WHERE region = 'north'")
    con.execute("DELETE FROM sales WHERE id = 2")
    expected = pa.table({"id": [1, 3], "region": ["north", "north"], "amount": [20.0, 60.0]})
    assert sorted_rows(read(sales)) == sorted_rows(expected)

    con.register("fixes", pa.table({"id": [3, 4], "region": ["east", "east"], "amount": [1.0, 2.0]}))
    con.execute(
        "MERGE INTO sales t USING fixes s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET amount = s.amount "
        "WHEN NOT MATCHED THEN INSERT (id, region, amount) VALUES (s.id, s.region, s.amount)"
    )
    merged = read(sales)
    assert sorted(merged.column("id").to_pylist()) == [1, 3, 4]
    by_id = dict(zip(merged.column("id").to_pylist(), merged.column("amount").to_pylist()))
    assert by_id == {1: 20.0, 3: 1.0, 4: 2.0}
    # Quiver reads what deltalake reads, at the newest version and at each earlier one.
    assert sorted_rows(con.sql("SELECT * FROM sales").to_arrow()) == sorted_rows(merged)
    newest = deltalake.DeltaTable(str(sales)).version()
    for v in range(newest + 1):
        con.register("old", str(sales), version=v)
        assert sorted_rows(con.sql("SELECT * FROM old").to_arrow()) == sorted_rows(read(sales, v)), v


def test_insert_from_a_registered_frame(con, sales):
    frame = pa.table({"id": pa.array(range(100), pa.int64()), "region": ["r"] * 100, "amount": [0.5] * 100})
    con.register("df", frame)
    con.execute(f"INSERT INTO delta.`{sales}` SELECT * FROM df")
    back = read(sales)
    assert back.num_rows == 100
    assert pc.sum(back.column("amount")).as_py() == pytest.approx(50.0)


def test_a_failed_write_changes_nothing(con, sales):
    con.execute(f"INSERT INTO delta.`{sales}` VALUES (1, 'a', 1.0)")
    before_rows = sorted_rows(read(sales))
    before_log = log_files(sales)
    before_version = deltalake.DeltaTable(str(sales)).version()
    con.register("sales", str(sales))
    with pytest.raises(quiver.Error):
        con.execute("UPDATE sales SET no_such_column = 1")
    with pytest.raises(quiver.Error):
        con.execute("INSERT INTO sales VALUES (NULL, 'b', 2.0)")  # id is NOT NULL
    with pytest.raises(quiver.Error):
        con.execute(f"INSERT INTO sales SELECT * FROM '{sales}/does-not-exist.parquet'")
    assert deltalake.DeltaTable(str(sales)).version() == before_version
    assert log_files(sales) == before_log
    assert sorted_rows(read(sales)) == before_rows


def test_writing_where_no_table_is(con, tmp_path):
    with pytest.raises(quiver.DeltaError) as raised:
        con.execute(f"INSERT INTO delta.`{tmp_path / 'nothing'}` VALUES (1)")
    assert "no Delta table" in str(raised.value) or "_delta_log" in str(raised.value)


def test_history_lists_every_commit(con, sales):
    for i in range(3):
        con.execute(f"INSERT INTO delta.`{sales}` VALUES ({i}, 'x', 1.0)")
    history = con.history(str(sales)).to_arrow()
    expected = deltalake.DeltaTable(str(sales)).history()
    assert history.num_rows == len(expected)
    assert sorted(history.column("version").to_pylist()) == sorted(h["version"] for h in expected)
    assert history.column("version").to_pylist()[0] == max(h["version"] for h in expected)


def test_verify_passes_a_sound_table_and_fails_a_damaged_one(con, sales):
    con.execute(f"INSERT INTO delta.`{sales}` VALUES (1, 'a', 1.0), (2, 'b', 2.0)")
    report = con.verify(str(sales))
    assert report.passed and bool(report)
    assert report.checks and all(ok for ok, _ in report.checks)
    assert str(report)
    for data_file in sales.glob("*.parquet"):
        data_file.unlink()
    damaged = con.verify(str(sales))
    assert not damaged.passed
    assert any(not ok for ok, _ in damaged.checks)


def test_timestamp_time_travel_matches_deltalake(con, tmp_path):
    path = tmp_path / "tt"
    deltalake.write_deltalake(str(path), pa.table({"v": [1]}))
    time.sleep(0.05)
    deltalake.write_deltalake(str(path), pa.table({"v": [2]}), mode="append")
    time.sleep(0.05)
    deltalake.write_deltalake(str(path), pa.table({"v": [3]}), mode="append")
    newest = deltalake.DeltaTable(str(path)).version()
    for version in range(newest + 1):
        # A commit's time is its log file's modification time (no in-commit timestamps here);
        # one microsecond later is after it and well before the next commit.
        commit = path / "_delta_log" / f"{version:020}.json"
        micros = commit.stat().st_mtime_ns // 1000 + 1
        at = datetime.datetime.fromtimestamp(micros // 1_000_000, tz=datetime.timezone.utc).replace(
            microsecond=micros % 1_000_000
        )
        theirs_table = deltalake.DeltaTable(str(path))
        theirs_table.load_as_version(at)
        assert theirs_table.version() == version
        con.register("t", str(path), timestamp=at)
        ours = con.sql("SELECT v FROM t").to_arrow()
        assert sorted_rows(ours) == sorted_rows(theirs_table.to_pyarrow_table()), version
        con.register("t", str(path), timestamp=at.isoformat())  # a string works as well
        assert sorted_rows(con.sql("SELECT v FROM t").to_arrow()) == sorted_rows(ours)
    # Before the first commit there is no version to read.
    with pytest.raises(quiver.DeltaError):
        con.register("t", str(path), timestamp="2000-01-01T00:00:00Z")
