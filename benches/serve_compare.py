#!/usr/bin/env python3
"""`quiver serve` against Redis for batch feature lookups: 1,000 random keys x 10 float32
columns, over loopback, with the same client and the same decoding work for both.

    python3 benches/serve_compare.py --quiver ~/.cache/quiver/target/release/quiver \\
        --rows 1000000 --rows 10000000

For each table size it:
- writes one `YYYY-MM-DD/` partition (8 zstd Parquet files + `_SUCCESS`) and starts
  `quiver serve` on it; loads the same rows into Redis 7 (`redis-server`, `save ""`) twice:
  one hash per key (fields f0..f9, 4-byte little-endian values: Feast's layout) and one
  packed 40-byte blob per key;
- times, from one Python client (keep-alive HTTP or one Redis connection), a lookup of
  1,000 random keys decoded into a 1000x10 float32 numpy array: Quiver (JSON keys in, one
  Arrow IPC batch out, pyarrow -> numpy), Redis pipelined HMGET, and Redis MGET of blobs;
- measures throughput with `wrk` (a Lua script posting random 1,000-key bodies) for Quiver
  and `redis-benchmark -P 1000` (HMGET of random keys) for Redis, in keys per second;
- reports memory per row: Quiver's resident set (mapped file + index + heap, less the
  resident set of a server holding one row) and Redis's `used_memory`, each divided by rows;
- times reloads of a new partition of the same size (`_SUCCESS` written -> served): alone,
  and while `wrk` runs, with wrk's latency and non-2xx count during that reload.

The servers run on core 0 and the clients on core 1 (`taskset`), as the project notes ask.
Needs: `apt-get install redis-server wrk`; `pip install redis hiredis pyarrow numpy`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = [f"f{i}" for i in range(10)]
ARROW = "application/vnd.apache.arrow.stream"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def key_names(n: int) -> list[str]:
    return [f"key_{i:08d}" for i in range(n)]


def write_partition(root: Path, date: str, rows: int, seed: int) -> np.ndarray:
    """Writes the partition; returns its values (rows x 10 float32) for checking answers."""
    rng = np.random.default_rng(seed)
    values = rng.random((rows, 10), dtype=np.float32)
    folder = root / date
    folder.mkdir(parents=True, exist_ok=True)
    files = 8
    step = -(-rows // files)
    for f in range(files):
        lo, hi = f * step, min(rows, (f + 1) * step)
        table = pa.table({"key": pa.array([f"key_{i:08d}" for i in range(lo, hi)]),
                          **{c: pa.array(values[lo:hi, j]) for j, c in enumerate(COLUMNS)}})
        pq.write_table(table, folder / f"part-{f:05d}.parquet", compression="zstd")
    (folder / "_SUCCESS").write_bytes(b"")
    return values


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentiles(samples: list[float]) -> dict:
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]
    return {"p50_us": pick(0.5) * 1e6, "p99_us": pick(0.99) * 1e6, "mean_us": statistics.fmean(s) * 1e6,
            "n": len(s)}


class Quiver:
    def __init__(self, binary: str, root: Path, workdir: Path):
        self.port = free_port()
        config = {
            "server": {"host": "127.0.0.1", "port": self.port, "data_dir": str(workdir / "data"),
                       "max_keys": 100000},
            "tables": {"feat": {"source": {"local": {"path": str(root)}}, "key": ["key"],
                                "poll_interval": "1h",
                                "columns": {"key": {"dtype": "utf8", "nullable": False},
                                            **{c: {"dtype": "float32"} for c in COLUMNS}}}},
        }
        path = workdir / "serve.yml"
        path.write_text(json.dumps(config))
        started = time.perf_counter()
        self.proc = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--config", str(path)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.proc.stdout.readline()
        while True:
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        self.first_load_s = time.perf_counter() - started
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port)

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def lookup(self, idx: list[int]) -> np.ndarray:
        keys = [f"key_{i:08d}" for i in idx]
        body = json.dumps({"keys": keys, "columns": COLUMNS}).encode()
        self.conn.request("POST", "/v1/tables/feat/fetch", body=body,
                          headers={"Content-Type": "application/json", "Accept": ARROW})
        r = self.conn.getresponse()
        data = r.read()
        table = pa.ipc.open_stream(data).read_all()
        return np.column_stack([table[c].chunk(0).to_numpy(zero_copy_only=False) for c in COLUMNS])

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def redis_key(i: int) -> str:
    """redis-benchmark's `__rand_int__` expands to 12 digits, so Redis keys have that shape
    and its throughput run reads keys that exist."""
    return f"k:{i:012d}"


class Redis:
    def __init__(self, server: str):
        import redis

        self.port = free_port()
        self.proc = subprocess.Popen(["taskset", "-c", "0", server, "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--bind", "127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(host="127.0.0.1", port=self.port)
        for _ in range(200):
            try:
                self.client.ping()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)

    def load(self, values: np.ndarray, layout: str) -> float:
        self.client.flushall()
        base = self.client.info("memory")["used_memory"]
        rows = values.shape[0]
        pipe = self.client.pipeline(transaction=False)
        for i in range(rows):
            k = redis_key(i)
            if layout == "hash":
                pipe.hset(k, mapping={c: values[i, j].tobytes() for j, c in enumerate(COLUMNS)})
            else:
                pipe.set(k, values[i].tobytes())
            if i % 10000 == 9999:
                pipe.execute()
        pipe.execute()
        return (self.client.info("memory")["used_memory"] - base) / rows

    def hmget(self, idx: list[int]) -> np.ndarray:
        keys = [redis_key(i) for i in idx]
        pipe = self.client.pipeline(transaction=False)
        for k in keys:
            pipe.hmget(k, COLUMNS)
        out = pipe.execute()
        return np.frombuffer(b"".join(b"".join(row) for row in out), dtype=np.float32).reshape(len(keys), 10)

    def mget(self, idx: list[int]) -> np.ndarray:
        keys = [redis_key(i) for i in idx]
        out = self.client.mget(keys)
        return np.frombuffer(b"".join(out), dtype=np.float32).reshape(len(keys), 10)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def time_lookups(fn, rows: int, requests: int, values: np.ndarray, rng: random.Random) -> dict:
    samples = []
    for i in range(requests + 50):
        idx = [rng.randrange(rows) for _ in range(1000)]
        t = time.perf_counter()
        got = fn(idx)
        dt = time.perf_counter() - t
        if i < 50:
            # Warm-up, and a check that every system answers the same values.
            assert np.array_equal(got, values[idx]), "wrong answer"
            continue
        samples.append(dt)
    return percentiles(samples)


WRK_LUA = """
math.randomseed(os.time())
local rows = %d
request = function()
  local keys = {}
  for i = 1, 1000 do keys[i] = string.format('"key_%%08d"', math.random(0, rows - 1)) end
  local body = '{"keys":[' .. table.concat(keys, ",") .. '],"columns":%s}'
  return wrk.format("POST", "/v1/tables/feat/fetch",
    {["Content-Type"] = "application/json", ["Accept"] = "%s"}, body)
