"""The Python API: connections, lazy relations, results in every shape, Arrow both ways."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import quiver


def numbers(n: int = 1000) -> pa.Table:
    return pa.table({"k": pa.array([i % 7 for i in range(n)], pa.int64()), "v": pa.array(range(n), pa.int64())})


def test_sql_is_lazy_and_runs_again_each_time(con, tmp_path):
    path = tmp_path / "n.parquet"
    pq.write_table(numbers(10), path)
    rel = con.sql(f"SELECT count(*) AS c, sum(v) AS s FROM '{path}'")
    assert rel.to_arrow().column("c").to_pylist() == [10]
    # The relation holds a plan, not rows: it reads the file again when run again.
    pq.write_table(numbers(25), path)
    again = rel.to_arrow()
    assert again.column("c").to_pylist() == [25]
    assert again.column("s").to_pylist() == [sum(range(25))]


def test_results_in_every_shape_agree(con):
    source = numbers()
    con.register("t", source)
    rel = con.sql("SELECT k, sum(v) AS s FROM t GROUP BY k ORDER BY k")
    expected = source.group_by("k").aggregate([("v", "sum")]).sort_by("k")
    table = rel.to_arrow()
    assert table.column("s").to_pylist() == expected.column("v_sum").to_pylist()
    assert pa.table(rel).equals(table)
    assert rel.fetch_record_batch().read_all().equals(table)
    assert rel.to_pandas()["s"].tolist() == expected.column("v_sum").to_pylist()
    polars = pytest.importorskip("polars")
    assert rel.to_polars()["s"].to_list() == expected.column("v_sum").to_pylist()
    assert polars.DataFrame(rel)["s"].to_list() == expected.column("v_sum").to_pylist()


def test_schema_and_columns_come_from_the_plan(con):
    rel = con.sql("SELECT 1::BIGINT AS a, 'x' AS b, DATE '2026-01-02' AS c")
    assert rel.columns == ["a", "b", "c"]
    schema = rel.schema
    assert isinstance(schema, pa.Schema)
    assert schema.field("a").type == pa.int64()
    assert schema.field("c").type == pa.date32()
    assert pa.schema(rel).names == ["a", "b", "c"]
    assert rel.to_arrow().schema.names == schema.names


def test_requested_schema_casts_the_stream(con):
    rel = con.sql("SELECT CAST(v AS INT) AS v FROM (VALUES (1), (2)) AS t(v)")
    wanted = pa.schema([pa.field("v", pa.int64())])
    reader = pa.RecordBatchReader.from_stream(rel, schema=wanted)
    table = reader.read_all()
    assert table.schema.field("v").type == pa.int64()
    assert table.column("v").to_pylist() == [1, 2]


def test_fetch_record_batch_streams_batches(con):
    reader = con.sql("SELECT value FROM range(0, 100000)").fetch_record_batch()
    assert isinstance(reader, pa.RecordBatchReader)
    batches = list(reader)
    assert len(batches) > 1, "a large result arrives in several batches"
    assert sum(b.num_rows for b in batches) == 100000
    total = sum(pc.sum(b.column(0)).as_py() for b in batches)
    assert total == sum(range(100000))


def test_explain_show_and_repr(con, capsys):
    con.register("t", numbers(50))
    rel = con.sql("SELECT k, count(*) AS c FROM t WHERE v > 10 GROUP BY k")
    plan = rel.explain()
    assert "logical_plan" in plan and "physical_plan" in plan
    assert "Aggregate" in plan
    rel.show(max_rows=3)
    shown = capsys.readouterr().out
    assert "first 3 rows shown" in shown
    assert "c" in shown
    text = repr(con.sql("SELECT 42 AS answer"))
    assert "answer" in text and "42" in text and "1 row" in text


def test_tables_and_unregister(con):
    con.register("b_table", numbers(3))
    con.register("a_table", numbers(3))
    assert con.tables() == sorted(["a_table", "b_table"])
    assert con.unregister("a_table") is True
    assert con.unregister("a_table") is False
    assert con.tables() == ["b_table"]


def test_execute_runs_statements_now_and_returns_the_last(con):
    rel = con.execute("CREATE TABLE x AS VALUES (1), (2), (3); SELECT sum(column1) AS s FROM x")
    assert rel.to_arrow().column("s").to_pylist() == [6]
    assert "x" in con.tables()


def test_sql_runs_ddl_at_once(con):
    con.sql("CREATE TABLE y AS SELECT 5 AS v")
    assert "y" in con.tables()
    assert con.sql("SELECT v FROM y").to_arrow().column("v").to_pylist() == [5]


def test_module_level_sql_uses_one_default_connection():
    quiver.register("module_level", numbers(4))
    assert quiver.default_connection() is quiver.default_connection()
    assert quiver.sql("SELECT count(*) AS c FROM module_level").to_arrow().column("c").to_pylist() == [4]
    assert quiver.execute("SELECT 1 AS one").to_arrow().column("one").to_pylist() == [1]


def test_registering_paths_folders_and_globs(con, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(numbers(10), folder / "a.parquet")
    pq.write_table(numbers(20), folder / "b.parquet")
    con.register("by_folder", folder)  # os.PathLike
    con.register("by_glob", str(folder / "*.parquet"))
    con.register("one_file", str(folder / "a.parquet"))
    count = lambda t: con.sql(f"SELECT count(*) AS c FROM {t}").to_arrow().column("c")[0].as_py()  # noqa: E731
    assert count("by_folder") == 30
    assert count("by_glob") == 30
    assert count("one_file") == 10


def test_quoted_paths_in_sql(con, tmp_path):
    path = tmp_path / "q.parquet"
    pq.write_table(numbers(12), path)
    assert con.sql(f"SELECT count(*) AS c FROM '{path}'").to_arrow().column("c").to_pylist() == [12]


def test_memory_limit_and_threads_are_checked():
    con = quiver.connect(memory_limit="512MiB", threads=1)
    assert con.sql("SELECT 1 AS x").to_arrow().column("x").to_pylist() == [1]
    quiver.connect(memory_limit=1 << 30)
    with pytest.raises(ValueError, match="memory_limit"):
        quiver.connect(memory_limit="lots")
    with pytest.raises(ValueError, match="threads"):
        quiver.connect(threads=0)


def test_storage_options_are_checked():
    quiver.connect(storage_options={"AWS_REGION": "eu-west-1", "AWS_ALLOW_HTTP": "true"})
    with pytest.raises(ValueError, match="storage_options: unknown S3 setting 'not_a_setting'"):
        quiver.connect(storage_options={"not_a_setting": "1"})


def test_connection_is_a_context_manager():
    with quiver.connect() as con:
        assert con.sql("SELECT 2 AS two").to_arrow().column("two").to_pylist() == [2]


def test_a_stream_yields_before_the_query_is_done(con):
    # Far too many rows to compute before answering: the first batch must come first.
    reader = con.sql("SELECT value FROM range(0, 1000000000000)").fetch_record_batch()
    first = reader.read_next_batch()
    assert first.num_rows > 0
    assert first.column(0)[0].as_py() is not None
    reader.close()  # drops the query's stream, which stops it
    assert con.sql("SELECT 3 AS three").to_arrow().column("three").to_pylist() == [3]
