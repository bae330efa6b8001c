//! ASOF joins in the front end: DuckDB's form of the text, and one join per nested relation.
//!
//! sqlparser reads only the Snowflake form (`ASOF JOIN r MATCH_CONDITION (l.t >= r.t) ON
//! ...`), and DataFusion 55 plans no ASOF join at all. Two steps bring both forms to the
//! engine's relation planner ([`crate::timeseries`]):
//!
//! 1. [`duckdb_form`], on the text before parsing: `ASOF [LEFT] JOIN r ON|USING ...` (no
//!    `MATCH_CONDITION`) gets `MATCH_CONDITION (<marker>)` before its `ON` or `USING`, the
//!    marker naming DuckDB's inner or left-preserving semantics, and `LEFT [OUTER]` is blanked
//!    out so the Snowflake grammar reads it. Only the columns after the insertion on that
//!    line move, so syntax errors elsewhere keep their positions.
//! 2. [`nest`], on the parsed statement: every `x ASOF JOIN r` in a `FROM` list becomes a
//!    parenthesised relation holding that one join, `(x ASOF JOIN r ...)`, left-deep, so the
//!    relation planner (which sees relations, not joins) is handed each ASOF join whole.

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement};
use datafusion::sql::sqlparser::ast::{
    Join, JoinOperator, Query, SetExpr, TableFactor, TableWithJoins, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::script::Offsets;
use crate::timeseries::asof::{INNER_MARKER, LEFT_MARKER};

fn word(token: &TokenWithSpan) -> Option<String> {
    match &token.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Rewrites DuckDB's ASOF joins in `sql` into the Snowflake grammar with a marker (see the
/// module's notes); `None` when there is nothing to rewrite or the text does not tokenize
/// (the parser then reports the problem).
pub(super) fn duckdb_form(sql: &str, dialect: &dyn Dialect) -> Option<String> {
    let tokens: Vec<TokenWithSpan> = Tokenizer::new(dialect, sql)
        .with_unescape(false)
        .tokenize_with_location()
        .ok()?
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .collect();
    let is = |i: usize, w: &str| tokens.get(i).and_then(word).is_some_and(|x| x == w);

    // (token index, text to insert before it) and token indexes to blank out.
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut blanks: Vec<usize> = Vec::new();
    for i in 0..tokens.len() {
        if !is(i, "ASOF") {
            continue;
        }
        let mut j = i + 1;
        let mut left = Vec::new();
        if is(j, "LEFT") {
            left.push(j);
            j += 1;
            if is(j, "OUTER") {
                left.push(j);
                j += 1;
            }
        }
        if !is(j, "JOIN") {
            continue;
        }
        // The join's relation ends at its ON, USING or MATCH_CONDITION, at its own depth.
        let mut depth = 0usize;
        let mut constraint = None;
        for (k, token) in tokens.iter().enumerate().skip(j + 1) {
            match &token.token {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                _ if depth == 0 => match word(token).as_deref() {
                    Some("MATCH_CONDITION") => break,
                    Some("ON" | "USING") => {
                        constraint = Some(k);
                        break;
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        let keep_left = !left.is_empty();
        blanks.extend(left);
        if let Some(k) = constraint {
            let marker = if keep_left { LEFT_MARKER } else { INNER_MARKER };
            inserts.push((k, format!("MATCH_CONDITION ({marker}) ")));
        }
    }
    if inserts.is_empty() && blanks.is_empty() {
        return None;
    }

    let mut offsets = Offsets::new(sql);
    // (start byte, end byte, replacement), applied from the end so earlier offsets hold.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut at = |i: usize| {
        let span = tokens[i].span;
        (offsets.byte_at(span.start), offsets.byte_at(span.end))
    };
    let mut all: Vec<(usize, Option<String>)> = blanks.into_iter().map(|i| (i, None)).collect();
    all.extend(inserts.into_iter().map(|(i, s)| (i, Some(s))));
    all.sort_by_key(|(i, _)| *i);
    for (i, insert) in all {
        let (start, end) = at(i);
        match insert {
            Some(text) => edits.push((start, start, text)),
            None => edits.push((start, end, " ".repeat(sql[start..end].chars().count()))),
        }
    }
    let mut out = sql.to_string();
    for (start, end, text) in edits.into_iter().rev() {
        out.replace_range(start..end, &text);
    }
    Some(out)
}

/// Puts each ASOF join of `statement` in a parenthesised relation of its own.
pub(super) fn nest(statement: &mut Statement) {
    match statement {
        Statement::Statement(s) => {
            let _ = s.visit(&mut Nest);
        }
        Statement::Explain(explain) => nest(&mut explain.statement),
        Statement::CopyTo(copy) => {
            if let CopyToSource::Query(query) = &mut copy.source {
                let _ = query.visit(&mut Nest);
            }
        }
        _ => {}
    }
}

struct Nest;

impl VisitorMut for Nest {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        nest_set_expr(&mut query.body);
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = factor
        {
            nest_joins(table_with_joins, true);
        }
        ControlFlow::Continue(())
    }
}

fn nest_set_expr(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            for from in &mut select.from {
                nest_joins(from, false);
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            nest_set_expr(left);
            nest_set_expr(right);
        }
        _ => {}
    }
}

fn is_asof(join: &Join) -> bool {
    matches!(join.join_operator, JoinOperator::AsOf { .. })
}

/// `a J1 b ASOF JOIN c J2 d` → `((a J1 b) ASOF JOIN c) J2 d`. A parenthesised relation that
/// is already one ASOF join stays as it is.
fn nest_joins(from: &mut TableWithJoins, parenthesised: bool) {
    if !from.joins.iter().any(is_asof) || (parenthesised && from.joins.len() == 1) {
        return;
    }
    let wrap = |relation: TableFactor, joins: Vec<Join>| {
        if joins.is_empty() {
            relation
        } else {
            TableFactor::NestedJoin {
                table_with_joins: Box::new(TableWithJoins { relation, joins }),
                alias: None,
            }
        }
    };
    let mut current = from.relation.clone();
    let mut pending = Vec::new();
    for join in std::mem::take(&mut from.joins) {
        if is_asof(&join) {
            let left = wrap(current, std::mem::take(&mut pending));
            current = TableFactor::NestedJoin {
                table_with_joins: Box::new(TableWithJoins {
                    relation: left,
                    joins: vec![join],
                }),
                alias: None,
            };
        } else {
            pending.push(join);
        }
    }
    from.relation = current;
    from.joins = pending;
}
