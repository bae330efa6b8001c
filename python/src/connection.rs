//! `quiver.Connection`: one engine session, its statement router and its runtime.

use std::path::Path;
use std::sync::Arc;

use datafusion::catalog::MemTable;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use quiver::delta::DeltaWriter;
use quiver::host::{Resources, S3Options};
use quiver::mmap::MmapChoice;
use quiver::run::Router;
use quiver_engine::Session;
use quiver_engine::arrow::record_batch::RecordBatch;
use quiver_engine::delta::AsOf;
use quiver_engine::sources::{FileKind, ReadOptions};
use quiver_engine::sql::Parsed;

use crate::errors;
use crate::interchange;
use crate::relation::{Body, Relation};
use crate::report::Report;
use crate::runtime::Runtime;
use crate::size::parse_size;

/// What a connection's Python objects share: the router (and through it the session) and the
/// runtime its statements run on.
#[derive(Debug)]
pub struct Shared {
    pub router: Router,
    pub runtime: Runtime,
}

impl Shared {
    pub fn session(&self) -> &Session {
        self.router.session()
    }
}

/// A connection: a Quiver session with its own tables, run by its own threads.
///
/// Safe to share between Python threads; each call releases the GIL while Rust works.
#[pyclass(module = "quiver", frozen)]
pub struct Connection {
    pub(crate) shared: Arc<Shared>,
}

impl Connection {
    /// A connection with the native host (local files, S3, HTTP).
    pub fn open(
        memory_limit: Option<usize>,
        threads: Option<usize>,
        storage_options: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let s3 = S3Options::parse(storage_options)
            .map_err(|e| PyValueError::new_err(format!("storage_options: {e}")))?;
        let resources = Resources {
            memory_limit,
            threads,
            temp_dir: None,
            mmap: MmapChoice::never(),
            s3,
        };
        let config = quiver::host::config(&resources);
        let runtime = Runtime::new(threads)
            .map_err(|e| errors::Error::new_err(format!("cannot start the runtime: {e}")))?;
        let session = Session::new(config).map_err(errors::engine)?;
        Ok(Self {
            shared: Arc::new(Shared {
                router: Router::new(session, DeltaWriter::default()),
                runtime,
            }),
        })
    }

    /// Parses `sql` and runs it: every statement but the last now, and the last now too unless
    /// `lazy` and it is a query, which is only planned.
    fn prepare(&self, py: Python<'_>, sql: String, lazy: bool) -> PyResult<Relation> {
        let router = self.shared.router.clone();
        let body = self.shared.runtime.wait(py, "running SQL", async move {
            let mut statements = router.parse(&sql).map_err(errors::to_py)?;
            let last = statements
                .pop()
                .ok_or_else(|| errors::SqlError::new_err("no SQL statement to run"))?;
            for statement in statements {
                let stream = router.execute(statement).await.map_err(errors::to_py)?;
                interchange::collect(stream).await?;
            }
            let plan_only = lazy && last.is_query();
            match last {
                Parsed::Sql(statement) if plan_only => {
                    let plan = router.plan(statement).await.map_err(errors::to_py)?;
                    Ok(Body::Plan(plan))
                }
                other => {
                    let stream = router.execute(other).await.map_err(errors::to_py)?;
                    let schema = stream.schema();
                    Ok(Body::Batches(schema, interchange::collect(stream).await?))
                }
            }
        })?;
        Ok(Relation::new(Arc::clone(&self.shared), body))
    }
}

#[pymethods]
impl Connection {
    #[new]
    #[pyo3(signature = (memory_limit=None, threads=None, storage_options=None))]
    fn py_new(
        memory_limit: Option<&Bound<'_, PyAny>>,
        threads: Option<&Bound<'_, PyAny>>,
        storage_options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let memory_limit = memory_limit
            .map(|v| parse_size(v, "memory_limit"))
            .transpose()?;
        let threads = threads.map(positive_int("threads")).transpose()?;
        let options = match storage_options {
            None => Vec::new(),
            Some(dict) => dict
                .iter()
                .map(|(k, v)| Ok((k.extract::<String>()?, v.str()?.to_string())))
                .collect::<PyResult<Vec<_>>>()?,
        };
        Self::open(memory_limit, threads, options)
    }

    /// Registers `source` as table `name`, replacing any table of that name.
    ///
    /// `source` is a path, glob, folder, Delta table folder, `s3://` or `http(s)://` URL, or
    /// any object with `__arrow_c_stream__` (a pyarrow Table, a polars or pandas DataFrame),
    /// whose batches are scanned in place, without a copy. `version` or `timestamp` (an ISO
    /// 8601 string or a `datetime`) pin a Delta table to that version.
    #[pyo3(signature = (name, source, version=None, timestamp=None))]
    fn register(
        &self,
        py: Python<'_>,
        name: String,
        source: &Bound<'_, PyAny>,
        version: Option<&Bound<'_, PyAny>>,
        timestamp: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let as_of = as_of(version, timestamp)?;
        if let Some(location) = location_of(source)? {
            let shared = Arc::clone(&self.shared);
            return self
                .shared
                .runtime
                .wait(py, "registering a table", async move {
                    let session = shared.session();
                    let options = match as_of {
                        Some(as_of) => {
                            let mut options = ReadOptions::for_kind(Some(FileKind::Delta));
                            options.delta.as_of = as_of;
                            options
                        }
                        None => ReadOptions::default(),
                    };
                    let table = session
                        .open(&location, &options)
                        .await
                        .map_err(errors::engine)?;
                    session.register_table(&name, table).map_err(errors::engine)
                });
        }
        if as_of.is_some() {
            return Err(PyValueError::new_err(
                "version and timestamp apply to Delta tables named by a path, not to in-memory data",
            ));
        }
        let (schema, batches) = interchange::import_stream(py, source)?;
        let partitions = split(
            batches,
            self.shared.session().state().config().target_partitions(),
        );
        let table = MemTable::try_new(schema, partitions)
            .map_err(|e| errors::engine(quiver_engine::Error::from_datafusion(e)))?;
        self.shared
            .session()
            .register_table(&name, Arc::new(table))
            .map_err(errors::engine)
    }

