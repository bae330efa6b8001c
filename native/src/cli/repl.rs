//! The interactive prompt: history, multi-line statements, completion and dot commands.

use std::borrow::Cow;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use tokio::runtime::Runtime;

use super::exec::{Outcome, Runner};
use quiver_engine::datafusion::sql::sqlparser::dialect::GenericDialect;
use quiver_engine::output::Format;

const HELP: &str = "\
Enter SQL statements ending with ';'. A statement may span several lines.
  .tables              list tables
  .schema [TABLE]      show the columns of one table, or of all
  .mode FORMAT         output format: table, csv, json, ndjson, markdown, arrow, parquet
  .maxrows N           rows shown in table/markdown output (0 for all)
  .timer on|off        print each statement's run time
  .read FILE           run the SQL in FILE
  .help                this text
  .quit                leave (Ctrl-D works too)
Files can be queried directly: SELECT * FROM 'data/*.parquet'
Ctrl-C cancels a running statement; at the prompt it clears the line.";

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "LEFT JOIN",
    "RIGHT JOIN",
    "FULL JOIN",
    "INNER JOIN",
    "CROSS JOIN",
    "ON",
    "USING",
    "AS",
    "DISTINCT",
    "UNION",
    "UNION ALL",
    "EXCEPT",
    "INTERSECT",
    "WITH",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "AND",
    "OR",
    "NOT",
    "IN",
    "EXISTS",
    "BETWEEN",
    "LIKE",
    "ILIKE",
    "IS NULL",
    "IS NOT NULL",
    "NULL",
    "TRUE",
    "FALSE",
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "CAST",
    "CREATE",
    "TABLE",
    "VIEW",
    "EXTERNAL",
    "STORED AS",
    "LOCATION",
    "DROP",
    "INSERT INTO",
    "VALUES",
    "COPY",
    "TO",
    "EXPLAIN",
    "ANALYZE",
    "DESCRIBE",
    "SHOW",
    "TABLES",
    "COLUMNS",
    "OVER",
    "PARTITION BY",
    "WINDOW",
    "ASC",
    "DESC",
    "NULLS FIRST",
    "NULLS LAST",
    "read_parquet",
    "read_csv",
    "read_json",
    "read_ipc",
    "date_trunc",
    "date_bin",
    "approx_distinct",
    "approx_percentile_cont",
    "string_agg",
    "array_agg",
];

/// Completes keywords, table names and column names.
struct SqlHelper {
    names: Arc<RwLock<Vec<String>>>,
}

impl Completer for SqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((pos, vec![]));
        }
        let lower = word.to_ascii_lowercase();
        let names = self.names.read().map(|n| n.clone()).unwrap_or_default();
        let mut out: Vec<Pair> = names
            .iter()
            .map(String::as_str)
            .chain(KEYWORDS.iter().copied())
            .filter(|c| c.to_ascii_lowercase().starts_with(&lower))
            .map(|c| {
                let replacement = if c.chars().all(|ch| ch.is_ascii_uppercase() || ch == ' ')
                    && word.chars().all(|ch| ch.is_ascii_lowercase())
                {
                    c.to_ascii_lowercase()
                } else {
                    c.to_string()
                };
                Pair {
                    display: c.to_string(),
                    replacement,
                }
            })
            .collect();
        out.dedup_by(|a, b| a.display == b.display);
        Ok((start, out))
    }
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Highlighter for SqlHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for SqlHelper {}

impl Helper for SqlHelper {}

/// Refreshes the completion list from the session's tables and their columns.
fn refresh_names(rt: &Runtime, runner: &Runner, names: &Arc<RwLock<Vec<String>>>) {
    let session = runner.session().clone();
    let mut list = Vec::new();
    for table in session.table_names() {
        if let Ok(schema) = rt.block_on(session.table_schema(&table)) {
            list.extend(schema.fields().iter().map(|f| f.name().clone()));
        }
        list.push(table);
    }
    list.sort();
    list.dedup();
    if let Ok(mut n) = names.write() {
        *n = list;
    }
}

fn history_path() -> Option<std::path::PathBuf> {
    dirs::home_dir().map(|h| h.join(".quiver_history"))
}

