//! `DESCRIBE HISTORY table [LIMIT n]`, Delta's statement for a table's commits, read as the
//! query `SELECT * FROM delta_history(...) [LIMIT n]` that the `read_*` rewrite resolves.
//! The table is written as in every other Delta statement: a registered name,
//! `` delta.`path` `` or a quoted path.

use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::delta_ddl::{Target, parse_target};
use super::{Piece, syntax};
use crate::Result;

/// The query a `DESCRIBE HISTORY` statement stands for.
///
/// # Errors
/// [`crate::Error::Syntax`] for anything but a table and an optional `LIMIT`.
pub(super) fn as_query(piece: &Piece<'_>, dialect: &dyn Dialect) -> Result<String> {
    let text = piece.positioned_text();
    let mut p = Parser::new(dialect)
        .try_with_sql(&text)
        .map_err(|e| syntax(e.to_string()))?;
    // DESCRIBE (or DESC) HISTORY, as the classifier found.
    p.next_token();
    p.next_token();
    let table = match parse_target(&mut p).map_err(|e| syntax(e.to_string()))? {
        Target::Path(path) => format!("'{}'", path.replace('\'', "''")),
        Target::Name(name) => name,
    };
    let mut query = format!("SELECT * FROM delta_history({table})");
    if p.parse_keyword(Keyword::LIMIT) {
        let limit = p.parse_expr().map_err(|e| syntax(e.to_string()))?;
        query.push_str(&format!(" LIMIT {limit}"));
    }
    if p.peek_token().token != Token::EOF {
        return Err(syntax(
            p.expected::<()>("LIMIT n or the end of DESCRIBE HISTORY", p.peek_token())
                .err()
                .map_or_else(String::new, |e| e.to_string()),
        ));
    }
    Ok(query)
}
