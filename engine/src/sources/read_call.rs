//! `read_parquet('x', header => true)` and friends.
//!
//! DataFusion's table functions are planned synchronously and drop named arguments, but
//! opening files means listing and reading footers, which is async (and must stay async for
//! the browser). So before planning, each `read_*` call in the statement is replaced by a
//! reference to a generated table name, and the call is resolved to a table provider; the
//! planner then finds that table through [`super::PathTables`].

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, TableAlias, TableFactor, TableVersion,
    UnaryOperator, Value, VisitMut, VisitorMut,
};

use crate::delta::{AsOf, DeltaView};

use super::options::{FileKind, OptionValue, ReadOptions};
use crate::{Error, Result};

/// One `read_*` call found in a statement.
#[derive(Debug, Clone)]
pub(crate) struct ReadCall {
    /// The table name the call was replaced by.
    pub(crate) table_name: String,
    /// The locations to read.
    pub(crate) locations: Vec<String>,
    /// How to read them.
    pub(crate) options: ReadOptions,
    /// A registered table the call reads instead of a location (time travel on a name,
    /// `DESCRIBE HISTORY t`).
    pub(crate) registered: Option<String>,
}

/// Replaces every `read_*` call in `statement` with a generated table name, returning the
/// calls to resolve.
pub(crate) fn rewrite_read_calls(statement: &mut DFStatement) -> Result<Vec<ReadCall>> {
    let mut rewriter = Rewriter::default();
    visit_statement(statement, &mut rewriter);
    match rewriter.error {
        Some(e) => Err(e),
        None => Ok(rewriter.calls),
    }
}

/// Walks every query part of `statement` (a statement, the one under EXPLAIN, the source query
/// of COPY) with `visitor`: how the engine rewrites `read_*` calls, and how native frontends
/// bind their own table functions (`read_shm`) the same way.
pub fn visit_statement<V: VisitorMut>(statement: &mut DFStatement, visitor: &mut V) {
    match statement {
        DFStatement::Statement(s) => {
            let _ = s.visit(visitor);
        }
        DFStatement::Explain(explain) => visit_statement(&mut explain.statement, visitor),
        DFStatement::CopyTo(copy) => {
            if let CopyToSource::Query(q) = &mut copy.source {
                let _ = q.visit(visitor);
            }
        }
        _ => {}
    }
}

#[derive(Default)]
struct Rewriter {
    calls: Vec<ReadCall>,
    error: Option<Error>,
}

