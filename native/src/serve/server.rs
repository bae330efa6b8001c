//! The HTTP side of `quiver serve`: an HTTP/1.1 accept loop on hyper with a header-read
//! timer (slowloris), body and key limits, bearer tokens, a concurrency cap, routes, and
//! Prometheus metrics.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};

use super::config::ServerConfig;
use super::fetch::{
    ApiError, Layout, Limits, answer, encode_ipc, encode_json, encode_json_v0, parse_ipc,
    parse_json,
};
use super::state::{Reload, Served};

const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";
const JSON: &str = "application/json";

/// Everything a request can see.
pub struct App {
    pub tables: BTreeMap<String, Arc<Served>>,
    pub config: ServerConfig,
    pub metrics: Metrics,
    inflight: AtomicUsize,
    pub draining: AtomicBool,
}

impl App {
    pub fn new(tables: BTreeMap<String, Arc<Served>>, config: ServerConfig) -> Self {
        Self {
            tables,
            config,
            metrics: Metrics::default(),
            inflight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
        }
    }

    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_keys: self.config.max_keys,
            max_columns: self.config.max_columns,
        }
    }

    /// Whether every `required` table has a version.
    pub fn ready(&self) -> (bool, Vec<String>) {
        let waiting: Vec<String> = self
            .tables
            .values()
            .filter(|t| t.config.required && t.current().is_none())
            .map(|t| t.name.clone())
            .collect();
        (
            waiting.is_empty() && !self.draining.load(Ordering::Relaxed),
            waiting,
        )
    }
}

type Body = Full<Bytes>;

fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn json_response(status: u16, value: &Value) -> Response<Body> {
    respond(status, JSON, serde_json::to_vec(value).unwrap_or_default())
}

fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = respond(e.status, JSON, e.body());
    if let Some(secs) = e.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if e.status == 401 {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

/// Serves HTTP on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// for up to `shutdown_grace`.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(app.config.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a moment, keep serving.
                        log::warn!("serve: accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = Arc::clone(&app);
                let service = hyper::service::service_fn(move |req| {
                    let app = Arc::clone(&app);
                    async move { Ok::<_, Infallible>(handle(app, req).await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    app.draining.store(true, Ordering::Relaxed);
    drop(listener);
    if tokio::time::timeout(app.config.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        log::warn!("serve: requests still running after the shutdown grace; stopping anyway");
    }
}

async fn handle(app: Arc<App>, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let path = req.uri().path().to_string();
    let route = route_name(&path);
    let timeout = app.config.request_timeout;
    // Counted down on drop: hyper drops this future when the client goes away mid-request.
    let inflight = Inflight::enter(&app.inflight);
    let response = if inflight.0 >= app.config.max_concurrent_requests {
        app.metrics.shed.fetch_add(1, Ordering::Relaxed);
        let mut e = ApiError::new(
            503,
            "OVERLOADED",
            "too many requests at once; retry shortly",
        );
        e.retry_after = Some(1);
        error_response(&e)
    } else {
        match tokio::time::timeout(timeout, dispatch(&app, req, &path)).await {
            Ok(r) => r,
            Err(_) => error_response(&ApiError::new(
                503,
                "TIMEOUT",
                format!(
                    "the request took longer than {}",
                    humantime::format_duration(timeout)
                ),
            )),
        }
    };
    app.metrics.observe(
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// One request in flight: the count before it entered, and the counter it leaves on drop.
struct Inflight<'a>(usize, &'a AtomicUsize);

impl<'a> Inflight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        Self(counter.fetch_add(1, Ordering::AcqRel), counter)
    }
}

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        self.1.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A label for metrics: the route's shape, never the raw path (table names are bounded by
/// the config, but paths are not).
fn route_name(path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["v1", "tables", _, "fetch"] => "fetch",
        ["v1", _, "_fetch"] => "fetch_v0",
        ["api", "v1", "table", _, "fetch"] => "fetch_murr",
        ["v1", "tables", ..] | ["api", "v1", "table", ..] => "tables",
        ["healthz"] | ["readyz"] | ["health"] => "health",
        ["metrics"] => "metrics",
        _ => "other",
    }
}

fn authorised(app: &App, req: &Request<Incoming>) -> bool {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    app.token_matches(given)
}

impl App {
    /// Whether an `Authorization` value carries one of the configured bearer tokens (any
    /// value when there are none).
    pub(crate) fn token_matches(&self, authorization: Option<&str>) -> bool {
        if self.config.tokens.is_empty() {
            return true;
        }
        let Some(given) = authorization.and_then(|v| v.strip_prefix("Bearer ")) else {
            return false;
        };
        // Compare every token in full, whatever matches, so timing tells nothing.
        self.config.tokens.iter().fold(false, |ok, t| {
            let same = t.len() == given.len()
                && t.bytes()
                    .zip(given.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0;
            ok | same
        })
    }
}

fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut r = error_response(&ApiError::new(
        405,
        "METHOD_NOT_ALLOWED",
        format!("this route takes {allow}"),
    ));
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

async fn dispatch(app: &Arc<App>, req: Request<Incoming>, path: &str) -> Response<Body> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let public = matches!(parts.as_slice(), ["healthz"] | ["readyz"] | ["health"]);
    if !public && !authorised(app, &req) {
        return error_response(&ApiError::new(
            401,
            "UNAUTHORIZED",
            "send a valid token as 'Authorization: Bearer <token>'",
        ));
    }
    let method = req.method().clone();
    let get = method == Method::GET || method == Method::HEAD;
    match parts.as_slice() {
        ["healthz"] => json_response(200, &json!({"status": "ok"})),
        ["health"] => respond(200, "text/plain", b"OK".to_vec()),
        ["readyz"] => {
            let (ready, waiting) = app.ready();
            json_response(
                if ready { 200 } else { 503 },
                &json!({"ready": ready, "waiting_for": waiting}),
            )
        }
        ["metrics"] if get => respond(
            200,
            "text/plain; version=0.0.4",
            app.metrics.render(app).into_bytes(),
        ),
        ["metrics"] => method_not_allowed("GET"),
        ["v1", "tables"] if get => {
            let tables: Vec<Value> = app.tables.values().map(|t| t.describe(false)).collect();
            json_response(200, &json!({ "tables": tables }))
        }
        ["v1", "tables"] => method_not_allowed("GET"),
        ["v1", "tables", name] if get => match table(app, name) {
            Ok(t) => json_response(200, &t.describe(true)),
            Err(e) => error_response(&e),
        },
        ["v1", "tables", _] => method_not_allowed("GET"),
        ["v1", "tables", name, "reload"] if method == Method::POST => match table(app, name) {
            Ok(t) => reload(t).await,
            Err(e) => error_response(&e),
        },
        ["v1", "tables", _, "reload"] => method_not_allowed("POST"),
        ["v1", "tables", name, "fetch"] if method == Method::POST => {
            let name = name.to_string();
            fetch(app, req, &name, Contract::Quiver).await
        }
        ["v1", "tables", _, "fetch"] => method_not_allowed("POST"),
        ["v1", name, "_fetch"] if method == Method::POST => {
            let name = name.to_string();
            fetch(app, req, &name, Contract::Murr01).await
        }
        ["v1", _, "_fetch"] => method_not_allowed("POST"),
        // Murr 0.3's routes, read-only: tables come from their source.
        ["api", "v1", "table"] if get => {
            let mut out = String::from("{");
            for t in app.tables.values() {
                if let Some(v) = t.current() {
                    if out.len() > 1 {
                        out.push(',');
                    }
                    let _ = write!(out, "{}:{}", Value::String(t.name.clone()), murr_schema(&v));
                }
            }
            out.push('}');
            respond(200, JSON, out.into_bytes())
        }
        ["api", "v1", "table"] => method_not_allowed("GET"),
        ["api", "v1", "table", name, "schema"] if get => {
            match table(app, name).and_then(|t| ready_version(&t).map(|v| murr_schema(&v))) {
                Ok(v) => respond(200, JSON, v.into_bytes()),
                Err(e) => error_response(&e),
            }
        }
        ["api", "v1", "table", _, "schema"] => method_not_allowed("GET"),
        ["api", "v1", "table", name, "fetch"] if method == Method::POST => {
            let name = name.to_string();
            fetch(app, req, &name, Contract::Murr03).await
        }
        ["api", "v1", "table", _, "fetch"] => method_not_allowed("POST"),
        ["api", "v1", "table", _] | ["api", "v1", "table", _, "write" | "compact"] => {
            let mut r = error_response(&ApiError::new(
                405,
                "READ_ONLY",
                "quiver serve is read-only: tables come from their configured source",
            ));
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET"));
            r
        }
        _ => error_response(&ApiError::new(404, "NOT_FOUND", format!("no route {path}"))),
    }
}

pub(crate) fn table(app: &App, name: &str) -> Result<Arc<Served>, ApiError> {
    app.tables.get(name).cloned().ok_or_else(|| {
        ApiError::new(
            404,
            "TABLE_NOT_FOUND",
            format!(
                "no table '{name}' (tables: {})",
                app.tables.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

pub(crate) fn ready_version(t: &Served) -> Result<super::table::Version, ApiError> {
    t.current().ok_or_else(|| {
        let mut e = ApiError::new(
            503,
            "TABLE_NOT_READY",
            format!("table '{}' has no version loaded yet", t.name),
        );
        e.retry_after = Some(t.retry_after());
        e
    })
}

async fn reload(t: Arc<Served>) -> Response<Body> {
    match t.reload().await {
        Ok(r) => {
            let what = match r {
                Reload::Loaded { .. } => "loaded",
                Reload::Unchanged => "unchanged",
                Reload::NothingYet => "nothing_yet",
            };
            json_response(200, &json!({"result": what, "table": t.describe(false)}))
        }
        Err(e) => error_response(&ApiError::new(502, "LOAD_FAILED", e)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contract {
    /// `/v1/tables/{t}/fetch`: JSON or IPC in, JSON or IPC out, dense or sparse.
    Quiver,
    /// `/v1/{t}/_fetch`: Murr 0.1, dense, `{num_rows, columns: [{name, values}]}`.
    Murr01,
    /// `/api/v1/table/{t}/fetch`: Murr 0.3, sparse with `_idx`, key columns not answerable.
    Murr03,
}

/// Which answer encoding `Accept` wants: IPC, JSON, or neither (406).
fn negotiate(accept: Option<&str>, contract: Contract) -> Option<&'static str> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(if contract == Contract::Murr03 {
            ARROW_STREAM
        } else {
            JSON
        });
    };
    let mut best: Option<(f32, &'static str)> = None;
    for item in accept.split(',') {
        let mut fields = item.split(';');
        let media = fields.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = fields
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let pick = match media.as_str() {
            ARROW_STREAM | "application/octet-stream" => Some(ARROW_STREAM),
            JSON => Some(JSON),
            "*/*" | "application/*" => Some(if contract == Contract::Murr03 {
                ARROW_STREAM
            } else {
                JSON
            }),
            _ => None,
        };
        if let Some(pick) = pick
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, pick));
        }
    }
    best.map(|(_, p)| p)
}

async fn fetch(
    app: &Arc<App>,
    req: Request<Incoming>,
    name: &str,
    contract: Contract,
) -> Response<Body> {
    let result = fetch_inner(app, req, name, contract).await;
    match result {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

async fn fetch_inner(
    app: &Arc<App>,
    req: Request<Incoming>,
    name: &str,
    contract: Contract,
) -> Result<Response<Body>, ApiError> {
    let t = table(app, name)?;
    let headers = req.headers();
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let encoding = negotiate(accept, contract).ok_or_else(|| {
        ApiError::new(
            406,
            "NOT_ACCEPTABLE",
            format!("answers are {JSON} or {ARROW_STREAM}"),
        )
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let is_ipc = match content_type.as_deref() {
        Some(ARROW_STREAM) => true,
        Some(JSON) | None => false,
        Some(other) => {
            return Err(ApiError::new(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                format!("a fetch body is {JSON} or {ARROW_STREAM}, not {other}"),
            ));
        }
    };
    let max_body = app.config.max_body;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        ApiError::new(
            413,
            "PAYLOAD_TOO_LARGE",
            format!("the body is larger than max_body ({max_body} bytes)"),
        )
    };
    if declared.is_some_and(|n| n > max_body as u64) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), max_body)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large()
            } else {
                ApiError::new(400, "MALFORMED_BODY", format!("cannot read the body: {e}"))
            }
        })?
        .to_bytes();
    let (batch, version, keys, found) = lookup(&t, &body, is_ipc, contract, app.limits()).await?;
    let body = if encoding == ARROW_STREAM {
        encode_ipc(&batch)?
    } else if contract == Contract::Murr01 {
        encode_json_v0(&batch)
    } else {
        encode_json(&batch)
    };
    let mut r = respond(200, encoding, body);
    let h = r.headers_mut();
    let p = &version.provenance;
    h.insert("x-quiver-table-version", HeaderValue::from(p.version));
    if let Ok(v) = HeaderValue::from_str(&p.partition) {
        h.insert("x-quiver-partition", v);
    }
    h.insert("x-quiver-keys", HeaderValue::from(keys));
    h.insert("x-quiver-found", HeaderValue::from(found));
    Ok(r)
}

/// The answer to one fetch body against a table's current version: parsing, the Murr 0.3
/// rule on key columns, the lookup and gather (off the async workers when large), and the
/// table's counters. HTTP and Flight both answer through it.
pub(crate) async fn lookup(
    t: &Arc<Served>,
    body: &[u8],
    is_ipc: bool,
    contract: Contract,
    limits: Limits,
) -> Result<
    (
        arrow::array::RecordBatch,
        super::table::Version,
        usize,
        usize,
    ),
    ApiError,
> {
    let version = ready_version(t)?;
    let forced = match contract {
        Contract::Quiver => None,
        Contract::Murr01 => Some(Layout::Dense),
        Contract::Murr03 => Some(Layout::Sparse),
    };
    let request = if is_ipc {
        parse_ipc(body, &version, limits, forced)?
    } else {
        parse_json(body, &version, limits, forced)?
    };
    if contract == Contract::Murr03
        && let Some(&k) = request
            .columns
            .iter()
            .find(|c| version.key_columns().contains(c))
    {
        return Err(ApiError::new(
            400,
            "UNKNOWN_COLUMN",
            format!(
                "'{}' is a key column; ask for value columns",
                version.schema.field(k).name()
            ),
        ));
    }
    let keys = request.keys.len;
    // Large requests leave the async workers free for others while they gather.
    let (batch, found) = if keys > 10_000 {
        let defaults = t.defaults.clone();
        let v = version.clone();
        tokio::task::spawn_blocking(move || answer(&v, &request, &defaults))
            .await
            .map_err(|e| ApiError::new(500, "INTERNAL", e.to_string()))??
    } else {
        answer(&version, &request, &t.defaults)?
    };
    t.requests.fetch_add(1, Ordering::Relaxed);
    t.keys.fetch_add(keys as u64, Ordering::Relaxed);
    t.found.fetch_add(found as u64, Ordering::Relaxed);
    Ok((batch, version, keys, found))
}

/// Murr 0.3's `TableSchema`: `{"columns": {"c": {"dtype", "nullable", "key", "strict"}}}`,
/// with the columns whose types its client knows, in the table's order (its client reads
/// the key's column order from it, so this is written by hand: serde_json's map sorts).
fn murr_schema(v: &super::table::TableVersion) -> String {
    use arrow::datatypes::DataType::*;
    let mut out = String::from("{\"columns\":{");
    let mut first = true;
    for (i, f) in v.schema.fields().iter().enumerate() {
        let dtype = match f.data_type() {
            Utf8 => "utf8",
            Boolean => "bool",
            Int8 => "int8",
            Int16 => "int16",
            Int32 => "int32",
            Int64 => "int64",
            UInt8 => "uint8",
            UInt16 => "uint16",
            UInt32 => "uint32",
            UInt64 => "uint64",
            Float32 => "float32",
            Float64 => "float64",
            _ => continue,
        };
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(
            out,
            "{}:{{\"dtype\":\"{dtype}\",\"nullable\":{},\"key\":{},\"strict\":true}}",
            Value::String(f.name().clone()),
            f.is_nullable(),
            v.key_columns().contains(&i)
        );
    }
    out.push_str("}}");
    out
}

/// Request counters and a latency histogram per route, in Prometheus text.
#[derive(Default)]
pub struct Metrics {
    by_status: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    pub shed: std::sync::atomic::AtomicU64,
}

const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    fn observe(&self, route: &'static str, status: u16, seconds: f64) {
        *self
            .by_status
            .lock()
            .expect("not poisoned")
            .entry((route, status))
            .or_default() += 1;
        let mut latency = self.latency.lock().expect("not poisoned");
        let h = latency.entry(route).or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
    }

    fn render(&self, app: &App) -> String {
        let mut out = String::new();
        out.push_str("# HELP quiver_serve_requests_total Requests answered, by route and status.\n# TYPE quiver_serve_requests_total counter\n");
        for ((route, status), n) in self.by_status.lock().expect("not poisoned").iter() {
            let _ = writeln!(
                out,
                "quiver_serve_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP quiver_serve_request_seconds Time to answer, by route.\n# TYPE quiver_serve_request_seconds histogram\n");
        for (route, h) in self.latency.lock().expect("not poisoned").iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "quiver_serve_request_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "quiver_serve_request_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nquiver_serve_request_seconds_sum{{route=\"{route}\"}} {}\nquiver_serve_request_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP quiver_serve_shed_total Requests refused because too many ran at once.\n# TYPE quiver_serve_shed_total counter\nquiver_serve_shed_total {}",
            self.shed.load(Ordering::Relaxed)
        );
        let now = SystemTime::now();
        let per_table: [(&str, &str, &str); 9] = [
            ("keys_total", "counter", "Keys asked for."),
            ("misses_total", "counter", "Keys asked for and not found."),
            ("table_requests_total", "counter", "Fetches answered."),
            ("table_rows", "gauge", "Rows the serving version holds."),
            ("loads_total", "counter", "Versions loaded."),
            (
                "load_errors_total",
                "counter",
                "Loads that failed (the old version kept serving).",
            ),
            (
                "poll_errors_total",
                "counter",
                "Polls of the source that failed.",
            ),
            (
                "freshness_seconds",
                "gauge",
                "Seconds since the serving version was loaded.",
            ),
            (
                "mapped_bytes",
                "gauge",
                "Bytes of the mapped file and the key index.",
            ),
        ];
        for (metric, kind, help) in per_table {
            let _ = writeln!(
                out,
                "# HELP quiver_serve_{metric} {help}\n# TYPE quiver_serve_{metric} {kind}"
            );
            for t in app.tables.values() {
                let s = t.status.lock().expect("not poisoned").clone();
                let current = t.current();
                let value: f64 = match metric {
                    "keys_total" => t.keys.load(Ordering::Relaxed) as f64,
                    "misses_total" => {
                        (t.keys.load(Ordering::Relaxed)
                            - t.found
                                .load(Ordering::Relaxed)
                                .min(t.keys.load(Ordering::Relaxed))) as f64
                    }
                    "table_requests_total" => t.requests.load(Ordering::Relaxed) as f64,
                    "table_rows" => current.as_ref().map_or(0, |c| c.rows()) as f64,
                    "loads_total" => s.loads as f64,
                    "load_errors_total" => s.load_errors as f64,
                    "poll_errors_total" => s.poll_errors as f64,
                    "freshness_seconds" => match &current {
                        Some(c) => now
                            .duration_since(c.provenance.loaded_at)
                            .map(|d| d.as_secs_f64())
                            .unwrap_or(0.0),
                        None => continue,
                    },
                    _ => current
                        .as_ref()
                        .map_or(0, |c| c.mapped_bytes + c.index_bytes())
                        as f64,
                };
                let _ = writeln!(out, "quiver_serve_{metric}{{table=\"{}\"}} {value}", t.name);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation_honours_q_values_and_lists() {
        let q = Contract::Quiver;
        assert_eq!(negotiate(None, q), Some(JSON));
        assert_eq!(negotiate(Some(ARROW_STREAM), q), Some(ARROW_STREAM));
        assert_eq!(
            negotiate(
                Some("application/json;q=0.5, application/vnd.apache.arrow.stream"),
                q
            ),
            Some(ARROW_STREAM)
        );
        assert_eq!(
            negotiate(
                Some("application/vnd.apache.arrow.stream;q=0.1, */*;q=0.9"),
                q
            ),
            Some(JSON)
        );
        assert_eq!(negotiate(Some("text/html"), q), None);
        assert_eq!(negotiate(Some("*/*"), Contract::Murr03), Some(ARROW_STREAM));
        assert_eq!(route_name("/v1/tables/x/fetch"), "fetch");
    }
}
