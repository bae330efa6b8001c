"""Shared-memory Arrow rings: one writer process, many reader processes, zero-copy frames.

A ring is a file in ``/dev/shm`` holding a few frames of standard Arrow IPC messages. Every
reader sees every frame. A reader's batches point into the shared memory: ``pa.record_batch(b)``
and ``pl.DataFrame(b)`` take them without a copy, and the writer never overwrites a frame
whose buffers are still alive somewhere. A reader or writer that dies is noticed through
kernel-released locks: nothing to clean up by hand.

>>> from quiver.shm import Writer, Reader
>>> w = Writer.create("ticks", size="64MiB", slots=8)          # doctest: +SKIP
>>> w.write(polars_df)                                          # doctest: +SKIP
>>> r = Reader("ticks")                                         # doctest: +SKIP
>>> frame = pl.DataFrame(r.read(timeout=1.0))                   # doctest: +SKIP

The same rings are read and written by ``quiver shm ...`` and by SQL
(``read_shm('ticks')``, ``COPY (...) TO 'shm://ticks'``).
"""

from __future__ import annotations

from typing import Any, Optional

from quiver._native import (
    AlreadyExists,
    Batch,
    Corrupt,
    Lagged,
    RingFull,
    RingNotFound,
    Reader,
    ShmError,
    Writer,
    WriterGone,
)

__all__ = [
    "AlreadyExists",
    "Batch",
    "Corrupt",
    "Lagged",
    "Reader",
    "RingFull",
    "RingNotFound",
    "SharedDataFrame",
    "ShmError",
    "Writer",
    "WriterGone",
]

_MIB = 1 << 20


class SharedDataFrame:
    """The shape of QADataSwap's ``SharedDataFrame``, so that migrating is an import change.

    ``create_writer(name, size_mb=100, buffer_count=3)``, ``write(df)``,
    ``create_reader(name)``, ``read(timeout_ms=-1)`` -> a polars DataFrame (None on timeout),
    ``read_arrow(timeout_ms=-1)`` -> a pyarrow Table, ``close()``. Unlike the original, every
    reader receives every frame, and a frame stays valid while the DataFrame holds it.
    """

    def __init__(self, name: str, writer: Optional[Writer] = None, reader: Optional[Reader] = None):
        self.name = name
        self._writer = writer
        self._reader = reader

    @classmethod
    def create_writer(cls, name: str, size_mb: int = 100, buffer_count: int = 3) -> "SharedDataFrame":
        return cls(name, writer=Writer.create(name, size=size_mb * _MIB, slots=buffer_count))

    @classmethod
    def create_reader(cls, name: str) -> "SharedDataFrame":
        return cls(name, reader=Reader(name, start="oldest"))

    def write(self, df: Any) -> None:
        if self._writer is None:
            raise ValueError(f"SharedDataFrame '{self.name}' was opened for reading")
        self._writer.write(df)

    def _read(self, timeout_ms: int) -> Optional[Batch]:
        if self._reader is None:
            raise ValueError(f"SharedDataFrame '{self.name}' was opened for writing")
        timeout = None if timeout_ms is None or timeout_ms < 0 else timeout_ms / 1000.0
        return self._reader.read(timeout=timeout)

    def read(self, timeout_ms: int = -1) -> Any:
        """The next frame as a polars DataFrame (numeric columns stay in shared memory)."""
        import polars as pl

        batch = self._read(timeout_ms)
        return None if batch is None else pl.DataFrame(batch)

    def read_arrow(self, timeout_ms: int = -1) -> Any:
        """The next frame as a pyarrow Table, without a copy."""
        import pyarrow as pa

        batch = self._read(timeout_ms)
        return None if batch is None else pa.table(batch)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._reader = None

    def __enter__(self) -> "SharedDataFrame":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
