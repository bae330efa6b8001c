//! File sources: how a path becomes a table.
//!
//! A location is a local path, a `scheme://` URL, a glob (`data/*.parquet`,
//! `s3://bucket/2026-*/part-*.parquet`) or a folder (listed recursively, with hive-style
//! `key=value` folders turned into partition columns). The format comes from the read
//! function used (`read_csv`), else from the file extension (compression suffixes such as
//! `.gz` are looked through), else from the first bytes of the first file.
//!
//! Parquet, CSV and JSON become DataFusion listing tables, which prune partitions and read
//! only the byte ranges a query needs. Arrow IPC goes through [`ipc::open_table`], which
//! validates every message against the bytes present before decoding it.

mod column_names;
mod csv;
pub mod ipc;
mod options;
mod path_tables;
mod read_call;

pub use options::{FileKind, OptionValue, ReadOptions};
pub use path_tables::PathTables;
pub(crate) use read_call::rewrite_read_calls;
pub use read_call::visit_statement;

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SessionState;
use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::delta::{DeltaReadOptions, SnapshotCache};
use crate::location::display_location;
use crate::{Error, HostConfig, Result};

/// Turns a location as a user writes it into a [`ListingTableUrl`], with globs allowed in
/// URLs as well as local paths.
pub(crate) fn table_url(config: &HostConfig, location: &str) -> Result<ListingTableUrl> {
    let location = crate::platform::absolute_location(config, location);
    let glob_at = location.find(['*', '?', '[']);
    let parsed = match (crate::platform::has_scheme(&location), glob_at) {
        (true, Some(at)) => {
            let split = location[..at].rfind('/').map(|i| i + 1).unwrap_or(at);
            let (prefix, pattern) = location.split_at(split);
            let url = url::Url::parse(prefix).map_err(|e| {
                Error::invalid("path", format!("'{location}' is not a valid URL: {e}"))
            })?;
            let pattern = glob::Pattern::new(pattern)
                .map_err(|e| Error::invalid("path", format!("bad glob '{pattern}': {e}")))?;
            ListingTableUrl::try_new(url, Some(pattern))
        }
        _ => ListingTableUrl::parse(&location),
    };
    parsed.map_err(|e| {
        Error::invalid(
            "path",
            format!("'{location}': {}", Error::from_datafusion(e)),
        )
    })
}

/// Lists the data files behind `url`, skipping hidden and metadata files (`.crc`, `_SUCCESS`,
/// `_delta_log/...`). Errors with [`Error::NotFound`] when nothing is there.
pub(crate) async fn list_files(
    state: &SessionState,
    store: &dyn ObjectStore,
    url: &ListingTableUrl,
    original: &str,
) -> Result<Vec<ObjectMeta>> {
    let listed: Vec<ObjectMeta> = url
        .list_all_files(state, store, "")
        .await
        .map_err(Error::from_datafusion)?
        .try_collect()
        .await
        .map_err(Error::from_datafusion)?;
    let files = listed
        .into_iter()
        .filter(|meta| !is_hidden(url, &meta.location))
        .collect();
    sorted_or_not_found(files, original)
}

/// Lists the files below `url`'s prefix whose path relative to it matches `pattern`.
async fn list_deep_glob(
    store: &dyn ObjectStore,
    url: &ListingTableUrl,
    pattern: &glob::Pattern,
    original: &str,
) -> Result<Vec<ObjectMeta>> {
    let prefix = url.prefix().clone();
    let listed: Vec<ObjectMeta> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|e| Error::from_datafusion(e.into()))?;
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..Default::default()
    };
    let files = listed
        .into_iter()
        .filter(|meta| {
            let Some(segments) = url.strip_prefix(&meta.location) else {
                return false;
            };
            let relative = segments.collect::<Vec<_>>().join("/");
            pattern.matches_with(&relative, options) && !is_hidden(url, &meta.location)
        })
        .collect();
    sorted_or_not_found(files, original)
}

/// Files in path order, or [`Error::NotFound`] naming what the user wrote when none matched.
fn sorted_or_not_found(mut files: Vec<ObjectMeta>, original: &str) -> Result<Vec<ObjectMeta>> {
    files.sort_by(|a, b| a.location.cmp(&b.location));
    if files.is_empty() {
        return Err(Error::NotFound {
            path: original.to_string(),
            original: None,
        });
    }
    Ok(files)
}

/// The table name a path suggests: its file stem (`data/trips.parquet` is `trips`, a folder
/// `data/sales/` is `sales`, a glob is named after its folder), lower-cased, with characters
/// SQL would need quoted replaced by `_`.
pub fn table_name_for(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    let last = trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed);
    let last = if last.contains(['*', '?', '[']) {
        let parent = trimmed.rsplit_once('/').map(|(p, _)| p).unwrap_or("data");
        parent.rsplit('/').next().unwrap_or("data")
    } else {
        last
    };
    let stem = match last.split_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => last,
    };
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "t_");
    }
    name
}

