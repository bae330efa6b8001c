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
}

impl PanicGuardStream {
    /// Wraps `inner`.
    pub fn new(inner: SendableRecordBatchStream) -> Self {
        let schema = inner.schema();
        Self {
            inner,
            schema,
            done: false,
        }
    }
}

impl Stream for PanicGuardStream {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.inner.poll_next_unpin(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                this.done = true;
                let err = Error::Panic {
                    during: "reading data".into(),
                    message: panic_message(payload.as_ref()),
                };
                Poll::Ready(Some(Err(DataFusionError::External(Box::new(err)))))
            }
        }
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
