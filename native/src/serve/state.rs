//! The served tables: each one's source, current version, status, and the reload that
//! replaces the version atomically.

use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::config::TableConfig;
use super::fetch::{Defaults, default_array, schema_json};
use super::load::{Manifest, Origin, open_mapped};
use super::table::{Provenance, TableVersion, Version};

/// The runtime that converts and indexes partitions: one worker thread, so that on a small
/// machine the HTTP workers keep the other cores while a partition loads. Started by
/// [`super::run`] before any table; it lives as long as the process.
pub fn loader() -> Result<&'static tokio::runtime::Runtime, String> {
    static LOADER: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(rt) = LOADER.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("quiver-serve-load")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the loader thread: {e}"))?;
    Ok(LOADER.get_or_init(|| rt))
}

/// What a table has been doing, for `/v1/tables` and `/metrics`.
#[derive(Debug, Default, Clone)]
pub struct Status {
    pub last_poll: Option<SystemTime>,
    pub last_error: Option<String>,
    pub loads: u64,
    pub load_errors: u64,
    pub poll_errors: u64,
    pub loading: bool,
}

/// One configured table.
pub struct Served {
    pub name: String,
    pub config: TableConfig,
    origin: Origin,
    dir: PathBuf,
    current: RwLock<Option<Version>>,
    pub status: Mutex<Status>,
    pub defaults: Defaults,
    /// One reload at a time per table.
    reloading: tokio::sync::Mutex<()>,
    next_version: AtomicU64,
    /// Requests and keys answered, and keys found.
    pub requests: AtomicU64,
    pub keys: AtomicU64,
    pub found: AtomicU64,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    /// A new version serves.
    Loaded { partition: String, rows: u64 },
    /// The source has nothing newer than what serves.
    Unchanged,
    /// No complete partition yet.
    NothingYet,
}

impl Served {
    /// Opens a table's source and its folder in `data_dir`, and serves the last version a
    /// previous run converted (when its manifest matches the config), before any poll.
    ///
    /// # Errors
    /// A message when the source or the folder cannot be used, or a default does not fit.
    pub fn open(name: &str, config: TableConfig, data_dir: &FsPath) -> Result<Self, String> {
        let origin = Origin::open(&config.source).map_err(|e| format!("table {name}: {e}"))?;
        let dir = data_dir.join(name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("table {name}: cannot create {}: {e}", dir.display()))?;
        // A conversion that a killed process left half-written.
        let _ = std::fs::remove_dir_all(dir.join("tmp"));
        let mut defaults = Defaults::new();
        for (column, c) in &config.columns {
            if let Some(value) = &c.default {
                let array = default_array(value, &c.dtype.data_type())
                    .map_err(|e| format!("tables.{name}.columns.{column}: {e}"))?;
                defaults.insert(column.clone(), array);
            }
        }
        let served = Self {
            name: name.to_string(),
            config,
            origin,
            dir,
            current: RwLock::new(None),
            status: Mutex::new(Status::default()),
            defaults,
            reloading: tokio::sync::Mutex::new(()),
            next_version: AtomicU64::new(1),
            requests: AtomicU64::new(0),
            keys: AtomicU64::new(0),
            found: AtomicU64::new(0),
        };
        served.restore();
        Ok(served)
    }

    /// The config's shape, as the manifest records it: a file converted for another shape
    /// is not served.
    fn shape(&self) -> String {
        let columns: Vec<String> = self
            .config
            .columns
            .iter()
            .map(|(n, c)| format!("{n}:{:?}:{}", c.dtype, c.nullable))
            .collect();
        format!(
            "key={};columns={};duplicates={:?}",
            self.config.key.join(","),
            columns.join(","),
            self.config.duplicates
        )
    }

    fn restore(&self) {
        let Some(manifest) = Manifest::read(&self.dir) else {
            self.remove_strays(None);
            return;
        };
        self.next_version
            .store(manifest.version + 1, Ordering::Relaxed);
        if manifest.shape != self.shape() {
            log::warn!(
                "serve: table {}: the config changed since {} was converted; converting again",
                self.name,
                manifest.file
            );
            self.remove_strays(None);
            return;
        }
        let file = self.dir.join(&manifest.file);
        let provenance = Provenance {
            version: manifest.version,
            partition: manifest.partition.clone(),
            file: file.clone(),
            fingerprint: manifest.fingerprint.clone(),
            loaded_at: SystemTime::now(),
        };
        match self.build(provenance) {
            Ok(version) => {
                log::info!(
                    "serve: table {}: serving {} ({} rows) from the last run",
                    self.name,
                    manifest.partition,
                    version.rows()
                );
                *self.current.write().expect("not poisoned") = Some(Arc::new(version));
                self.remove_strays(Some(&file));
            }
            Err(e) => {
                log::warn!(
                    "serve: table {}: cannot reuse {}: {e}",
                    self.name,
                    file.display()
                );
                self.remove_strays(None);
            }
        }
    }