end
"""


def wrk_keys_per_s(port: int, rows: int, seconds: int, workdir: Path) -> dict:
    script = workdir / "fetch.lua"
    script.write_text(WRK_LUA % (rows, json.dumps(COLUMNS), ARROW))
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True).stdout
    rps = float(next(l for l in out.splitlines() if l.startswith("Requests/sec")).split()[1])
    p50 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("50%")), "?")
    p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), "?")
    bad = sum(int(l.split()[-1]) for l in out.splitlines() if "Non-2xx" in l)
    return {"requests_per_s": rps, "keys_per_s": rps * 1000, "p50": p50, "p99": p99, "non_2xx": bad}


def redis_benchmark_keys_per_s(port: int, rows: int) -> float:
    # redis-benchmark's __rand_int__ is 12 digits: load keys of that shape for this run.
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-n", "200000", "-c", "8",
                          "-P", "1000", "-r", str(rows), "-q", "HMGET", "k:__rand_int__", *COLUMNS],
                         capture_output=True, text=True).stdout
    for line in out.replace("\r", "\n").split("\n"):
        if "requests per second" in line:
            return float(line.rsplit(": ", 1)[1].split()[0])
    return float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quiver", required=True)
    p.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--rows", type=int, action="append")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--wrk-seconds", type=int, default=10)
    args = p.parse_args()
    # The resident set of a server holding one row: what every process pays, subtracted
    # from the figures below so they are per row of data.
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_partition(tmp / "features", "2026-11-29", 1, seed=0)
        q = Quiver(args.quiver, tmp / "features", tmp)
        baseline_rss = rss_bytes(q.proc.pid)
        q.stop()
    results = []
    for rows in args.rows or [1_000_000]:
        rng = random.Random(rows)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            root = tmp / "features"
            values = write_partition(root, "2026-11-29", rows, seed=1)
            q = Quiver(args.quiver, root, tmp)
            r = {"rows": rows, "quiver_first_load_s": q.first_load_s}
            r["quiver"] = time_lookups(q.lookup, rows, args.requests, values, rng)
            r["quiver_wrk"] = wrk_keys_per_s(q.port, rows, args.wrk_seconds, tmp)
            metrics = q.request("GET", "/metrics")[1].decode()
            mapped = next(float(l.split()[-1]) for l in metrics.splitlines() if l.startswith("quiver_serve_mapped_bytes"))
            r["quiver_bytes_per_row"] = {"rss": (rss_bytes(q.proc.pid) - baseline_rss) / rows,
                                         "mapped_and_index": mapped / rows}
            # A new partition of the same size: _SUCCESS written -> served.
            write_partition(root, "2026-11-30", rows, seed=2)
            t = time.perf_counter()
            status, body = q.request("POST", "/v1/tables/feat/reload", b"")
            assert status == 200, body
            r["quiver_reload_s"] = time.perf_counter() - t
            # And another while wrk runs: latency during a reload, and the reload's time
            # when it shares the machine with requests.
            write_partition(root, "2026-12-01", rows, seed=3)
            during: dict = {}
            load = threading.Thread(target=lambda: during.update(wrk_keys_per_s(q.port, rows, args.wrk_seconds, tmp)))
            load.start()
            time.sleep(1)
            t = time.perf_counter()
            status, body = q.request("POST", "/v1/tables/feat/reload", b"")
            assert status == 200, body
            r["quiver_reload_under_load_s"] = time.perf_counter() - t
            load.join()
            r["quiver_wrk_during_reload"] = during
            q.stop()

            redis = Redis(args.redis_server)
            try:
                r["redis_hash_bytes_per_row"] = redis.load(values, "hash")
                r["redis_hmget"] = time_lookups(redis.hmget, rows, args.requests, values, rng)
                r["redis_benchmark_hmget_keys_per_s"] = redis_benchmark_keys_per_s(redis.port, rows)
                r["redis_blob_bytes_per_row"] = redis.load(values, "blob")
                r["redis_mget"] = time_lookups(redis.mget, rows, args.requests, values, rng)
            finally:
                redis.stop()
        r["ratios"] = {
            "p50_quiver_over_hmget": r["quiver"]["p50_us"] / r["redis_hmget"]["p50_us"],
            "p50_quiver_over_mget": r["quiver"]["p50_us"] / r["redis_mget"]["p50_us"],
            "p99_quiver_over_hmget": r["quiver"]["p99_us"] / r["redis_hmget"]["p99_us"],
            "rss_per_row_over_redis_hash": r["quiver_bytes_per_row"]["rss"] / r["redis_hash_bytes_per_row"],
            "rss_per_row_over_redis_blob": r["quiver_bytes_per_row"]["rss"] / r["redis_blob_bytes_per_row"],
            "throughput_quiver_over_redis_hmget": r["quiver_wrk"]["keys_per_s"] / r["redis_benchmark_hmget_keys_per_s"],
        }
        results.append(r)
        print(json.dumps(r, indent=2), flush=True)
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "?")
    print(f"# cpu: {cpu}; server pinned to core 0, clients to core 1", file=sys.stderr)


if __name__ == "__main__":
    main()