/// Runs the prompt until `.quit` or end of input.
pub fn run(rt: &Runtime, mut runner: Runner) -> ExitCode {
    let names = Arc::new(RwLock::new(Vec::new()));
    let mut editor: Editor<SqlHelper, FileHistory> = match Editor::new() {
        Ok(e) => e,
        Err(e) => return super::fail(&format!("cannot start the prompt: {e}")),
    };
    editor.set_helper(Some(SqlHelper {
        names: Arc::clone(&names),
    }));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    refresh_names(rt, &runner, &names);
    println!(
        "quiver {} — SQL over Parquet, CSV, JSON and Arrow. Type .help for help.",
        env!("CARGO_PKG_VERSION")
    );

    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "quiver> "
        } else {
            "   ...> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if buffer.is_empty() && trimmed.starts_with('.') {
                    let _ = editor.add_history_entry(trimmed);
                    match dot_command(rt, &mut runner, trimmed) {
                        DotOutcome::Continue => {}
                        DotOutcome::Quit => break,
                    }
                    refresh_names(rt, &runner, &names);
                    continue;
                }
                if trimmed.is_empty() && buffer.is_empty() {
                    continue;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if statement_complete(&buffer) {
                    let sql = std::mem::take(&mut buffer);
                    let _ = editor.add_history_entry(sql.trim());
                    let _ = runner.run_script(rt, &sql);
                    refresh_names(rt, &runner, &names);
                }
            }
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    runner.finish()
}

/// True when `sql` ends with a `;` outside quotes and comments (the engine's front end
/// reads it, with the tokenizer the parser uses).
fn statement_complete(sql: &str) -> bool {
    quiver_engine::sql::statement_complete(sql, &GenericDialect {})
}

enum DotOutcome {
    Continue,
    Quit,
}

fn dot_command(rt: &Runtime, runner: &mut Runner, line: &str) -> DotOutcome {
    let mut parts = line.split_whitespace();
    let command = parts.next().unwrap_or("");
    let arg = parts.next();
    match (command, arg) {
        (".quit" | ".exit" | ".q", _) => return DotOutcome::Quit,
        (".help", _) => println!("{HELP}"),
        (".tables", _) => {
            let names = runner.session().table_names();
            if names.is_empty() {
                println!(
                    "(no tables; query files directly with SELECT * FROM 'path', or CREATE EXTERNAL TABLE)"
                );
            } else {
                println!("{}", names.join("  "));
            }
        }
        (".schema", table) => {
            let filter = match table {
                Some(t) => format!("WHERE table_name = '{}'", t.replace('\'', "''")),
                None => "WHERE table_schema = 'public'".to_string(),
            };
            let sql = format!(
                "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns {filter} ORDER BY table_name, ordinal_position;"
            );
            let saved = (runner.format, runner.max_rows);
            runner.format = Format::Table;
            runner.max_rows = None;
            let _ = runner.run_script(rt, &sql);
            (runner.format, runner.max_rows) = saved;
        }
        (".mode", Some(f)) => match f.parse::<Format>() {
            Ok(format) => runner.format = format,
            Err(e) => eprintln!("error: {e}"),
        },
        (".mode", None) => println!("{}", runner.format),
        (".maxrows", Some(n)) => match n.parse::<usize>() {
            Ok(0) => runner.max_rows = None,
            Ok(n) => runner.max_rows = Some(n),
            Err(_) => eprintln!("error: .maxrows takes a number"),
        },
        (".timer", Some("on")) => runner.timer = true,
        (".timer", Some("off")) => runner.timer = false,
        (".read", Some(file)) => match std::fs::read_to_string(file) {
            Ok(sql) => {
                let _: Outcome = runner.run_script(rt, &sql);
            }
            Err(e) => eprintln!("error: cannot read {file}: {e}"),
        },
        _ => eprintln!("error: unknown or incomplete command '{line}'; type .help"),
    }
    DotOutcome::Continue
}

#[cfg(test)]
mod tests {
    use super::statement_complete;

    #[test]
    fn statements_end_at_a_semicolon_outside_quotes() {
        assert!(statement_complete("SELECT 1;"));
        assert!(statement_complete("SELECT 1;  -- done\n"));
        assert!(!statement_complete("SELECT ';'"));
        assert!(!statement_complete("SELECT 1\nFROM t"));
        assert!(statement_complete("SELECT 'a;b'\n;"));
    }
}
