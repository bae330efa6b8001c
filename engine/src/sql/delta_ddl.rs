//! The Delta statements DataFusion's parser does not know, in the syntax Delta users write
//! on Spark and Databricks: `CREATE TABLE ... USING DELTA`, `OPTIMIZE`, `VACUUM`,
//! `CHECKPOINT` and `RESTORE`, and the table references every Delta statement takes
//! (a registered name, `` delta.`path` `` or a quoted path). They are parsed with sqlparser's
//! own parser primitives, so expressions, queries and column definitions inside them parse
//! exactly as elsewhere. `INSERT`, `UPDATE`, `DELETE` and `MERGE` parse as ordinary SQL; their
//! target is found by [`dml_target`].
//!
//! The engine only parses these; the native writer runs them and the browser build names them
//! as native-only.

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    ColumnDef, Expr, FromTable, ObjectName, Query, Statement as Sql, TableFactor, TableObject,
};
use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::delta::AsOf;

/// Which Delta table a statement changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `` delta.`/path/to/table` `` or a quoted path.
    Path(String),
    /// A table registered in the session.
    Name(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Path(p) => write!(f, "delta.`{p}`"),
            Target::Name(n) => f.write_str(n),
        }
    }
}

/// `CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name [(columns)] USING DELTA [PARTITIONED BY
/// (c, ...)] [LOCATION 'path'] [TBLPROPERTIES ('k' = 'v', ...)] [COMMENT '...'] [AS query]`.
#[derive(Debug, Clone)]
pub struct Create {
    pub target: Target,
    pub location: Option<String>,
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnDef>,
    pub partitioned_by: Vec<String>,
    pub properties: Vec<(String, String)>,
    pub comment: Option<String>,
    pub query: Option<Box<Query>>,
}

/// A Delta statement outside DataFusion's grammar.
#[derive(Debug, Clone)]
pub enum DeltaStatement {
    Create(Box<Create>),
    Optimize {
        target: Target,
        predicate: Option<Box<Expr>>,
        zorder: Vec<String>,
    },
    Vacuum {
        target: Target,
        retain_hours: Option<f64>,
        dry_run: bool,
    },
    Checkpoint {
        target: Target,
    },
    Restore {
        target: Target,
        /// A version, or the newest version at or before an instant.
        to: AsOf,
    },
}

impl DeltaStatement {
    /// The statement's name, as users write it: what an error or a refusal calls it.
    pub fn name(&self) -> &'static str {
        match self {
            DeltaStatement::Create(_) => "CREATE TABLE ... USING DELTA",
            DeltaStatement::Optimize { .. } => "OPTIMIZE",
            DeltaStatement::Vacuum { .. } => "VACUUM",
            DeltaStatement::Checkpoint { .. } => "CHECKPOINT",
            DeltaStatement::Restore { .. } => "RESTORE",
        }
    }
}

/// Parses one Delta statement (one the front end classified as such).
///
/// # Errors
/// A syntax error naming what was expected, with sqlparser's line and column.
pub fn parse(sql: &str, dialect: &dyn Dialect) -> Result<DeltaStatement, ParserError> {
    let mut p = Parser::new(dialect).try_with_sql(sql)?;
    let statement = if p.parse_keyword(Keyword::CREATE) {
        DeltaStatement::Create(Box::new(parse_create(&mut p)?))
    } else if word(&mut p, "OPTIMIZE") {
        let target = parse_target(&mut p)?;
        let predicate = if p.parse_keyword(Keyword::WHERE) {
            Some(Box::new(p.parse_expr()?))
        } else {
            None
        };
        let mut zorder = Vec::new();
        if word(&mut p, "ZORDER") {
            p.expect_keyword(Keyword::BY)?;
            let parenthesised = p.consume_token(&Token::LParen);
            zorder = p
                .parse_comma_separated(|p| p.parse_identifier())?
                .into_iter()
                .map(|i| i.value)
                .collect();
            if parenthesised {
                p.expect_token(&Token::RParen)?;
            }
        }
        DeltaStatement::Optimize {
            target,
            predicate,
            zorder,
        }
    } else if word(&mut p, "VACUUM") {
        let target = parse_target(&mut p)?;
        let mut retain_hours = None;
        let mut dry_run = false;
        loop {
            if word(&mut p, "RETAIN") {
                let n = p.parse_number_value()?;
                let hours: f64 = n.to_string().parse().map_err(|_| {
                    ParserError::ParserError(format!("RETAIN takes a number of hours, not {n}"))
                })?;
                if !word(&mut p, "HOURS") {
                    return p.expected("HOURS after RETAIN n", p.peek_token());
                }
                retain_hours = Some(hours);
            } else if word(&mut p, "DRY") {
                if !word(&mut p, "RUN") {
                    return p.expected("RUN after DRY", p.peek_token());
                }
                dry_run = true;
            } else {
                break;
            }
        }
        DeltaStatement::Vacuum {
            target,
            retain_hours,
            dry_run,
        }
    } else if word(&mut p, "CHECKPOINT") {
        DeltaStatement::Checkpoint {
            target: parse_target(&mut p)?,
        }
    } else if word(&mut p, "RESTORE") {
        let _ = p.parse_keyword(Keyword::TABLE);
        let target = parse_target(&mut p)?;
        p.expect_keyword(Keyword::TO)?;
        let to =
            if p.parse_keyword(Keyword::VERSION) {
                p.expect_keywords(&[Keyword::AS, Keyword::OF])?;
                let v = p.parse_literal_uint()?;
                AsOf::Version(i64::try_from(v).map_err(|_| {
                    ParserError::ParserError(format!("version {v} is out of range"))
                })?)
            } else if p.parse_keyword(Keyword::TIMESTAMP) {
                p.expect_keywords(&[Keyword::AS, Keyword::OF])?;
                // The same instants as `FROM t TIMESTAMP AS OF '...'` reads.
                AsOf::parse_timestamp(&p.parse_literal_string()?)
                    .map_err(|e| ParserError::ParserError(e.to_string()))?
            } else {
                return p.expected("VERSION AS OF n or TIMESTAMP AS OF '...'", p.peek_token());
            };
        DeltaStatement::Restore { target, to }
    } else {
        return p.expected(
            "CREATE TABLE, OPTIMIZE, VACUUM, CHECKPOINT or RESTORE",
            p.peek_token(),
        );
    };
    let _ = p.consume_token(&Token::SemiColon);
    if p.peek_token().token != Token::EOF {
        return p.expected("the end of the statement", p.peek_token());
    }
    Ok(statement)
}

