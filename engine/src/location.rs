//! How the engine names a place in an object store: to a person, as a URL, and as the key
//! of the store that serves it.
//!
//! Both the file sources and the Delta reader name files in errors and notices, and both
//! build stores' URLs; keeping the spelling here lets neither depend on the other.

use url::Url;

/// Whether `store_url` names the local filesystem (`file:` or `file://`), whose paths are
/// shown and written with a leading `/`.
fn is_local(store_url: &str) -> bool {
    let store_url = store_url.trim_end_matches('/');
    store_url == "file:" || store_url == "file://"
}

/// How an object is named to a person: a local path for local files, else the full URL.
///
/// # Example
/// `("file:///", "data/a.parquet")` is `/data/a.parquet`; `("s3://bucket", "a.parquet")`
/// is `s3://bucket/a.parquet`.
pub(crate) fn display_location(store_url: &str, path: &str) -> String {
    if is_local(store_url) {
        format!("/{path}")
    } else {
        format!("{}/{path}", store_url.trim_end_matches('/'))
    }
}

/// An object's location as a URL (`file:///data/t`, `s3://bucket/t`), for writers and
/// other tools that take URLs rather than paths.
pub(crate) fn location_url(store_url: &str, path: &str) -> String {
    if is_local(store_url) {
        format!("file:///{path}")
    } else {
        format!("{}/{path}", store_url.trim_end_matches('/'))
    }
}

/// The `scheme://authority` part of `url` that picks its object store (one S3 bucket, one
/// HTTP host). A store URL with no host, as the browser's page store has, is
/// `memory://`, which survives being parsed again.
pub(crate) fn store_key(url: &Url) -> String {
    format!(
        "{}://{}",
        url.scheme(),
        &url[url::Position::BeforeHost..url::Position::AfterPort]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_files_read_as_paths_and_others_as_urls() {
        assert_eq!(display_location("file:///", "d/a.csv"), "/d/a.csv");
        assert_eq!(display_location("file://", "d/a.csv"), "/d/a.csv");
        assert_eq!(display_location("s3://b/", "d/a.csv"), "s3://b/d/a.csv");
        assert_eq!(location_url("file:///", "d/t"), "file:///d/t");
        assert_eq!(location_url("s3://bucket/", "t"), "s3://bucket/t");
    }

    #[test]
    fn store_keys_keep_scheme_and_authority() {
        let key = |s: &str| store_key(&Url::parse(s).unwrap());
        assert_eq!(key("s3://bucket/a/b.parquet"), "s3://bucket");
        assert_eq!(key("http://host:8080/x"), "http://host:8080");
        assert_eq!(key("memory:///x"), "memory://");
    }
}
