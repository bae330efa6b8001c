//! Resolves table names that are paths: `SELECT * FROM 'data/*.parquet'`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use datafusion::catalog::{TableProvider, UrlTableFactory};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use parking_lot::RwLock;

use super::{FileKind, ReadOptions, open_table};
use crate::delta::SnapshotCache;
use crate::{Error, HostConfig, Result};

/// The engine's [`UrlTableFactory`]: a table name that looks like a path or URL is opened as
/// files, and names generated for `read_*` calls are served from a per-statement scratch map.
#[derive(Debug)]
pub struct PathTables {
    config: HostConfig,
    /// The Delta snapshots this session has read, so a table read again replays only the
    /// commits since.
    snapshots: Arc<SnapshotCache>,
    state: Mutex<Weak<RwLock<SessionState>>>,
    scratch: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
}

impl PathTables {
    /// `location` as the object-store registry understands it (see
    /// [`crate::platform::absolute_location`]).
    pub(crate) fn absolute(&self, location: &str) -> String {
        crate::platform::absolute_location(&self.config, location)
    }

    pub(crate) fn new(config: HostConfig, snapshots: Arc<SnapshotCache>) -> Self {
        Self {
            config,
            snapshots,
            state: Mutex::new(Weak::new()),
            scratch: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn attach(&self, state: Weak<RwLock<SessionState>>) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
    }

    fn state(&self) -> Result<SessionState> {
        let weak = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match weak.upgrade() {
            Some(state) => Ok(state.read().clone()),
            None => Err(Error::Panic {
                during: "resolving a path".into(),
                message: "the session was dropped".into(),
            }),
        }
    }

    /// Opens `locations` with `options`, using the session's current state.
    pub(crate) async fn open(
        &self,
        locations: &[String],
        options: &ReadOptions,
    ) -> Result<Arc<dyn TableProvider>> {
        let state = self.state()?;
        // A panic while reading footers or headers is the file's fault: name it.
        crate::panic_guard::guard(
            "opening a table",
            open_table(&state, &self.config, &self.snapshots, locations, options),
        )
        .await
        .map_err(|e| match e {
            Error::Panic { message, .. } => Error::CorruptFile {
                path: locations.join(", "),
                reason: message,
            },
            other => other,
        })
    }

    pub(crate) fn put_scratch(&self, name: String, table: Arc<dyn TableProvider>) {
        self.scratch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, table);
    }

    pub(crate) fn clear_scratch(&self, names: &[String]) {
        let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        for name in names {
            scratch.remove(name);
        }
    }

    /// True when `name`, read as a relative path, is a Delta table (`FROM 'sales'`).
    async fn is_delta_folder(&self, name: &str) -> bool {
        let Ok(state) = self.state() else {
            return false;
        };
        let Ok(url) = super::table_url(&self.config, name) else {
            return false;
        };
        match state.runtime_env().object_store(url.object_store()) {
            Ok(store) => super::is_delta_table(store.as_ref(), &url).await,
            Err(_) => false,
        }
    }

    /// True for names a user means as a location rather than a registered table.
    pub fn looks_like_path(name: &str) -> bool {
        name.contains('/')
            || name.contains('\\')
            || name.contains(['*', '?'])
            || FileKind::from_path(name).is_some()
    }
}

#[async_trait]
impl UrlTableFactory for PathTables {
    async fn try_new(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let scratch = self
            .scratch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned();
        if let Some(table) = scratch {
            return Ok(Some(table));
        }
        if !Self::looks_like_path(name) && !self.is_delta_folder(name).await {
            return Ok(None);
        }
        self.open(&[name.to_string()], &ReadOptions::default())
            .await
            .map(Some)
            .map_err(Error::into_datafusion)
    }
}
