"""Comparing tables read by two independent readers, value by value, in any row order."""

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any, List

import pyarrow as pa


def canonical(value: Any) -> Any:
    """A value in a form two readers agree on whatever Arrow type each chose for it
    (string or string view, timestamp unit, list or large list)."""
    if value is None:
        return None
    if isinstance(value, float):
        return "nan" if math.isnan(value) else value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return ("ts", value.isoformat())
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return (type(value).__name__, str(value))
    if isinstance(value, decimal.Decimal):
        return ("dec", str(value.normalize()) if value.is_finite() else str(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ("bytes", bytes(value).hex())
    if isinstance(value, dict):
        return tuple(sorted((k, canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        # Maps arrive as lists of (key, value) pairs.
        return ("list", tuple(canonical(v) for v in value))
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp (nanosecond timestamps)
        return canonical(value.to_pydatetime())
    return value


def sorted_rows(table: pa.Table) -> List[tuple]:
    """The table's rows as canonical tuples (columns in name order), sorted."""
    names = sorted(table.column_names)
    columns = [table.column(n).to_pylist() for n in names]
    rows = [tuple(canonical(c[i]) for c in columns) for i in range(table.num_rows)]
    return sorted(rows, key=repr)