fn parse_create(p: &mut Parser<'_>) -> Result<Create, ParserError> {
    let or_replace = p.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    p.expect_keyword(Keyword::TABLE)?;
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let target = parse_target(p)?;
    let mut create = Create {
        target,
        location: None,
        or_replace,
        if_not_exists,
        columns: Vec::new(),
        partitioned_by: Vec::new(),
        properties: Vec::new(),
        comment: None,
        query: None,
    };
    if p.consume_token(&Token::LParen) {
        create.columns = p.parse_comma_separated(Parser::parse_column_def)?;
        p.expect_token(&Token::RParen)?;
    }
    let mut using = false;
    loop {
        if p.parse_keyword(Keyword::USING) {
            let format = p.parse_identifier()?;
            if !format.value.eq_ignore_ascii_case("delta") {
                return Err(ParserError::ParserError(format!(
                    "CREATE TABLE ... USING {format}: only USING DELTA writes a table here"
                )));
            }
            using = true;
        } else if p.parse_keywords(&[Keyword::PARTITIONED, Keyword::BY]) {
            p.expect_token(&Token::LParen)?;
            create.partitioned_by = p
                .parse_comma_separated(|p| p.parse_identifier())?
                .into_iter()
                .map(|i| i.value)
                .collect();
            p.expect_token(&Token::RParen)?;
        } else if p.parse_keyword(Keyword::LOCATION) {
            create.location = Some(p.parse_literal_string()?);
        } else if p.parse_keyword(Keyword::TBLPROPERTIES) {
            p.expect_token(&Token::LParen)?;
            create.properties = p.parse_comma_separated(|p| {
                let key = p.parse_literal_string()?;
                p.expect_token(&Token::Eq)?;
                let value = match p.next_token().token {
                    Token::SingleQuotedString(s) => s,
                    Token::Number(n, _) => n,
                    Token::Word(w) => w.value,
                    other => {
                        return Err(ParserError::ParserError(format!(
                            "TBLPROPERTIES value for '{key}': expected a string, found {other}"
                        )));
                    }
                };
                Ok((key, value))
            })?;
            p.expect_token(&Token::RParen)?;
        } else if p.parse_keyword(Keyword::COMMENT) {
            create.comment = Some(p.parse_literal_string()?);
        } else if p.parse_keyword(Keyword::AS) {
            create.query = Some(p.parse_query()?);
            break;
        } else {
            break;
        }
    }
    if !using {
        return p.expected("USING DELTA", p.peek_token());
    }
    if create.columns.is_empty() && create.query.is_none() {
        return Err(ParserError::ParserError(
            "CREATE TABLE ... USING DELTA needs columns, as in (id BIGINT, name STRING), or AS SELECT ..."
                .into(),
        ));
    }
    if !create.columns.is_empty() && create.query.is_some() {
        return Err(ParserError::ParserError(
            "CREATE TABLE ... AS SELECT takes its columns from the query; leave out the column list"
                .into(),
        ));
    }
    Ok(create)
}

/// A table: `` delta.`/path` ``, a quoted path, or a (possibly qualified) name.
pub(crate) fn parse_target(p: &mut Parser<'_>) -> Result<Target, ParserError> {
    if let Token::SingleQuotedString(path) = p.peek_token().token {
        p.next_token();
        return Ok(Target::Path(path));
    }
    Ok(target_of_name(&p.parse_object_name(false)?))
}

