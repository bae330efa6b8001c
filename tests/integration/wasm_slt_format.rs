//! The wasm `.slt` agreement runner (`wasm/tests/slt.test.mjs`) writes results as
//! sqllogictest text in JavaScript (`wasm/tests/slt_format.mjs`), from the Arrow results the
//! npm package returns, so that no user of the package downloads a formatter. That text
//! must be exactly what DataFusion's runner writes, or the run would compare unlike things.
//!
//! `wasm/tests/slt_format_cases.json` holds a query for each kind of value with the text
//! DataFusion's runner writes for it. This test checks the file still holds DataFusion's
//! text; the Node suite checks the JS formatter writes the same text for the wasm build's
//! results. After a DataFusion upgrade changes the text, or to fill in a new case (give it
//! only `sql`), run this test with `QUIVER_BLESS=1` and review the file's diff.

use crate::common;

use datafusion_sqllogictest::{DFColumnType, convert_batches, convert_schema_to_types};
use serde_json::{Value, json};

const CASES: &str = "wasm/tests/slt_format_cases.json";

#[tokio::test]
async fn slt_format_cases_hold_datafusions_text() {
    let path = common::root().join(CASES);
    let text = std::fs::read_to_string(&path).expect("the cases file");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("the cases file is JSON");
    let session = common::session(1);
    let mut blessed = Vec::new();
    let mut stale = Vec::new();
    for case in &cases {
        let sql = case["sql"].as_str().expect("each case has sql");
        let batches = session.query(sql).await.expect(sql);
        let schema = batches[0].schema();
        let rows = convert_batches(&schema, batches.clone(), false).expect("DataFusion's text");
        let types: String = convert_schema_to_types(schema.fields())
            .iter()
            .map(|t: &DFColumnType| sqllogictest::ColumnType::to_char(t))
            .collect();
        let want = json!({ "sql": sql, "types": types, "rows": rows });
        if case != &want {
            stale.push(format!("{sql}\n  file:       {case}\n  DataFusion: {want}"));
        }
        blessed.push(want);
    }
    if std::env::var("QUIVER_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, cases_json(&blessed)).expect("write the cases file");
        return;
    }
    assert!(
        stale.is_empty(),
        "{CASES} differs from DataFusion's runner (QUIVER_BLESS=1 rewrites it):\n{}",
        stale.join("\n")
    );
}

/// One case per block and one row per line, so that a change reads well in a diff.
fn cases_json(cases: &[Value]) -> String {
    let one = |v: &Value| serde_json::to_string(v).expect("JSON");
    let blocks: Vec<String> = cases
        .iter()
        .map(|c| {
            let rows: Vec<String> = c["rows"]
                .as_array()
                .map(|rows| rows.iter().map(|r| format!("\n      {}", one(r))).collect())
                .unwrap_or_default();
            let end = if rows.is_empty() { "" } else { "\n    " };
            format!(
                "  {{\n    \"sql\": {},\n    \"types\": {},\n    \"rows\": [{}{end}]\n  }}",
                one(&c["sql"]),
                one(&c["types"]),
                rows.join(",")
            )
        })
        .collect();
    format!("[\n{}\n]\n", blocks.join(",\n"))
}
