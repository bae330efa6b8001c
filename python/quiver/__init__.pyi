"""Type stubs for the ``quiver`` package."""

from __future__ import annotations

import datetime
import os
from typing import Any, List, Mapping, Optional, Tuple, Union, final

import pyarrow

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

__version__: str

class Error(Exception):
    """The base of every error Quiver raises."""

class SqlError(Error):
    """SQL that does not parse or plan; ``line``/``column`` locate a syntax error."""

    line: Optional[int]
    column: Optional[int]

class TableNotFoundError(Error):
    """A table name that is neither registered nor a readable path."""

class DeltaError(Error):
    """A Delta table that cannot be read or written as asked."""

class IoError(Error):
    """A file or store that is missing, unreadable or corrupt."""

class InternalError(Error):
    """A bug in Quiver, including a caught panic."""

@final
class Report:
    """What ``Connection.verify`` found."""

    @property
    def passed(self) -> bool: ...
    @property
    def checks(self) -> List[Tuple[bool, str]]: ...
    @property
    def text(self) -> str: ...
    def __bool__(self) -> bool: ...

@final
class Relation:
    """A planned query, run each time its rows are asked for."""

    @property
    def schema(self) -> pyarrow.Schema: ...
    @property
    def columns(self) -> List[str]: ...
    def to_arrow(self) -> pyarrow.Table: ...
    def to_polars(self) -> Any: ...
    def to_pandas(self) -> Any: ...
    def fetch_record_batch(self) -> pyarrow.RecordBatchReader: ...
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def explain(self, verbose: bool = False, analyze: bool = False) -> str: ...
    def show(self, max_rows: int = 20) -> None: ...

_Source = Union[str, "os.PathLike[str]", Any]

@final
class Connection:
    """A Quiver session with its own tables, run by its own threads."""

    def __new__(
        cls,
        memory_limit: Optional[Union[int, str]] = None,
        threads: Optional[int] = None,
        storage_options: Optional[Mapping[str, str]] = None,
    ) -> Connection: ...
    def register(
        self,
        name: str,
        source: _Source,
        version: Optional[int] = None,
        timestamp: Optional[Union[str, datetime.datetime]] = None,
    ) -> None: ...
    def unregister(self, name: str) -> bool: ...
    def sql(self, query: str) -> Relation: ...
    def execute(self, sql: str) -> Relation: ...
    def tables(self) -> List[str]: ...
    def history(self, path: Union[str, "os.PathLike[str]"]) -> Relation: ...
    def verify(self, path: Union[str, "os.PathLike[str]"], deep: bool = False) -> Report: ...
    def __enter__(self) -> Connection: ...
    def __exit__(self, *args: object) -> bool: ...

def connect(
    memory_limit: Optional[Union[int, str]] = None,
    threads: Optional[int] = None,
    storage_options: Optional[Mapping[str, str]] = None,
) -> Connection: ...
def default_connection() -> Connection: ...
def sql(query: str) -> Relation: ...
def execute(statements: str) -> Relation: ...
def register(
    name: str,
    source: _Source,
    version: Optional[int] = None,
    timestamp: Optional[Union[str, datetime.datetime]] = None,
) -> None: ...
