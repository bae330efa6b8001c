"""Quiver: SQL over Parquet, CSV, JSON, Arrow IPC and Delta Lake tables.

Local files, S3 and HTTP(S) URLs, any version of a Delta table, and Arrow data already in
Python (pyarrow, polars, pandas) are queried with one SQL engine, the one the ``quiver`` CLI
runs. Results come back to pyarrow, polars and pandas through the Arrow C stream interface,
without a copy, and the GIL is released while Rust works.

>>> import quiver
>>> con = quiver.connect()
>>> con.sql("SELECT 1 + 1 AS two").to_arrow().column("two").to_pylist()
[2]
"""

from __future__ import annotations

import threading
from typing import Any, Mapping, Optional, Union

from quiver._native import (
    Connection,
    DeltaError,
    Error,
    InternalError,
    IoError,
    Relation,
    Report,
    SqlError,
    TableNotFoundError,
    __version__,
)

__all__ = [
    "Connection",
    "DeltaError",
    "Error",
    "InternalError",
    "IoError",
    "Relation",
    "Report",
    "SqlError",
    "TableNotFoundError",
    "connect",
    "default_connection",
    "execute",
    "register",
    "sql",
    "__version__",
]


def connect(
    memory_limit: Optional[Union[int, str]] = None,
    threads: Optional[int] = None,
    storage_options: Optional[Mapping[str, str]] = None,
) -> Connection:
    """Opens a connection: a session with its own tables and its own worker threads.

    ``memory_limit`` caps what operators hold before spilling to disk (bytes, or a size such
    as ``"4GB"`` or ``"512MiB"``); ``threads`` sets the worker threads and query partitions
    (the number of cores by default); ``storage_options`` are S3 settings as ``deltalake``
    takes them (``AWS_ACCESS_KEY_ID``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``,
    ``AWS_ALLOW_HTTP`` ...), applied over the ``AWS_*`` environment variables.
    """
    return Connection(
        memory_limit=memory_limit,
        threads=threads,
        storage_options=dict(storage_options) if storage_options is not None else None,
    )


_default: Optional[Connection] = None
_default_lock = threading.Lock()


def default_connection() -> Connection:
    """The connection the module-level ``quiver.sql``, ``register`` and ``execute`` use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Connection()
        return _default


def sql(query: str) -> Relation:
    """``default_connection().sql(query)``: a lazy relation for ``query``."""
    return default_connection().sql(query)


def execute(statements: str) -> Relation:
    """``default_connection().execute(statements)``: runs them now."""
    return default_connection().execute(statements)


def register(name: str, source: Any, version: Optional[int] = None, timestamp: Any = None) -> None:
    """``default_connection().register(...)``."""
    default_connection().register(name, source, version=version, timestamp=timestamp)
