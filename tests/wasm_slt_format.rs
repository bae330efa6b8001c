//! The wasm build shows results as sqllogictest text with its own formatter (`wasm/src/slt.rs`,
//! since DataFusion's runner does not build for wasm32). Here it must write every value of
//! every type exactly as DataFusion's runner does, so the `.slt` agreement run in Node
//! compares like with like.

mod common;

use datafusion_sqllogictest::{DFColumnType, convert_batches, convert_schema_to_types};

const QUERIES: &[&str] = &[
    "SELECT 1, -2::TINYINT, 3::SMALLINT, 4::BIGINT, 5::INT UNSIGNED, NULL, true, false",
    "SELECT 1.5, 0.1 + 0.2, 1e20, 1e-20, 123456789.123456789, -0.0, 'NaN'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE",
    "SELECT 2.5::FLOAT, 1.1::REAL, arrow_cast(1.5, 'Float16')",
    "SELECT 12.340::DECIMAL(10, 3), -0.5::DECIMAL(5, 2), 0::DECIMAL(38, 10), 12345678901234567890.12::DECIMAL(38, 2)",
    "SELECT '', 'text', 'two\nlines', arrow_cast('view', 'Utf8View'), arrow_cast('large', 'LargeUtf8')",
    "SELECT DATE '2026-01-02', TIMESTAMP '2026-01-02 03:04:05.123456', TIME '12:34:56', INTERVAL '1 day 2 hours'",
    "SELECT arrow_cast(TIMESTAMP '2026-01-02 03:04:05', 'Timestamp(Millisecond, Some(\"UTC\"))')",
    "SELECT [1, 2, NULL], {'a': 1, 'b': 'x'}, MAP {'k': 1}, arrow_cast('a', 'Dictionary(Int32, Utf8)')",
    "SELECT arrow_cast(1, 'Duration(Second)'), X'0102ff', arrow_cast(NULL, 'Int32')",
    "SELECT x, x * 0.25, x::VARCHAR AS s FROM generate_series(1, 5) t(x)",
    "EXPLAIN SELECT 1",
];

#[tokio::test]
async fn wasm_slt_text_equals_datafusions() {
    let session = common::session(1);
    for sql in QUERIES {
        let batches = session.query(sql).await.expect(sql);
        let schema = batches[0].schema();
        let want_rows =
            convert_batches(&schema, batches.clone(), false).expect("DataFusion's text");
        let want_types: String = convert_schema_to_types(schema.fields())
            .iter()
            .map(|t: &DFColumnType| sqllogictest::ColumnType::to_char(t))
            .collect();
        let got_rows = quiver_wasm::slt::rows(&batches).expect("wasm's text");
        assert_eq!(got_rows, want_rows, "{sql}");
        assert_eq!(quiver_wasm::slt::column_types(&schema), want_types, "{sql}");
    }
}
