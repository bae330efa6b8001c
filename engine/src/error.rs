//! The engine's error type: each variant says what the user did or what the data was.

use datafusion::error::DataFusionError;

/// Errors returned by the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQL text that does not parse; the message carries line and column.
    #[error("syntax error: {message}")]
    Syntax {
        message: String,
        /// DataFusion's own error, when it raised this one.
        original: Option<Box<DataFusionError>>,
    },

    /// A table name that is neither registered nor a readable path.
    #[error("table '{name}' not found{}", known_tables(.known))]
    TableNotFound {
        name: String,
        known: Vec<String>,
        /// DataFusion's own error, when it raised this one.
        original: Option<Box<DataFusionError>>,
    },

    /// A path that points at nothing.
    #[error("no such file or directory: {path}")]
    NotFound {
        path: String,
        /// DataFusion's own error, when it raised this one.
        original: Option<Box<DataFusionError>>,
    },

    /// A file whose bytes are not a valid instance of its format.
    #[error("corrupt file {path}: {reason}")]
    CorruptFile { path: String, reason: String },

    /// A path whose format cannot be told from its name or contents.
    #[error("cannot tell the file format of '{path}': {hint}")]
    UnknownFormat { path: String, hint: String },

    /// A bad argument to a table function or an option.
    #[error("{function}: {reason}")]
    InvalidArgument { function: String, reason: String },

    /// An object store that cannot be reached or refuses access.
    #[error("cannot access {url}: {reason}")]
    Storage { url: String, reason: String },

    /// A Delta table whose log cannot be read as asked (missing versions, unsupported
    /// features, paths outside the table).
    #[error("Delta table {table}: {message}")]
    Delta { table: String, message: String },

    /// A feature this build of Quiver does not provide.
    #[error("not supported: {what}")]
    Unsupported { what: String },

    /// A panic caught while planning or executing a statement.
    #[error("query failed while {during}: {message}")]
    Panic { during: String, message: String },

    /// Writing results failed; `kind` is that of the I/O error beneath, if there was one.
    #[error("writing output: {message}")]
    Output {
        message: String,
        kind: Option<std::io::ErrorKind>,
    },

    /// A bug in Quiver: an invariant that should hold did not. Please report it.
    #[error("internal error (a bug in Quiver, please report it): {0}")]
    Internal(String),

    /// Any other error raised by DataFusion while planning or running a query.
    #[error("{}", clean_datafusion_message(.0))]
    DataFusion(#[from] DataFusionError),
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn known_tables(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; known tables: {}", known.join(", "))
    }
}

/// DataFusion nests context errors and prefixes each layer; a person wants the innermost
/// cause, without backtraces.
fn clean_datafusion_message(e: &DataFusionError) -> String {
    let mut msg = e.strip_backtrace();
    for prefix in [
        "Error during planning: ",
        "Execution error: ",
        "External error: ",
        "Arrow error: ",
        "Parquet error: ",
        "Object Store error: ",
        "IO error: ",
        "Invalid argument error: ",
        "Schema error: ",
    ] {
        while let Some(rest) = msg.strip_prefix(prefix) {
            msg = rest.to_string();
        }
    }
    msg
}

impl Error {
    pub(crate) fn corrupt(path: impl Into<String>, reason: impl ToString) -> Self {
        Error::CorruptFile {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid(function: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            function: function.into(),
            reason: reason.into(),
        }
    }

    /// Converts this error for a DataFusion trait boundary, keeping it recoverable on the
    /// other side (see [`Error::from_datafusion`]).
    pub(crate) fn into_datafusion(self) -> DataFusionError {
        match self {
            Error::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }

    /// The kind of the I/O error beneath this one, if there is one (a host tells a closed
    /// pipe from a real failure by it).
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            Error::Output { kind, .. } => *kind,
            _ => None,
        }
    }

    /// Where a syntax error is in the SQL text, as 1-based `(line, column)`, when the parser
    /// located it (sqlparser writes `at Line: L, Column: C` into its messages, and the front
    /// end adds the position of an unexpected end of input); `None` for other errors.
    pub fn syntax_position(&self) -> Option<(u64, u64)> {
        let Error::Syntax { message, .. } = self else {
            return None;
        };
        let rest = &message[message.rfind("Line: ")? + "Line: ".len()..];
        let (line, rest) = rest.split_once(',')?;
        let rest = rest.trim_start().strip_prefix("Column: ")?;
        let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((line.trim().parse().ok()?, column.parse().ok()?))
    }

    /// The DataFusion error this one came from, if any: what stock DataFusion would have
    /// reported (used to run DataFusion's own test files unchanged).
    pub fn as_datafusion(&self) -> Option<&DataFusionError> {
        match self {
            Error::DataFusion(e) => Some(e),
            Error::Syntax { original, .. }
            | Error::TableNotFound { original, .. }
            | Error::NotFound { original, .. } => original.as_deref(),
            _ => None,
        }
    }

    /// Turns a DataFusion error into the most specific engine error: an engine error that
    /// travelled through DataFusion comes back as itself, and object-store misses become
    /// [`Error::NotFound`].
    pub fn from_datafusion(e: DataFusionError) -> Self {
        match e {
            DataFusionError::External(inner) => match inner.downcast::<Error>() {
                Ok(engine) => *engine,
                Err(other) => Error::DataFusion(DataFusionError::External(other)),
            },
            DataFusionError::Context(ctx, inner) => match Error::from_datafusion(*inner) {
                Error::DataFusion(inner) => {
                    Error::DataFusion(DataFusionError::Context(ctx, Box::new(inner)))
                }
                engine => engine,
            },
            DataFusionError::Diagnostic(_, inner) => Error::from_datafusion(*inner),
            DataFusionError::SQL(parser, backtrace) => Error::Syntax {
                message: parser
                    .to_string()
                    .trim_start_matches("sql parser error: ")
                    .to_string(),
                original: Some(Box::new(DataFusionError::SQL(parser, backtrace))),
            },
            DataFusionError::ObjectStore(os) => match *os {
                object_store::Error::NotFound { path, source } => Error::NotFound {
                    path: path.clone(),
                    original: Some(Box::new(DataFusionError::ObjectStore(Box::new(
                        object_store::Error::NotFound { path, source },
                    )))),
                },
                other => Error::DataFusion(DataFusionError::ObjectStore(Box::new(other))),
            },
            other => Error::DataFusion(other),
        }
    }
}
