//! TPC-H tables: their columns, and loading tpchgen's `.tbl.gz` files as Parquet.
//! Shared by the TPC-H test and the criterion benches.
#![allow(dead_code)]

use quiver_engine::Session;

/// Table name and columns, in `.tbl` order.
pub const TABLES: &[(&str, &str)] = &[
    (
        "nation",
        "n_nationkey BIGINT, n_name VARCHAR, n_regionkey BIGINT, n_comment VARCHAR",
    ),
    (
        "region",
        "r_regionkey BIGINT, r_name VARCHAR, r_comment VARCHAR",
    ),
    (
        "part",
        "p_partkey BIGINT, p_name VARCHAR, p_mfgr VARCHAR, p_brand VARCHAR, p_type VARCHAR, p_size INT, p_container VARCHAR, p_retailprice DECIMAL(15, 2), p_comment VARCHAR",
    ),
    (
        "supplier",
        "s_suppkey BIGINT, s_name VARCHAR, s_address VARCHAR, s_nationkey BIGINT, s_phone VARCHAR, s_acctbal DECIMAL(15, 2), s_comment VARCHAR",
    ),
    (
        "partsupp",
        "ps_partkey BIGINT, ps_suppkey BIGINT, ps_availqty INT, ps_supplycost DECIMAL(15, 2), ps_comment VARCHAR",
    ),
    (
        "customer",
        "c_custkey BIGINT, c_name VARCHAR, c_address VARCHAR, c_nationkey BIGINT, c_phone VARCHAR, c_acctbal DECIMAL(15, 2), c_mktsegment VARCHAR, c_comment VARCHAR",
    ),
    (
        "orders",
        "o_orderkey BIGINT, o_custkey BIGINT, o_orderstatus VARCHAR, o_totalprice DECIMAL(15, 2), o_orderdate DATE, o_orderpriority VARCHAR, o_clerk VARCHAR, o_shippriority INT, o_comment VARCHAR",
    ),
    (
        "lineitem",
        "l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT, l_linenumber INT, l_quantity DECIMAL(15, 2), l_extendedprice DECIMAL(15, 2), l_discount DECIMAL(15, 2), l_tax DECIMAL(15, 2), l_returnflag VARCHAR, l_linestatus VARCHAR, l_shipdate DATE, l_commitdate DATE, l_receiptdate DATE, l_shipinstruct VARCHAR, l_shipmode VARCHAR, l_comment VARCHAR",
    ),
];

/// Converts the `.tbl.gz` files in `tbl_dir` to Parquet in `parquet_dir` through Quiver
/// (CSV in, Parquet out) and registers each table.
pub async fn load(session: &Session, tbl_dir: &std::path::Path, parquet_dir: &std::path::Path) {
    for (name, columns) in TABLES {
        let tbl = tbl_dir.join(format!("{name}.tbl.gz"));
        // Each .tbl line ends with '|', which reads as one more, empty, column.
        session
            .query(&format!(
                "CREATE EXTERNAL TABLE {name}_tbl ({columns}, trailing VARCHAR) STORED AS CSV LOCATION '{}' OPTIONS ('format.delimiter' '|', 'format.has_header' 'false', 'format.compression' 'gzip')",
                tbl.display()
            ))
            .await
            .unwrap();
        let out = parquet_dir.join(format!("{name}.parquet"));
        let names: Vec<&str> = columns
            .split(", ")
            .filter_map(|c| c.split_once(' ').map(|(name, _)| name))
            .collect();
        session
            .query(&format!(
                "COPY (SELECT {} FROM {name}_tbl) TO '{}' STORED AS PARQUET",
                names.join(", "),
                out.display()
            ))
            .await
            .unwrap();
        session
            .query(&format!(
                "CREATE EXTERNAL TABLE {name} STORED AS PARQUET LOCATION '{}'",
                out.display()
            ))
            .await
            .unwrap();
    }
}
