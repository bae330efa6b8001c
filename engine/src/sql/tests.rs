use datafusion::sql::sqlparser::dialect::GenericDialect;
use serde_json::Value;

use super::*;
use crate::delta::AsOf;

/// Cases shared with the explorer's tests (web-demo), so both readers of SQL text agree.
const CASES: &str = include_str!("../../../tests/sql_cases.json");

fn cases(kind: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(CASES).unwrap();
    all[kind].as_array().unwrap().clone()
}

fn options() -> ParseOptions<'static> {
    ParseOptions {
        dialect: &GenericDialect {},
        recursion_limit: 50,
    }
}

fn form(sql: &str) -> Form {
    let pieces = pieces(sql, &GenericDialect {}).unwrap();
    Form::of(&pieces[0])
}

#[test]
fn splits_scripts_outside_quotes_and_comments() {
    for case in cases("split") {
        let sql = case["sql"].as_str().unwrap();
        let expected: Vec<&str> = case["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(
            split_statements(sql, &GenericDialect {}),
            expected,
            "{sql:?}"
        );
    }
}

#[test]
fn statements_are_complete_at_a_semicolon_outside_quotes_and_comments() {
    for case in cases("complete") {
        let sql = case["sql"].as_str().unwrap();
        let expected = case["complete"].as_bool().unwrap();
        assert_eq!(
            statement_complete(sql, &GenericDialect {}),
            expected,
            "{sql:?}"
        );
    }
}

#[test]
fn statements_are_classified_by_their_leading_words() {
    for case in cases("form") {
        let sql = case["sql"].as_str().unwrap();
        let expected = match case["form"].as_str().unwrap() {
            "delta" => Form::DeltaDdl,
            "history" => Form::DescribeHistory,
            _ => Form::DataFusion,
        };
        assert_eq!(form(sql), expected, "{sql:?}");
    }
}

#[test]
fn a_script_mixes_forms_and_keeps_their_order() {
    let parsed = parse(
        "SELECT 1; OPTIMIZE t; DESCRIBE HISTORY delta.`/tmp/t` LIMIT 2; INSERT INTO t VALUES (1)",
        &options(),
    )
    .unwrap();
    assert_eq!(parsed.len(), 4);
    assert!(matches!(
        &parsed[1],
        Parsed::Delta(DeltaStatement::Optimize { .. })
    ));
    let Parsed::Sql(history) = &parsed[2] else {
        panic!("{:?}", parsed[2]);
    };
    assert_eq!(
        history.to_string(),
        "SELECT * FROM delta_history('/tmp/t') LIMIT 2"
    );
    let Parsed::Sql(insert) = &parsed[3] else {
        panic!("{:?}", parsed[3]);
    };
    assert_eq!(dml_target(insert), Some(Target::Name("t".into())));
}

#[test]
fn every_delta_statement_takes_the_same_table_references() {
    for (reference, target) in [
        ("t", Target::Name("t".into())),
        ("delta.`/tmp/t`", Target::Path("/tmp/t".into())),
        ("'/tmp/t'", Target::Path("/tmp/t".into())),
    ] {
        let parsed = parse(
            &format!(
                "CHECKPOINT {reference}; DELETE FROM {reference} WHERE a = 1; DESCRIBE HISTORY {reference}"
            ),
            &options(),
        )
        .unwrap();
        let Parsed::Delta(DeltaStatement::Checkpoint { target: checkpoint }) = &parsed[0] else {
            panic!("{:?}", parsed[0]);
        };
        assert_eq!(*checkpoint, target, "{reference}");
        let Parsed::Sql(delete) = &parsed[1] else {
            panic!("{:?}", parsed[1]);
        };
        assert_eq!(dml_target(delete), Some(target.clone()), "{reference}");
        let Parsed::Sql(history) = &parsed[2] else {
            panic!("{:?}", parsed[2]);
        };
        let expected = match &target {
            Target::Path(p) => format!("SELECT * FROM delta_history('{p}')"),
            Target::Name(n) => format!("SELECT * FROM delta_history({n})"),
        };
        assert_eq!(history.to_string(), expected);
    }
}

#[test]
fn restore_reads_timestamps_as_time_travel_does() {
    // One parser of instants: what `FROM t TIMESTAMP AS OF` accepts, RESTORE accepts.
    let parsed = parse(
        "RESTORE t TO TIMESTAMP AS OF '2024-01-31 12:00'",
        &options(),
    )
    .unwrap();
    let Parsed::Delta(DeltaStatement::Restore { to, .. }) = &parsed[0] else {
        panic!("{:?}", parsed[0]);
    };
    assert_eq!(*to, AsOf::parse_timestamp("2024-01-31T12:00:00Z").unwrap());
}

