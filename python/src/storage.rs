//! `storage_options=`: S3 settings given in Python, as `deltalake` takes them, on top of the
//! `AWS_*` environment variables the CLI reads.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use quiver_engine::{Error, HostConfig, StoreFactory};
use url::Url;

/// `config` with its S3 stores built from `options` as well as the environment; unchanged
/// when there are no options. Keys are object_store's S3 keys in any case, with or without
/// `aws_` (`AWS_ACCESS_KEY_ID`, `aws_region`, `endpoint_url`, `AWS_ALLOW_HTTP` ...).
///
/// # Errors
/// `ValueError` for a key that is not an S3 setting.
pub fn with_options(config: HostConfig, options: &[(String, String)]) -> PyResult<HostConfig> {
    if options.is_empty() {
        return Ok(config);
    }
    let mut parsed = Vec::with_capacity(options.len());
    for (key, value) in options {
        let parsed_key = key
            .to_ascii_lowercase()
            .parse::<AmazonS3ConfigKey>()
            .map_err(|_| {
                PyValueError::new_err(format!(
                    "storage_options: unknown key '{key}'; use S3 settings such as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL, AWS_ALLOW_HTTP"
                ))
            })?;
        parsed.push((parsed_key, value.clone()));
    }
    let parsed = Arc::new(parsed);
    let s3: StoreFactory = Arc::new(move |url: &Url| s3_store(url, &parsed));
    Ok(config
        .with_store("s3", Arc::clone(&s3))
        .with_store("s3a", s3))
}

/// The CLI's S3 rules (unsigned requests without credentials, `us-east-1` without a region),
/// with `options` applied over the environment.
fn s3_store(
    url: &Url,
    options: &[(AmazonS3ConfigKey, String)],
) -> quiver_engine::Result<Arc<dyn ObjectStore>> {
    let bucket = url.host_str().ok_or_else(|| Error::Storage {
        url: url.to_string(),
        reason: "an S3 URL needs a bucket, as in s3://bucket/path".into(),
    })?;
    let given = |key: &AmazonS3ConfigKey| options.iter().any(|(k, _)| k == key);
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() && !given(&AmazonS3ConfigKey::AccessKeyId) {
        builder = builder.with_skip_signature(true);
    }
    if std::env::var_os("AWS_REGION").is_none()
        && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        && !given(&AmazonS3ConfigKey::Region)
        && !given(&AmazonS3ConfigKey::DefaultRegion)
    {
        builder = builder.with_region("us-east-1");
    }
    for (key, value) in options {
        builder = builder.with_config(*key, value);
    }
    let store = builder.build().map_err(|e| Error::Storage {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    Ok(Arc::new(store))
}
