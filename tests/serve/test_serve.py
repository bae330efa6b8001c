"""`quiver serve` end to end: sources, answers checked against pyarrow's own join of the same
files, reloads under load, crashes, bad input, slowloris, and the `murr` client."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import ARROW, Server, binary, table_config, write_partition

FEATURES = {
    "user_id": {"dtype": "utf8", "nullable": False},
    "click_rate": {"dtype": "float32", "default": 0.0},
    "purchases": {"dtype": "int64"},
    "segment": {"dtype": "utf8"},
}


def users(n: int, day: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    purchases = pa.array(rng.integers(0, 1000, n), pa.int64())
    # Some nulls in a served column: they must come back as nulls, not defaults.
    mask = rng.random(n) < 0.1
    return pa.table(
        {
            "user_id": pa.array([f"u{i:07d}" for i in range(n)]),
            # The day is in the values, so an answer shows which partition it came from.
            "click_rate": pa.array((rng.random(n) * 0.5 + day).astype(np.float32)),
            "purchases": pc.if_else(pa.array(mask), pa.nulls(n, pa.int64()), purchases),
            "segment": pa.array(rng.choice(["a", "b", "c"], n)),
            "ignored": pa.array(np.arange(n)),
        }
    )


def expected(data: pa.Table, keys: pa.Table, columns: list[str], sparse: bool) -> pa.Table:
    """pyarrow's own answer: the keys joined to the data, in request order."""
    keys = keys.append_column("_pos", pa.array(np.arange(keys.num_rows), pa.int64()))
    joined = keys.join(data.select(keys.column_names[:-1] + columns), keys=keys.column_names[:-1],
                       join_type="inner" if sparse else "left outer")
    joined = joined.sort_by("_pos")
    if sparse:
        return pa.table({"_idx": joined["_pos"].cast(pa.uint32()), **{c: joined[c] for c in columns}})
    return pa.table({c: joined[c] for c in columns})


@pytest.fixture
def features(tmp_path: Path):
    root = tmp_path / "features"
    day1 = users(5000, 1, seed=1)
    write_partition(root, "2026-11-29", day1)
    # A newer partition without _SUCCESS is still being written: it must be ignored.
    write_partition(root, "2026-11-30", users(5000, 2, seed=2), success=False)
    (root / "not-a-date").mkdir()
    return root, day1


def config_for(tmp_path: Path, tables: dict, **server) -> dict:
    return {"server": {"data_dir": str(tmp_path / "data"), "header_timeout": "2s", **server}, "tables": tables}


def test_dense_and_sparse_answers_equal_pyarrows_join(tmp_path, servers, features):
    root, day1 = features
    s = servers(config_for(tmp_path, {"users": table_config(root, ["user_id"], FEATURES)}), tmp_path)
    s.wait_ready()
    status = s.table_status("users")
    assert status["partition"] == "2026-11-29" and status["rows"] == 5000, status

    rng = random.Random(7)
    wanted = [f"u{rng.randrange(6000):07d}" for _ in range(1000)]  # about 1/6 misses
    keys = pa.table({"user_id": wanted})
    columns = ["click_rate", "purchases", "segment"]
    for layout in ["dense", "sparse"]:
        got, headers = s.fetch_arrow("users", {"keys": wanted, "columns": columns, "layout": layout})
        assert headers["x-quiver-partition"] == "2026-11-29"
        assert got.column("_idx" if layout == "sparse" else "click_rate").num_chunks == 1
        want = expected(day1, keys, columns, layout == "sparse")
        if layout == "dense":
            # Misses take the column's default where it has one, else null.
            want = want.set_column(0, "click_rate", pc.fill_null(want["click_rate"], 0.0))
        assert got.column_names == want.column_names
        for c in want.column_names:
            assert got[c].to_pylist() == want[c].cast(got.schema.field(c).type).to_pylist(), (layout, c)
        assert int(headers["x-quiver-keys"]) == 1000
        assert int(headers["x-quiver-found"]) == len(expected(day1, keys, [], True))

    # JSON answers hold the same values, with `_found` on request.
    status, headers, body = s.fetch("users", {"keys": {"user_id": wanted[:50]}, "columns": ["segment"],
                                              "found_column": True})
    assert status == 200 and headers["content-type"] == "application/json"
    answer = json.loads(body)["columns"]
    want = expected(day1, keys.slice(0, 50), ["segment"], False)
    assert answer["segment"] == want["segment"].to_pylist()
    assert answer["_found"] == [v is not None for v in want["segment"].to_pylist()]

    # Murr 0.1's route and shape.
    status, _, body = s.request("POST", "/v1/users/_fetch", json.dumps({"keys": wanted[:3], "columns": ["purchases"]}).encode(),
                                {"Content-Type": "application/json"})
    assert status == 200
    v0 = json.loads(body)
    assert v0["num_rows"] == 3 and v0["columns"][0]["name"] == "purchases"


