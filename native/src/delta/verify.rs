//! `quiver delta verify PATH [--deep]`: checks a Delta table's integrity from its files.
//!
//! - the commits are contiguous (from version 0, or from the checkpoint the oldest kept
//!   commit follows);
//! - every checkpoint holds the same live files as replaying the commits up to it;
//! - every `.crc` file's file count and table size agree with the replayed snapshot;
//! - every live data file exists with the size its `add` action records;
//! - the table reads at every version it has (deletion vectors resolve, schemas parse);
//! - with `--deep`, every live data file's Parquet footer reads, and its row count equals
//!   the `numRecords` in its statistics.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use quiver_engine::Session;
use serde_json::Value;
use url::Url;

/// One live data file as its `add` action describes it.
#[derive(Debug, Clone)]
struct Live {
    size: i64,
    records: Option<i64>,
}

/// What `verify` found: each check, passed or not.
#[derive(Debug, Default)]
pub struct Report {
    /// (passed, what was checked) in order.
    pub checks: Vec<(bool, String)>,
}

impl Report {
    fn ok(&mut self, what: impl Into<String>) {
        self.checks.push((true, what.into()));
    }

    fn fail(&mut self, what: impl Into<String>) {
        self.checks.push((false, what.into()));
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|(ok, _)| *ok)
    }

    /// The report as lines of text: `ok   ...` or `FAIL ...`.
    pub fn render(&self) -> String {
        self.checks
            .iter()
            .map(|(ok, what)| format!("{} {what}\n", if *ok { "ok  " } else { "FAIL" }))
            .collect()
    }
}