impl VisitorMut for Rewriter {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args,
            version,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        if let Some(table_version) = version.take() {
            return match self.time_travel(name, alias, args.is_some(), table_version) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    self.error = Some(e);
                    ControlFlow::Break(())
                }
            };
        }
        let Some(function_args) = args else {
            // A quoted path (`FROM 'data/trips.parquet'`) is named after its file, as in
            // DuckDB, so columns read `trips.fare` rather than the whole path.
            if alias.is_none()
                && let [part] = name.0.as_slice()
                && let Some(ident) = part.as_ident()
                && ident.quote_style == Some('\'')
                && super::PathTables::looks_like_path(&ident.value)
            {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: Ident::new(super::table_name_for(&ident.value)),
                    columns: vec![],
                    at: None,
                });
            }
            return ControlFlow::Continue(());
        };
        let function = name.to_string();
        if function.eq_ignore_ascii_case("read_shm") {
            // Native frontends bind read_shm before the engine sees the statement.
            self.error = Some(Error::invalid(
                "read_shm",
                "shared-memory rings are native-only: read them with the quiver CLI or the Python package",
            ));
            return ControlFlow::Break(());
        }
        let Some(kind) = FileKind::from_function(&function) else {
            return ControlFlow::Continue(());
        };
        match parse_call(kind, &function, &function_args.args) {
            Ok((locations, options, registered)) => {
                let table_name = format!(
                    "__quiver_read_{:08x}_{}",
                    hash(&options.key(&locations)),
                    self.calls.len()
                );
                *name = ObjectName::from(vec![Ident::with_quote('"', table_name.clone())]);
                *args = None;
                if alias.is_none() {
                    *alias = Some(TableAlias {
                        explicit: true,
                        name: Ident::new(kind.function()),
                        columns: vec![],
                        at: None,
                    });
                }
                self.calls.push(ReadCall {
                    table_name,
                    locations,
                    options,
                    registered,
                });
                ControlFlow::Continue(())
            }
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

impl Rewriter {
    /// `FROM t VERSION AS OF 3`, `FROM 'data/sales' TIMESTAMP AS OF '2026-01-01'`: the table
    /// becomes a generated name resolved to that version.
    fn time_travel(
        &mut self,
        name: &mut ObjectName,
        alias: &mut Option<TableAlias>,
        is_function: bool,
        version: TableVersion,
    ) -> Result<()> {
        let clause = "time travel";
        if is_function {
            return Err(Error::invalid(
                clause,
                "VERSION AS OF applies to a table or a path; use read_delta('path', version => n)",
            ));
        }
        let as_of = match &version {
            TableVersion::VersionAsOf(expr) => match literal(clause, "version", expr)? {
                OptionValue::Int(v) if v >= 0 => AsOf::Version(v),
                other => {
                    return Err(Error::invalid(
                        clause,
                        format!("VERSION AS OF takes a version number, got {other}"),
                    ));
                }
            },
            TableVersion::TimestampAsOf(expr) | TableVersion::ForSystemTimeAsOf(expr) => {
                let text = match expr {
                    Expr::TypedString(typed) => typed.value.value.clone().into_string(),
                    other => match literal(clause, "timestamp", other)? {
                        OptionValue::Str(s) => Some(s),
                        _ => None,
                    },
                };
                let Some(text) = text else {
                    return Err(Error::invalid(
                        clause,
                        format!("TIMESTAMP AS OF takes a timestamp string, got {expr}"),
                    ));
                };
                AsOf::parse_timestamp(&text)?
            }
            other => {
                return Err(Error::Unsupported {
                    what: format!("the time travel clause {other}"),
                });
            }
        };
        let mut options = ReadOptions::for_kind(Some(FileKind::Delta));
        options.delta.as_of = as_of;
        let path = match name.0.as_slice() {
            [part] => part
                .as_ident()
                .filter(|i| i.quote_style == Some('\''))
                .map(|i| i.value.clone()),
            _ => None,
        };
        let (locations, registered, shown) = match path {
            Some(p) => (vec![p.clone()], None, super::table_name_for(&p)),
            None => {
                let last = name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                (vec![], Some(name.to_string()), last)
            }
        };
        let table_name = format!(
            "__quiver_asof_{:08x}_{}",
            hash(&options.key(&locations)),
            self.calls.len()
        );
        *name = ObjectName::from(vec![Ident::with_quote('"', table_name.clone())]);
        if alias.is_none() {
            *alias = Some(TableAlias {
                explicit: true,
                name: Ident::with_quote('"', shown),
                columns: vec![],
                at: None,
            });
        }
        self.calls.push(ReadCall {
            table_name,
            locations,
            options,
            registered,
        });
        Ok(())
    }
}

fn hash(s: &str) -> usize {
    // FNV-1a: stable across runs and targets, so plans are reproducible.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    (h & 0xffff_ffff) as usize
}

type ParsedCall = (Vec<String>, ReadOptions, Option<String>);

fn parse_call(kind: FileKind, name: &str, args: &[FunctionArg]) -> Result<ParsedCall> {
    let function = kind.function();
    let mut options = ReadOptions::for_kind(Some(kind));
    options.delta.view = if name.eq_ignore_ascii_case("delta_history") {
        DeltaView::History
    } else if name.eq_ignore_ascii_case("delta_info") {
        DeltaView::Info
    } else {
        DeltaView::Rows
    };
    let mut locations = None;
    let mut registered = None;
    for arg in args {
        match arg {
            // `delta_history(t)`, `read_delta(t, version => 2)`: a registered Delta table.
            FunctionArg::Unnamed(FunctionArgExpr::Expr(
                expr @ (Expr::Identifier(_) | Expr::CompoundIdentifier(_)),
            )) if kind == FileKind::Delta && locations.is_none() => {
                registered = Some(match expr {
                    Expr::Identifier(i) => i.value.clone(),
                    other => other.to_string(),
                });
                locations = Some(vec![]);
            }
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) if locations.is_none() => {
                locations = Some(parse_locations(function, expr)?);
            }
            FunctionArg::Unnamed(_) => {
                return Err(Error::invalid(
                    function,
                    "takes one path (or a list of paths) followed by named options such as header => true",
                ));
            }
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(expr),
                ..
            } => options.set(&name.value, literal(function, &name.value, expr)?)?,
            FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg: FunctionArgExpr::Expr(expr),
                ..
            } => options.set(&name.value, literal(function, &name.value, expr)?)?,
            other => {
                return Err(Error::invalid(
                    function,
                    format!("unsupported argument {other}"),
                ));
            }
        }
    }
    match locations {
        Some(l) if !l.is_empty() || registered.is_some() => Ok((l, options, registered)),
        _ => Err(Error::invalid(
            function,
            "needs a path, as in read_parquet('data/*.parquet')",
        )),
    }
}

