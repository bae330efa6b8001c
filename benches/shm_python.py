"""Rings into Python, beside the same transfer through a Unix socket (pyarrow IPC stream) and
Arrow Flight on loopback (pyarrow.flight).

    python benches/shm_python.py --quiver ~/.cache/quiver/target-rel/release/quiver

Latency: a 1-row batch goes to another process and a 1-row batch comes back; one way is half
the round trip. Ring: Python writes to ring "ping", a `quiver shm bench` echo process (Rust)
answers on ring "pong", Python reads it (`quiver.shm.Reader.read`, then
`pyarrow.record_batch`). Socket and Flight: a Python peer process answers.

Needs the `quiver` Python package (python/scripts/test.sh builds it) and pyarrow.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as flight

from quiver.shm import Reader, Writer


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[int((len(s) - 1) * q)]


def one_row() -> pa.RecordBatch:
    return pa.record_batch({"id": pa.array([1], pa.int64()), "value": pa.array([0.5], pa.float64())})


def ring_latency(quiver: str, n: int, spin: bool) -> list[float]:
    tag = f"{os.getpid()}-{'spin' if spin else 'block'}"
    ping, pong = f"pyb-ping-{tag}", f"pyb-pong-{tag}"
    w = Writer.create(ping, size="4MiB", slots=8)
    echo = subprocess.Popen(
        [quiver, "shm", "bench", "--role", f"echo:{ping}:{pong}:{str(spin).lower()}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert echo.stdout.readline().strip() == "ready"
    # "ready": the echo has created pong and attached to ping.
    r = Reader(pong, spin=1.0 if spin else 0.0)
    b = one_row()
    samples = []
    for i in range(n + 500):
        t = time.perf_counter()
        w.write(b)
        got = r.read(timeout=10)
        pa.record_batch(got)
        if i >= 500:
            samples.append((time.perf_counter() - t) * 1e6 / 2)
    w.close()
    echo.wait(timeout=30)
    for name in (ping, pong):
        Path(f"/dev/shm/quiver-{name}").unlink(missing_ok=True)
    return samples


SOCKET_PEER = """
import socket, sys, pyarrow as pa
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
rf, wf = s.makefile("rb"), s.makefile("wb")
reader = pa.ipc.open_stream(rf)
reply = pa.record_batch({"id": pa.array([1], pa.int64()), "value": pa.array([0.5], pa.float64())})
writer = pa.ipc.new_stream(wf, reply.schema)
for batch in reader:
    writer.write_batch(reply)
    wf.flush()
"""


def socket_latency(n: int) -> list[float]:
    path = tempfile.mktemp(suffix=".sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    peer = subprocess.Popen([sys.executable, "-c", SOCKET_PEER, path])
    conn, _ = srv.accept()
    os.unlink(path)
    rf, wf = conn.makefile("rb"), conn.makefile("wb")
    b = one_row()
    writer = pa.ipc.new_stream(wf, b.schema)
    reader = None
    samples = []
    for i in range(n + 500):
        t = time.perf_counter()
        writer.write_batch(b)
        wf.flush()
        if reader is None:
            reader = pa.ipc.open_stream(rf)
        reader.read_next_batch()
        if i >= 500:
            samples.append((time.perf_counter() - t) * 1e6 / 2)
    writer.close()
    wf.flush()
    conn.shutdown(socket.SHUT_WR)
    peer.wait(timeout=30)
    return samples


FLIGHT_PEER = """
import sys, pyarrow as pa, pyarrow.flight as flight
reply = pa.table({"id": pa.array([1], pa.int64()), "value": pa.array([0.5], pa.float64())})
class Echo(flight.FlightServerBase):
    def do_get(self, context, ticket):
        return flight.RecordBatchStream(reply)
server = Echo("grpc://127.0.0.1:0")
print(server.port, flush=True)
server.serve()
"""


def flight_latency(n: int) -> list[float]:
    peer = subprocess.Popen([sys.executable, "-c", FLIGHT_PEER], stdout=subprocess.PIPE, text=True)
    port = int(peer.stdout.readline())
    client = flight.connect(f"grpc://127.0.0.1:{port}")
    ticket = flight.Ticket(b"x")
    samples = []
    for i in range(n + 200):
        t = time.perf_counter()
        client.do_get(ticket).read_all()
        if i >= 200:
            samples.append((time.perf_counter() - t) * 1e6 / 2)
    client.close()
    peer.kill()
    peer.wait()
    return samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quiver", required=True)
    ap.add_argument("--round-trips", type=int, default=5000)
    args = ap.parse_args()
    n = args.round_trips
    rows = []
    for name, fn in [
        ("ring, futex (Python <-> Rust echo)", lambda: ring_latency(args.quiver, n, False)),
        ("ring, spinning (Python <-> Rust echo)", lambda: ring_latency(args.quiver, n, True)),
        ("unix socket + pyarrow IPC (Python <-> Python)", lambda: socket_latency(n)),
        ("Arrow Flight DoGet, loopback (pyarrow.flight)", lambda: flight_latency(max(n // 5, 500))),
    ]:
        s = fn()
        rows.append((name, pct(s, 0.5), pct(s, 0.99)))
        print(f"latency one way, 1-row batch, {name:48s} p50 {rows[-1][1]:8.1f} us  p99 {rows[-1][2]:8.1f} us", flush=True)
    ring = rows[0][1]
    print(f"ring futex p50 / socket p50 = {ring / rows[2][1]:.2f}; / Flight p50 = {ring / rows[3][1]:.2f}")


if __name__ == "__main__":
    main()