    /// Removes converted files other than `keep` (left by a run that ended before it could).
    fn remove_strays(&self, keep: Option<&FsPath>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "arrow") && Some(path.as_path()) != keep {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    fn build(&self, provenance: Provenance) -> Result<TableVersion, String> {
        let mapped = open_mapped(&provenance.file, self.config.load)?;
        let keys = self
            .config
            .key
            .iter()
            .map(|k| {
                mapped
                    .schema
                    .index_of(k)
                    .map_err(|_| format!("key column '{k}' is not in the converted file"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        TableVersion::build(
            provenance,
            mapped.schema,
            mapped.batches,
            keys,
            self.config.duplicates,
            mapped.bytes,
        )
        .map_err(|e| e.to_string())
    }

    /// The version requests read now.
    pub fn current(&self) -> Option<Version> {
        self.current.read().expect("not poisoned").clone()
    }

    /// Polls the source and, when it has a newer complete partition, converts, maps and
    /// indexes it, then swaps it in. A failure leaves the serving version as it was.
    ///
    /// # Errors
    /// The reason, which the status also records.
    pub async fn reload(self: &Arc<Self>) -> Result<Reload, String> {
        let _one = self.reloading.lock().await;
        let found = self.origin.discover().await;
        {
            let mut s = self.status.lock().expect("not poisoned");
            s.last_poll = Some(SystemTime::now());
            if let Err(e) = &found {
                s.poll_errors += 1;
                s.last_error = Some(e.clone());
            }
        }
        let Some(found) = found? else {
            return Ok(Reload::NothingYet);
        };
        if let Some(current) = self.current() {
            if current.provenance.fingerprint == found.fingerprint {
                return Ok(Reload::Unchanged);
            }
            let serving = &current.provenance.partition;
            if !found.partition.starts_with('v') && found.partition < *serving {
                // The newest complete partition went away: keep what serves rather than go
                // back in time.
                let e = format!(
                    "the newest complete partition, {}, is older than the one serving ({serving}); keeping {serving}",
                    found.partition
                );
                self.status.lock().expect("not poisoned").last_error = Some(e);
                return Ok(Reload::Unchanged);
            }
        }
        self.status.lock().expect("not poisoned").loading = true;
        let result = self.load(&found).await;
        let mut s = self.status.lock().expect("not poisoned");
        s.loading = false;
        match result {
            Ok(rows) => {
                s.loads += 1;
                s.last_error = None;
                Ok(Reload::Loaded {
                    partition: found.partition,
                    rows,
                })
            }
            Err(e) => {
                s.load_errors += 1;
                s.last_error = Some(e.clone());
                log::warn!("serve: table {}: {e}", self.name);
                Err(e)
            }
        }
    }

    async fn load(self: &Arc<Self>, found: &super::load::Found) -> Result<u64, String> {
        let version = self.next_version.fetch_add(1, Ordering::Relaxed);
        let name = format!("v{version}-{}.arrow", found.partition);
        // Converting and indexing run on the loader's one thread, not on the HTTP workers.
        let this = Arc::clone(self);
        let (found_, name_) = (found.clone(), name.clone());
        let work = loader()?.spawn(async move {
            let (path, rows) = this
                .origin
                .convert(&found_, &this.config, &this.dir, &name_)
                .await?;
            let provenance = Provenance {
                version,
                partition: found_.partition.clone(),
                file: path.clone(),
                fingerprint: found_.fingerprint.clone(),
                loaded_at: SystemTime::now(),
            };
            match this.build(provenance) {
                Ok(built) => Ok((built, path, rows)),
                Err(e) => {
                    let _ = std::fs::remove_file(&path);
                    Err(format!("partition {}: {e}", found_.partition))
                }
            }
        });
        let (built, path, rows) = work.await.map_err(|e| format!("loading stopped: {e}"))??;
        let manifest = Manifest {
            version,
            partition: found.partition.clone(),
            fingerprint: found.fingerprint.clone(),
            file: name,
            rows,
            shape: self.shape(),
        };
        if let Err(e) = manifest.write(&self.dir) {
            let _ = std::fs::remove_file(&path);
            return Err(format!(
                "cannot write {}/manifest.json: {e}",
                self.dir.display()
            ));
        }
        let old = self
            .current
            .write()
            .expect("not poisoned")
            .replace(Arc::new(built));
        if let Some(old) = old {
            old.retire();
        }
        log::info!(
            "serve: table {}: serving {} ({rows} rows, version {version})",
            self.name,
            found.partition
        );
        Ok(rows)
    }

    /// The poll loop: now, then every `poll_interval`.
    pub async fn poll_forever(self: Arc<Self>) {
        loop {
            if let Err(e) = self.reload().await {
                log::warn!("serve: table {}: {e}", self.name);
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// `/v1/tables` entry (with the schema for `/v1/tables/{name}`).
    pub fn describe(&self, with_schema: bool) -> Value {
        let current = self.current();
        let s = self.status.lock().expect("not poisoned").clone();
        let secs = |t: Option<SystemTime>| {
            t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64())
        };
        let status = match (&current, s.loading) {
            (None, true) => "loading",
            (None, false) => "pending",
            (Some(_), true) => "reloading",
            (Some(_), false) => "ready",
        };
        let mut v = json!({
            "name": self.name,
            "status": status,
            "version": current.as_ref().map(|c| c.provenance.version),
            "partition": current.as_ref().map(|c| c.provenance.partition.clone()),
            "rows": current.as_ref().map(|c| c.rows()),
            "loaded_at": secs(current.as_ref().map(|c| c.provenance.loaded_at)),
            "last_poll_at": secs(s.last_poll),
            "last_error": s.last_error,
            "loads": s.loads,
            "load_errors": s.load_errors,
            "required": self.config.required,
            "key": self.config.key,
        });
        if with_schema {
            v["schema"] = current
                .as_ref()
                .map(|c| schema_json(c))
                .unwrap_or(Value::Null);
        }
        v
    }

    /// Seconds to suggest in `Retry-After` while not ready.
    pub fn retry_after(&self) -> u64 {
        self.config
            .poll_interval
            .max(Duration::from_secs(1))
            .as_secs()
    }
}
