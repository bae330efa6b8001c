//! The storage the browser host gives the engine:
//! - [`PageStore`] (`memory:///`): files the page hands over, as bytes or as `File`/`Blob`
//!   objects that are read by range when a query needs a part of them (never copied whole);
//! - [`FetchStore`] (`http(s)://host`): URLs read with `fetch` and HTTP range requests.
//!
//! Both are read-only.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use js_sys::Uint8Array;
use quiver_engine::object_store::path::Path;
use quiver_engine::object_store::{
    Attributes, CopyOptions, Error as StoreError, GetOptions, GetResult, GetResultPayload,
    ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions,
    PutPayload, PutResult, Result as StoreResult,
};
use url::Url;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A value that is not `Send` (a JavaScript object, or a future awaiting one) carried where
/// the object-store traits ask for `Send + Sync`.
///
/// The wasm32 build has no threads (it is compiled without the atomics feature), so nothing
/// can ever reach the value from a second thread.
pub(crate) struct Local<T>(pub T);

// SAFETY: see the type's documentation: a single-threaded target.
unsafe impl<T> Send for Local<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Local<T> {}

impl<F: Future> Future for Local<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: the inner future is never moved out of the pinned wrapper.
        unsafe { self.map_unchecked_mut(|s| &mut s.0) }.poll(cx)
    }
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (browsers, workers and Node 20 all have one).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &JsValue) -> js_sys::Promise;
}

fn read_only(what: &str) -> StoreError {
    StoreError::NotSupported {
        source: format!("{what}: Quiver in the browser is read-only").into(),
    }
}

fn generic(store: &'static str, message: String) -> StoreError {
    StoreError::Generic {
        store,
        source: message.into(),
    }
}

fn js_message(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(e, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// What a read-only store needs from where its files are: their metadata, a byte range of
/// one, and every file below a folder. [`ReadOnly`] makes an `ObjectStore` of it.
#[async_trait]
pub(crate) trait Files: fmt::Debug + fmt::Display + Send + Sync + 'static {
    async fn stat(&self, location: &Path) -> StoreResult<ObjectMeta>;
    async fn read(&self, meta: &ObjectMeta, range: Range<u64>) -> StoreResult<Bytes>;
    async fn list_all(&self, prefix: Option<&Path>) -> StoreResult<Vec<ObjectMeta>>;
}

/// An `ObjectStore` over [`Files`] that refuses every write.
#[derive(Debug)]
pub(crate) struct ReadOnly<F>(pub Arc<F>);

impl<F: Files> fmt::Display for ReadOnly<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[async_trait]
impl<F: Files> ObjectStore for ReadOnly<F> {
    async fn put_opts(
        &self,
        location: &Path,
        _: PutPayload,
        _: PutOptions,
    ) -> StoreResult<PutResult> {
        Err(read_only(&format!("writing {location}")))
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        _: PutMultipartOptions,
    ) -> StoreResult<Box<dyn MultipartUpload>> {
        Err(read_only(&format!("writing {location}")))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> StoreResult<GetResult> {
        let meta = self.0.stat(location).await?;
        let range = match &options.range {
            Some(r) => r
                .as_range(meta.size)
                .map_err(|e| generic("wasm", format!("{location}: {e}")))?,
            None => 0..meta.size,
        };
        let body = if options.head {
            Bytes::new()
        } else {
            self.0.read(&meta, range.clone()).await?
        };
        Ok(GetResult {
            payload: GetResultPayload::Stream(stream::once(async move { Ok(body) }).boxed()),
            meta,
            range,
            attributes: Attributes::default(),
        })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, StoreResult<Path>>,
    ) -> BoxStream<'static, StoreResult<Path>> {
        locations
            .map(|l| {
                Err(read_only(&format!(
                    "deleting {}",
                    l.map(|p| p.to_string()).unwrap_or_default()
                )))
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, StoreResult<ObjectMeta>> {
        // The listing is asked for once, when the stream is first polled.
        let this = Arc::clone(&self.0);
        let prefix = prefix.cloned();
        stream::once(Local(async move { this.list_all(prefix.as_ref()).await }))
            .map(|r| match r {
                Ok(v) => stream::iter(v.into_iter().map(Ok)).boxed(),
                Err(e) => stream::once(async move { Err(e) }).boxed(),
            })
            .flatten()
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> StoreResult<ListResult> {
        let depth = prefix.map_or(0, |p| p.parts().count());
        let mut objects = Vec::new();
        let mut folders = std::collections::BTreeSet::new();
        for meta in self.0.list_all(prefix).await? {
            let parts: Vec<_> = meta.location.parts().collect();
            if parts.len() == depth + 1 {
                objects.push(meta);
            } else if parts.len() > depth + 1 {
                folders.insert(Path::from_iter(parts[..=depth].iter().cloned()));
            }
        }
        Ok(ListResult {
            common_prefixes: folders.into_iter().collect(),
            objects,
        })
    }

    async fn copy_opts(&self, from: &Path, _: &Path, _: CopyOptions) -> StoreResult<()> {
        Err(read_only(&format!("copying {from}")))
    }
}

/// Where a page file's bytes are.
enum Source {
    Bytes(Bytes),
    Blob(Local<web_sys::Blob>),
}

struct Entry {
    source: Source,
    meta: ObjectMeta,
}

/// Files handed over by the page, by path.
#[derive(Default)]
pub(crate) struct PageStore {
    entries: RwLock<BTreeMap<String, Arc<Entry>>>,
    /// The last modification time handed out, in milliseconds. Each file put gets a later
    /// one, so caches keyed by path, size and time never mistake a replaced file for the
    /// one before it.
    clock: Mutex<i64>,
}

impl fmt::Debug for PageStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PageStore")
    }
}

impl fmt::Display for PageStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "files handed over by the page")
    }
}

