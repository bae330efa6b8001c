//! An object-store registry that builds stores on first use from the host's factories.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::execution::object_store::ObjectStoreRegistry;
use object_store::ObjectStore;
use url::Url;

use crate::location::store_key;
use crate::{Error, HostConfig, StoreFactory};

/// Maps `scheme://authority` to a store. A URL seen for the first time gets a store from the
/// host's factory for its scheme, so `SELECT * FROM 's3://bucket/x.parquet'` works with no
/// registration step.
#[derive(Debug)]
pub(crate) struct LazyStoreRegistry {
    factories: Factories,
    stores: RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
}

struct Factories(std::collections::BTreeMap<String, StoreFactory>);

impl std::fmt::Debug for Factories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl LazyStoreRegistry {
    pub(crate) fn new(config: &HostConfig) -> Self {
        Self {
            factories: Factories(config.stores.clone()),
            stores: RwLock::new(HashMap::new()),
        }
    }
}

impl ObjectStoreRegistry for LazyStoreRegistry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        let mut stores = self.stores.write().unwrap_or_else(|p| p.into_inner());
        stores.insert(store_key(url), store)
    }

    fn deregister_store(&self, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        let mut stores = self.stores.write().unwrap_or_else(|p| p.into_inner());
        stores.remove(&store_key(url)).ok_or_else(|| {
            DataFusionError::Execution(format!("no object store registered for {url}"))
        })
    }

    fn get_store(&self, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        let key = store_key(url);
        if let Some(store) = self
            .stores
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(Arc::clone(store));
        }
        let Some(factory) = self.factories.0.get(url.scheme()) else {
            let known: Vec<&str> = self.factories.0.keys().map(String::as_str).collect();
            return Err(Error::Unsupported {
                what: format!(
                    "URL scheme '{}' in {url} (this build reads: {})",
                    url.scheme(),
                    known.join(", ")
                ),
            }
            .into_datafusion());
        };
        let store = factory(url).map_err(Error::into_datafusion)?;
        let mut stores = self.stores.write().unwrap_or_else(|p| p.into_inner());
        Ok(Arc::clone(stores.entry(key).or_insert(store)))
    }
}