def test_arrow_answers_are_one_chunk_and_zero_copy_to_numpy(tmp_path, servers, features):
    root, day1 = features
    s = servers(config_for(tmp_path, {"users": table_config(root, ["user_id"], FEATURES)}), tmp_path)
    s.wait_ready()
    keys = [f"u{i:07d}" for i in range(0, 10000, 7)]  # half of them miss
    got, _ = s.fetch_arrow("users", {"keys": keys, "columns": ["click_rate"]})
    column = got["click_rate"]
    assert column.num_chunks == 1 and column.null_count == 0
    array = column.chunk(0).to_numpy(zero_copy_only=True)
    assert array.dtype == np.float32 and len(array) == len(keys)

    # An Arrow IPC request body (as polars or pyarrow clients send): int64 widening is not
    # needed for utf8 keys, but LargeUtf8 and Utf8View are normalised.
    for t in [pa.large_string(), pa.string_view()]:
        sink = pa.BufferOutputStream()
        schema = pa.schema([pa.field("user_id", t)], metadata={"columns": json.dumps(["purchases"])})
        with pa.ipc.new_stream(sink, schema) as w:
            w.write_table(pa.table({"user_id": pa.array(keys[:10], t)}, schema=schema))
        status, h, body = s.request("POST", "/v1/tables/users/fetch", sink.getvalue().to_pybytes(),
                                    {"Content-Type": ARROW, "Accept": ARROW})
        assert status == 200, body
        got = pa.ipc.open_stream(body).read_all()
        assert got.column_names == ["purchases"]
        assert got["purchases"].to_pylist() == expected(day1, pa.table({"user_id": keys[:10]}), ["purchases"], False)["purchases"].to_pylist()


