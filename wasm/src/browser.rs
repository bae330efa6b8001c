//! The `#[wasm_bindgen]` surface. The JavaScript wrapper (`js/index.js`) turns it into the
//! package's API (`Quiver.create`, `registerFile`, `queryTable`, ...); this layer only moves
//! bytes and errors across the boundary.

use std::cell::Cell;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use quiver_engine::datafusion::execution::SendableRecordBatchStream;
use quiver_engine::object_store::ObjectStore;
use quiver_engine::{Session, StoreFactory};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::stores::{FetchStore, HostFiles, PageStore, ReadOnly};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: i32) -> JsValue;
}

/// Lets the JavaScript event loop run (a Cancel click, a repaint) during a long query.
async fn yield_to_host() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = set_timeout(&resolve, 0);
    });
    let _ = JsFuture::from(promise).await;
}

/// How long a query runs before it lets the event loop in, in milliseconds.
const SLICE_MS: f64 = 30.0;

fn error(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

thread_local! {
    /// The wrapper's function to call when this instance panics.
    static ON_PANIC: std::cell::RefCell<Option<js_sys::Function>> = const { std::cell::RefCell::new(None) };
}

/// Hands a panic's message to the wrapper before the instance stops (wasm has no unwinding).
/// A panic inside an async query never returns to the caller, so the wrapper learns of it
/// here, fails the pending call, and restarts the module with the same tables.
fn install_panic_hook(on_panic: Option<js_sys::Function>) {
    ON_PANIC.with(|f| *f.borrow_mut() = on_panic);
    std::panic::set_hook(Box::new(|info| {
        let message = JsValue::from_str(&info.to_string());
        ON_PANIC.with(|f| {
            if let Some(f) = f.borrow().as_ref() {
                let _ = f.call1(&JsValue::NULL, &message);
            }
        });
    }));
}

/// One engine session with the page's files and the web as its storage.
#[wasm_bindgen]
pub struct Engine {
    session: Session,
    page: Arc<PageStore>,
    cancelled: Cell<bool>,
}

#[wasm_bindgen]
impl Engine {
    /// A session; `memory_limit` in bytes caps what operators may hold. `host_files`, when
    /// given, serves `file://` paths (see [`HostFiles`]); Node passes its filesystem.
    /// `on_panic` receives the message of a panic.
    #[wasm_bindgen(constructor)]
    pub fn new(
        memory_limit: Option<f64>,
        batch_size: Option<u32>,
        host_files: Option<js_sys::Object>,
        on_panic: Option<js_sys::Function>,
    ) -> Result<Engine, JsError> {
        install_panic_hook(on_panic);
        let page = Arc::new(PageStore::default());
        let page_store: Arc<dyn ObjectStore> = Arc::new(ReadOnly(Arc::clone(&page)));
        let pages: StoreFactory = Arc::new(move |_url| Ok(Arc::clone(&page_store)));
        let web: StoreFactory = Arc::new(|url| {
            Ok(Arc::new(ReadOnly(Arc::new(FetchStore::new(url)))) as Arc<dyn ObjectStore>)
        });
        let mut config = crate::browser_config(
            memory_limit.map(|b| b.max(0.0) as usize),
            batch_size.map(|n| n as usize),
        )
        .with_store("memory", pages)
        .with_store("http", Arc::clone(&web))
        .with_store("https", web);
        if let Some(host) = host_files {
            let files: Arc<dyn ObjectStore> =
                Arc::new(ReadOnly(Arc::new(HostFiles::new(host.into()))));
            config = config.with_store("file", Arc::new(move |_url| Ok(Arc::clone(&files))));
        }
        let session = Session::new(config).map_err(error)?;
        Ok(Engine {
            session,
            page,
            cancelled: Cell::new(false),
        })
    }

    /// Keeps a copy of `data` as the file at `path` (below `memory:///`).
    #[wasm_bindgen(js_name = putBytes)]
    pub fn put_bytes(&self, path: &str, data: Vec<u8>) -> Result<(), JsError> {
        self.page.put_bytes(path, Bytes::from(data)).map_err(error)
    }

    /// Keeps `blob` (a `File` or `Blob`) as the file at `path`; it is read by range.
    #[wasm_bindgen(js_name = putBlob)]
    pub fn put_blob(&self, path: &str, blob: web_sys::Blob) -> Result<(), JsError> {
        self.page.put_blob(path, blob).map_err(error)
    }

    /// Forgets the files at or below `path`.
    #[wasm_bindgen(js_name = removeFiles)]
    pub fn remove_files(&self, path: &str) {
        self.page.remove(path);
    }

    /// Registers what is at `location` (a path below `memory:///`, or a URL) as table `name`:
    /// one file, a folder (a Delta table, or partitioned files), or a glob.
    #[wasm_bindgen(js_name = registerPath)]
    pub async fn register_path(&self, name: String, location: String) -> Result<(), JsError> {
        self.session
            .register_path(&name, &location)
            .await
            .map_err(error)
    }

    /// Drops table `name`; true if it existed.
    pub fn unregister(&self, name: &str) -> Result<bool, JsError> {
        self.session.deregister_table(name).map_err(error)
    }

    /// The registered tables, sorted.
    pub fn tables(&self) -> Vec<String> {
        self.session.table_names()
    }

    /// The columns of table `name` (or of a path), as JSON.
    pub async fn schema(&self, name: String) -> Result<String, JsError> {
        let schema = self.session.table_schema(&name).await.map_err(error)?;
        Ok(crate::schema_json(&schema))
    }

    /// The plan of `sql`, as text.
    pub async fn explain(&self, sql: String) -> Result<String, JsError> {
        let (_, batches) = crate::run(&self.session, &format!("EXPLAIN {sql}"))
            .await
            .map_err(error)?;
        let text =
            quiver_engine::arrow::util::pretty::pretty_format_batches(&batches).map_err(error)?;
        Ok(text.to_string())
    }

    /// Runs `sql` (one or more statements) and returns the last one's rows as an Arrow IPC
    /// stream.
    pub async fn query(&self, sql: String) -> Result<Vec<u8>, JsError> {
        let mut stream = self.start(&sql).await?;
        let schema = stream.schema();
        let mut batches = Vec::new();
        let mut slice_start = js_sys::Date::now();
        while let Some(batch) = stream.next().await {
            batches.push(batch.map_err(error)?);
            self.pause(&mut slice_start).await?;
        }
        crate::to_ipc(schema, &batches).map_err(error)
    }

    /// Runs `sql` and hands back its rows batch by batch.
    #[wasm_bindgen(js_name = queryStream)]
    pub async fn query_stream(&self, sql: String) -> Result<BatchStream, JsError> {
        let stream = self.start(&sql).await?;
        Ok(BatchStream { stream })
    }

    /// Re-encodes a result (Arrow IPC stream bytes) as csv, json, ndjson, parquet or arrow,
    /// keeping the rows at `rows` in that order when given (see [`crate::convert`]).
    pub fn convert(
        &self,
        ipc: &[u8],
        format: &str,
        rows: Option<Vec<u32>>,
    ) -> Result<Vec<u8>, JsError> {
        crate::convert(ipc, format, rows.as_deref()).map_err(error)
    }

    /// Asks the running query to stop at its next batch.
    pub fn cancel(&self) {
        self.cancelled.set(true);
    }

    /// The engine's version.
    pub fn version() -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }
}

impl Engine {
    /// Plans every statement, runs all but the last, and returns the last one's stream.
    async fn start(&self, sql: &str) -> Result<SendableRecordBatchStream, JsError> {
        self.cancelled.set(false);
        crate::start(&self.session, sql).await.map_err(error)
    }

    /// Lets the event loop in once a slice of time has passed, then honours a cancel.
    async fn pause(&self, slice_start: &mut f64) -> Result<(), JsError> {
        if js_sys::Date::now() - *slice_start >= SLICE_MS {
            yield_to_host().await;
            *slice_start = js_sys::Date::now();
        }
        if self.cancelled.get() {
            return Err(error("query cancelled"));
        }
        Ok(())
    }
}

/// A query's rows, one record batch at a time.
#[wasm_bindgen]
pub struct BatchStream {
    stream: SendableRecordBatchStream,
}

#[wasm_bindgen]
impl BatchStream {
    /// The next batch as an Arrow IPC stream of its own, or `undefined` at the end.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, JsError> {
        match self.stream.next().await {
            None => Ok(None),
            Some(batch) => {
                let batch = batch.map_err(error)?;
                crate::to_ipc(batch.schema(), &[batch])
                    .map(Some)
                    .map_err(error)
            }
        }
    }
}