impl PageStore {
    fn insert(&self, path: &str, source: Source, size: u64) -> Result<(), String> {
        let location = Path::parse(path.trim_start_matches('/'))
            .map_err(|e| format!("'{path}' is not a usable file name: {e}"))?;
        let modified = {
            let mut clock = self
                .clock
                .lock()
                .map_err(|_| "file clock poisoned".to_string())?;
            *clock = (*clock + 1).max(js_sys::Date::now() as i64);
            *clock
        };
        let meta = ObjectMeta {
            location: location.clone(),
            last_modified: DateTime::from_timestamp_millis(modified).unwrap_or_default(),
            size,
            e_tag: None,
            version: None,
        };
        let mut entries = self
            .entries
            .write()
            .map_err(|_| "file table poisoned".to_string())?;
        entries.insert(location.to_string(), Arc::new(Entry { source, meta }));
        Ok(())
    }

    /// Keeps `bytes` at `path` (a copy in wasm memory).
    pub fn put_bytes(&self, path: &str, bytes: Bytes) -> Result<(), String> {
        let size = bytes.len() as u64;
        self.insert(path, Source::Bytes(bytes), size)
    }

    /// Keeps a reference to `blob` at `path`; its bytes are read by range when needed.
    pub fn put_blob(&self, path: &str, blob: web_sys::Blob) -> Result<(), String> {
        let size = blob.size() as u64;
        self.insert(path, Source::Blob(Local(blob)), size)
    }

    /// Forgets every file at or below `path`.
    pub fn remove(&self, path: &str) {
        let key = path
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_string();
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|k, _| !(k == &key || k.starts_with(&format!("{key}/"))));
        }
    }

    fn entry(&self, location: &Path) -> StoreResult<Arc<Entry>> {
        self.entries
            .read()
            .ok()
            .and_then(|e| e.get(location.as_ref()).cloned())
            .ok_or_else(|| StoreError::NotFound {
                path: location.to_string(),
                source: "no file of that name was registered".into(),
            })
    }
}

/// Reads `range` of a `Blob` (`blob.slice(a, b).arrayBuffer()`).
fn read_blob(
    blob: &web_sys::Blob,
    range: Range<u64>,
) -> Local<impl Future<Output = Result<Bytes, String>>> {
    let part = blob.slice_with_f64_and_f64(range.start as f64, range.end as f64);
    Local(async move {
        let part = part.map_err(|e| js_message(&e))?;
        let buffer = JsFuture::from(part.array_buffer())
            .await
            .map_err(|e| js_message(&e))?;
        Ok(Bytes::from(Uint8Array::new(&buffer).to_vec()))
    })
}

#[async_trait]
impl Files for PageStore {
    async fn stat(&self, location: &Path) -> StoreResult<ObjectMeta> {
        Ok(self.entry(location)?.meta.clone())
    }

    async fn read(&self, meta: &ObjectMeta, range: Range<u64>) -> StoreResult<Bytes> {
        let entry = self.entry(&meta.location)?;
        match &entry.source {
            Source::Bytes(b) => Ok(b.slice(range.start as usize..range.end as usize)),
            Source::Blob(blob) => read_blob(&blob.0, range)
                .await
                .map_err(|e| generic("page", format!("reading {}: {e}", meta.location))),
        }
    }

    async fn list_all(&self, prefix: Option<&Path>) -> StoreResult<Vec<ObjectMeta>> {
        let prefix = prefix.map(|p| p.to_string()).unwrap_or_default();
        let entries = self
            .entries
            .read()
            .map_err(|_| generic("page", "file table poisoned".into()))?;
        Ok(entries
            .iter()
            .filter(|(k, _)| prefix.is_empty() || k.starts_with(&format!("{prefix}/")))
            .map(|(_, e)| e.meta.clone())
            .collect())
    }
}

