//! Listing and replaying the Delta log: which files make up a version, and the snapshot
//! they describe.
//!
//! Replay runs forward: the newest complete checkpoint at or before the wanted version
//! seeds the live files, then each later commit adds and removes files by
//! (path, deletion vector). The same step applies commits to a cached snapshot, so a query
//! after one new commit reads one commit. Commits are fetched a few at a time in order, and
//! checkpoints are read batch by batch, so memory follows the live files, not the log.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::record_batch::RecordBatch;
use futures::{StreamExt, TryStreamExt, stream};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use parquet::arrow::ProjectionMask;
#[expect(deprecated)]
// The object-store reader is the portable one; its replacement needs a spawner, which wasm lacks.
use parquet::arrow::async_reader::ParquetObjectReader;
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;

use super::actions::{ActionLine, Add, Metadata, Protocol, file_key};
use super::schema::TableSchema;
use crate::location::{display_location, location_url};
use crate::{Error, Result};

/// How many log files are fetched at once.
const FETCH_AHEAD: usize = 16;

/// Where a table lives: its object store and the path of its root folder there.
#[derive(Debug, Clone)]
pub struct DeltaLog {
    pub(crate) store: Arc<dyn ObjectStore>,
    /// The store's URL (`file://`, `s3://bucket`).
    pub(crate) store_url: String,
    /// The table root within the store.
    pub(crate) root: Path,
}

/// The files of one kind found in `_delta_log/`.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub commits: BTreeMap<i64, ObjectMeta>,
    /// Checkpoint files by version; a multi-part checkpoint has several, each with its part
    /// number and the number of parts.
    pub checkpoints: BTreeMap<i64, Vec<CheckpointFile>>,
    /// Version checksums (`.crc`): replay does not need them, `verify` checks them.
    pub crcs: BTreeMap<i64, ObjectMeta>,
}

#[derive(Debug, Clone)]
pub(crate) struct CheckpointFile {
    pub meta: ObjectMeta,
    /// `(part, parts)` for a multi-part checkpoint.
    pub part: Option<(u32, u32)>,
}

/// One state of a table: its version, protocol, metadata and live files.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) log: DeltaLog,
    /// The version this snapshot shows.
    pub version: i64,
    /// What a reader must support.
    pub protocol: Protocol,
    /// Schema, partitioning and configuration.
    pub metadata: Metadata,
    pub(crate) files: Arc<HashMap<(String, Option<String>), Add>>,
    pub(crate) schema: Arc<TableSchema>,
}

/// What a commit says about its time and operation.
#[derive(Debug, Clone)]
pub(crate) struct CommitSummary {
    pub version: i64,
    pub timestamp: DateTime<Utc>,
    pub info: serde_json::Map<String, serde_json::Value>,
}

fn parse_version(name: &str) -> Option<i64> {
    if name.len() >= 20 && name.as_bytes()[..20].iter().all(u8::is_ascii_digit) {
        name[..20].parse().ok()
    } else {
        None
    }
}

impl Listing {
    fn add(&mut self, meta: ObjectMeta) {
        let Some(name) = meta.location.filename().map(str::to_string) else {
            return;
        };
        let Some(version) = parse_version(&name) else {
            return;
        };
        let rest = &name[20..];
        if rest == ".json" {
            self.commits.insert(version, meta);
        } else if rest == ".crc" {
            self.crcs.insert(version, meta);
        } else if rest == ".checkpoint.parquet" {
            self.checkpoints
                .entry(version)
                .or_default()
                .push(CheckpointFile { meta, part: None });
        } else if let Some(tail) = rest.strip_prefix(".checkpoint.") {
            let pieces: Vec<&str> = tail.split('.').collect();
            match pieces.as_slice() {
                // 00..10.checkpoint.0000000001.0000000003.parquet
                [part, parts, "parquet"] if part.len() == 10 && parts.len() == 10 => {
                    if let (Ok(part), Ok(parts)) = (part.parse(), parts.parse()) {
                        self.checkpoints
                            .entry(version)
                            .or_default()
                            .push(CheckpointFile {
                                meta,
                                part: Some((part, parts)),
                            });
                    }
                }
                // v2: 00..10.checkpoint.<uuid>.json|parquet
                [_uuid, "json" | "parquet"] => self
                    .checkpoints
                    .entry(version)
                    .or_default()
                    .push(CheckpointFile { meta, part: None }),
                _ => {}
            }
        }
        // Compacted ranges (`a.b.compacted.json`) and `_last_checkpoint` are hints that replay
        // does not need: the commits they summarise are read directly.
    }

