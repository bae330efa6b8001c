//! Criterion benches over TPC-H SF 0.01 (from `../shared/testdata`): a scan, a selective
//! filter, a grouped aggregate and a multi-way join, each through `Session::query`.
//!
//! Speed against peers (DuckDB, datafusion-python, Polars) is measured by
//! `benches/compare.py` at SF 1; these benches track Quiver against itself.

#[path = "../tests/integration/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};

const QUERIES: &[(&str, &str)] = &[
    (
        "scan",
        "SELECT sum(l_extendedprice), sum(l_quantity) FROM lineitem",
    ),
    (
        "filter",
        "SELECT count(*), sum(l_extendedprice * l_discount) FROM lineitem WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24",
    ),
    (
        "aggregate",
        "SELECT l_returnflag, l_linestatus, sum(l_quantity), avg(l_extendedprice), count(*) FROM lineitem WHERE l_shipdate <= DATE '1998-09-02' GROUP BY l_returnflag, l_linestatus ORDER BY 1, 2",
    ),
    (
        "join",
        "SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM customer, orders, lineitem, supplier, nation, region WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = 'ASIA' GROUP BY n_name ORDER BY revenue DESC",
    ),
];

fn tpch(c: &mut Criterion) {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = common::session(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    );
    let parquet = tempfile::tempdir().unwrap();
    rt.block_on(common::tpch::load(
        &session,
        &testdata.join("tpch/tpchgen-rs/tpchgen/data/sf-0.01"),
        parquet.path(),
    ));
    let mut group = c.benchmark_group("tpch-sf0.01");
    for (name, sql) in QUERIES {
        group.bench_function(*name, |b| {
            b.to_async(&rt)
                .iter(|| async { session.query(sql).await.unwrap() });
        });
    }
    group.finish();
}

criterion_group!(benches, tpch);
criterion_main!(benches);
