//! What can go wrong with a ring. Every error names the ring, and the process where one is
//! involved, so a message in a log says which ring and which peer to look at.

use std::io;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "ring name {name:?} is not valid: use 1 to 200 of A-Z a-z 0-9 . _ -, not starting with '.'"
    )]
    InvalidName { name: String },

    #[error("ring '{ring}': {detail}")]
    BadOptions { ring: String, detail: String },

    #[error("ring '{ring}' already exists and its writer (pid {pid}) is alive")]
    AlreadyExists { ring: String, pid: u32 },

    #[error("ring '{ring}' not found (no file {path})")]
    NotFound { ring: String, path: PathBuf },

    #[error(
        "ring '{ring}' is not a Quiver ring of a version this build reads: found {found}, expected {expected}"
    )]
    Incompatible {
        ring: String,
        found: String,
        expected: String,
    },

    #[error("ring '{ring}' is corrupt: {detail}")]
    Corrupt { ring: String, detail: String },

    #[error("ring '{ring}' is truncated: the file has {actual} bytes, its header says {expected}")]
    Truncated {
        ring: String,
        expected: u64,
        actual: u64,
    },

    #[error(
        "ring '{ring}': permission denied on {path} (mode {mode:04o}, owner uid {owner}; this process runs as uid {uid})"
    )]
    PermissionDenied {
        ring: String,
        path: PathBuf,
        mode: u32,
        owner: u32,
        uid: u32,
    },

    #[error("ring '{ring}' needs {needed} bytes but the shared-memory file system has {free} free")]
    NoSpace {
        ring: String,
        needed: u64,
        free: u64,
    },

    #[error("ring '{ring}' is full: the writer waited {waited_ms} ms for reader pid {pid} ({why})")]
    RingFull {
        ring: String,
        pid: u32,
        why: String,
        waited_ms: u64,
    },

    #[error(
        "ring '{ring}': its writer (pid {pid}) is gone without closing the ring; the last frame published was {last_seq}"
    )]
    WriterGone {
        ring: String,
        pid: u32,
        last_seq: u64,
    },

    #[error(
        "ring '{ring}': this reader fell behind and {missed} frame(s) were overwritten before it read them"
    )]
    Lagged { ring: String, missed: u64 },

    #[error("ring '{ring}': frame {seq} has a different schema from the frames before it")]
    SchemaChanged { ring: String, seq: u64 },

    #[error(
        "ring '{ring}': a {bytes}-byte message does not fit a slot of {capacity} bytes; create the ring with larger slots (--size, --slots)"
    )]
    MessageTooLarge {
        ring: String,
        bytes: u64,
        capacity: u64,
    },

    #[error("ring '{ring}' holds the most schemas it can ({max}); create a new ring")]
    TooManySchemas { ring: String, max: u32 },

    #[error("ring '{ring}' was replaced by a new ring of the same name")]
    RingReplaced { ring: String },

    #[error("ring '{ring}': {op}: {source}")]
    Io {
        ring: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("ring '{ring}': {source}")]
    Arrow {
        ring: String,
        #[source]
        source: arrow::error::ArrowError,
    },
}

impl Error {
    pub(crate) fn io(ring: &str, op: &'static str, source: io::Error) -> Self {
        Error::Io {
            ring: ring.to_string(),
            op,
            source,
        }
    }

    pub(crate) fn corrupt(ring: &str, detail: impl Into<String>) -> Self {
        Error::Corrupt {
            ring: ring.to_string(),
            detail: detail.into(),
        }
    }

    pub(crate) fn arrow(ring: &str, source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            ring: ring.to_string(),
            source,
        }
    }

    /// A short stable name of the kind of error, as tests, the CLI's exit reports and the
    /// Python exceptions use it.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidName { .. } => "InvalidName",
            Error::BadOptions { .. } => "BadOptions",
            Error::AlreadyExists { .. } => "AlreadyExists",
            Error::NotFound { .. } => "NotFound",
            Error::Incompatible { .. } => "Incompatible",
            Error::Corrupt { .. } => "Corrupt",
            Error::Truncated { .. } => "Truncated",
            Error::PermissionDenied { .. } => "PermissionDenied",
            Error::NoSpace { .. } => "NoSpace",
            Error::RingFull { .. } => "RingFull",
            Error::WriterGone { .. } => "WriterGone",
            Error::Lagged { .. } => "Lagged",
            Error::SchemaChanged { .. } => "SchemaChanged",
            Error::MessageTooLarge { .. } => "MessageTooLarge",
            Error::TooManySchemas { .. } => "TooManySchemas",
            Error::RingReplaced { .. } => "RingReplaced",
            Error::Io { .. } => "Io",
            Error::Arrow { .. } => "Arrow",
        }
    }
}
