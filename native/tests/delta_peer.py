"""The Python `deltalake` package (delta-rs) as an independent Delta client for the write
tests: it reads tables Quiver wrote and writes tables for Quiver to change.

    python3 delta_peer.py read TABLE [VERSION]     rows as sorted JSON lines
    python3 delta_peer.py version TABLE            the newest version
    python3 delta_peer.py history TABLE            operations, oldest first, one a line
    python3 delta_peer.py write TABLE MODE FIRST LAST
        writes rows id FIRST..LAST (name 'n<id>', amount id * 0.5) with mode
        error|append|overwrite
"""

import datetime
import decimal
import json
import os
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake


def plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def main(argv):
    command, table = argv[0], argv[1]
    if command == "read":
        version = int(argv[2]) if len(argv) > 2 else None
        rows = DeltaTable(table, version=version).to_pyarrow_table().to_pylist()
        lines = sorted(json.dumps({k: plain(v) for k, v in r.items()}, sort_keys=True) for r in rows)
        print("\n".join(lines))
    elif command == "version":
        print(DeltaTable(table).version())
    elif command == "history":
        for commit in reversed(DeltaTable(table).history()):
            print(commit.get("operation"))
    elif command == "write":
        mode, first, last = argv[2], int(argv[3]), int(argv[4])
        ids = list(range(first, last + 1))
        data = pa.table({
            "id": pa.array(ids, pa.int64()),
            "name": pa.array([f"n{i}" for i in ids]),
            "amount": pa.array([i * 0.5 for i in ids], pa.float64()),
        })
        write_deltalake(table, data, mode=mode)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
    # deltalake's native threads can abort the interpreter's shutdown ("terminate called
    # without an active exception") after all work is done; leave without it.
    sys.stdout.flush()
    os._exit(0)