    /// The newest complete checkpoint at or before `version`.
    fn checkpoint_at_or_before(&self, version: i64) -> Option<(i64, Vec<CheckpointFile>)> {
        self.checkpoints
            .range(..=version)
            .rev()
            .find_map(|(v, files)| complete_checkpoint(files).map(|f| (*v, f)))
    }
}

/// The files of one complete checkpoint among those written for a version: a single file, a
/// v2 checkpoint, or every part of a multi-part one.
pub(super) fn complete_checkpoint(files: &[CheckpointFile]) -> Option<Vec<CheckpointFile>> {
    if let Some(single) = files.iter().find(|f| f.part.is_none()) {
        return Some(vec![single.clone()]);
    }
    let mut by_parts: BTreeMap<u32, BTreeMap<u32, CheckpointFile>> = BTreeMap::new();
    for f in files {
        if let Some((part, parts)) = f.part {
            by_parts.entry(parts).or_default().insert(part, f.clone());
        }
    }
    by_parts.into_iter().rev().find_map(|(parts, found)| {
        (found.len() == parts as usize && found.keys().copied().eq(1..=parts))
            .then(|| found.into_values().collect())
    })
}

impl DeltaLog {
    pub(crate) fn new(store: Arc<dyn ObjectStore>, store_url: String, root: Path) -> Self {
        Self {
            store,
            store_url,
            root,
        }
    }

    /// The table's location as a person writes it.
    pub fn display(&self) -> String {
        display_location(&self.store_url, self.root.as_ref())
    }

    /// The table's location as a URL (`file:///...`, `s3://bucket/...`), for writers.
    pub fn url(&self) -> String {
        location_url(&self.store_url, self.root.as_ref())
    }

    pub(crate) fn log_path(&self, name: &str) -> Path {
        self.root.clone().join("_delta_log").join(name)
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::Delta {
            table: self.display(),
            message: message.into(),
        }
    }

    fn file_error(&self, path: &Path, e: impl std::fmt::Display) -> Error {
        Error::CorruptFile {
            path: display_location(&self.store_url, path.as_ref()),
            reason: e.to_string(),
        }
    }

