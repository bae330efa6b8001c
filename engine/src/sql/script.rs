//! Scripts as pieces: the one place SQL text is cut into statements.
//!
//! A script is lexed once with sqlparser's tokenizer (the same one DataFusion's parser uses,
//! in the same dialect), so quotes, escapes, nested comments and dollar-quoted strings are
//! understood exactly as the parser will understand them. Each piece keeps its text, where
//! it starts (so a syntax error inside it can name the line and column of the script), and
//! its significant tokens (what the classifier in [`super`] looks at).

use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

/// One statement of a script.
#[derive(Debug, Clone)]
pub struct Piece<'a> {
    /// The statement's text, from its first significant token to its last one (no
    /// terminating semicolon).
    pub text: &'a str,
    /// Where `text` starts in the script (1-based line and column, in characters).
    pub start: Location,
    /// The statement's tokens without whitespace and comments.
    pub tokens: Vec<Token>,
}

impl Piece<'_> {
    /// The statement's text preceded by blank lines and spaces, so that positions a parser
    /// reports in it are positions in the whole script.
    pub fn positioned_text(&self) -> String {
        let lines = self.start.line.saturating_sub(1) as usize;
        let columns = self.start.column.saturating_sub(1) as usize;
        let mut text = String::with_capacity(lines + columns + self.text.len());
        text.extend(std::iter::repeat_n('\n', lines));
        text.extend(std::iter::repeat_n(' ', columns));
        text.push_str(self.text);
        text
    }

    /// The upper-cased unquoted word at significant token `i`, if that token is one.
    pub fn word(&self, i: usize) -> Option<String> {
        match self.tokens.get(i) {
            Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    }

    /// True when significant tokens `i` and `i + 1` are the unquoted words `a` and `b`.
    pub fn words_at(&self, i: usize, a: &str, b: &str) -> bool {
        self.word(i).is_some_and(|w| w == a) && self.word(i + 1).is_some_and(|w| w == b)
    }

    /// True when the unquoted word `a` appears anywhere in the piece.
    pub fn has_word(&self, a: &str) -> bool {
        (0..self.tokens.len()).any(|i| self.word(i).is_some_and(|w| w == a))
    }

    /// True when the unquoted words `a` and `b` follow each other anywhere in the piece.
    pub fn has_words(&self, a: &str, b: &str) -> bool {
        (0..self.tokens.len()).any(|i| self.words_at(i, a, b))
    }
}

fn significant(token: &Token) -> bool {
    !matches!(token, Token::Whitespace(_) | Token::EOF)
}

/// Cuts `sql` into statements at top-level semicolons. Pieces with no tokens (blank, or only
/// comments) are left out.
///
/// # Errors
/// Text the tokenizer cannot read (an unterminated string, quoted name or comment), as the
/// tokenizer's message with its position. Callers hand such text to the parser whole, which
/// reports the same problem in its own words.
pub fn pieces<'a>(sql: &'a str, dialect: &dyn Dialect) -> Result<Vec<Piece<'a>>, String> {
    let tokens = Tokenizer::new(dialect, sql)
        .with_unescape(false)
        .tokenize_with_location()
        .map_err(|e| e.to_string())?;
    let mut offsets = Offsets::new(sql);
    let mut out = Vec::new();
    let mut current: Vec<&TokenWithSpan> = Vec::new();
    for token in tokens.iter().filter(|t| significant(&t.token)) {
        if token.token == Token::SemiColon {
            if let Some(piece) = piece(sql, &mut offsets, &current) {
                out.push(piece);
            }
            current.clear();
        } else {
            current.push(token);
        }
    }
    if let Some(piece) = piece(sql, &mut offsets, &current) {
        out.push(piece);
    }
    Ok(out)
}

fn piece<'a>(
    sql: &'a str,
    offsets: &mut Offsets<'_>,
    tokens: &[&TokenWithSpan],
) -> Option<Piece<'a>> {
    let (first, last) = (tokens.first()?, tokens.last()?);
    let start = offsets.byte_at(first.span.start);
    let end = offsets.byte_at(last.span.end);
    Some(Piece {
        text: &sql[start..end],
        start: first.span.start,
        tokens: tokens.iter().map(|t| t.token.clone()).collect(),
    })
}

/// Turns tokenizer locations (line, column in characters) into byte offsets, walking forward
/// only, so a whole script costs one pass.
pub(super) struct Offsets<'a> {
    sql: &'a str,
    byte: usize,
    at: Location,
}

impl<'a> Offsets<'a> {
    pub(super) fn new(sql: &'a str) -> Self {
        Self {
            sql,
            byte: 0,
            at: Location::new(1, 1),
        }
    }

    pub(super) fn byte_at(&mut self, target: Location) -> usize {
        if target < self.at {
            // Locations only move forward within a script; start over if one does not.
            *self = Self::new(self.sql);
        }
        while self.at < target {
            let Some(c) = self.sql[self.byte..].chars().next() else {
                break;
            };
            self.byte += c.len_utf8();
            if c == '\n' {
                self.at = Location::new(self.at.line + 1, 1);
            } else {
                self.at = Location::new(self.at.line, self.at.column + 1);
            }
        }
        self.byte
    }
}

/// The statements of a script as text, cut at top-level semicolons (see [`pieces`]); text
/// the tokenizer cannot read comes back whole, as one statement.
pub fn split_statements<'a>(sql: &'a str, dialect: &dyn Dialect) -> Vec<&'a str> {
    match pieces(sql, dialect) {
        Ok(pieces) => pieces.into_iter().map(|p| p.text).collect(),
        Err(_) if sql.trim().is_empty() => Vec::new(),
        Err(_) => vec![sql.trim()],
    }
}

/// True when `sql` ends with a semicolon outside strings, quoted names and comments: what an
/// interactive prompt waits for before running.
pub fn statement_complete(sql: &str, dialect: &dyn Dialect) -> bool {
    let Ok(tokens) = Tokenizer::new(dialect, sql).with_unescape(false).tokenize() else {
        // An unterminated string, quoted name or comment: more lines are coming.
        return false;
    };
    tokens.iter().rev().find(|t| significant(t)) == Some(&Token::SemiColon)
}