#[test]
fn syntax_errors_name_the_line_of_the_script() {
    for sql in [
        "SELECT 1;\nSELEC 2",
        "SELECT 1;\nOPTIMIZE t ZORDER (a)",
        "SELECT 1;\nDESCRIBE HISTORY t extra",
    ] {
        let err = parse(sql, &options()).unwrap_err().to_string();
        assert!(err.starts_with("syntax error"), "{sql}: {err}");
        assert!(err.contains("Line: 2"), "{sql}: {err}");
    }
    let err = parse("SELECT 1;\nSELECT (", &options()).unwrap_err();
    assert!(err.to_string().contains("Line: 2"), "{err}");
    // The end of the input: line 2, after the 8 characters of `SELECT (`.
    assert_eq!(err.syntax_position(), Some((2, 9)), "{err}");
    let err = parse("SELECT 1;\nSELECT 1 +* 2", &options()).unwrap_err();
    assert_eq!(
        err.syntax_position().map(|(line, _)| line),
        Some(2),
        "{err}"
    );
    let not_syntax = Error::Unsupported {
        what: "Line: 1, Column: 2".into(),
    };
    assert_eq!(not_syntax.syntax_position(), None);
}

#[test]
fn only_queries_are_queries() {
    let kinds = |sql: &str| -> Vec<bool> {
        parse(sql, &options())
            .unwrap()
            .iter()
            .map(Parsed::is_query)
            .collect()
    };
    assert_eq!(
        kinds("SELECT 1; VALUES (1); WITH t AS (SELECT 1) SELECT * FROM t"),
        [true, true, true]
    );
    assert_eq!(
        kinds(
            "CREATE TABLE t AS SELECT 1; INSERT INTO t VALUES (2); EXPLAIN SELECT 1; \
             OPTIMIZE t; SET datafusion.execution.batch_size = 10"
        ),
        [false, false, false, false, false]
    );
    // DESCRIBE HISTORY is read as a query of delta_history(...), and is one.
    assert_eq!(kinds("DESCRIBE HISTORY t"), [true]);
}

#[test]
fn time_travel_parses_whatever_the_dialect() {
    let parsed = parse("SELECT * FROM t VERSION AS OF 3", &options()).unwrap();
    assert_eq!(parsed.len(), 1);
}

#[test]
fn duckdb_asof_joins_get_a_marker_and_keep_positions_elsewhere() {
    let rewrite = |sql: &str| asof::duckdb_form(sql, &GenericDialect {});
    assert_eq!(
        rewrite("SELECT * FROM t ASOF JOIN q ON t.k = q.k AND t.ts >= q.ts").unwrap(),
        "SELECT * FROM t ASOF JOIN q MATCH_CONDITION (__quiver_asof_inner) ON t.k = q.k AND t.ts >= q.ts"
    );
    // LEFT [OUTER] is blanked, so columns before the insertion stay where they were.
    assert_eq!(
        rewrite("SELECT 1 FROM t asof left outer join (SELECT * FROM q) x USING (k, ts)").unwrap(),
        "SELECT 1 FROM t asof            join (SELECT * FROM q) x MATCH_CONDITION (__quiver_asof_left) USING (k, ts)"
    );
    // An ON inside the right side's subquery is not the join's.
    let nested = rewrite(
        "SELECT * FROM t ASOF JOIN (SELECT * FROM a JOIN b ON a.x = b.x) q ON t.ts >= q.ts",
    )
    .unwrap();
    assert!(
        nested.ends_with("b.x) q MATCH_CONDITION (__quiver_asof_inner) ON t.ts >= q.ts"),
        "{nested}"
    );
    // Snowflake's form, a column named asof and a string are left alone.
    assert_eq!(
        rewrite("SELECT * FROM t ASOF JOIN q MATCH_CONDITION (t.ts >= q.ts) ON t.k = q.k"),
        None
    );
    assert_eq!(rewrite("SELECT asof, 'ASOF JOIN x ON' FROM t"), None);
}

#[test]
fn each_asof_join_is_nested_left_deep() {
    let sql = "SELECT * FROM a JOIN b ON a.x = b.x ASOF JOIN c ON a.k = c.k AND a.t >= c.t \
               JOIN d ON d.y = c.y ASOF LEFT JOIN e USING (k, t)";
    let parsed = parse(sql, &options()).unwrap();
    let Parsed::Sql(statement) = &parsed[0] else {
        panic!("not SQL")
    };
    let text = statement.to_string();
    assert_eq!(
        text,
        "SELECT * FROM ((((a JOIN b ON a.x = b.x) ASOF JOIN c MATCH_CONDITION (__quiver_asof_inner) \
         ON a.k = c.k AND a.t >= c.t) JOIN d ON d.y = c.y) ASOF JOIN e \
         MATCH_CONDITION (__quiver_asof_left) USING(k, t))"
    );
    // A syntax error after an ASOF join still names its line and column.
    let err = parse(
        "SELECT *\nFROM t ASOF JOIN q ON t.ts >= q.ts\nWHERE (",
        &options(),
    )
    .unwrap_err();
    assert_eq!(err.syntax_position(), Some((3, 8)), "{err}");
}