    fn storage_error(&self, path: &Path, e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { .. } => Error::NotFound {
                path: display_location(&self.store_url, path.as_ref()),
                original: None,
            },
            other => Error::Storage {
                url: display_location(&self.store_url, path.as_ref()),
                reason: other.to_string(),
            },
        }
    }

    /// Lists `_delta_log/`, from the entry after `after` when given. A store that cannot list
    /// (a plain HTTP server) is probed instead: the checkpoint `_last_checkpoint` names, then
    /// commit after commit until one is missing.
    pub(super) async fn list(&self, after: Option<&str>) -> Result<Listing> {
        let listed = self.list_by_store(after).await;
        if !self.store_url.starts_with("http") {
            return listed;
        }
        match listed {
            Ok(l) if !l.commits.is_empty() || !l.checkpoints.is_empty() => Ok(l),
            Ok(_) => self.list_by_probing(after).await,
            Err(e) => {
                log::debug!("{}: listing failed ({e}); probing the log", self.display());
                self.list_by_probing(after).await
            }
        }
    }

    async fn list_by_probing(&self, after: Option<&str>) -> Result<Listing> {
        let mut listing = Listing::default();
        let mut next = after.and_then(parse_version).map_or(0, |v| v + 1);
        if let Some((cp, parts)) = self.last_checkpoint().await
            && cp >= next
        {
            let names: Vec<String> = match parts {
                Some(n) if n > 1 => (1..=n)
                    .map(|p| format!("{cp:020}.checkpoint.{p:010}.{n:010}.parquet"))
                    .collect(),
                _ => vec![format!("{cp:020}.checkpoint.parquet")],
            };
            for name in names {
                if let Ok(meta) = self.store.head(&self.log_path(&name)).await {
                    listing.add(meta);
                }
            }
            if !listing.checkpoints.is_empty()
                && self
                    .store
                    .head(&self.log_path(&format!("{next:020}.json")))
                    .await
                    .is_err()
            {
                next = cp + 1;
            }
        }
        loop {
            let batch: Vec<i64> = (next..next + FETCH_AHEAD as i64).collect();
            let found: Vec<Option<ObjectMeta>> = stream::iter(batch)
                .map(|v| async move {
                    self.store
                        .head(&self.log_path(&format!("{v:020}.json")))
                        .await
                        .ok()
                })
                .buffered(FETCH_AHEAD)
                .collect()
                .await;
            let present = found.iter().take_while(|m| m.is_some()).count();
            for meta in found.into_iter().flatten().take(present) {
                listing.add(meta);
            }
            if present < FETCH_AHEAD {
                return Ok(listing);
            }
            next += FETCH_AHEAD as i64;
        }
    }

    async fn list_by_store(&self, after: Option<&str>) -> Result<Listing> {
        let prefix = self.root.clone().join("_delta_log");
        let mut listing = Listing::default();
        let mut entries = match after {
            Some(name) => self
                .store
                .list_with_offset(Some(&prefix), &prefix.clone().join(name)),
            None => self.store.list(Some(&prefix)),
        };
        let depth = prefix.parts().count() + 1;
        while let Some(meta) = entries
            .try_next()
            .await
            .map_err(|e| self.storage_error(&prefix, e))?
        {
            // Sidecars live in `_delta_log/_sidecars/`; only direct children are log files.
            if meta.location.parts().count() == depth {
                listing.add(meta);
            }
        }
        Ok(listing)
    }

    /// The checkpoint version `_last_checkpoint` names, and its number of parts. A missing or
    /// unreadable hint is ignored: replay then lists the whole log.
    async fn last_checkpoint(&self) -> Option<(i64, Option<u32>)> {
        let path = self.log_path("_last_checkpoint");
        let bytes = self.store.get(&path).await.ok()?.bytes().await.ok()?;
        let value: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                log::warn!("ignoring unreadable {path}: {e}");
                return None;
            }
        };
        let version = value.get("version")?.as_i64()?;
        let parts = value
            .get("parts")
            .and_then(serde_json::Value::as_u64)
            .map(|p| p as u32);
        Some((version, parts))
    }

    /// Lists what is needed to read `version` (the newest when `None`): from the checkpoint
    /// `_last_checkpoint` names when reading the newest, else the whole log.
    async fn listing_for(&self, version: Option<i64>) -> Result<Listing> {
        if version.is_none()
            && let Some((cp, parts)) = self.last_checkpoint().await
            && cp > 0
        {
            let listing = self.list(Some(&format!("{:020}", cp - 1))).await?;
            if let Some(files) = listing.checkpoints.get(&cp) {
                let found = files.iter().filter(|f| f.part.is_some()).count() as u32;
                if let Some(parts) = parts.filter(|p| *p > 1)
                    && found != parts
                    && complete_checkpoint(files).is_none()
                {
                    return Err(self.file_error(
                        &self.log_path("_last_checkpoint"),
                        format!(
                            "names a checkpoint of version {cp} in {parts} parts, but {found} parts are there"
                        ),
                    ));
                }
                if complete_checkpoint(files).is_some() {
                    return Ok(listing);
                }
            }
            log::warn!(
                "{}: _last_checkpoint names version {cp}, which has no complete checkpoint; listing the whole log",
                self.display()
            );
        }
        self.list(None).await
    }

    /// Replays the log up to `version` (the newest when `None`).
    pub(crate) async fn snapshot(&self, version: Option<i64>) -> Result<Snapshot> {
        let listing = self.listing_for(version).await?;
        let newest = listing
            .commits
            .keys()
            .next_back()
            .copied()
            .into_iter()
            .chain(listing.checkpoints.keys().next_back().copied())
            .max();
        let Some(newest) = newest else {
            return Err(self.error("the _delta_log folder holds no commits"));
        };
        let target = version.unwrap_or(newest);
        if target < 0 || target > newest {
            return Err(self.error(format!(
                "version {target} does not exist; the newest version is {newest}"
            )));
        }
        let checkpoint = listing.checkpoint_at_or_before(target);
        let start = checkpoint.as_ref().map_or(0, |(v, _)| v + 1);
        let mut state = ReplayState::default();
        if let Some((_, files)) = &checkpoint {
            self.read_checkpoint(files, &mut state).await?;
        } else if !listing.commits.contains_key(&0) {
            let first = listing.commits.keys().next().copied().unwrap_or(target);
            return Err(self.error(format!(
                "version {target} cannot be rebuilt: the log starts at version {first} and no checkpoint covers the versions before it"
            )));
        }
        let commits = self.commit_range(&listing, start, target)?;
        self.apply_commits(commits, &mut state).await?;
        self.finish(target, state)
    }

    /// The commit files `from..=to`, which must all be present.
    fn commit_range(&self, listing: &Listing, from: i64, to: i64) -> Result<Vec<ObjectMeta>> {
        let mut out = Vec::new();
        for v in from..=to {
            match listing.commits.get(&v) {
                Some(meta) => out.push(meta.clone()),
                None => {
                    return Err(self.error(format!(
                        "commit {v} is missing from the log (versions must be contiguous)"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Brings `snapshot` up to the newest version, replaying only the commits after it.
    /// Returns `None` when nothing changed.
    pub(crate) async fn update(&self, snapshot: &Snapshot) -> Result<Option<Snapshot>> {
        let listing = self
            .list(Some(&format!("{:020}.json", snapshot.version)))
            .await?;
        let Some(&newest) = listing.commits.keys().next_back() else {
            return Ok(None);
        };
        if newest <= snapshot.version {
            return Ok(None);
        }
        let commits = self.commit_range(&listing, snapshot.version + 1, newest)?;
        let mut state = ReplayState {
            protocol: Some(snapshot.protocol.clone()),
            metadata: Some(snapshot.metadata.clone()),
            files: Arc::unwrap_or_clone(Arc::clone(&snapshot.files)),
        };
        self.apply_commits(commits, &mut state).await?;
        self.finish(newest, state).map(Some)
    }

    fn finish(&self, version: i64, state: ReplayState) -> Result<Snapshot> {
        let protocol = state
            .protocol
            .ok_or_else(|| self.error("the log holds no protocol action"))?;
        let metadata = state
            .metadata
            .ok_or_else(|| self.error("the log holds no metadata action"))?;
        super::schema::check_protocol(&protocol).map_err(|m| self.error(m))?;
        if metadata.schema_string.is_none() {
            return Err(self.error(format!(
                "version {version} has no schema: the newest metaData action up to it has no schemaString (some writers add it in a later commit; read a version that has one)"
            )));
        }
        let schema = TableSchema::from_metadata(&metadata).map_err(|m| self.error(m))?;
        Ok(Snapshot {
            log: self.clone(),
            version,
            protocol,
            metadata,
            files: Arc::new(state.files),
            schema: Arc::new(schema),
        })
    }

    pub(crate) async fn read_bytes(&self, path: &Path) -> Result<bytes::Bytes> {
        self.store
            .get(path)
            .await
            .map_err(|e| self.storage_error(path, e))?
            .bytes()
            .await
            .map_err(|e| self.storage_error(path, e))
    }

    /// Parses a JSON log file (a commit or a JSON checkpoint) into actions.
    fn parse_json(&self, path: &Path, bytes: &[u8]) -> Result<Vec<ActionLine>> {
        let text = std::str::from_utf8(bytes).map_err(|e| self.file_error(path, e))?;
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str::<ActionLine>(line)
                    .map_err(|e| self.file_error(path, format!("line {}: {e}", i + 1)))
            })
            .collect()
    }

    pub(super) async fn apply_commits(
        &self,
        commits: Vec<ObjectMeta>,
        state: &mut ReplayState,
    ) -> Result<()> {
        let mut fetched = stream::iter(commits)
            .map(|meta| async move {
                let bytes = self.read_bytes(&meta.location).await?;
                let actions = self.parse_json(&meta.location, &bytes)?;
                Ok::<_, Error>(actions)
            })
            .buffered(FETCH_AHEAD);
        while let Some(actions) = fetched.next().await {
            for action in actions? {
                state.apply_commit_action(action);
            }
        }
        Ok(())
    }

    /// Reads a checkpoint's files (and a v2 checkpoint's sidecars) into `state`.
    pub(super) async fn read_checkpoint(
        &self,
        files: &[CheckpointFile],
        state: &mut ReplayState,
    ) -> Result<()> {
        let mut sidecars = Vec::new();
        for file in files {
            let path = &file.meta.location;
            if path.as_ref().ends_with(".json") {
                let bytes = self.read_bytes(path).await?;
                for action in self.parse_json(path, &bytes)? {
                    if let Some(sidecar) = &action.sidecar {
                        sidecars.push(sidecar.path.clone());
                    }
                    state.apply_checkpoint_action(action);
                }
            } else {
                self.read_parquet_actions(path, Some(file.meta.size), |action| {
                    if let Some(sidecar) = &action.sidecar {
                        sidecars.push(sidecar.path.clone());
                    }
                    state.apply_checkpoint_action(action);
                })
                .await?;
            }
        }
        for sidecar in sidecars {
            let path = self.sidecar_path(&sidecar)?;
            self.read_parquet_actions(&path, None, |action| state.apply_checkpoint_action(action))
                .await?;
        }
        Ok(())
    }

    fn sidecar_path(&self, raw: &str) -> Result<Path> {
        if raw.contains(':') {
            return super::paths::resolve(self, raw);
        }
        let relative = Path::from_url_path(raw).map_err(|e| {
            self.file_error(
                &self.log_path("_sidecars"),
                format!("bad sidecar path '{raw}': {e}"),
            )
        })?;
        Ok(Path::from_iter(
            self.root
                .clone()
                .join("_delta_log")
                .join("_sidecars")
                .parts()
                .chain(relative.parts()),
        ))
    }

    /// Reads the actions of a Parquet log file (checkpoint or sidecar), batch by batch. Only
    /// the columns replay needs are read: not the parsed statistics, not tags.
    async fn read_parquet_actions(
        &self,
        path: &Path,
        size: Option<u64>,
        mut apply: impl FnMut(ActionLine),
    ) -> Result<()> {
        #[expect(deprecated)]
        let mut reader = ParquetObjectReader::new(Arc::clone(&self.store), path.clone());
        if let Some(size) = size {
            reader = reader.with_file_size(size);
        }
        let builder = ParquetRecordBatchStreamBuilder::new(reader)
            .await
            .map_err(|e| self.parquet_error(path, e))?;
        let schema = builder.parquet_schema();
        // Checkpoint `remove` rows are tombstones replay ignores: not read at all.
        let wanted = ["add", "metaData", "protocol", "sidecar"];
        let leaves: Vec<usize> = (0..schema.num_columns())
            .filter(|&i| {
                let parts = schema.column(i).path().parts().to_vec();
                parts.first().is_some_and(|p| wanted.contains(&p.as_str()))
                    && !parts.iter().any(|p| {
                        p == "stats_parsed" || p == "partitionValues_parsed" || p == "tags"
                    })
            })
            .collect();
        let mask = ProjectionMask::leaves(schema, leaves);
        let mut batches = builder
            .with_projection(mask)
            .build()
            .map_err(|e| self.parquet_error(path, e))?;
        while let Some(batch) = batches
            .try_next()
            .await
            .map_err(|e| self.parquet_error(path, e))?
        {
            let (adds, others) =
                super::checkpoint::split_batch(&batch).map_err(|e| self.file_error(path, e))?;
            for add in adds {
                apply(ActionLine {
                    add: Some(add),
                    ..ActionLine::default()
                });
            }
            for row in others {
                for action in self.batch_actions(path, &batch.slice(row, 1))? {
                    apply(action);
                }
            }
        }
        Ok(())
    }

    fn parquet_error(&self, path: &Path, e: parquet::errors::ParquetError) -> Error {
        match e {
            parquet::errors::ParquetError::External(inner) => {
                match inner.downcast::<object_store::Error>() {
                    Ok(store_error) => self.storage_error(path, *store_error),
                    Err(other) => self.file_error(path, other),
                }
            }
            other => self.file_error(path, other),
        }
    }

    /// Turns checkpoint rows other than `add` into actions through their JSON form, so that
    /// checkpoints and commits share one parser for them.
    fn batch_actions(&self, path: &Path, batch: &RecordBatch) -> Result<Vec<ActionLine>> {
        let mut buf = Vec::with_capacity(batch.num_rows() * 256);
        let mut writer = LineDelimitedWriter::new(&mut buf);
        writer.write(batch).map_err(|e| self.file_error(path, e))?;
        writer.finish().map_err(|e| self.file_error(path, e))?;
        drop(writer);
        self.parse_json(path, &buf)
    }

    /// Each commit's version, time and `commitInfo`, newest first. The time is the in-commit
    /// timestamp where the table records one, otherwise the commit file's modification time
    /// (kept increasing, as the protocol asks).
    pub(crate) async fn commits(&self) -> Result<Vec<CommitSummary>> {
        let listing = self.list(None).await?;
        let metas: Vec<ObjectMeta> = listing.commits.into_values().collect();
        let infos: Vec<(ObjectMeta, serde_json::Map<String, serde_json::Value>)> =
            stream::iter(metas)
                .map(|meta| async move {
                    let info = self.commit_info(&meta).await?;
                    Ok::<_, Error>((meta, info))
                })
                .buffered(FETCH_AHEAD)
                .try_collect()
                .await?;
        Ok(Self::summaries(infos))
    }

    async fn commit_info(
        &self,
        meta: &ObjectMeta,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let bytes = self.read_bytes(&meta.location).await?;
        Ok(self
            .parse_json(&meta.location, &bytes)?
            .into_iter()
            .find_map(|a| a.commit_info)
            .unwrap_or_default())
    }

    /// Commit times, newest first, from in-commit timestamps or increasing file times.
    fn summaries(
        infos: Vec<(ObjectMeta, serde_json::Map<String, serde_json::Value>)>,
    ) -> Vec<CommitSummary> {
        let mut out = Vec::with_capacity(infos.len());
        let mut last: Option<DateTime<Utc>> = None;
        for (meta, info) in infos {
            let Some(version) = meta.location.filename().and_then(parse_version) else {
                continue;
            };
            let mut timestamp = info
                .get("inCommitTimestamp")
                .and_then(serde_json::Value::as_i64)
                .and_then(DateTime::from_timestamp_millis)
                .unwrap_or(meta.last_modified);
            if let Some(prev) = last
                && timestamp <= prev
                && !info.contains_key("inCommitTimestamp")
            {
                timestamp = prev + chrono::Duration::milliseconds(1);
            }
            last = Some(timestamp);
            out.push(CommitSummary {
                version,
                timestamp,
                info,
            });
        }
        out.reverse();
        out
    }

    /// The newest version committed at or before `at`.
    pub(crate) async fn version_at(&self, at: DateTime<Utc>) -> Result<i64> {
        // Without in-commit timestamps (the newest commit tells), file times answer, and no
        // commit needs reading.
        let listing = self.list(None).await?;
        let newest_has_ict = match listing.commits.values().next_back() {
            Some(meta) => self
                .commit_info(meta)
                .await?
                .contains_key("inCommitTimestamp"),
            None => false,
        };
        let commits = if newest_has_ict {
            self.commits().await?
        } else {
            Self::summaries(
                listing
                    .commits
                    .into_values()
                    .map(|m| (m, serde_json::Map::new()))
                    .collect(),
            )
        };
        if let Some(found) = commits.iter().find(|c| c.timestamp <= at) {
            return Ok(found.version);
        }
        match commits.last() {
            Some(first) => Err(self.error(format!(
                "no version at or before {}: the first available commit (version {}) is at {}",
                at.to_rfc3339(),
                first.version,
                first.timestamp.to_rfc3339()
            ))),
            None => Err(self.error("the _delta_log folder holds no commits")),
        }
    }
}

/// What replay has gathered so far.
#[derive(Debug, Default)]
pub(super) struct ReplayState {
    pub protocol: Option<Protocol>,
    pub metadata: Option<Metadata>,
    pub files: HashMap<(String, Option<String>), Add>,
}

impl ReplayState {
    fn apply_commit_action(&mut self, action: ActionLine) {
        if let Some(remove) = action.remove {
            self.files
                .remove(&file_key(&remove.path, remove.deletion_vector.as_ref()));
        }
        self.apply_checkpoint_action(ActionLine {
            remove: None,
            ..action
        });
    }

    /// Checkpoint `remove` actions are tombstones of files already gone: ignored.
    fn apply_checkpoint_action(&mut self, action: ActionLine) {
        if let Some(add) = action.add {
            self.files
                .insert(file_key(&add.path, add.deletion_vector.as_ref()), add);
        }
        if let Some(p) = action.protocol {
            self.protocol = Some(p);
        }
        if let Some(m) = action.meta_data {
            self.metadata = Some(m);
        }
    }
}

impl Snapshot {
    /// The live data files.
    pub fn files(&self) -> impl Iterator<Item = &Add> {
        self.files.values()
    }

    /// The table's location as a person writes it.
    pub fn location(&self) -> String {
        self.log.display()
    }

    /// The table's location as a URL.
    pub fn url(&self) -> String {
        self.log.url()
    }

    /// The table's columns, as queries see them.
    pub fn arrow_schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        Arc::clone(&self.schema.logical)
    }
}
