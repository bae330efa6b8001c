"""Every Delta table in the peer corpora that deltalake reads, at every version deltalake
reads, is read by Quiver with the same rows (in any order) and the same column names.

The oracle is `DeltaTable(path, version=v).to_pyarrow_table()`. Where that refuses the table
(deletion vectors, v2 checkpoints) or misreads it, deltalake's own query engine
(`deltalake.QueryBuilder`) answers instead. An answer is a misreading when a column holds more
nulls than the log's statistics record for the live files (as `to_pyarrow_table` 1.6.6 does
for column mapping); Quiver's answer is held to the same statistics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

import pyarrow as pa
import pyarrow.compute as pc

import quiver
from conftest import TESTDATA, require_testdata
from rows import sorted_rows

deltalake = pytest.importorskip("deltalake")

COMMIT = re.compile(r"^(\d{20})\.(json|checkpoint\.parquet|checkpoint\.\d+\.\d+\.parquet|checkpoint\.[^.]+\.(json|parquet)|crc)$")


def delta_tables() -> List[Path]:
    if not TESTDATA.is_dir():
        return []
    return sorted(p.parent for p in TESTDATA.rglob("_delta_log") if p.is_dir())


def versions_in_log(table: Path) -> List[int]:
    """Every version the log names a file for (commits, checkpoints, checksums)."""
    found = set()
    for entry in (table / "_delta_log").iterdir():
        m = COMMIT.match(entry.name)
        if m:
            found.add(int(m.group(1)))
    if not found:
        return []
    return list(range(min(found), max(found) + 1))


def logged_null_counts(dt, table: pa.Table) -> dict:
    """Per column of `table`, the nulls the log's statistics record over the live files
    (where every file has statistics for it)."""
    actions = pa.table(dt.get_add_actions(flatten=True))
    counts = {}
    for field in table.schema:
        metadata = field.metadata or {}
        physical = metadata.get(b"delta.columnMapping.physicalName", field.name.encode()).decode()
        key = f"null_count.{physical}"
        if key in actions.column_names and actions.column(key).null_count == 0:
            counts[field.name] = pc.sum(actions.column(key)).as_py() or 0
    return counts


def more_nulls_than_logged(table: pa.Table, logged: dict) -> list:
    """Columns holding more nulls than the log says the files have (deletion vectors only
    ever remove rows, so fewer is possible, more is not)."""
    return [name for name, count in logged.items() if table.column(name).null_count > count]


def deltalake_answer(table: Path, version: int):
    """deltalake's rows of `table` at `version` and the log's null counts, or None when it
    reads the version with neither of its readers."""
    try:
        dt = deltalake.DeltaTable(str(table), version=version)
    except Exception:  # noqa: BLE001
        return None
    readers = (
        lambda: dt.to_pyarrow_table(),
        lambda: pa.table(deltalake.QueryBuilder().register("t", dt).execute("SELECT * FROM t")),
    )
    for read in readers:
        try:
            rows = read()
            logged = logged_null_counts(dt, rows)
        except Exception:  # noqa: BLE001 - try the other reader
            continue
        if not more_nulls_than_logged(rows, logged):
            return rows, logged
    return None


def test_the_corpora_hold_delta_tables():
    require_testdata()
    assert len(delta_tables()) > 10, f"no Delta tables found under {TESTDATA}"


@pytest.mark.parametrize(
    "table", delta_tables(), ids=lambda p: str(p.relative_to(TESTDATA)) if TESTDATA.is_dir() else str(p)
)
def test_every_version_equals_deltalake(table: Path):
    require_testdata()
    compared = 0
    for version in versions_in_log(table):
        expected = deltalake_answer(table, version)
        if expected is None:
            continue  # a version deltalake cannot read is not compared
        expected, logged = expected
        con = quiver.connect(threads=2)
        con.register("t", str(table), version=version)
        actual = con.sql("SELECT * FROM t").to_arrow()
        assert sorted(actual.column_names) == sorted(expected.column_names), (table, version)
        assert actual.num_rows == expected.num_rows, (table, version)
        assert not more_nulls_than_logged(actual, logged), (table, version)
        assert sorted_rows(actual) == sorted_rows(expected), (table, version)
        compared += 1
    if compared == 0:
        pytest.skip(f"deltalake reads no version of {table}")