fn parse_locations(function: &str, expr: &Expr) -> Result<Vec<String>> {
    match expr {
        Expr::Array(array) => array
            .elem
            .iter()
            .map(|e| match literal(function, "path", e)? {
                OptionValue::Str(s) => Ok(s),
                other => Err(Error::invalid(
                    function,
                    format!("paths must be strings, got {other}"),
                )),
            })
            .collect(),
        other => match literal(function, "path", other)? {
            OptionValue::Str(s) => Ok(vec![s]),
            v => Err(Error::invalid(
                function,
                format!("the path must be a string, got {v}"),
            )),
        },
    }
}

fn literal(function: &str, name: &str, expr: &Expr) -> Result<OptionValue> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::DollarQuotedString(datafusion::sql::sqlparser::ast::DollarQuotedString {
                value: s,
                ..
            }) => Ok(OptionValue::Str(s.clone())),
            Value::Boolean(b) => Ok(OptionValue::Bool(*b)),
            Value::Number(n, _) => n.parse::<i64>().map(OptionValue::Int).map_err(|_| {
                Error::invalid(
                    function,
                    format!("option '{name}': '{n}' is not an integer"),
                )
            }),
            other => Err(Error::invalid(
                function,
                format!("option '{name}': unsupported value {other}"),
            )),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match literal(function, name, expr)? {
            OptionValue::Int(i) => Ok(OptionValue::Int(-i)),
            other => Err(Error::invalid(
                function,
                format!("option '{name}': cannot negate {other}"),
            )),
        },
        Expr::Identifier(ident) if ident.quote_style.is_none() => {
            Ok(OptionValue::Str(ident.value.clone()))
        }
        other => Err(Error::invalid(
            function,
            format!("option '{name}' must be a literal, got {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn rewrite(sql: &str) -> (String, Vec<ReadCall>) {
        let mut statements = DFParser::parse_sql(sql).unwrap();
        let mut s = statements.pop_front().unwrap();
        let calls = rewrite_read_calls(&mut s).unwrap();
        (s.to_string(), calls)
    }

    #[test]
    fn read_calls_become_table_references_with_options() {
        let (sql, calls) = rewrite(
            "SELECT * FROM read_csv('a.csv', delim => ';', header => false) JOIN read_parquet(['x.parquet', 'y.parquet']) p ON true",
        );
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].locations, vec!["a.csv"]);
        assert_eq!(calls[0].options.delimiter, Some(b';'));
        assert_eq!(calls[0].options.header, Some(false));
        assert_eq!(calls[1].locations, vec!["x.parquet", "y.parquet"]);
        assert!(sql.contains(&calls[0].table_name), "{sql}");
        assert!(sql.contains("AS read_csv"), "{sql}");
        assert!(sql.contains(" p "), "{sql}");
    }

    #[test]
    fn read_shm_is_native_only_here() {
        // Native frontends bind read_shm before the engine; anywhere else (the browser) it
        // is an error that says why.
        let mut s = DFParser::parse_sql("SELECT * FROM read_shm('ticks')")
            .unwrap()
            .pop_front()
            .unwrap();
        let err = rewrite_read_calls(&mut s).unwrap_err().to_string();
        assert!(err.contains("native-only"), "{err}");
    }

    #[test]
    fn bad_arguments_are_reported() {
        let mut s = DFParser::parse_sql("SELECT * FROM read_json(42)")
            .unwrap()
            .pop_front()
            .unwrap();
        let err = rewrite_read_calls(&mut s).unwrap_err().to_string();
        assert!(err.contains("read_json"), "{err}");
    }
}
