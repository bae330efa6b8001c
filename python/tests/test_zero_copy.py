"""Zero copy, checked: results reach pyarrow without pyarrow allocating them again, and a
registered pyarrow table is scanned in place."""

from __future__ import annotations

import gc

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

ROWS = 4_000_000


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def buffer_ranges(table: pa.Table) -> list:
    """(start, end) of every non-empty buffer behind the table's arrays."""
    found = []
    for column in table.columns:
        for chunk in column.chunks:
            for buffer in chunk.buffers():
                if buffer is not None and buffer.size > 0:
                    found.append((buffer.address, buffer.address + buffer.size))
    return found


def outside(ranges: list, within: list) -> list:
    """The ranges that lie in none of `within` (a slice of a buffer lies inside it)."""
    return [r for r in ranges if not any(lo <= r[0] and r[1] <= hi for lo, hi in within)]


def test_converting_a_large_result_does_not_copy_it(con):
    rel = con.sql(f"SELECT value AS a, value * 2 AS b, value * 3 AS c FROM range(0, {ROWS})")
    gc.collect()
    pool_before = pa.total_allocated_bytes()
    rss_before = rss_bytes()
    table = rel.to_arrow()
    result_size = table.nbytes
    assert result_size >= ROWS * 3 * 8
    # pyarrow's allocator was not used for the result's buffers ...
    assert pa.total_allocated_bytes() - pool_before < result_size // 100
    # ... and the process holds the result once, not twice (the engine's own buffers are the
    # ones pyarrow sees).
    assert rss_bytes() - rss_before < result_size * 1.5
    assert pc.max(table.column("b")).as_py() == (ROWS - 1) * 2


def test_a_registered_table_is_scanned_in_place(con):
    rng = np.random.default_rng(7)
    source = pa.table(
        {
            "id": pa.array(np.arange(300_000, dtype=np.int64)),
            "x": pa.array(rng.random(300_000)),
            "s": pa.array([f"row {i}" for i in range(300_000)], pa.large_string()),
        }
    )
    con.register("t", source)
    pool_before = pa.total_allocated_bytes()
    result = pa.table(con.sql("SELECT * FROM t"))
    assert result.num_rows == source.num_rows
    copied = outside(buffer_ranges(result), buffer_ranges(source))
    assert not copied, f"{len(copied)} result buffers are not the registered table's"
    assert pa.total_allocated_bytes() - pool_before < source.nbytes // 100
    # And the values are the registered ones, in any order the partitions come back.
    assert sorted(result.column("id").to_pylist()) == source.column("id").to_pylist()


def test_registering_keeps_the_source_alive(con):
    source = pa.table({"v": pa.array(np.arange(1000, dtype=np.int64))})
    con.register("t", source)
    del source
    gc.collect()
    assert con.sql("SELECT sum(v) AS s FROM t").to_arrow().column("s").to_pylist() == [sum(range(1000))]


@pytest.mark.parametrize("rows", [0, 1])
def test_small_and_empty_results_convert(con, rows):
    table = con.sql(f"SELECT value FROM range(0, {rows})").to_arrow()
    assert table.num_rows == rows
    assert table.schema.names == ["value"]