/// True for paths below `url` that no reader should treat as data: any segment starting
/// with `.` or `_` that is not a `key=value` partition folder.
fn is_hidden(url: &ListingTableUrl, path: &object_store::path::Path) -> bool {
    let Some(mut segments) = url.strip_prefix(path) else {
        return false;
    };
    segments.any(|s| (s.starts_with('.') || s.starts_with('_')) && !s.contains('='))
}

/// True when `url` names a folder holding a Delta table.
pub(crate) async fn is_delta_table(store: &dyn ObjectStore, url: &ListingTableUrl) -> bool {
    if url.get_glob().is_some() {
        return false;
    }
    let prefix = url.prefix();
    let log = object_store::path::Path::from_iter(prefix.parts().chain(std::iter::once(
        object_store::path::PathPart::from("_delta_log"),
    )));
    // Most tables have a checkpoint hint or their first commit: one request instead of
    // listing a log that may hold thousands of files.
    for hint in ["_last_checkpoint", "00000000000000000000.json"] {
        if store.head(&log.clone().join(hint)).await.is_ok() {
            return true;
        }
    }
    matches!(store.list_with_delimiter(Some(&log)).await, Ok(listing) if !listing.objects.is_empty())
}

/// Opens the Delta table at `url` as `options` ask: its rows at a version, its history or
/// its summary. `snapshots` holds the versions this session has read already.
async fn open_delta(
    snapshots: &SnapshotCache,
    url: &ListingTableUrl,
    store: Arc<dyn ObjectStore>,
    options: &DeltaReadOptions,
) -> Result<Arc<dyn TableProvider>> {
    let root = url.prefix().clone();
    let store_url = url.object_store().as_str().to_string();
    let table = snapshots
        .open(store, &store_url, root, &options.as_of)
        .await?;
    crate::delta::as_table(table, options.view).await
}

/// Builds the table for `locations`, read with `options`. Delta tables among them are
/// opened through `snapshots`, the session's cache of Delta snapshots.
pub(crate) async fn open_table(
    state: &SessionState,
    config: &HostConfig,
    snapshots: &SnapshotCache,
    locations: &[String],
    options: &ReadOptions,
) -> Result<Arc<dyn TableProvider>> {
    let Some(first_location) = locations.first() else {
        return Err(Error::invalid(options.function(), "no path given"));
    };
    let mut urls = Vec::with_capacity(locations.len());
    let mut files = Vec::new();
    let mut store = None;
    for location in locations {
        let url = table_url(config, location)?;
        let s = state
            .runtime_env()
            .object_store(url.object_store())
            .map_err(Error::from_datafusion)?;
        let delta = options.kind == Some(FileKind::Delta);
        if is_delta_table(s.as_ref(), &url).await {
            if locations.len() > 1 {
                return Err(Error::invalid(
                    options.function(),
                    format!("'{location}' is a Delta table; read one Delta table at a time"),
                ));
            }
            return open_delta(snapshots, &url, s, &options.delta).await;
        }
        if delta {
            return Err(Error::invalid(
                options.function(),
                format!("'{location}' is not a Delta table (it has no _delta_log folder)"),
            ));
        }
        if let Some(pattern) = url.get_glob().clone().filter(|g| g.as_str().contains('/')) {
            // A glob across folders (`events/2026-*/part-*.parquet`): DataFusion matches
            // globs against file names only, so list below the prefix, match whole relative
            // paths here, and read the matching files by name.
            let found = list_deep_glob(s.as_ref(), &url, &pattern, location).await?;
            let base = url
                .object_store()
                .as_str()
                .trim_end_matches('/')
                .to_string();
            for meta in &found {
                urls.push(
                    ListingTableUrl::parse(format!("{base}/{}", meta.location))
                        .map_err(Error::from_datafusion)?,
                );
            }
            files.extend(found);
        } else {
            files.extend(list_files(state, s.as_ref(), &url, location).await?);
            urls.push(url);
        }
        store.get_or_insert(s);
    }
    let Some(store) = store else {
        return Err(Error::NotFound {
            path: first_location.clone(),
            original: None,
        });
    };

    let first = &files[0];
    let (kind, compression) = match options.kind {
        Some(kind) => (kind, FileKind::compression_of(first.location.as_ref())),
        None => match FileKind::from_path(first.location.as_ref()) {
            Some(found) => found,
            None => (
                sniff_kind(store.as_ref(), first).await?,
                FileCompressionType::UNCOMPRESSED,
            ),
        },
    };

    // CSV schemas are inferred here, file by file (see `csv.rs`); the other formats' by
    // DataFusion.
    let mut csv_format = None;
    let format: Arc<dyn FileFormat> = match kind {
        FileKind::Parquet => {
            Arc::new(ParquetFormat::default().with_options(state.table_options().parquet.clone()))
        }
        FileKind::Csv => {
            let mut csv = state.table_options().csv.clone();
            options.apply_csv(&mut csv, first.location.as_ref())?;
            let format = Arc::new(
                CsvFormat::default()
                    .with_options(csv)
                    .with_file_compression_type(compression),
            );
            csv_format = Some(Arc::clone(&format));
            format
        }
        FileKind::Json => {
            let array = match options.json_array {
                Some(array) => array,
                None => {
                    compression == FileCompressionType::UNCOMPRESSED
                        && starts_with_bracket(store.as_ref(), first).await?
                }
            };
            Arc::new(
                JsonFormat::default()
                    .with_options(state.table_options().json.clone())
                    .with_file_compression_type(compression)
                    .with_newline_delimited(!array),
            )
        }
        FileKind::Ipc => {
            let base = urls[0].object_store().as_str().to_string();
            return Ok(Arc::new(ipc::open_table(store, &files, &base).await?));
        }
        FileKind::Delta => {
            return Err(Error::invalid(
                options.function(),
                format!("'{first_location}' is not a Delta table"),
            ));
        }
    };

    // Globs and single files are filtered by the user's pattern; folders by the data files'
    // own suffix, so stray files beside them are ignored.
    let any_folder = urls
        .iter()
        .any(|u| u.is_collection() && u.get_glob().is_none());
    let extension = if any_folder {
        FileKind::extension_of(first.location.as_ref())
    } else {
        String::new()
    };
    let first_url = urls[0].clone();
    let listing = ListingOptions::new(format).with_file_extension(extension.clone());
    let mut table_config =
        ListingTableConfig::new_with_multi_paths(urls).with_listing_options(listing);
    if any_folder && options.hive_partitioning.unwrap_or(true) {
        table_config = table_config
            .infer_partitions_from_path(state)
            .await
            .map_err(Error::from_datafusion)?;
    }
    let store_url = first_url.object_store().as_str().to_string();
    if let Some(csv_format) = csv_format {
        // As DataFusion infers: from the files of the first location that the listing
        // reads.
        let inferred_from: Vec<&ObjectMeta> = files
            .iter()
            .filter(|f| {
                first_url.contains(&f.location, false) && f.location.as_ref().ends_with(&extension)
            })
            .collect();
        let schema = csv::infer_schema(state, &csv_format, &store, &inferred_from, &store_url)
            .await
            .map_err(|e| name_file_in_error(e, &files, &store_url))?;
        table_config = table_config.with_schema(schema);
    }
    let table_config = table_config
        .infer_schema(state)
        .await
        .map_err(|e| name_file_in_error(e, &files, &store_url))?;
    let table = ListingTable::try_new(table_config).map_err(Error::from_datafusion)?;
    Ok(Arc::new(table))
}

