//! The native crate's error type: what went wrong, in terms of what the user did.

use std::path::PathBuf;

/// Errors of the native side: the engine's, and those of writing Delta tables and results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine refused or failed the statement (syntax, planning, reading).
    #[error(transparent)]
    Engine(#[from] quiver_engine::Error),

    /// A write statement whose table is not a Delta table.
    #[error("table '{name}' is not a Delta table; writes go to Delta tables")]
    NotDelta { name: String },

    /// A write to a location where no Delta table is.
    #[error(
        "Delta table {table}: there is no Delta table there (no _delta_log); create one with CREATE TABLE ... USING DELTA"
    )]
    NoDeltaTable { table: String },

    /// A Delta statement that cannot be run as written.
    #[error("{statement}: {reason}")]
    InvalidStatement {
        statement: &'static str,
        reason: String,
    },

    /// The Delta writer (deltalake) refused or failed a change; the table is unchanged.
    #[error("Delta table {table}: {message}")]
    DeltaWrite { table: String, message: String },

    /// A location that is not a usable path or URL.
    #[error("{location}: {reason}")]
    BadLocation { location: String, reason: String },

    /// Results cannot be written where they were asked to go.
    #[error("cannot write {}: {source}", path.display())]
    OutputFile {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A binary format asked for on a terminal.
    #[error("refusing to write {format} to a terminal; use -o FILE or redirect standard output")]
    BinaryToTerminal { format: String },

    /// A one-result format asked to hold the results of several statements.
    #[error(
        "a {format} file holds one result, but more than one statement returned rows; write them to separate files"
    )]
    OneResultPerFile { format: String },

    /// The reader of standard output went away (`quiver ... | head`).
    #[error("standard output was closed")]
    PipeClosed,

    /// A shared-memory ring refused or failed (`read_shm`, `COPY ... TO 'shm://'`).
    #[error(transparent)]
    Shm(#[from] quiver_shm::Error),

    /// The user pressed Ctrl-C.
    #[error("cancelled")]
    Cancelled,
}

/// The native crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The engine's error, recognising a closed standard output by its I/O error kind.
    pub fn from_engine(e: quiver_engine::Error) -> Self {
        match e.io_kind() {
            Some(std::io::ErrorKind::BrokenPipe) => Error::PipeClosed,
            _ => Error::Engine(e),
        }
    }

    pub(crate) fn invalid(statement: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidStatement {
            statement,
            reason: reason.into(),
        }
    }
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Error::from_engine(quiver_engine::Error::from_datafusion(e))
    }
}
