"""Content hashes of tables, computed as oracles/README.md defines them.

Usage: python3 hash.py MANIFEST OUT
MANIFEST maps a key to a list of files (Arrow IPC files written by Quiver, or the Parquet
files of an `expected/` folder); OUT receives {key: {"rows": n, "hash": h} | {"error": e}}.
"""

import hashlib
import json
import sys

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq


def table_hash(t):
    cols = sorted(t.column_names)
    rows = t.select(cols).to_pylist()
    lines = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
    return hashlib.md5("\n".join(lines).encode()).hexdigest()[:16]


def read(path):
    if path.endswith(".arrow"):
        with pa.ipc.open_file(path) as reader:
            return reader.read_all()
    return pq.read_table(path)


def main():
    manifest = json.load(open(sys.argv[1]))
    out = {}
    for key, files in manifest.items():
        try:
            tables = [read(f) for f in files]
            table = pa.concat_tables(tables, promote_options="permissive") if tables else None
            out[key] = {"rows": table.num_rows, "hash": table_hash(table)}
        except Exception as e:  # reported per key; the Rust test decides what it means
            out[key] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