/// Schema inference reads footers and headers; when one is bad, say which file.
fn name_file_in_error(
    e: datafusion::error::DataFusionError,
    files: &[ObjectMeta],
    store_url: &str,
) -> Error {
    let display_path = files
        .first()
        .map(|f| display_location(store_url, f.location.as_ref()))
        .unwrap_or_default();
    let err = Error::from_datafusion(e);
    match err {
        Error::DataFusion(inner) if files.len() == 1 => {
            Error::corrupt(display_path, Error::DataFusion(inner))
        }
        Error::DataFusion(inner) => Error::CorruptFile {
            path: format!("one of {} files", files.len()),
            reason: Error::DataFusion(inner).to_string(),
        },
        other => other,
    }
}

async fn head_bytes(store: &dyn ObjectStore, meta: &ObjectMeta, n: u64) -> Result<bytes::Bytes> {
    let end = meta.size.min(n);
    store
        .get_range(&meta.location, 0..end)
        .await
        .map_err(|e| Error::from_datafusion(e.into()))
}

async fn starts_with_bracket(store: &dyn ObjectStore, meta: &ObjectMeta) -> Result<bool> {
    let head = head_bytes(store, meta, 256).await?;
    Ok(head
        .iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF)
        .is_some_and(|b| *b == b'['))
}

/// Tells the format of a file without a known extension from its first bytes.
async fn sniff_kind(store: &dyn ObjectStore, meta: &ObjectMeta) -> Result<FileKind> {
    let head = head_bytes(store, meta, 256).await?;
    if head.starts_with(b"PAR1") {
        return Ok(FileKind::Parquet);
    }
    if head.starts_with(b"ARROW1") || head.starts_with(&[0xFF, 0xFF, 0xFF, 0xFF]) {
        return Ok(FileKind::Ipc);
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => Ok(FileKind::Json),
        Some(_) if std::str::from_utf8(&head).is_ok() || head.len() == 256 => Ok(FileKind::Csv),
        _ => Err(Error::UnknownFormat {
            path: meta.location.to_string(),
            hint: "use read_parquet, read_csv, read_json or read_ipc".into(),
        }),
    }
}
