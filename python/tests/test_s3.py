"""S3 through `storage_options=`, against a real S3-compatible server (moto) on 127.0.0.1.

boto3 and deltalake are the independent clients: boto3 uploads Parquet files, deltalake
writes a Delta table with two versions, and Quiver must read the same rows from both.
"""

from __future__ import annotations

import io
import socket

import boto3
import deltalake
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

import quiver


def client(endpoint: str):
    """boto3's S3 client for the moto server at `endpoint`, with its test credentials."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


@pytest.fixture(scope="module")
def s3():
    """A moto server on a free loopback port, with a bucket `lake`; its storage options."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client(endpoint).create_bucket(Bucket="lake")
    options = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }
    yield endpoint, options
    server.stop()


def upload_parquet(endpoint: str, key: str, table: pa.Table) -> None:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    client(endpoint).put_object(Bucket="lake", Key=key, Body=buf.getvalue())


def test_s3_parquet_through_storage_options(s3):
    endpoint, options = s3
    parts = [
        pa.table({"id": pa.array(range(i * 100, i * 100 + 100), pa.int64()), "v": pa.array([float(i)] * 100)})
        for i in range(3)
    ]
    for i, part in enumerate(parts):
        upload_parquet(endpoint, f"events/part-{i}.parquet", part)
    con = quiver.connect(storage_options=options)
    con.register("ev", "s3://lake/events/")
    got = con.sql("SELECT count(*) AS n, sum(id) AS s, sum(v) AS w FROM ev").to_arrow().to_pylist()
    want = pa.concat_tables(parts)
    assert got == [{"n": want.num_rows, "s": sum(want["id"].to_pylist()), "w": sum(want["v"].to_pylist())}]
    # A quoted s3:// path in SQL uses the same options.
    n = con.sql("SELECT count(*) AS n FROM 's3://lake/events/part-1.parquet'").to_arrow()["n"][0].as_py()
    assert n == 100


def test_s3_delta_table_written_by_deltalake_at_each_version(s3):
    _, options = s3
    uri = "s3://lake/sales"
    dl_options = {**options, "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}
    first = pa.table({"k": pa.array([1, 2, 3], pa.int64()), "region": ["eu", "us", "eu"]})
    second = pa.table({"k": pa.array([4, 5], pa.int64()), "region": ["us", "ap"]})
    deltalake.write_deltalake(uri, first, storage_options=dl_options)
    deltalake.write_deltalake(uri, second, mode="append", storage_options=dl_options)

    con = quiver.connect(storage_options=options)
    for version in (0, 1):
        want = deltalake.DeltaTable(uri, version=version, storage_options=dl_options).to_pyarrow_table()
        con.register(f"sales_v{version}", uri, version=version)
        got = con.sql(f"SELECT k, region FROM sales_v{version} ORDER BY k").to_arrow()
        assert got.to_pylist() == want.sort_by("k").select(["k", "region"]).to_pylist()


def test_s3_missing_object_and_bad_option_are_clear_errors(s3):
    _, options = s3
    con = quiver.connect(storage_options=options)
    with pytest.raises(quiver.Error) as err:
        con.sql("SELECT * FROM 's3://lake/no/such/file.parquet'").to_arrow()
    assert "no/such/file.parquet" in str(err.value)
    with pytest.raises(ValueError, match="storage_options: unknown S3 setting 'AWS_NOT_A_KEY'"):
        quiver.connect(storage_options={**options, "AWS_NOT_A_KEY": "1"})