    /// Removes table `name`; True if it was there.
    fn unregister(&self, name: &str) -> PyResult<bool> {
        self.shared
            .session()
            .deregister_table(name)
            .map_err(errors::engine)
    }

    /// A relation for `query`: parsed and planned now (errors are raised here), run when its
    /// rows are asked for. Statements before the last, and a last one that is not a query
    /// (DDL, a Delta write), run now.
    fn sql(&self, py: Python<'_>, query: String) -> PyResult<Relation> {
        self.prepare(py, query, true)
    }

    /// Runs every statement of `sql` now, through the same router as the CLI (Delta writes
    /// included), and returns the last statement's output.
    fn execute(&self, py: Python<'_>, sql: String) -> PyResult<Relation> {
        self.prepare(py, sql, false)
    }

    /// The names of the registered tables, sorted.
    fn tables(&self) -> Vec<String> {
        self.shared.session().table_names()
    }

    /// The commits of the Delta table at `path`, newest first (`DESCRIBE HISTORY`).
    fn history(&self, py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<Relation> {
        let Some(location) = location_of(path)? else {
            return Err(PyTypeError::new_err("history() takes a path or URL"));
        };
        let sql = format!("DESCRIBE HISTORY '{}'", location.replace('\'', "''"));
        self.prepare(py, sql, false)
    }

    /// Checks the Delta table at `path` as `quiver delta verify` does: contiguous commits,
    /// checkpoints and `.crc` files that agree with the log, data files present with their
    /// sizes, every version readable; `deep` also reads every data file's footer.
    #[pyo3(signature = (path, deep=false))]
    fn verify(&self, py: Python<'_>, path: &Bound<'_, PyAny>, deep: bool) -> PyResult<Report> {
        let Some(location) = location_of(path)? else {
            return Err(PyTypeError::new_err("verify() takes a path or URL"));
        };
        let shared = Arc::clone(&self.shared);
        self.shared
            .runtime
            .wait(py, "verifying a Delta table", async move {
                let report = quiver::delta::verify_table(shared.session(), &location, deep)
                    .await
                    .map_err(errors::to_py)?;
                Ok(Report {
                    passed: report.passed(),
                    checks: report.checks.clone(),
                    text: report.render(),
                })
            })
    }

    fn __repr__(&self) -> String {
        format!(
            "<quiver.Connection tables={:?}>",
            self.shared.session().table_names()
        )
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        false
    }
}

/// A path or URL given as `str` or `os.PathLike`, or `None` for anything else. A folder is
/// given a trailing `/`, as the CLI does, so it is read as a table of files.
fn location_of(source: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let text = if source.is_instance_of::<PyString>() {
        source.extract::<String>()?
    } else if source.hasattr("__fspath__")? {
        let os = source.py().import("os")?;
        os.call_method1("fspath", (source,))?.extract::<String>()?
    } else {
        return Ok(None);
    };
    if !text.contains("://") && Path::new(&text).is_dir() && !text.ends_with('/') {
        return Ok(Some(format!("{text}/")));
    }
    Ok(Some(text))
}

/// The Delta version `register` was asked for.
fn as_of(
    version: Option<&Bound<'_, PyAny>>,
    timestamp: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<AsOf>> {
    match (version, timestamp) {
        (Some(_), Some(_)) => Err(PyValueError::new_err("give version or timestamp, not both")),
        (Some(v), None) => {
            if v.is_instance_of::<pyo3::types::PyBool>() {
                return Err(PyTypeError::new_err("version must be an int, not a bool"));
            }
            let v: i64 = v.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "version must be an int, got {}",
                    v.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            if v < 0 {
                return Err(PyValueError::new_err(format!(
                    "version must be 0 or more, got {v}"
                )));
            }
            Ok(Some(AsOf::Version(v)))
        }
        (None, Some(t)) => {
            let text = if t.hasattr("isoformat")? {
                t.call_method0("isoformat")?.extract::<String>()?
            } else {
                t.extract::<String>().map_err(|_| {
                    PyTypeError::new_err("timestamp must be an ISO 8601 string or a datetime")
                })?
            };
            AsOf::parse_timestamp(&text)
                .map(Some)
                .map_err(|e| PyValueError::new_err(e.to_string()))
        }
        (None, None) => Ok(None),
    }
}

/// Deals `batches` round-robin into `n` partitions, so a scan of them runs in parallel.
fn split(batches: Vec<RecordBatch>, n: usize) -> Vec<Vec<RecordBatch>> {
    let n = n.clamp(1, batches.len().max(1));
    let mut partitions = vec![Vec::new(); n];
    for (i, batch) in batches.into_iter().enumerate() {
        partitions[i % n].push(batch);
    }
    partitions
}

fn positive_int(what: &'static str) -> impl Fn(&Bound<'_, PyAny>) -> PyResult<usize> {
    move |value| match value.extract::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(PyValueError::new_err(format!(
            "{what} must be a positive int, got {}",
            value.repr().map(|r| r.to_string()).unwrap_or_default()
        ))),
    }
}