/// Checks the table at `location` with `store` (its object store) and `session` (whose
/// reader must read it at every version).
///
/// # Errors
/// Only when the log cannot be listed at all; everything else is a failed check.
pub async fn verify(
    session: &Session,
    store: Arc<dyn ObjectStore>,
    url: &Url,
    location: &str,
    deep: bool,
) -> Result<Report, String> {
    let root = Path::from_url_path(url.path()).map_err(|e| e.to_string())?;
    let log = root.clone().join("_delta_log");
    // Only the log's own files: writers keep temporary files in folders below it.
    let listed = store
        .list_with_delimiter(Some(&log))
        .await
        .map_err(|e| format!("cannot list {location}/_delta_log: {e}"))?
        .objects;
    let mut commits = BTreeMap::new();
    let mut checkpoints: BTreeMap<i64, Vec<Path>> = BTreeMap::new();
    let mut crcs = BTreeMap::new();
    for meta in listed {
        let Some(name) = meta.location.filename() else {
            continue;
        };
        let version = name.split('.').next().and_then(|v| v.parse::<i64>().ok());
        let Some(version) = version else { continue };
        if name.ends_with(".json") && name.matches('.').count() == 1 {
            commits.insert(version, meta.location.clone());
        } else if name.contains(".checkpoint") && name.ends_with(".parquet") {
            checkpoints
                .entry(version)
                .or_default()
                .push(meta.location.clone());
        } else if name.ends_with(".crc") {
            crcs.insert(version, meta.location.clone());
        }
    }
    let mut report = Report::default();
    let (Some(&first), Some(&last)) = (commits.keys().next(), commits.keys().last()) else {
        report.fail(format!("{location} has no commits in _delta_log"));
        return Ok(report);
    };
    let missing: Vec<i64> = (first..=last)
        .filter(|v| !commits.contains_key(v))
        .collect();
    // Commits before the oldest kept one must be summarised by a checkpoint.
    let base = if first == 0 {
        None
    } else {
        checkpoints.range(..first).next_back().map(|(v, _)| *v)
    };
    if !missing.is_empty() {
        report.fail(format!(
            "commits missing between {first} and {last}: {missing:?}"
        ));
    } else if first > 0 && base != Some(first - 1) {
        report.fail(format!(
            "the oldest commit is {first}, and no checkpoint at version {} covers those before it",
            first - 1
        ));
    } else {
        report.ok(format!(
            "commits {first}..={last} are contiguous ({} commits)",
            last - first + 1
        ));
    }

    // Replay, from the base checkpoint if the early commits are gone.
    let mut live: HashMap<String, Live> = HashMap::new();
    if let Some(base) = base {
        live = checkpoint_files(store.as_ref(), &checkpoints[&base])
            .await
            .unwrap_or_else(|e| {
                report.fail(format!("checkpoint {base} does not read: {e}"));
                HashMap::new()
            });
    }
    for (&version, path) in &commits {
        let bytes = match read(store.as_ref(), path).await {
            Ok(b) => b,
            Err(e) => {
                report.fail(format!("commit {version} does not read: {e}"));
                continue;
            }
        };
        if let Err(e) = apply(&mut live, &bytes) {
            report.fail(format!("commit {version} is not valid: {e}"));
        }
        if let Some(parts) = checkpoints.get(&version) {
            match checkpoint_files(store.as_ref(), parts).await {
                Ok(files) => compare_checkpoint(&mut report, version, &live, &files),
                Err(e) => report.fail(format!("checkpoint {version} does not read: {e}")),
            }
        }
        if let Some(crc) = crcs.get(&version) {
            check_crc(&mut report, store.as_ref(), version, crc, &live).await;
        }
    }

    // Every live file exists with its recorded size.
    let mut wrong = Vec::new();
    for (path, file) in &live {
        let at = data_path(&root, path);
        match store.head(&at).await {
            Ok(meta) if meta.size as i64 == file.size => {}
            Ok(meta) => wrong.push(format!(
                "{path}: {} bytes, the log says {}",
                meta.size, file.size
            )),
            Err(object_store::Error::NotFound { .. }) => wrong.push(format!("{path}: missing")),
            Err(e) => wrong.push(format!("{path}: {e}")),
        }
    }
    if wrong.is_empty() {
        report.ok(format!(
            "{} live data files are present with their recorded sizes",
            live.len()
        ));
    } else {
        wrong.sort();
        report.fail(format!(
            "data files do not match the log: {}",
            wrong.join("; ")
        ));
    }

    // The engine's reader reads the newest version (deletion vectors resolve) and every
    // older one whose files are still there; VACUUM removes old versions' files by design.
    let quoted = location.replace('\'', "''");
    let read = |version: i64| {
        let sql = format!("SELECT count(*) FROM '{quoted}' VERSION AS OF {version}");
        async move { session.query(&sql).await }
    };
    match read(last).await {
        Ok(_) => report.ok(format!("the newest version ({last}) reads")),
        Err(e) => report.fail(format!("the newest version ({last}) does not read: {e}")),
    }
    let mut vacuumed = Vec::new();
    let mut unreadable = Vec::new();
    for version in first.max(base.unwrap_or(0))..last {
        if let Err(e) = read(version).await {
            let message = e.to_string();
            if message.contains("not found") {
                vacuumed.push(version);
            } else {
                unreadable.push(format!("version {version}: {message}"));
            }
        }
    }
    if !unreadable.is_empty() {
        report.fail(unreadable.join("; "));
    } else if vacuumed.is_empty() {
        report.ok(format!("every older version reads ({first}..{last})"));
    } else {
        report.ok(format!(
            "older versions read, except {} whose data files were removed (VACUUM): {vacuumed:?}",
            vacuumed.len()
        ));
    }

    if deep {
        let mut bad = Vec::new();
        for (path, file) in &live {
            match footer_rows(store.as_ref(), &data_path(&root, path)).await {
                Ok(rows) if file.records.is_none_or(|n| n == rows) => {}
                Ok(rows) => bad.push(format!(
                    "{path}: {rows} rows, its statistics say {}",
                    file.records.unwrap_or_default()
                )),
                Err(e) => bad.push(format!("{path}: {e}")),
            }
        }
        if bad.is_empty() {
            report.ok(format!(
                "{} Parquet footers read, row counts equal their statistics",
                live.len()
            ));
        } else {
            bad.sort();
            report.fail(format!("data files do not read: {}", bad.join("; ")));
        }
    }
    Ok(report)
}

/// The whole object at `path`.
async fn read(store: &dyn ObjectStore, path: &Path) -> Result<bytes::Bytes, String> {
    let object = store.get(path).await.map_err(|e| e.to_string())?;
    object.bytes().await.map_err(|e| e.to_string())
}

/// A data file's location: the log's paths are relative to the table and URL-encoded.
fn data_path(root: &Path, path: &str) -> Path {
    let relative = Path::from_url_path(path).unwrap_or_else(|_| Path::from(path));
    let mut full = root.clone();
    for part in relative.parts() {
        full = full.join(part);
    }
    full
}

/// Applies one commit's actions to the live files.
fn apply(live: &mut HashMap<String, Live>, bytes: &[u8]) -> Result<(), String> {
    for line in String::from_utf8_lossy(bytes).lines() {
        if line.trim().is_empty() {
            continue;
        }
        let action: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        if let Some(add) = action.get("add") {
            let path = add["path"].as_str().ok_or("an add without a path")?;
            let size = add["size"].as_i64().ok_or("an add without a size")?;
            let records = add
                .get("stats")
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .and_then(|s| s.get("numRecords")?.as_i64());
            live.insert(path.to_string(), Live { size, records });
        } else if let Some(remove) = action.get("remove") {
            let path = remove["path"].as_str().ok_or("a remove without a path")?;
            live.remove(path);
        }
    }
    Ok(())
}

