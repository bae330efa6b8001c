//! Statement-level SQL text shared by the hosts: splitting a script into statements, and
//! recognising the Delta write statements outside DataFusion's grammar (`OPTIMIZE`,
//! `VACUUM`, `CHECKPOINT`, `RESTORE`, `CREATE TABLE ... USING DELTA`). The native CLI parses
//! and runs those; the browser build names them as native-only. Both ask this module, so
//! they agree on which statements they are.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// The words of `sql` in upper case, outside strings, quoted names and comments.
fn words(sql: &str) -> impl Iterator<Item = String> + '_ {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .unwrap_or_default();
    tokens.into_iter().filter_map(|t| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    })
}

/// Which Delta write statement outside DataFusion's grammar `sql` (one statement) is, by
/// name: "OPTIMIZE", "VACUUM", "CHECKPOINT", "RESTORE" or "CREATE TABLE ... USING DELTA";
/// `None` for anything else.
pub fn delta_write_kind(sql: &str) -> Option<&'static str> {
    let words: Vec<String> = words(sql).take(64).collect();
    match words.first().map(String::as_str) {
        Some("OPTIMIZE") => Some("OPTIMIZE"),
        Some("VACUUM") => Some("VACUUM"),
        Some("CHECKPOINT") => Some("CHECKPOINT"),
        Some("RESTORE") => Some("RESTORE"),
        Some("CREATE") => {
            let table_at = words.iter().position(|w| w == "TABLE");
            let is_table = matches!(table_at, Some(1) | Some(3))
                && (table_at == Some(1) || words[1..3] == ["OR", "REPLACE"]);
            (is_table && words.windows(2).any(|w| w[0] == "USING" && w[1] == "DELTA"))
                .then_some("CREATE TABLE ... USING DELTA")
        }
        _ => None,
    }
}

/// Splits a script into statements at top-level semicolons, keeping each statement's text;
/// parts with no words (blank, or only comments) are left out. Semicolons inside strings,
/// quoted names and comments do not split.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        // A doubled quote is an escaped one.
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    if quote == b'\'' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => {
                out.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&sql[start.min(sql.len())..]);
    out.into_iter()
        .filter(|s| words(s).next().is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_delta_write_statements_and_nothing_else() {
        for (sql, kind) in [
            ("OPTIMIZE t", "OPTIMIZE"),
            ("vacuum delta.`/x` RETAIN 200 HOURS", "VACUUM"),
            ("CHECKPOINT t", "CHECKPOINT"),
            ("RESTORE TABLE t TO VERSION AS OF 1", "RESTORE"),
            (
                "CREATE TABLE t (a INT) USING DELTA LOCATION '/x'",
                "CREATE TABLE ... USING DELTA",
            ),
            (
                "create or replace table t using delta as select 1",
                "CREATE TABLE ... USING DELTA",
            ),
        ] {
            assert_eq!(delta_write_kind(sql), Some(kind), "{sql}");
        }
        for sql in [
            "SELECT 'OPTIMIZE'",
            "CREATE TABLE t (a INT)",
            "CREATE EXTERNAL TABLE t STORED AS DELTA LOCATION '/x'",
            "CREATE VIEW v AS SELECT 'USING DELTA'",
            "CREATE VIEW v AS SELECT * FROM a JOIN b USING (delta)",
            "INSERT INTO t VALUES (1)",
        ] {
            assert_eq!(delta_write_kind(sql), None, "{sql}");
        }
    }

    #[test]
    fn splits_scripts_outside_quotes_and_comments() {
        let parts = split_statements(
            "SELECT ';'; -- a; comment\nVACUUM t; /* ; */ SELECT \"a;b\", `c;d`;\n  ;",
        );
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert_eq!(parts[1].trim(), "-- a; comment\nVACUUM t");
    }
}
