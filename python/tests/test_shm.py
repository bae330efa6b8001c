"""quiver.shm: rings between Python, the quiver CLI and Rust, in separate processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import quiver
from quiver.shm import Lagged, Reader, RingFull, RingNotFound, SharedDataFrame, Writer, WriterGone


def cli() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/quiver/target"))
    exe = target / "debug" / "quiver"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: `make test` builds it (cargo test --workspace) before the Python tests")
    return exe


@pytest.fixture
def ring(request):
    name = f"py-{os.getpid()}-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    path = Path("/dev/shm") / f"quiver-{name}"
    path.unlink(missing_ok=True)
    yield name
    path.unlink(missing_ok=True)


def frame(k: int, rows: int = 1000) -> pa.Table:
    ids = pa.array(range(k * 1_000_000, k * 1_000_000 + rows), pa.int64())
    return pa.table({"id": ids, "x": pc.multiply(ids.cast(pa.float64()), 0.5), "k": pa.array([k] * rows, pa.int32())})


def run_py(code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_python_writer_reaches_cli_and_python_readers_in_other_processes_across_a_schema_change(ring):
    w = Writer.create(ring, size="16MiB", slots=8)
    # A Python reader in another process, started before anything is written.
    reader = run_py(
        f"""
        import sys, pyarrow as pa
        from quiver.shm import Reader
        r = Reader({ring!r})
        print("attached", flush=True)
        for b in r:
            t = pa.record_batch(b)
            print(b.seq, b.schema_id, t.num_rows, t.column(0)[0].as_py(), flush=True)
        """
    )
    assert reader.stdout.readline().strip() == "attached"
    for k in range(6):
        w.write(frame(k))
    other = pl.DataFrame({"name": ["a", "b", "c"], "n": [1, 2, 3]})
    w.write(other)
    w.close()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    lines = [line.split() for line in out.strip().splitlines()]
    assert [int(seq) for seq, *_ in lines] == list(range(1, 8))
    assert [int(l[1]) for l in lines] == [0] * 6 + [1]
    assert [int(l[3]) for l in lines[:6]] == [k * 1_000_000 for k in range(6)]
    # The CLI reads the same ring (a late reader of a closed ring drains what is left).
    done = subprocess.run([cli(), "shm", "read", ring, "--format", "csv"], capture_output=True, text=True, timeout=60)
    # The frames after the schema change cannot join the earlier ones in one table.
    assert done.returncode != 0 and "different schema" in done.stderr, done.stderr
    done = subprocess.run(
        [cli(), "-c", f"SELECT count(*) AS n, min(id) AS lo FROM read_shm('{ring}', on_schema_change => 'stop')", "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "6000,0"


def test_a_cli_writer_reaches_a_python_reader_and_sql_in_python(ring):
    subprocess.run([cli(), "shm", "create", ring, "--size", "8MiB", "--slots", "4"], check=True, capture_output=True)
    r = Reader(ring)
    writer = subprocess.Popen(
        [cli(), "shm", "write", ring, "-c", "SELECT x AS id, x * 2 AS twice FROM generate_series(1, 20000) t(x) ORDER BY id"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    got = pa.Table.from_batches([pa.record_batch(b) for b in r])
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "20000" in out
    assert r.closed
    assert got.num_rows == 20000
    assert got.column("id").to_pylist() == list(range(1, 20001))
    assert got.column("twice").to_pylist()[-1] == 40000
    # SQL over the ring from the Python package.
    con = quiver.connect()
    t = con.sql(f"SELECT count(*) AS n, sum(twice) AS s FROM read_shm('{ring}')").to_arrow()
    assert t.column("n")[0].as_py() > 0


def test_python_reads_are_zero_copy_for_pyarrow_and_polars(ring):
    w = Writer.create(ring, size="64MiB", slots=4)
    r = Reader(ring)
    big = frame(3, rows=500_000)
    w.write(big)
    before = pa.total_allocated_bytes()
    b = r.read(timeout=10)
    t = pa.record_batch(b)
    assert pa.total_allocated_bytes() == before, "pyarrow allocated while importing a ring batch"
    lo, hi = r.mapping
    for col in t.columns:
        for buf in col.buffers():
            if buf is not None and buf.size > 0:
                assert lo <= buf.address < hi, "a pyarrow buffer outside the ring mapping"
    df = pl.DataFrame(b)
    for name in ("id", "x"):
        for buf in df[name].to_arrow().buffers():
            if buf is not None and buf.size > 0:
                assert lo <= buf.address < hi, f"polars column {name} is not in the ring mapping"
    assert df["id"].to_list()[:3] == [3_000_000, 3_000_001, 3_000_002]
    assert t.equals(big.to_batches()[0])


def test_a_held_batch_pins_its_slot_and_lag_is_counted_exactly(ring):
    w = Writer.create(ring, size="4MiB", slots=4, policy="overwrite", write_timeout=0.3)
    r = Reader(ring)
    for k in range(4):
        w.write(frame(k, 10))
    held = pa.record_batch(r.read(timeout=5))
    for _ in range(3):
        r.read(timeout=5)
    # Frame 1 is still referenced by `held`: its slot is not reused.
    with pytest.raises(RingFull):
        w.write(frame(9, 10))
    assert held.column(0)[0].as_py() == 0
    del held
    w.write(frame(4, 10))
    # A second reader that starts at frame 1 has lost it.
    r2 = Reader(ring, start="1")
    with pytest.raises(Lagged) as e:
        r2.read(timeout=5)
    assert e.value.missed == 1
    assert pa.record_batch(r2.read(timeout=5)).column(2)[0].as_py() == 1


def test_a_killed_python_writer_is_reported_and_a_new_one_takes_over(ring):
    writer = run_py(
        f"""
        import pyarrow as pa
        from quiver.shm import Writer
        w = Writer.create({ring!r}, size="4MiB", slots=4, policy="overwrite")
        w.write(pa.table({{"v": [1, 2, 3]}}))
        print("wrote", flush=True)
        import time
        time.sleep(600)
        """
    )
    assert writer.stdout.readline().strip() == "wrote"
    r = Reader(ring)
    assert pa.record_batch(r.read(timeout=10)).column(0).to_pylist() == [1, 2, 3]
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    with pytest.raises(WriterGone):
        r.read(timeout=30)
    w = Writer.create(ring, size="4MiB", slots=4, policy="overwrite")
    w.write(pa.table({"v": [4]}))
    w.close()
    assert pa.record_batch(r.read(timeout=10)).column(0).to_pylist() == [4]
    assert r.read(timeout=1) is None and r.closed


def test_shared_dataframe_keeps_the_shape_of_the_system_it_replaces(ring):
    w = SharedDataFrame.create_writer(ring, size_mb=8, buffer_count=3)
    rd = SharedDataFrame.create_reader(ring)
    df = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    w.write(df)
    got = rd.read(timeout_ms=5000)
    assert isinstance(got, pl.DataFrame)
    assert got.equals(df)
    assert rd.read(timeout_ms=10) is None
    w.write(df.head(1))
    assert rd.read_arrow(timeout_ms=5000).num_rows == 1
    w.close()
    rd.close()


def test_missing_rings_and_bad_arguments_are_clear():
    with pytest.raises(RingNotFound, match="not found"):
        Reader("no-such-ring-for-python")
    with pytest.raises(ValueError, match="not valid"):
        Writer.create("../escape")
    with pytest.raises(ValueError, match="policy"):
        Writer.create("fine-name", policy="sometimes")
