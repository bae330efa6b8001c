//! `quiver delta verify PATH [--deep]`: checks a Delta table's integrity from its files.
//! The log is read as the engine's reader reads it (one listing, one commit parser, one
//! checkpoint reader for classic, multi-part and v2 checkpoints with sidecars), stepping
//! through every commit instead of jumping to the newest checkpoint:
//!
//! - the commits are contiguous (from version 0, or from the checkpoint the oldest kept
//!   commit follows);
//! - every checkpoint holds the same live files as replaying the commits up to it;
//! - every `.crc` file's file count and table size agree with the replayed snapshot;
//! - every live data file exists with the size its `add` action records;
//! - the table reads at every version it has (deletion vectors resolve, schemas parse);
//! - with `--deep`, every live data file's Parquet footer reads, and its row count equals
//!   the `numRecords` in its statistics.

use std::collections::{BTreeSet, HashMap};

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use quiver_engine::Session;
use quiver_engine::delta::LiveFiles;
use serde_json::Value;
use url::Url;

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

/// One live data file: its size and the row count its statistics give.
#[derive(Debug, Clone, PartialEq)]
struct Live {
    size: i64,
    records: Option<i64>,
}

/// The live files by path, from the engine's replay.
fn by_path(files: &LiveFiles) -> HashMap<String, Live> {
    files
        .files()
        .map(|add| {
            let records = add
                .stats
                .as_deref()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .and_then(|s| s.get("numRecords")?.as_i64());
            let live = Live {
                size: add.size,
                records,
            };
            (add.path.clone(), live)
        })
        .collect()
}

/// Checks the table at `url` (`location` as the user wrote it), reading its log with the
/// engine's own listing, commit parser and checkpoint reader
/// ([`quiver_engine::delta::LogWalk`]), and its data files through `session`'s object store.
///
/// # Errors
/// Only when the log cannot be listed at all; everything else is a failed check.
pub async fn verify(
    session: &Session,
    url: &Url,
    location: &str,
    deep: bool,
) -> Result<Report, String> {
    let walk = session.delta_log(url).await.map_err(|e| e.to_string())?;
    let store = session.object_store(url).map_err(|e| e.to_string())?;
    let commits = walk.commits();
    let checkpoints: BTreeSet<i64> = walk.checkpoints().into_iter().collect();
    let checksums: BTreeSet<i64> = walk.checksums().into_iter().collect();
    let mut report = Report::default();
    let (Some(&first), Some(&last)) = (commits.first(), commits.last()) else {
        report.fail(format!("{location} has no commits in _delta_log"));
        return Ok(report);
    };
    let missing: Vec<i64> = (first..=last)
        .filter(|v| commits.binary_search(v).is_err())
        .collect();
    // Commits before the oldest kept one must be summarised by a checkpoint.
    let base = if first == 0 {
        None
    } else {
        checkpoints
            .range(..first)
            .rev()
            .find(|v| walk.checkpoint_is_complete(**v))
            .copied()
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

    // Replay one commit at a time, from the base checkpoint if the early commits are gone,
    // comparing with every checkpoint and checksum on the way.
    let mut live = LiveFiles::default();
    if let Some(base) = base {
        live = walk.checkpoint(base).await.unwrap_or_else(|e| {
            report.fail(format!("checkpoint {base} does not read: {e}"));
            LiveFiles::default()
        });
    }
    for &version in &commits {
        if let Err(e) = walk.apply_commit(version, &mut live).await {
            report.fail(format!("commit {version} is not valid: {e}"));
        }
        if checkpoints.contains(&version) || checksums.contains(&version) {
            let replayed = by_path(&live);
            if checkpoints.contains(&version) {
                match walk.checkpoint(version).await {
                    Ok(files) => {
                        compare_checkpoint(&mut report, version, &replayed, &by_path(&files))
                    }
                    Err(e) => report.fail(format!("checkpoint {version} does not read: {e}")),
                }
            }
            if checksums.contains(&version) {
                check_crc(
                    &mut report,
                    walk.checksum(version).await,
                    version,
                    &replayed,
                );
            }
        }
    }

    // Every live file exists with its recorded size.
    let mut wrong = Vec::new();
    let mut located = Vec::new();
    for add in live.files() {
        match walk.data_file(add) {
            Ok(at) => located.push((add, at)),
            Err(e) => wrong.push(format!("{}: {e}", add.path)),
        }
    }
    for (add, at) in &located {
        match store.head(at).await {
            Ok(meta) if meta.size as i64 == add.size => {}
            Ok(meta) => wrong.push(format!(
                "{}: {} bytes, the log says {}",
                add.path, meta.size, add.size
            )),
            Err(object_store::Error::NotFound { .. }) => {
                wrong.push(format!("{}: missing", add.path));
            }
            Err(e) => wrong.push(format!("{}: {e}", add.path)),
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
        let records = by_path(&live);
        let mut bad = Vec::new();
        for (add, at) in &located {
            let expected = records.get(&add.path).and_then(|l| l.records);
            match footer_rows(store.as_ref(), at).await {
                Ok(rows) if expected.is_none_or(|n| n == rows) => {}
                Ok(rows) => bad.push(format!(
                    "{}: {rows} rows, its statistics say {}",
                    add.path,
                    expected.unwrap_or_default()
                )),
                Err(e) => bad.push(format!("{}: {e}", add.path)),
            }
        }
        if bad.is_empty() {
            report.ok(format!(
                "{} Parquet footers read, row counts equal their statistics",
                located.len()
            ));
        } else {
            bad.sort();
            report.fail(format!("data files do not read: {}", bad.join("; ")));
        }
    }
    Ok(report)
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

/// Compares a `.crc` checksum (as read) with the replayed live files.
fn check_crc(
    report: &mut Report,
    crc: quiver_engine::Result<Value>,
    version: i64,
    live: &HashMap<String, Live>,
) {
    let crc = match crc {
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
