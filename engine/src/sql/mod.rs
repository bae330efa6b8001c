//! The SQL front end: the one place SQL text is read before it is planned.
//!
//! Every host sends a script through [`parse`] (by way of [`crate::Session::parse`]). The
//! script is lexed once with the parser's own tokenizer and cut into statements
//! ([`script::pieces`]); each statement is classified by its leading words ([`Form`]) and parsed
//! by the grammar of its form:
//!
//! | form | example | parsed as |
//! |---|---|---|
//! | DataFusion SQL | `SELECT ... FROM t VERSION AS OF 3` | DataFusion's parser, in the session's dialect; time travel in the Databricks dialect when the session's has none; ASOF joins in both DuckDB's and Snowflake's forms ([`asof`]) |
//! | `DESCRIBE HISTORY` | `DESCRIBE HISTORY delta.`/t` LIMIT 5` | a query of `delta_history(...)` |
//! | Delta DDL | `OPTIMIZE t ZORDER BY (a)` | [`delta_ddl`]'s Spark/Databricks grammar |
//!
//! Adding a statement form (MATCH_RECOGNIZE is next) is one variant of [`Form`], its
//! recogniser in [`Form::of`] and its parser in [`Form::parse`]. The REPL's "is this
//! statement finished?" ([`statement_complete`]) and the explorer's splitting use the same
//! tokenizer, so no host keeps a scanner of its own.

mod asof;
mod delta_ddl;
mod history;
mod script;

use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::dialect::{DatabricksDialect, Dialect};

pub use delta_ddl::{Create, DeltaStatement, Target, dml_target, target_of, target_of_name};
pub use script::{Piece, pieces, split_statements, statement_complete};

use crate::{Error, Result};

/// One parsed statement of a script.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// A statement DataFusion plans (queries, DDL, `SET`, and DML, which a native host may
    /// send to its Delta writer when the target is a Delta table; see [`dml_target`]).
    Sql(Statement),
    /// A Delta statement outside DataFusion's grammar, which only a writer can run.
    Delta(DeltaStatement),
}

impl Parsed {
    /// Whether this is a query and nothing else (`SELECT`, `VALUES`, `WITH ... SELECT`):
    /// a statement a frontend may plan now and run later, as often as it likes, because
    /// running it changes nothing.
    pub fn is_query(&self) -> bool {
        use datafusion::sql::sqlparser::ast::Statement as Ast;
        matches!(self, Parsed::Sql(Statement::Statement(s)) if matches!(**s, Ast::Query(_)))
    }
}

/// How to parse: the dialect and the parser's recursion limit (the session's settings).
pub struct ParseOptions<'a> {
    pub dialect: &'a dyn Dialect,
    pub recursion_limit: usize,
}

/// The forms of statement the front end tells apart before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Anything DataFusion's parser reads.
    DataFusion,
    /// `DESCRIBE HISTORY table [LIMIT n]`.
    DescribeHistory,
    /// `CREATE TABLE ... USING DELTA`, `OPTIMIZE`, `VACUUM`, `CHECKPOINT`, `RESTORE`.
    DeltaDdl,
}

impl Form {
    /// The form of a statement, by its leading words (unquoted, so `SELECT 'OPTIMIZE'` or a
    /// table called "vacuum" are not mistaken for one).
    fn of(piece: &Piece<'_>) -> Form {
        match piece.word(0).as_deref() {
            Some("OPTIMIZE" | "VACUUM" | "CHECKPOINT" | "RESTORE") => Form::DeltaDdl,
            Some("CREATE") => {
                let table_at = if piece.words_at(1, "OR", "REPLACE") {
                    3
                } else {
                    1
                };
                let is_table = piece.word(table_at).is_some_and(|w| w == "TABLE");
                if is_table && piece.has_words("USING", "DELTA") {
                    Form::DeltaDdl
                } else {
                    Form::DataFusion
                }
            }
            Some("DESCRIBE" | "DESC") if piece.word(1).is_some_and(|w| w == "HISTORY") => {
                Form::DescribeHistory
            }
            _ => Form::DataFusion,
        }
    }

    fn parse(
        self,
        piece: &Piece<'_>,
        options: &ParseOptions<'_>,
        out: &mut Vec<Parsed>,
    ) -> Result<()> {
        match self {
            Form::DataFusion => {
                let as_of = piece.has_words("AS", "OF");
                let text = piece.positioned_text();
                if !piece.has_word("ASOF") {
                    out.extend(parse_datafusion(&text, options, as_of)?);
                    return Ok(());
                }
                let text = asof::duckdb_form(&text, options.dialect).unwrap_or(text);
                for mut parsed in parse_datafusion(&text, options, as_of)? {
                    if let Parsed::Sql(statement) = &mut parsed {
                        asof::nest(statement);
                    }
                    out.push(parsed);
                }
            }
            Form::DescribeHistory => {
                let query = history::as_query(piece, options.dialect)?;
                out.extend(parse_datafusion(&query, options, false)?);
            }
            Form::DeltaDdl => {
                let statement = delta_ddl::parse(&piece.positioned_text(), options.dialect)
                    .map_err(|e| syntax(e.to_string()))?;
                out.push(Parsed::Delta(statement));
            }
        }
        Ok(())
    }
}

/// Parses every statement of `sql`, in order. Nothing runs; a syntax error anywhere is
/// reported before any statement could.
///
/// # Errors
/// [`Error::Syntax`] with the line and column in `sql`.
pub fn parse(sql: &str, options: &ParseOptions<'_>) -> Result<Vec<Parsed>> {
    let pieces = match pieces(sql, options.dialect) {
        Ok(pieces) => pieces,
        // Text the tokenizer cannot read: the parser says why, and where.
        Err(_) => return parse_datafusion(sql, options, false),
    };
    let mut out = Vec::with_capacity(pieces.len());
    for piece in &pieces {
        Form::of(piece).parse(piece, options, &mut out)?;
    }
    Ok(out)
}

fn syntax(message: String) -> Error {
    Error::Syntax {
        message: message.trim_start_matches("sql parser error: ").to_string(),
        original: None,
    }
}

/// DataFusion's parser over `sql`; `as_of` retries in the Databricks dialect, which reads
/// `FROM t VERSION AS OF 3` when the session's dialect does not.
fn parse_datafusion(sql: &str, options: &ParseOptions<'_>, as_of: bool) -> Result<Vec<Parsed>> {
    let parse = |dialect: &dyn Dialect| {
        DFParserBuilder::new(sql)
            .with_dialect(dialect)
            .with_recursion_limit(options.recursion_limit)
            .build()
            .and_then(|mut p| p.parse_statements())
    };
    let parsed = match parse(options.dialect) {
        Err(e) if as_of && !options.dialect.supports_table_versioning() => {
            parse(&DatabricksDialect {}).map_err(|_| e)
        }
        other => other,
    };
    let statements = parsed.map_err(|e| match Error::from_datafusion(e) {
        // sqlparser gives no position for an unexpected end of input; say where it is.
        Error::Syntax { message, original } if !message.contains("Line:") => {
            let text = sql.trim_end();
            let line = text.lines().count().max(1);
            let column = text.lines().last().map_or(0, |l| l.chars().count()) + 1;
            Error::Syntax {
                message: format!(
                    "{message} at Line: {line}, Column: {column} (the end of the input)"
                ),
                original,
            }
        }
        other => other,
    })?;
    Ok(statements.into_iter().map(Parsed::Sql).collect())
}

#[cfg(test)]
mod tests;