/// One HTTP(S) origin, read with `fetch`: `HEAD` for sizes, `Range` requests for bytes.
pub(crate) struct FetchStore {
    base: Url,
    sizes: Mutex<HashMap<String, ObjectMeta>>,
}

impl fmt::Debug for FetchStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FetchStore({})", self.base)
    }
}

impl fmt::Display for FetchStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.base)
    }
}

/// What one `fetch` gave back.
struct Fetched {
    status: u16,
    headers: web_sys::Headers,
    body: Option<Bytes>,
}

fn fetch(
    url: String,
    method: &'static str,
    range: Option<Range<u64>>,
) -> Local<impl Future<Output = Result<Fetched, String>>> {
    Local(async move {
        let init = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&init, &JsValue::from_str(k), v);
        set("method", &JsValue::from_str(method)).map_err(|e| js_message(&e))?;
        if let Some(r) = &range {
            let headers = js_sys::Object::new();
            js_sys::Reflect::set(
                &headers,
                &JsValue::from_str("Range"),
                &JsValue::from_str(&format!("bytes={}-{}", r.start, r.end.saturating_sub(1))),
            )
            .map_err(|e| js_message(&e))?;
            set("headers", &headers).map_err(|e| js_message(&e))?;
        }
        let response: web_sys::Response = JsFuture::from(global_fetch(&url, &init))
            .await
            .map_err(|e| format!("fetch {url}: {}", js_message(&e)))?
            .dyn_into()
            .map_err(|_| format!("fetch {url}: not a Response"))?;
        let status = response.status();
        let headers = response.headers();
        let body = if method == "GET" && (200..300).contains(&status) {
            let buffer = JsFuture::from(response.array_buffer().map_err(|e| js_message(&e))?)
                .await
                .map_err(|e| format!("reading {url}: {}", js_message(&e)))?;
            Some(Bytes::from(Uint8Array::new(&buffer).to_vec()))
        } else {
            None
        };
        Ok(Fetched {
            status,
            headers,
            body,
        })
    })
}

fn header(headers: &web_sys::Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

impl FetchStore {
    pub fn new(base: &Url) -> Self {
        Self {
            base: base.clone(),
            sizes: Mutex::new(HashMap::new()),
        }
    }

    fn url(&self, location: &Path) -> String {
        let mut url = self.base.clone();
        url.set_path(&format!("/{location}"));
        url.to_string()
    }

    fn status_error(&self, location: &Path, status: u16) -> StoreError {
        if status == 404 || status == 410 {
            StoreError::NotFound {
                path: location.to_string(),
                source: format!("HTTP {status} from {}", self.url(location)).into(),
            }
        } else {
            generic("http", format!("HTTP {status} from {}", self.url(location)))
        }
    }

    fn meta_from(&self, location: &Path, headers: &web_sys::Headers, size: u64) -> ObjectMeta {
        let last_modified = header(headers, "last-modified")
            .and_then(|t| DateTime::parse_from_rfc2822(&t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        ObjectMeta {
            location: location.clone(),
            last_modified,
            size,
            e_tag: header(headers, "etag"),
            version: None,
        }
    }

    async fn head(&self, location: &Path) -> StoreResult<ObjectMeta> {
        if let Some(meta) = self
            .sizes
            .lock()
            .ok()
            .and_then(|s| s.get(location.as_ref()).cloned())
        {
            return Ok(meta);
        }
        let url = self.url(location);
        let got = fetch(url.clone(), "HEAD", None)
            .await
            .map_err(|e| generic("http", e))?;
        if !(200..300).contains(&got.status) {
            return Err(self.status_error(location, got.status));
        }
        let size = match header(&got.headers, "content-length").and_then(|l| l.parse().ok()) {
            Some(size) => size,
            // Without a length, ask for the first byte and read the total from Content-Range.
            None => {
                let got = fetch(url.clone(), "GET", Some(0..1))
                    .await
                    .map_err(|e| generic("http", e))?;
                header(&got.headers, "content-range")
                    .and_then(|r| r.rsplit('/').next().and_then(|t| t.parse().ok()))
                    .or_else(|| got.body.map(|b| b.len() as u64))
                    .ok_or_else(|| generic("http", format!("{url}: the server gives no length")))?
            }
        };
        let meta = self.meta_from(location, &got.headers, size);
        if let Ok(mut sizes) = self.sizes.lock() {
            sizes.insert(location.to_string(), meta.clone());
        }
        Ok(meta)
    }
}

#[async_trait]
impl Files for FetchStore {
    async fn stat(&self, location: &Path) -> StoreResult<ObjectMeta> {
        self.head(location).await
    }

    async fn read(&self, meta: &ObjectMeta, range: Range<u64>) -> StoreResult<Bytes> {
        let location = &meta.location;
        let whole = range.start == 0 && range.end == meta.size;
        let got = fetch(self.url(location), "GET", (!whole).then(|| range.clone()))
            .await
            .map_err(|e| generic("http", e))?;
        match (got.status, got.body) {
            (206, Some(b)) => Ok(b),
            // The server sent the whole file (no range support): keep the part asked for.
            (200, Some(b)) if b.len() as u64 >= range.end => {
                Ok(b.slice(range.start as usize..range.end as usize))
            }
            (status, _) => Err(self.status_error(location, status)),
        }
    }

    async fn list_all(&self, _prefix: Option<&Path>) -> StoreResult<Vec<ObjectMeta>> {
        // Plain HTTP has no listing; single files and Delta logs are found by name.
        Ok(Vec::new())
    }
}

/// A host's own files (`file://`), reached through three functions the host passes in:
/// `stat(path)` → `{ size, mtimeMs }` or null, `read(path, start, end)` → `Uint8Array`, and
/// `list(folder)` → `[{ path, size, mtimeMs }]` for every file below it. The Node build of
/// the package passes `node:fs`, so local paths read as they do in the native CLI.
pub(crate) struct HostFiles {
    host: Local<JsValue>,
}

impl fmt::Debug for HostFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostFiles")
    }
}

impl fmt::Display for HostFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the host's files")
    }
}