def test_composite_and_integer_keys(tmp_path, servers):
    root = tmp_path / "pairs"
    n = 3000
    data = pa.table({
        "user": pa.array([f"u{i % 300}" for i in range(n)]),
        "item": pa.array([i // 300 for i in range(n)], pa.int32()),
        "score": pa.array(np.arange(n, dtype=np.float64) / 7),
    })
    write_partition(root, "2026-11-30", data, files=3)
    ints = tmp_path / "ints"
    write_partition(ints, "2026-11-30", pa.table({"id": pa.array(np.arange(0, 2 * n, 2), pa.uint32()),
                                                 "v": pa.array(np.arange(n), pa.int16())}))
    s = servers(config_for(tmp_path, {
        # Read into memory rather than mapped: the same answers.
        "pairs": table_config(root, ["user", "item"], {"user": {"dtype": "utf8"}, "item": {"dtype": "int64"},
                                                       "score": {"dtype": "float64"}}, load="memory"),
        # columns: {} serves every column as the files have it.
        "ints": table_config(ints, ["id"], {}),
    }), tmp_path)
    s.wait_ready()
    rng = random.Random(3)
    users_ = [f"u{rng.randrange(320)}" for _ in range(500)]
    items = [rng.randrange(12) for _ in range(500)]
    got, _ = s.fetch_arrow("pairs", {"keys": {"user": users_, "item": items}, "layout": "sparse"})
    keys = pa.table({"user": users_, "item": pa.array(items, pa.int32())})
    want = expected(data, keys, ["score"], True)
    assert got["_idx"].to_pylist() == want["_idx"].to_pylist()
    assert got["score"].to_pylist() == want["score"].to_pylist()
    # ("u1", 23) is not ("u12", 3): components compare exactly.
    got, _ = s.fetch_arrow("pairs", {"keys": {"user": ["u1", "u12"], "item": [23, 3]}})
    assert got["score"].to_pylist()[0] is None

    # Integer keys as JSON numbers and as decimal strings; a negative one cannot be a uint32.
    got, _ = s.fetch_arrow("ints", {"keys": [0, 2, 3, "5998"], "columns": ["v"]})
    assert got["v"].to_pylist() == [0, 1, None, 2999]
    status, _, body = s.fetch("ints", {"keys": [-1]})
    assert status == 400 and json.loads(body)["code"] == "KEY_TYPE"


BAD_INPUT = [
    # (description, method, path, body, headers, status, code)
    ("unknown table", "POST", "/v1/tables/nope/fetch", b'{"keys": ["a"]}', {}, 404, "TABLE_NOT_FOUND"),
    ("table not loaded yet", "POST", "/v1/tables/later/fetch", b'{"keys": ["a"]}', {}, 503, "TABLE_NOT_READY"),
    ("unknown column", "POST", "/v1/tables/users/fetch", b'{"keys": ["a"], "columns": ["nope"]}', {}, 400, "UNKNOWN_COLUMN"),
    ("missing key column", "POST", "/v1/tables/users/fetch", b'{"keys": {"other": ["a"]}}', {}, 400, "BAD_KEYS"),
    ("keys not a list", "POST", "/v1/tables/users/fetch", b'{"keys": 5}', {}, 400, "BAD_KEYS"),
    ("wrong key type", "POST", "/v1/tables/users/fetch", b'{"keys": [1, 2]}', {}, 400, "KEY_TYPE"),
    ("null key", "POST", "/v1/tables/users/fetch", b'{"keys": ["a", null]}', {}, 400, "KEY_TYPE"),
    ("not JSON", "POST", "/v1/tables/users/fetch", b'{"keys": [', {}, 400, "MALFORMED_BODY"),
    ("not Arrow", "POST", "/v1/tables/users/fetch", b"\xff\xff\xff\xff\x10\x00\x00\x00garbage", {"Content-Type": ARROW}, 400, "MALFORMED_BODY"),
    ("too many keys", "POST", "/v1/tables/users/fetch", json.dumps({"keys": ["a"] * 101}).encode(), {}, 413, "TOO_MANY_KEYS"),
    ("body too large", "POST", "/v1/tables/users/fetch", b'{"keys": ["' + b"a" * 5000 + b'"]}', {}, 413, "PAYLOAD_TOO_LARGE"),
    ("unsupported media type", "POST", "/v1/tables/users/fetch", b"keys=a", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("unacceptable answer", "POST", "/v1/tables/users/fetch", b'{"keys": ["a"]}', {"Accept": "text/html"}, 406, "NOT_ACCEPTABLE"),
    ("wrong method", "GET", "/v1/tables/users/fetch", None, {}, 405, "METHOD_NOT_ALLOWED"),
    ("a write to a read-only route", "PUT", "/api/v1/table/users/write", b"", {}, 405, "READ_ONLY"),
    ("no token", "POST", "/v1/tables/users/fetch", b'{"keys": ["a"]}', {"Authorization": None}, 401, "UNAUTHORIZED"),
    ("bad layout", "POST", "/v1/tables/users/fetch", b'{"keys": ["a"], "layout": "wide"}', {}, 400, "MALFORMED_BODY"),
]


def test_bad_input_gets_its_status_and_code(tmp_path, servers, features):
    root, _ = features
    later = tmp_path / "later"
    later.mkdir()
    s = servers(config_for(tmp_path, {
        "users": table_config(root, ["user_id"], FEATURES),
        "later": table_config(later, ["k"], {"k": {"dtype": "utf8"}}, required=False),
    }, max_keys=100, max_body="4KiB", tokens=["sesame"]), tmp_path)
    token = {"Authorization": "Bearer sesame"}
    deadline = time.monotonic() + 300
    while s.request("GET", "/readyz")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for what, method, path, body, headers, want_status, want_code in BAD_INPUT:
        h = {"Content-Type": "application/json", **token, **headers}
        h = {k: v for k, v in h.items() if v is not None}
        status, rh, data = s.request(method, path, body, h)
        assert status == want_status, (what, status, data)
        answer = json.loads(data)
        assert answer["code"] == want_code and answer["error"], (what, answer)
        if status == 503:
            assert int(rh["retry-after"]) >= 1
        if status == 401:
            assert rh["www-authenticate"] == "Bearer"
        if status == 405:
            assert rh["allow"]
    # Health and readiness need no token; everything else does.
    assert s.request("GET", "/healthz")[0] == 200
    assert s.request("GET", "/v1/tables")[0] == 401
    status, body = s.get_json("/v1/tables", token)
    assert status == 200 and {t["name"] for t in body["tables"]} == {"users", "later"}
    # After all that, the server still answers (no panic, no lost connection).
    status, _, _ = s.fetch("users", {"keys": ["u0000001"]}, headers=token)
    assert status == 200
    metrics = s.request("GET", "/metrics", headers=token)[2].decode()
    assert 'quiver_serve_requests_total{route="fetch",status="400"}' in metrics
    assert 'quiver_serve_table_rows{table="users"} 5000' in metrics


def test_failed_loads_keep_the_old_version_and_say_why(tmp_path, servers, features):
    root, day1 = features
    s = servers(config_for(tmp_path, {"users": table_config(root, ["user_id"], FEATURES)}), tmp_path)
    s.wait_ready()
    probe = {"keys": ["u0000042"], "columns": ["click_rate"]}
    before, _ = s.fetch_arrow("users", probe)

    # A corrupt file in a complete partition.
    bad = root / "2026-12-01"
    bad.mkdir()
    (bad / "part-00000.parquet").write_bytes(b"PAR1 this is not parquet")
    (bad / "_SUCCESS").write_bytes(b"")
    status, answer = s.reload("users")
    assert status == 502 and answer["code"] == "LOAD_FAILED" and "2026-12-01" in answer["error"], answer
    table = s.table_status("users")
    assert table["partition"] == "2026-11-29" and "2026-12-01" in table["last_error"]
    assert s.fetch_arrow("users", probe)[0] == before

    # A partition whose column has the wrong type (float64 where float32 is served).
    import shutil
    shutil.rmtree(bad)
    wrong = users(100, 3).set_column(1, "click_rate", pa.array(np.ones(100)))
    write_partition(root, "2026-12-02", wrong)
    status, answer = s.reload("users")
    assert status == 502 and "click_rate" in answer["error"] and "float64" in answer["error"].lower(), answer
    # Duplicate keys, refused by the default policy.
    shutil.rmtree(root / "2026-12-02")
    write_partition(root, "2026-12-03", pa.concat_tables([users(10, 3), users(10, 3)]))
    status, answer = s.reload("users")
    assert status == 502 and "more than one row" in answer["error"], answer
    assert s.fetch_arrow("users", probe)[0] == before
    assert s.table_status("users")["load_errors"] == 3
    # Nothing half-written is left behind.
    files = sorted(p.name for p in (tmp_path / "data" / "users").glob("*.arrow"))
    assert len(files) == 1 and files[0].endswith("2026-11-29.arrow"), files


def test_a_new_partition_under_load_never_mixes_versions(tmp_path, servers, features):
    root, _ = features
    s = servers(config_for(tmp_path, {"users": table_config(root, ["user_id"], FEATURES)}), tmp_path)
    s.wait_ready()
    stop = threading.Event()
    results: list[tuple[int, str, list]] = []
    errors: list[str] = []

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = s.connect()
        while not stop.is_set():
            keys = [f"u{rng.randrange(5000):07d}" for _ in range(200)]
            try:
                got, h = s.fetch_arrow("users", {"keys": keys, "columns": ["click_rate"]}, conn=conn)
            except Exception as e:  # noqa: BLE001 - every failure is recorded and fails the test
                errors.append(repr(e))
                conn = s.connect()
                continue
            results.append((int(h["x-quiver-table-version"]), h["x-quiver-partition"],
                            sorted({int(v) for v in got["click_rate"].to_pylist()})))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    # Two new partitions arrive, one after the other, while requests run.
    for day, date in [(3, "2026-12-01"), (4, "2026-12-02")]:
        write_partition(root, date, users(5000, day, seed=day))
        status, answer = s.reload("users")
        assert status == 200 and answer["result"] == "loaded", answer
        time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    day_of = {"2026-11-29": 1, "2026-12-01": 3, "2026-12-02": 4}
    seen = set()
    for version, partition, days in results:
        # Every value in an answer comes from the partition its header names.
        assert days == [day_of[partition]], (version, partition, days)
        seen.add(partition)
    assert seen == set(day_of), seen
    assert len(results) > 20
    # Replaced versions' files are gone once their readers are done.
    time.sleep(0.2)
    files = sorted(p.name for p in (tmp_path / "data" / "users").glob("*.arrow"))
    assert len(files) == 1 and files[0].endswith("2026-12-02.arrow"), files


def test_sigkill_during_a_load_then_restart_serves_the_last_good_version(tmp_path, servers, features):
    root, _ = features
    config = config_for(tmp_path, {"users": table_config(root, ["user_id"], FEATURES)})
    s = servers(config, tmp_path)
    s.wait_ready()
    good = s.table_status("users")
    # A large partition, so the kill lands while it converts.
    write_partition(root, "2026-12-01", users(1_500_000, 5, seed=5), files=4)
    def reload() -> None:
        try:
            s.request("POST", "/v1/tables/users/reload", b"")
        except ConnectionError:
            pass  # the server is killed while this waits

    threading.Thread(target=reload, daemon=True).start()
    deadline = time.monotonic() + 120
    while not s.table_status("users")["status"] == "reloading":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    s.stop(signal.SIGKILL)
    # The kill landed before the new version was complete: the manifest still names the old.
    manifest = json.loads((tmp_path / "data" / "users" / "manifest.json").read_text())
    assert manifest["partition"] == "2026-11-29", manifest
    tmp = tmp_path / "data" / "users" / "tmp"
    partial = set(tmp.iterdir()) if tmp.exists() else set()

    s.start()
    # Ready from the last run's file, before (or while) it polls.
    s.wait_ready()
    got, h = s.fetch_arrow("users", {"keys": ["u0000001"], "columns": ["click_rate"]})
    assert h["x-quiver-partition"] in ("2026-11-29", "2026-12-01")
    if h["x-quiver-partition"] == "2026-11-29":
        assert int(h["x-quiver-table-version"]) == good["version"]
        assert int(got["click_rate"][0].as_py()) == 1
    # What the killed conversion left is gone (the new run may be converting anew).
    assert not any(p.exists() for p in partial), partial
    # And the poll it runs at start brings the new partition in.
    deadline = time.monotonic() + 300
    while s.table_status("users")["partition"] != "2026-12-01":
        assert time.monotonic() < deadline, s.table_status("users")
        time.sleep(0.1)
    got, _ = s.fetch_arrow("users", {"keys": ["u1400000"], "columns": ["click_rate"]})
    assert int(got["click_rate"][0].as_py()) == 5


def test_slowloris_does_not_stop_normal_requests(tmp_path, servers, features):
    root, _ = features
    s = servers(config_for(tmp_path, {"users": table_config(root, ["user_id"], FEATURES)}), tmp_path)
    s.wait_ready()
    slow: list[socket.socket] = []
    for _ in range(200):
        c = socket.create_connection((s.host, s.port))
        c.sendall(b"POST /v1/tables/users/fetch HTTP/1.1\r\nHost: x\r\n")
        slow.append(c)
    started = time.monotonic()
    ok = 0
    while time.monotonic() - started < 3:
        for c in slow[:50]:
            try:
                c.sendall(b"X")  # one byte at a time, never finishing the headers
            except OSError:
                pass
        status, _, _ = s.fetch("users", {"keys": ["u0000001"]})
        ok += status == 200
        time.sleep(0.05)
    assert ok > 10
    # The header timeout (2s) has closed the slow connections.
    def closed(c: socket.socket) -> bool:
        c.settimeout(5)
        try:
            data = c.recv(1024)
        except ConnectionResetError:
            return True
        except (TimeoutError, socket.timeout):
            return False
        finally:
            c.close()
        return data == b"" or data.startswith(b"HTTP/1.1 408")

    assert sum(closed(c) for c in slow) == len(slow)


def test_config_errors_name_the_field_and_line(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("server:\n  port: 8080\ntables:\n  t:\n    source: {local: {path: /x}}\n    key: [k]\n    pol_interval: 1m\n")
    r = subprocess.run([str(binary()), "serve", "--config", str(path), "--check"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "pol_interval" in r.stderr and "7" in r.stderr, r.stderr
    path.write_text("tables:\n  t:\n    source: {local: {path: /x}}\n    key: [k]\n")
    r = subprocess.run([str(binary()), "serve", "--config", str(path), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_s3_source(tmp_path, servers):
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1")
        s3.create_bucket(Bucket="feat")
        data = users(2000, 1)

        def put(date: str, table: pa.Table, success: bool = True) -> None:
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            s3.put_object(Bucket="feat", Key=f"features/user/{date}/part-0.parquet", Body=sink.getvalue().to_pybytes())
            if success:
                s3.put_object(Bucket="feat", Key=f"features/user/{date}/_SUCCESS", Body=b"")

        put("2026-11-29", data)
        put("2026-11-30", users(2000, 2), success=False)
        config = config_for(tmp_path, {"users": {
            "source": {"s3": {"bucket": "feat", "prefix": "features/user/", "region": "us-east-1", "endpoint": endpoint}},
            "key": ["user_id"], "columns": FEATURES, "poll_interval": "1h"}})
        s = servers(config, tmp_path, env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
        s.wait_ready()
        keys = ["u0000005", "missing", "u0001999"]
        got, h = s.fetch_arrow("users", {"keys": keys, "columns": ["purchases"]})
        assert h["x-quiver-partition"] == "2026-11-29"
        assert got["purchases"].to_pylist() == expected(data, pa.table({"user_id": keys}), ["purchases"], False)["purchases"].to_pylist()
        put("2026-11-30", users(2000, 2))
        status, answer = s.reload("users")
        assert status == 200 and answer["table"]["partition"] == "2026-11-30", answer
    finally:
        moto.stop()


def test_delta_source_serves_the_newest_version(tmp_path, servers):
    import deltalake
    uri = tmp_path / "delta"
    deltalake.write_deltalake(str(uri), users(1000, 1))
    config = config_for(tmp_path, {"users": {"source": {"delta": {"uri": str(uri)}}, "key": ["user_id"],
                                             "columns": FEATURES, "poll_interval": "1h"}})
    s = servers(config, tmp_path)
    s.wait_ready()
    got, h = s.fetch_arrow("users", {"keys": ["u0000003"], "columns": ["click_rate"]})
    assert h["x-quiver-partition"] == "v0" and int(got["click_rate"][0].as_py()) == 1
    deltalake.write_deltalake(str(uri), users(1000, 2), mode="overwrite")
    status, answer = s.reload("users")
    assert status == 200 and answer["result"] == "loaded", answer
    got, h = s.fetch_arrow("users", {"keys": ["u0000003"], "columns": ["click_rate"]})
    assert h["x-quiver-partition"] == "v1" and int(got["click_rate"][0].as_py()) == 2


def test_the_murr_client_works_unchanged(tmp_path, servers):
    import murr.client as murr
    root = tmp_path / "pairs"
    data = pa.table({"user_id": ["u1", "u2", "u3"], "item_id": pa.array([1, 7, 9], pa.int64()),
                     "click_rate": pa.array([0.1, 0.2, 0.3], pa.float64())})
    write_partition(root, "2026-11-30", data, files=1)
    s = servers(config_for(tmp_path, {"ui": table_config(root, ["user_id", "item_id"], {
        "user_id": {"dtype": "utf8", "nullable": False}, "item_id": {"dtype": "int64", "nullable": False},
        "click_rate": {"dtype": "float64"}})}), tmp_path)
    s.wait_ready()

    async def main():
        async with murr.Client(f"http://{s.host}:{s.port}") as db:
            tables = await db.list_tables()
            schema = await db.get_schema("ui")
            got = await db.read("ui", {"user_id": ["u2", "u9", "u1", "u3"], "item_id": [7, 1, 1, 8]},
                                columns=["click_rate"])
            with pytest.raises(murr.TableNotFoundError):
                await db.read("nope", {"user_id": ["u1"]}, columns=["click_rate"])
            with pytest.raises(murr.InvalidRequestError):
                await db.read("ui", {"user_id": ["u1"], "item_id": [1]}, columns=["user_id"])
            with pytest.raises(murr.MurrError):
                await db.write("ui", data)
            return tables, schema, got

    tables, schema, got = asyncio.run(main())
    assert list(tables) == ["ui"]
    assert schema.key_columns == ["user_id", "item_id"]
    assert got.column_names == ["_idx", "click_rate"]
    assert got.schema.field("_idx").type == pa.uint32()
    assert got["_idx"].to_pylist() == [0, 2] and got["click_rate"].to_pylist() == [0.2, 0.1]


def test_arrow_flight_do_get_answers_like_http(tmp_path, servers, features):
    import pyarrow.flight as flight
    root, day1 = features
    s = servers(config_for(tmp_path, {"users": table_config(root, ["user_id"], FEATURES)},
                           flight_port=0, tokens=["sesame"]), tmp_path)
    assert s.flight and s.flight.startswith("grpc://127.0.0.1:")
    token = {"Authorization": "Bearer sesame"}
    deadline = time.monotonic() + 300
    while s.request("GET", "/readyz")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    client = flight.FlightClient(s.flight)
    options = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer sesame")])
    keys = [f"u{i:07d}" for i in range(0, 6000, 11)]
    body = {"table": "users", "keys": keys, "columns": ["click_rate", "segment"], "layout": "sparse"}
    got = client.do_get(flight.Ticket(json.dumps(body).encode()), options).read_all()
    http, _ = s.fetch_arrow("users", {k: v for k, v in body.items() if k != "table"}, headers=token)
    assert got.equals(http)
    want = expected(day1, pa.table({"user_id": keys}), ["click_rate", "segment"], True)
    assert got["_idx"].to_pylist() == want["_idx"].to_pylist()
    # Discovery: the table, its schema and row count.
    [info] = list(client.list_flights(options=options))
    assert info.descriptor.path == [b"users"] and info.total_records == 5000
    assert client.get_schema(flight.FlightDescriptor.for_path("users"), options).schema.names[0] == "user_id"
    # Errors map to Flight statuses; writes are refused.
    with pytest.raises(flight.FlightUnauthenticatedError):
        client.do_get(flight.Ticket(json.dumps(body).encode())).read_all()
    with pytest.raises(KeyError, match="TABLE_NOT_FOUND"):  # NOT_FOUND is ArrowKeyError
        client.do_get(flight.Ticket(json.dumps({**body, "table": "nope"}).encode()), options).read_all()
    with pytest.raises((pa.ArrowInvalid, flight.FlightError), match="UNKNOWN_COLUMN"):
        client.do_get(flight.Ticket(json.dumps({**body, "columns": ["nope"]}).encode()), options).read_all()
    with pytest.raises(pa.ArrowNotImplementedError, match="READ_ONLY"):
        writer, _ = client.do_put(flight.FlightDescriptor.for_path("users"), pa.schema([("user_id", pa.string())]), options)
        writer.close()


def test_requests_beyond_the_cap_are_shed_and_abandoned_ones_free_their_slot(tmp_path, servers, features):
    root, _ = features
    s = servers(config_for(tmp_path, {"users": table_config(root, ["user_id"], FEATURES)},
                           max_concurrent_requests=1), tmp_path)
    s.wait_ready()
    # A request whose body never finishes holds the only slot.
    slow = socket.create_connection((s.host, s.port))
    slow.sendall(b"POST /v1/tables/users/fetch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"keys\": [")
    deadline = time.monotonic() + 60
    while True:
        status, headers, body = s.fetch("users", {"keys": ["u0000001"]})
        if status == 503:
            break
        assert time.monotonic() < deadline, "the held request never took the slot"
        time.sleep(0.05)
    assert json.loads(body)["code"] == "OVERLOADED" and headers["retry-after"] == "1"
    # The client goes away: its slot is free again.
    slow.close()
    while s.fetch("users", {"keys": ["u0000001"]})[0] != 200:
        assert time.monotonic() < deadline, "the abandoned request kept its slot"
        time.sleep(0.05)
