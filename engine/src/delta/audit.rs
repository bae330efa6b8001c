//! The log walked version by version, with the reader's own rules, for tools that check a
//! table rather than read it (`quiver delta verify`).
//!
//! A reader wants one version and takes the shortest way there: the newest checkpoint, then
//! the commits after it. A checker wants every step: it replays the commits one at a time
//! and compares what it has with each checkpoint and checksum on the way. Both go through the
//! same listing, the same commit parser and the same checkpoint reader (classic, multi-part
//! and v2 checkpoints with sidecars), so a log the reader refuses is one the checker reports.

use object_store::ObjectMeta;
use object_store::path::Path;

use super::actions::Add;
use super::log::{DeltaLog, Listing, ReplayState, complete_checkpoint};
use crate::Result;

/// A table's log as listed once: its commits, checkpoints and checksums by version.
#[derive(Debug)]
pub struct LogWalk {
    log: DeltaLog,
    listing: Listing,
}

/// The live files (and the newest protocol and metadata) after some steps of a walk.
#[derive(Debug, Default)]
pub struct LiveFiles(ReplayState);

impl LiveFiles {
    /// The live data files: one `add` per (path, deletion vector).
    pub fn files(&self) -> impl Iterator<Item = &Add> {
        self.0.files.values()
    }

    /// How many files are live.
    pub fn len(&self) -> usize {
        self.0.files.len()
    }

    /// True when no file is live.
    pub fn is_empty(&self) -> bool {
        self.0.files.is_empty()
    }
}

impl LogWalk {
    /// Lists the log of `log`'s table.
    ///
    /// # Errors
    /// When `_delta_log/` cannot be listed.
    pub async fn list(log: DeltaLog) -> Result<Self> {
        let listing = log.list(None).await?;
        Ok(Self { log, listing })
    }

    /// The table's location as a person writes it.
    pub fn location(&self) -> String {
        self.log.display()
    }

    /// The versions that have a commit file, oldest first.
    pub fn commits(&self) -> Vec<i64> {
        self.listing.commits.keys().copied().collect()
    }

    /// The versions that have checkpoint files, complete or not, oldest first.
    pub fn checkpoints(&self) -> Vec<i64> {
        self.listing.checkpoints.keys().copied().collect()
    }

    /// The versions that have a `.crc` checksum file, oldest first.
    pub fn checksums(&self) -> Vec<i64> {
        self.listing.crcs.keys().copied().collect()
    }

    /// True when the checkpoint files of `version` make a whole checkpoint (a single file, a
    /// v2 checkpoint, or every part of a multi-part one).
    pub fn checkpoint_is_complete(&self, version: i64) -> bool {
        self.listing
            .checkpoints
            .get(&version)
            .is_some_and(|files| complete_checkpoint(files).is_some())
    }

    /// What the checkpoint of `version` says is live, read as a reader starting there would.
    ///
    /// # Errors
    /// When `version` has no complete checkpoint, or it (or a sidecar) does not read.
    pub async fn checkpoint(&self, version: i64) -> Result<LiveFiles> {
        let files = self
            .listing
            .checkpoints
            .get(&version)
            .and_then(|files| complete_checkpoint(files));
        let Some(files) = files else {
            return Err(crate::Error::Delta {
                table: self.location(),
                message: format!("version {version} has no complete checkpoint"),
            });
        };
        let mut live = LiveFiles::default();
        self.log.read_checkpoint(&files, &mut live.0).await?;
        Ok(live)
    }

    /// Applies the commit of `version` to `live`.
    ///
    /// # Errors
    /// When the commit is missing, does not read, or is not valid JSON actions.
    pub async fn apply_commit(&self, version: i64, live: &mut LiveFiles) -> Result<()> {
        let Some(meta) = self.listing.commits.get(&version) else {
            return Err(crate::Error::Delta {
                table: self.location(),
                message: format!("commit {version} is missing from the log"),
            });
        };
        self.log
            .apply_commits(vec![meta.clone()], &mut live.0)
            .await
    }

    /// The `.crc` checksum of `version`, parsed as JSON.
    ///
    /// # Errors
    /// When there is none, or it does not read or parse.
    pub async fn checksum(&self, version: i64) -> Result<serde_json::Value> {
        let Some(meta) = self.listing.crcs.get(&version) else {
            return Err(crate::Error::Delta {
                table: self.location(),
                message: format!("version {version} has no .crc file"),
            });
        };
        let bytes = self.log.read_bytes(&meta.location).await?;
        serde_json::from_slice(&bytes).map_err(|e| crate::Error::CorruptFile {
            path: self.display(meta),
            reason: e.to_string(),
        })
    }

    /// Where the data file an `add` names is, in the table's store (relative paths are
    /// URL-encoded and relative to the table root; absolute ones are URLs).
    ///
    /// # Errors
    /// When the path does not parse or points outside the table's store.
    pub fn data_file(&self, add: &Add) -> Result<Path> {
        super::paths::resolve(&self.log, &add.path)
    }

    fn display(&self, meta: &ObjectMeta) -> String {
        crate::location::display_location(&self.log.store_url, meta.location.as_ref())
    }
}
