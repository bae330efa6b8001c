//! The tokio runtime a connection owns, and how Python threads wait for it.
//!
//! Every statement runs as a task on the connection's multi-thread runtime. The Python thread
//! that asked for it waits with the GIL released, waking every [`SIGNAL_POLL`] to take the GIL
//! briefly and run Python's signal handlers: when one raises (Ctrl-C's `KeyboardInterrupt`),
//! the task is aborted, which drops the statement's stream and stops its work, and the
//! exception goes to the caller. The connection stays usable.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::task::JoinError;

use crate::errors;

/// How often a waiting thread looks for pending signals.
pub const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// A tokio runtime that shuts down without waiting for its tasks when dropped, so dropping a
/// connection from Python never blocks on a statement still running.
#[derive(Debug)]
pub struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    /// A multi-thread runtime with `threads` workers (the number of cores when `None`).
    ///
    /// # Errors
    /// When the operating system refuses the threads.
    pub fn new(threads: Option<usize>) -> std::io::Result<Self> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.enable_all().thread_name("quiver-worker");
        if let Some(threads) = threads {
            builder.worker_threads(threads);
        }
        Ok(Self(Some(builder.build()?)))
    }

    fn handle(&self) -> &tokio::runtime::Runtime {
        // Only `Drop` takes the runtime out.
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("runtime used after drop"))
    }

    /// Runs `fut` on the runtime and waits for it with the GIL released, cancelling it when
    /// a Python signal handler raises. A panic in `fut` becomes `quiver.InternalError`.
    ///
    /// # Errors
    /// `fut`'s error, the exception a signal handler raised, or `InternalError`.
    pub fn wait<T, F>(&self, py: Python<'_>, during: &str, fut: F) -> PyResult<T>
    where
        T: Send + 'static,
        F: Future<Output = PyResult<T>> + Send + 'static,
    {
        let rt = self.handle();
        let mut task = rt.spawn(fut);
        loop {
            let waited = py.detach(|| {
                rt.block_on(async { tokio::time::timeout(SIGNAL_POLL, &mut task).await })
            });
            match waited {
                Ok(joined) => return joined.unwrap_or_else(|e| Err(join_error(during, e))),
                Err(_elapsed) => {
                    if let Err(e) = py.check_signals() {
                        task.abort();
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Runs `fut` to completion on the calling thread, which must not hold the GIL and must
    /// not be one of the runtime's workers (Arrow C stream consumers call this).
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.handle().block_on(fut)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

fn join_error(during: &str, e: JoinError) -> PyErr {
    if e.is_panic() {
        errors::panic_to_py(during, e.into_panic().as_ref())
    } else {
        errors::Error::new_err(format!("{during}: the statement was cancelled"))
    }
}
