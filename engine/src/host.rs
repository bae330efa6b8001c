//! What a frontend supplies to the engine: object stores, memory and parallelism.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use url::Url;

use crate::Result;

/// Builds the object store that serves one `scheme://authority` (for example one S3 bucket or
/// one HTTP host). Called lazily, the first time a query touches that authority.
pub type StoreFactory = Arc<dyn Fn(&Url) -> Result<Arc<dyn ObjectStore>> + Send + Sync>;

/// Everything a host (the native CLI, the wasm module) tells the engine about its world.
///
/// # Example
/// ```
/// use quiver_engine::{HostConfig, Session};
/// let session = Session::new(HostConfig::default().with_target_partitions(1)).unwrap();
/// assert!(session.table_names().is_empty());
/// ```
#[derive(Clone)]
pub struct HostConfig {
    pub(crate) stores: BTreeMap<String, StoreFactory>,
    pub(crate) memory_limit: Option<usize>,
    pub(crate) target_partitions: usize,
    pub(crate) batch_size: usize,
    pub(crate) spill_dir: Option<PathBuf>,
    pub(crate) spill: bool,
    pub(crate) base_dir: Option<String>,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            stores: BTreeMap::new(),
            memory_limit: None,
            target_partitions: crate::platform::default_parallelism(),
            batch_size: 8192,
            spill_dir: None,
            spill: false,
            base_dir: None,
        }
    }
}

impl fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostConfig")
            .field("schemes", &self.stores.keys().collect::<Vec<_>>())
            .field("memory_limit", &self.memory_limit)
            .field("target_partitions", &self.target_partitions)
            .field("batch_size", &self.batch_size)
            .field("spill", &self.spill)
            .field("spill_dir", &self.spill_dir)
            .finish()
    }
}

impl HostConfig {
    /// Serves URLs with `scheme` (such as `file`, `s3`, `https`) from stores built by `factory`.
    pub fn with_store(mut self, scheme: &str, factory: StoreFactory) -> Self {
        self.stores.insert(scheme.to_ascii_lowercase(), factory);
        self
    }

    /// Caps the memory that operators may reserve. Beyond it, operators that can spill do so
    /// (when spilling is enabled) and the rest fail with a resources-exhausted error.
    pub fn with_memory_limit(mut self, bytes: Option<usize>) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// The number of partitions DataFusion plans for; 1 on wasm, where there are no threads.
    pub fn with_target_partitions(mut self, n: usize) -> Self {
        self.target_partitions = n.max(1);
        self
    }

    /// Rows per record batch.
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Lets operators spill to temporary files in `dir` (the OS temp dir when `None`).
    /// Spilling needs a filesystem, so the wasm host leaves it off.
    pub fn with_spill(mut self, enabled: bool, dir: Option<PathBuf>) -> Self {
        self.spill = enabled;
        self.spill_dir = dir;
        self
    }

    /// The URL prefix relative paths resolve against (for example `memory:///` for files
    /// dropped into a browser). Natively relative paths resolve against the working directory.
    pub fn with_base_dir(mut self, base: impl Into<String>) -> Self {
        self.base_dir = Some(base.into());
        self
    }

    /// The URL schemes this host can read.
    pub fn schemes(&self) -> Vec<String> {
        self.stores.keys().cloned().collect()
    }

    /// A host whose files are all in `store`, below `memory:///`, as the browser's are:
    /// for tests that write the files they query.
    #[cfg(test)]
    pub(crate) fn in_memory(store: Arc<dyn ObjectStore>) -> Self {
        Self::default()
            .with_target_partitions(1)
            .with_store("memory", Arc::new(move |_url| Ok(Arc::clone(&store))))
            .with_base_dir("memory:///")
    }
}
