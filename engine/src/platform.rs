//! The only place where native and wasm32 differ inside the engine.

use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};

use crate::HostConfig;

/// Default parallelism: the number of cores natively, one on wasm (see DESIGN.md: plans with
/// several partitions need a multi-threaded reactor that a browser does not have).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn default_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn default_parallelism() -> usize {
    1
}

/// How operators may spill: to a temp dir natively when the host allows it, never on wasm.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn disk_manager(config: &HostConfig) -> DiskManagerBuilder {
    let mode = match (&config.spill, &config.spill_dir) {
        (false, _) => DiskManagerMode::Disabled,
        (true, Some(dir)) => DiskManagerMode::Directories(vec![dir.clone()]),
        (true, None) => DiskManagerMode::OsTmpDirectory,
    };
    DiskManagerBuilder::default().with_mode(mode)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn disk_manager(_config: &HostConfig) -> DiskManagerBuilder {
    DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled)
}

/// True when `location` starts with a URL scheme (`s3://`, `https://`, `memory://`).
pub(crate) fn has_scheme(location: &str) -> bool {
    location.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
    })
}

/// Turns a relative location into one the object-store registry understands. Natively
/// DataFusion resolves relative paths against the working directory; a host without a
/// filesystem gives a base URL instead, and one with a `file` store but no working
/// directory (Node) reads absolute paths from it.
pub(crate) fn absolute_location(config: &HostConfig, location: &str) -> String {
    match &config.base_dir {
        // An absolute path names the host's own files when it has any (Node's disk, for
        // the npm package); otherwise it is a path below the base like any other.
        Some(_) if location.starts_with('/') && config.stores.contains_key("file") => {
            format!("file://{location}")
        }
        Some(base) if !has_scheme(location) => {
            let base = base.trim_end_matches('/');
            format!(
                "{base}/{}",
                location.trim_start_matches("./").trim_start_matches('/')
            )
        }
        _ => location.to_string(),
    }
}