/// The live files a checkpoint lists (all its parts).
async fn checkpoint_files(
    store: &dyn ObjectStore,
    parts: &[Path],
) -> Result<HashMap<String, Live>, String> {
    let mut files = HashMap::new();
    for part in parts {
        let bytes = read(store, part).await?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())?;
        for batch in reader {
            let batch: RecordBatch = batch.map_err(|e| e.to_string())?;
            let Some(add) = batch.column_by_name("add") else {
                continue;
            };
            let add = add.as_struct();
            let (Some(paths), Some(sizes)) =
                (add.column_by_name("path"), add.column_by_name("size"))
            else {
                return Err("its add column has no path or size".into());
            };
            let paths = paths.as_string::<i32>();
            let sizes = sizes.as_primitive::<Int64Type>();
            for i in 0..add.len() {
                if add.is_valid(i) && paths.is_valid(i) {
                    files.insert(
                        paths.value(i).to_string(),
                        Live {
                            size: sizes.value(i),
                            records: None,
                        },
                    );
                }
            }
        }
    }
    Ok(files)
}

fn compare_checkpoint(
    report: &mut Report,
    version: i64,
    live: &HashMap<String, Live>,
    checkpoint: &HashMap<String, Live>,
) {
    let mut only_log: Vec<&String> = live
        .keys()
        .filter(|p| !checkpoint.contains_key(*p))
        .collect();
    let mut only_checkpoint: Vec<&String> = checkpoint
        .keys()
        .filter(|p| !live.contains_key(*p))
        .collect();
    let sizes_differ = live
        .iter()
        .filter(|(p, f)| checkpoint.get(*p).is_some_and(|c| c.size != f.size))
        .count();
    if only_log.is_empty() && only_checkpoint.is_empty() && sizes_differ == 0 {
        report.ok(format!(
            "checkpoint {version} agrees with the log ({} files)",
            live.len()
        ));
    } else {
        only_log.sort();
        only_checkpoint.sort();
        report.fail(format!(
            "checkpoint {version} disagrees with the log: {} file(s) only in the log {only_log:?}, {} only in the checkpoint {only_checkpoint:?}, {sizes_differ} with other sizes",
            only_log.len(),
            only_checkpoint.len()
        ));
    }
}

async fn check_crc(
    report: &mut Report,
    store: &dyn ObjectStore,
    version: i64,
    crc: &Path,
    live: &HashMap<String, Live>,
) {
    let text = read(store, crc).await;
    let crc: Value = match text.and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            report.fail(format!("{version}.crc does not read: {e}"));
            return;
        }
    };
    let files = live.len() as i64;
    let bytes: i64 = live.values().map(|f| f.size).sum();
    let (crc_files, crc_bytes) = (crc["numFiles"].as_i64(), crc["tableSizeBytes"].as_i64());
    if crc_files == Some(files) && crc_bytes == Some(bytes) {
        report.ok(format!(
            "{version}.crc agrees ({files} files, {bytes} bytes)"
        ));
    } else {
        report.fail(format!(
            "{version}.crc says {crc_files:?} files and {crc_bytes:?} bytes; the log gives {files} and {bytes}"
        ));
    }
}

/// The row count in a Parquet file's footer.
async fn footer_rows(store: &dyn ObjectStore, path: &Path) -> Result<i64, String> {
    let meta = store.head(path).await.map_err(|e| e.to_string())?;
    let size = meta.size;
    if size < 12 {
        return Err("too small to be a Parquet file".into());
    }
    let tail = store
        .get_range(path, size - 8..size)
        .await
        .map_err(|e| e.to_string())?;
    if &tail[4..] != b"PAR1" {
        return Err("no Parquet footer (magic bytes missing)".into());
    }
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer_len + 8 > size {
        return Err(format!("its footer length {footer_len} exceeds the file"));
    }
    let footer = store
        .get_range(path, size - 8 - footer_len..size - 8)
        .await
        .map_err(|e| e.to_string())?;
    let metadata = parquet::file::metadata::ParquetMetaDataReader::decode_metadata(&footer)
        .map_err(|e| e.to_string())?;
    Ok(metadata.file_metadata().num_rows())
}
