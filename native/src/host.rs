//! The native host: local files (memory-mapped when the caller opts in), S3 and HTTP(S).
//!
//! The stores built here are the one table of object stores a native process uses: queries
//! read through them, and the Delta writer and `quiver delta verify` take theirs from the
//! session ([`quiver_engine::Session::object_store`]), so every path to a file sees the same
//! store with the same credentials.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::http::HttpBuilder;
use quiver_engine::{Error, HostConfig, StoreFactory};
use url::Url;

use crate::mmap::{MmapChoice, MmapStore};

/// Resources the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// Bytes operators may hold before spilling.
    pub memory_limit: Option<usize>,
    /// Threads (and so target partitions).
    pub threads: Option<usize>,
    /// Where spill files go; the OS temp dir when `None`.
    pub temp_dir: Option<PathBuf>,
    /// Whether local files are read through memory maps (never, by default).
    pub mmap: MmapChoice,
}

/// The native [`HostConfig`].
pub fn config(resources: &Resources) -> HostConfig {
    let local: Arc<dyn ObjectStore> = Arc::new(MmapStore::new(resources.mmap));
    let file: StoreFactory = Arc::new(move |_url: &Url| Ok(Arc::clone(&local)));
    let s3: StoreFactory = Arc::new(s3_store);
    let http: StoreFactory = Arc::new(http_store);
    let mut config = HostConfig::default()
        .with_store("file", file)
        .with_store("s3", Arc::clone(&s3))
        .with_store("s3a", s3)
        .with_store("http", Arc::clone(&http))
        .with_store("https", http)
        .with_memory_limit(resources.memory_limit)
        .with_spill(true, resources.temp_dir.clone());
    if let Some(threads) = resources.threads {
        config = config.with_target_partitions(threads);
    }
    config
}

/// An S3 store for the bucket in `url`, configured from the `AWS_*` environment variables
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
/// `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`). Without credentials the
/// requests go unsigned, which reads public buckets, rather than probing instance metadata.
fn s3_store(url: &Url) -> quiver_engine::Result<Arc<dyn ObjectStore>> {
    let bucket = url.host_str().ok_or_else(|| Error::Storage {
        url: url.to_string(),
        reason: "an S3 URL needs a bucket, as in s3://bucket/path".into(),
    })?;
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        builder = builder.with_skip_signature(true);
    }
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        builder = builder.with_region("us-east-1");
    }
    let store = builder.build().map_err(|e| Error::Storage {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    Ok(Arc::new(store))
}

/// An HTTP(S) store for the host in `url`; reads use range requests.
fn http_store(url: &Url) -> quiver_engine::Result<Arc<dyn ObjectStore>> {
    let base = format!(
        "{}://{}",
        url.scheme(),
        &url[url::Position::BeforeHost..url::Position::AfterPort]
    );
    let store = HttpBuilder::new()
        .with_url(base)
        .with_client_options(object_store::ClientOptions::new().with_allow_http(true))
        .build()
        .map_err(|e| Error::Storage {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(store))
}
