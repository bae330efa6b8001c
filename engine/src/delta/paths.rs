//! Resolving the paths the log holds to objects in the table's store, without ever leaving
//! the table root by a relative path.

use object_store::path::Path;

use super::log::DeltaLog;
use crate::{Error, Result};

/// The object a log path names. A relative path (URL-encoded, as the protocol writes it) is
/// taken below the table root and may not climb out of it (`..`, `%2e%2e`). An absolute URL
/// must name the table's own store (same scheme and bucket or host).
pub(crate) fn resolve(log: &DeltaLog, raw: &str) -> Result<Path> {
    let escape = |why: &str| Error::Delta {
        table: log.display(),
        message: format!("the log names '{raw}', which {why}"),
    };
    if let Some((scheme, _)) = raw.split_once(':')
        && scheme.len() > 1
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        let url = url::Url::parse(raw).map_err(|_| escape("is not a valid URL"))?;
        let store = url::Url::parse(&log.store_url).map_err(|_| escape("cannot be resolved"))?;
        if url.scheme() != store.scheme() || url.host_str() != store.host_str() {
            return Err(escape(&format!(
                "is outside the table's store ({})",
                log.store_url
            )));
        }
        return Path::from_url_path(url.path()).map_err(|e| escape(&e.to_string()));
    }
    if raw.starts_with('/') {
        // An absolute path without a scheme is a local file (older Spark writers).
        if log.store_url.starts_with("file:") {
            return Path::from_url_path(raw).map_err(|e| escape(&e.to_string()));
        }
        return Err(escape("is an absolute path without a scheme"));
    }
    let relative = Path::from_url_path(raw).map_err(|_| escape("escapes the table root"))?;
    if relative
        .parts()
        .any(|p| p.as_ref() == "." || p.as_ref() == "..")
    {
        return Err(escape("escapes the table root"));
    }
    Ok(Path::from_iter(log.root.parts().chain(relative.parts())))
}