/// The target an object name denotes: `` delta.`path` `` and a quoted path (`'data/t'`, as
/// `FROM` reads it) are paths, anything else a name.
pub fn target_of_name(name: &ObjectName) -> Target {
    let parts: Vec<_> = name.0.iter().filter_map(|p| p.as_ident()).collect();
    match parts.as_slice() {
        [scheme, path] if scheme.value.eq_ignore_ascii_case("delta") => {
            Target::Path(path.value.clone())
        }
        [path] if path.quote_style == Some('\'') => Target::Path(path.value.clone()),
        _ => Target::Name(name.to_string()),
    }
}

/// The table a `FROM`, `UPDATE` or `MERGE` factor names, if it is a plain table.
pub fn target_of(factor: &TableFactor) -> Option<Target> {
    match factor {
        TableFactor::Table { name, .. } => Some(target_of_name(name)),
        _ => None,
    }
}

/// The table an `INSERT`, `UPDATE`, `DELETE` or `MERGE` changes; `None` for any other
/// statement. Whether that table is a Delta table is for the caller to find out.
pub fn dml_target(statement: &Statement) -> Option<Target> {
    let Statement::Statement(sql) = statement else {
        return None;
    };
    match sql.as_ref() {
        Sql::Insert(insert) => match &insert.table {
            TableObject::TableName(name) => Some(target_of_name(name)),
            _ => None,
        },
        Sql::Update(update) => target_of(&update.table.relation),
        Sql::Delete(delete) => {
            let (FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables)) =
                &delete.from;
            target_of(&tables.first()?.relation)
        }
        Sql::Merge(merge) => target_of(&merge.table),
        _ => None,
    }
}

/// Consumes the next token if it is the (unquoted) word `w`, case-insensitively.
fn word(p: &mut Parser<'_>, w: &str) -> bool {
    match &p.peek_token().token {
        Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w) => {
            p.next_token();
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;

    fn parse(sql: &str) -> Result<DeltaStatement, ParserError> {
        super::parse(sql, &GenericDialect {})
    }

    #[test]
    fn parses_create_in_spark_syntax() {
        let DeltaStatement::Create(c) = parse(
            "CREATE TABLE IF NOT EXISTS events (id BIGINT NOT NULL, day DATE, v DOUBLE) USING DELTA \
             PARTITIONED BY (day) LOCATION '/tmp/events' TBLPROPERTIES ('delta.checkpointInterval' = '5') \
             COMMENT 'clicks'",
        )
        .unwrap() else {
            panic!("not a create")
        };
        assert_eq!(c.target, Target::Name("events".into()));
        assert!(c.if_not_exists && !c.or_replace);
        assert_eq!(c.columns.len(), 3);
        assert_eq!(c.partitioned_by, ["day"]);
        assert_eq!(c.location.as_deref(), Some("/tmp/events"));
        assert_eq!(
            c.properties,
            [("delta.checkpointInterval".to_string(), "5".to_string())]
        );
        assert_eq!(c.comment.as_deref(), Some("clicks"));
        let DeltaStatement::Create(c) =
            parse("CREATE OR REPLACE TABLE delta.`/tmp/x` USING DELTA AS SELECT 1 AS a").unwrap()
        else {
            panic!("not a create")
        };
        assert_eq!(c.target, Target::Path("/tmp/x".into()));
        assert!(c.or_replace && c.query.is_some());
        for bad in [
            "CREATE TABLE t USING DELTA",
            "CREATE TABLE t (a INT) USING PARQUET",
            "CREATE TABLE t (a INT) USING DELTA AS SELECT 1",
            "CREATE TABLE t (a INT) USING DELTA LOCATION",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_maintenance_statements() {
        match parse("OPTIMIZE delta.`/t` WHERE day = '2024-01-01' ZORDER BY (a, b)").unwrap() {
            DeltaStatement::Optimize {
                target,
                predicate,
                zorder,
            } => {
                assert_eq!(target, Target::Path("/t".into()));
                assert_eq!(predicate.unwrap().to_string(), "day = '2024-01-01'");
                assert_eq!(zorder, ["a", "b"]);
            }
            other => panic!("{other:?}"),
        }
        match parse("VACUUM t RETAIN 0 HOURS DRY RUN").unwrap() {
            DeltaStatement::Vacuum {
                retain_hours,
                dry_run,
                ..
            } => {
                assert_eq!(retain_hours, Some(0.0));
                assert!(dry_run);
            }
            other => panic!("{other:?}"),
        }
        match parse("RESTORE t TO TIMESTAMP AS OF '2024-01-01 00:00:00'").unwrap() {
            DeltaStatement::Restore { to, .. } => {
                assert_eq!(to, AsOf::parse_timestamp("2024-01-01T00:00:00Z").unwrap());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse("CHECKPOINT 'file:///t'").unwrap(),
            DeltaStatement::Checkpoint { target: Target::Path(p) } if p == "file:///t"
        ));
        for bad in [
            "VACUUM t RETAIN 5",
            "RESTORE t TO 3",
            "RESTORE t TO TIMESTAMP AS OF 'yesterday'",
            "OPTIMIZE t ZORDER (a)",
            "CHECKPOINT t extra",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