fn call(
    host: &JsValue,
    method: &str,
    args: &[JsValue],
) -> Local<impl Future<Output = Result<JsValue, String>>> {
    let result = js_sys::Reflect::get(host, &JsValue::from_str(method))
        .and_then(|f| f.dyn_into::<js_sys::Function>())
        .and_then(|f| f.apply(host, &args.iter().collect::<js_sys::Array>()));
    Local(async move {
        let value = result.map_err(|e| js_message(&e))?;
        match value.dyn_into::<js_sys::Promise>() {
            Ok(promise) => JsFuture::from(promise).await.map_err(|e| js_message(&e)),
            Err(value) => Ok(value),
        }
    })
}

fn number(value: &JsValue, key: &str) -> f64 {
    js_sys::Reflect::get(value, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or_default()
}

impl HostFiles {
    pub fn new(host: JsValue) -> Self {
        Self { host: Local(host) }
    }

    fn meta(location: Path, value: &JsValue) -> ObjectMeta {
        ObjectMeta {
            location,
            last_modified: DateTime::from_timestamp_millis(number(value, "mtimeMs") as i64)
                .unwrap_or_default(),
            size: number(value, "size") as u64,
            e_tag: None,
            version: None,
        }
    }

    async fn meta_of(&self, location: &Path) -> StoreResult<ObjectMeta> {
        let path = format!("/{location}");
        let value = call(&self.host.0, "stat", &[JsValue::from_str(&path)])
            .await
            .map_err(|e| generic("file", format!("{path}: {e}")))?;
        if value.is_null() || value.is_undefined() {
            return Err(StoreError::NotFound {
                path,
                source: "no such file".into(),
            });
        }
        Ok(Self::meta(location.clone(), &value))
    }

    async fn listed(&self, prefix: Option<&Path>) -> StoreResult<Vec<ObjectMeta>> {
        let folder = format!("/{}", prefix.map(|p| p.to_string()).unwrap_or_default());
        let value = call(&self.host.0, "list", &[JsValue::from_str(&folder)])
            .await
            .map_err(|e| generic("file", format!("{folder}: {e}")))?;
        let entries: js_sys::Array = value
            .dyn_into()
            .map_err(|_| generic("file", format!("{folder}: list gave no array")))?;
        let mut out = Vec::new();
        for entry in entries.iter() {
            let path = js_sys::Reflect::get(&entry, &JsValue::from_str("path"))
                .ok()
                .and_then(|p| p.as_string())
                .unwrap_or_default();
            if let Ok(location) = Path::parse(path.trim_start_matches('/')) {
                out.push(Self::meta(location, &entry));
            }
        }
        out.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(out)
    }
}

#[async_trait]
impl Files for HostFiles {
    async fn stat(&self, location: &Path) -> StoreResult<ObjectMeta> {
        self.meta_of(location).await
    }

    async fn read(&self, meta: &ObjectMeta, range: Range<u64>) -> StoreResult<Bytes> {
        let path = format!("/{}", meta.location);
        let value = call(
            &self.host.0,
            "read",
            &[
                JsValue::from_str(&path),
                JsValue::from_f64(range.start as f64),
                JsValue::from_f64(range.end as f64),
            ],
        )
        .await
        .map_err(|e| generic("file", format!("reading {path}: {e}")))?;
        Ok(Bytes::from(Uint8Array::new(&value).to_vec()))
    }

    async fn list_all(&self, prefix: Option<&Path>) -> StoreResult<Vec<ObjectMeta>> {
        self.listed(prefix).await
    }
}
