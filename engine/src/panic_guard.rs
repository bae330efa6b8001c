//! Turns panics raised while a query runs into errors.
//!
//! Decoders deep inside Arrow and Parquet can panic on malformed input. A panic in a
//! DataFusion task is re-raised where the stream is polled, so catching it around each poll
//! keeps the host alive (in wasm a panic would otherwise kill the instance).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use futures::{FutureExt, Stream, StreamExt};

use crate::{Error, Result};

/// A record-batch stream that reports a panic in the stream below as an error and then ends.
pub struct PanicGuardStream {
    inner: SendableRecordBatchStream,
    schema: SchemaRef,
    done: bool,
    files: Vec<String>,
}

impl PanicGuardStream {
    /// Wraps `inner`.
    pub fn new(inner: SendableRecordBatchStream) -> Self {
        let schema = inner.schema();
        Self {
            inner,
            schema,
            done: false,
            files: Vec::new(),
        }
    }

    /// Names `files` (those the plan scans) in errors that come from reading data, so a
    /// corrupt file is reported by name.
    pub fn naming_files(mut self, files: Vec<String>) -> Self {
        self.files = files;
        self
    }

    fn which_files(&self) -> Option<String> {
        match self.files.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            [first, rest @ ..] => Some(format!("one of {} files ({first}, ...)", rest.len() + 1)),
        }
    }
}

/// True for errors raised while decoding or fetching data, as opposed to errors in the
/// query itself (such as a division by zero or a failed cast).
fn is_read_error(e: &DataFusionError) -> bool {
    use datafusion::arrow::error::ArrowError;
    match e {
        DataFusionError::ParquetError(_)
        | DataFusionError::IoError(_)
        | DataFusionError::ObjectStore(_) => true,
        DataFusionError::ArrowError(a, _) => matches!(
            a.as_ref(),
            ArrowError::IpcError(_)
                | ArrowError::IoError(..)
                | ArrowError::ParquetError(_)
                | ArrowError::ExternalError(_)
                | ArrowError::InvalidArgumentError(_)
                | ArrowError::ParseError(_)
                | ArrowError::JsonError(_)
                | ArrowError::CsvError(_)
                | ArrowError::SchemaError(_)
        ),
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            is_read_error(inner)
        }
        DataFusionError::Shared(inner) => is_read_error(inner),
        DataFusionError::External(inner) => {
            inner
                .downcast_ref::<datafusion::parquet::errors::ParquetError>()
                .is_some()
                || inner
                    .downcast_ref::<datafusion::arrow::error::ArrowError>()
                    .is_some()
                || inner.downcast_ref::<std::io::Error>().is_some()
                || matches!(inner.downcast_ref::<Error>(), Some(Error::Panic { .. }))
        }
        _ => false,
    }
}

impl Stream for PanicGuardStream {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let e = match catch_unwind(AssertUnwindSafe(|| this.inner.poll_next_unpin(cx))) {
            Ok(Poll::Ready(Some(Err(e)))) => e,
            Ok(poll) => return poll,
            Err(payload) => DataFusionError::External(Box::new(Error::Panic {
                during: "reading data".into(),
                message: panic_message(payload.as_ref()),
            })),
        };
        this.done = true;
        let e = match this.which_files() {
            Some(path) if is_read_error(&e) => {
                let reason = match Error::from_datafusion(e) {
                    Error::Panic { message, .. } => message,
                    other => other.to_string(),
                };
                DataFusionError::External(Box::new(Error::CorruptFile { path, reason }))
            }
            _ => e,
        };
        Poll::Ready(Some(Err(e)))
    }
}

impl RecordBatchStream for PanicGuardStream {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Awaits `fut`, reporting a panic inside it as [`Error::Panic`].
pub(crate) async fn guard<T>(
    during: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(Error::Panic {
            during: during.to_string(),
            message: panic_message(payload.as_ref()),
        }),
    }
}

/// Runs `f`, reporting a panic inside it as [`Error::Panic`].
pub(crate) fn guard_sync<T>(during: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(Error::Panic {
            during: during.to_string(),
            message: panic_message(payload.as_ref()),
        }),
    }
}
