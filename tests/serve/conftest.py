"""`quiver serve` as a user runs it: the built binary, a YAML config, real HTTP on loopback.

Each `Server` starts `quiver serve --port 0` (a free port, which it prints), talks to it with
the standard library's HTTP client, and stops it when the test ends.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/quiver/target"))
BIN = Path(os.environ.get("QUIVER_BIN", TARGET / "debug" / "quiver"))
ARROW = "application/vnd.apache.arrow.stream"


def binary() -> Path:
    if not BIN.exists():
        pytest.fail(f"{BIN} is missing: build it with `cargo build --workspace --bins`")
    return BIN


class Server:
    """A running `quiver serve`."""

    def __init__(self, config: dict, workdir: Path, env: dict | None = None, name: str = "serve.yml"):
        self.config = config
        self.workdir = workdir
        self.path = workdir / name
        # JSON is YAML: the config is written as the user would, one file.
        self.path.write_text(json.dumps(config, indent=2))
        self.env = {**os.environ, "QUIVER_LOG": "info", **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.stderr: list[str] = []
        self.start()

    def start(self, wait_ready: bool = False) -> None:
        self.stderr = []
        self.proc = subprocess.Popen(
            [str(binary()), "serve", "--config", str(self.path), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + 300
        line = ""
        self.flight = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "Arrow Flight on grpc://" in line:
                self.flight = line.strip().rsplit(" ", 1)[1]
            if "listening on http://" in line or not line:
                break
        if "listening on http://" not in line:
            self.proc.kill()
            raise AssertionError(f"quiver serve did not start: {line!r}\n{''.join(self.stderr)}")
        address = line.strip().rsplit("http://", 1)[1]
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        if wait_ready:
            self.wait_ready()

    def _drain_stderr(self, proc) -> None:
        for line in proc.stderr:
            self.stderr.append(line)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                conn: http.client.HTTPConnection | None = None):
        own = conn is None
        conn = conn or self.connect()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if own:
                conn.close()

    def get_json(self, path: str, headers: dict | None = None):
        status, _, data = self.request("GET", path, headers=headers)
        return status, json.loads(data) if data else None

    def fetch(self, table: str, payload: dict, accept: str = "application/json", headers: dict | None = None,
              conn=None):
        h = {"Content-Type": "application/json", "Accept": accept, **(headers or {})}
        return self.request("POST", f"/v1/tables/{table}/fetch", json.dumps(payload).encode(), h, conn)

    def fetch_arrow(self, table: str, payload: dict, headers: dict | None = None, conn=None) -> tuple[pa.Table, dict]:
        status, h, data = self.fetch(table, payload, ARROW, headers, conn)
        assert status == 200, (status, data[:500])
        assert h["content-type"] == ARROW
        return pa.ipc.open_stream(data).read_all(), h

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _, _ = self.request("GET", "/readyz")
            if status == 200:
                return
            if any("WARN  quiver::serve" in line for line in self.stderr):
                break
            time.sleep(0.05)
        raise AssertionError("not ready:\n{''.join(self.stderr)[-3000:]}")

    def table_status(self, table: str, headers: dict | None = None) -> dict:
        status, body = self.get_json(f"/v1/tables/{table}", headers)
        assert status == 200, body
        return body

    def reload(self, table: str, headers: dict | None = None):
        status, _, data = self.request("POST", f"/v1/tables/{table}/reload", b"", headers)
        return status, json.loads(data)

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else 0


@pytest.fixture
def servers():
    """Starts servers for a test and stops every one of them when it ends."""
    started: list[Server] = []

    def start(config: dict, workdir: Path, **kw) -> Server:
        s = Server(config, workdir, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def write_partition(root: Path, date: str, table: pa.Table, files: int = 2, success: bool = True) -> Path:
    """Writes `table` as `files` Parquet files under root/date/, then `_SUCCESS` (last, as
    Spark does)."""
    folder = root / date
    folder.mkdir(parents=True, exist_ok=True)
    n = table.num_rows
    step = max(1, -(-n // files))
    for i in range(files):
        part = table.slice(i * step, step)
        pq.write_table(part, folder / f"part-{i:05d}.parquet", compression="zstd")
    if success:
        (folder / "_SUCCESS").write_bytes(b"")
    return folder


def table_config(path: Path, key: list[str], columns: dict | None = None, **extra) -> dict:
    config = {"source": {"local": {"path": str(path)}}, "key": key, "poll_interval": "1h"}
    if columns is not None:
        config["columns"] = columns
    config.update(extra)
    return config
