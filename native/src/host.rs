//! The native host: local files (memory-mapped when the caller opts in), S3 and HTTP(S).
//!
//! The stores built here are the one table of object stores a native process uses: queries
//! read through them, and the Delta writer and `quiver delta verify` take theirs from the
//! session ([`quiver_engine::Session::object_store`]), so every path to a file sees the same
//! store with the same credentials.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
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
    /// S3 settings applied over the `AWS_*` environment variables (the Python package's
    /// `storage_options=`).
    pub s3: S3Options,
}

/// S3 settings given by the caller, as `deltalake` takes them: object_store's S3 keys in any
/// case, with or without `aws_` (`AWS_ACCESS_KEY_ID`, `aws_region`, `endpoint_url`,
/// `AWS_ALLOW_HTTP` ...). They win over the environment.
#[derive(Debug, Clone, Default)]
pub struct S3Options(Vec<(AmazonS3ConfigKey, String)>);

impl S3Options {
    /// Reads `(key, value)` pairs.
    ///
    /// # Errors
    /// A message naming the first key that is not an S3 setting.
    pub fn parse<K: AsRef<str>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> std::result::Result<Self, String> {
        let mut options = Vec::new();
        for (key, value) in pairs {
            let key = key.as_ref();
            let parsed = key
                .to_ascii_lowercase()
                .parse::<AmazonS3ConfigKey>()
                .map_err(|_| {
                    format!(
                        "unknown S3 setting '{key}'; use settings such as AWS_ACCESS_KEY_ID, \
                     AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL, \
                     AWS_ALLOW_HTTP"
                    )
                })?;
            options.push((parsed, value.into()));
        }
        Ok(Self(options))
    }

    fn given(&self, key: &AmazonS3ConfigKey) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

/// Parses a byte size as people write it (`2GB`, `512MiB`, `1.5G`, `1000000`): the rules of
/// `--memory-limit` and of the Python package's `memory_limit=`. Decimal (`KB`, `MB`, `GB`,
/// `TB`) and binary (`KiB` ...) units are both accepted; a bare `K`/`M`/`G`/`T` is binary,
/// as in most tools.
///
/// # Errors
/// A message saying what is wrong with `s`.
pub fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{s}' is not a size; write it like 2GB or 512MiB"))?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0f64.powi(4),
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{s}'; use KB, MB, GB, TB or KiB, MiB, GiB, TiB"
            ));
        }
    };
    let bytes = value * multiplier;
    if !(1.0..=(usize::MAX as f64)).contains(&bytes) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(bytes as usize)
}

/// The native [`HostConfig`].
pub fn config(resources: &Resources) -> HostConfig {
    let local: Arc<dyn ObjectStore> = Arc::new(MmapStore::new(resources.mmap));
    let file: StoreFactory = Arc::new(move |_url: &Url| Ok(Arc::clone(&local)));
    let options = resources.s3.clone();
    let s3: StoreFactory = Arc::new(move |url: &Url| s3_store(url, &options));
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
/// `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`) and then `options`. Without
/// credentials the requests go unsigned, which reads public buckets, rather than probing
/// instance metadata; without a region, `us-east-1`.
fn s3_store(url: &Url, options: &S3Options) -> quiver_engine::Result<Arc<dyn ObjectStore>> {
    let bucket = url.host_str().ok_or_else(|| Error::Storage {
        url: url.to_string(),
        reason: "an S3 URL needs a bucket, as in s3://bucket/path".into(),
    })?;
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none()
        && !options.given(&AmazonS3ConfigKey::AccessKeyId)
    {
        builder = builder.with_skip_signature(true);
    }
    if std::env::var_os("AWS_REGION").is_none()
        && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        && !options.given(&AmazonS3ConfigKey::Region)
        && !options.given(&AmazonS3ConfigKey::DefaultRegion)
    {
        builder = builder.with_region("us-east-1");
    }
    for (key, value) in &options.0 {
        builder = builder.with_config(*key, value);
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

#[cfg(test)]
mod tests {
    use super::{S3Options, parse_size};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5g"), Ok(1610612736));
        assert_eq!(parse_size(" 1000 "), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2 parsecs").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn s3_options_take_object_store_keys_in_any_case() {
        let options = S3Options::parse([
            ("AWS_ACCESS_KEY_ID", "k"),
            ("aws_region", "eu-west-1"),
            ("endpoint_url", "http://127.0.0.1:9000"),
        ])
        .expect("known keys");
        assert_eq!(options.0.len(), 3);
        assert!(options.given(&object_store::aws::AmazonS3ConfigKey::Region));
        let err = S3Options::parse([("AWS_COLOUR", "blue")]).expect_err("unknown key");
        assert!(err.contains("'AWS_COLOUR'"), "{err}");
    }
}
