//! Helpers shared by the workspace tests.
#![allow(dead_code)]

use std::path::PathBuf;

use quiver_engine::Session;
use quiver_engine::arrow::record_batch::RecordBatch;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/testdata`, the corpora written by other projects.
///
/// Returns `None` (after saying so) when the folder is absent on a developer machine; on CI
/// (`CI=true`) a missing folder is a failure, so no corpus test is skipped silently there.
pub fn testdata() -> Option<PathBuf> {
    let dir = root().join("../shared/testdata");
    if dir.is_dir() {
        return Some(dir.canonicalize().expect("canonical testdata path"));
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("../shared/testdata is missing, and CI=true: the corpus tests cannot run");
    }
    eprintln!("SKIPPED: ../shared/testdata is not beside the workspace");
    None
}

/// A session configured like the CLI's (memory-mapped local files, S3, HTTP).
pub fn session(target_partitions: usize) -> Session {
    let resources = quiver::host::Resources {
        threads: Some(target_partitions),
        // SAFETY: the corpora and the files tests write are not changed while queries read
        // them, as the CLI promises for its inputs.
        mmap: unsafe { quiver::mmap::MmapChoice::auto() },
        ..Default::default()
    };
    Session::new(quiver::host::config(&resources)).expect("session")
}

/// Total rows in `batches`.
pub fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}
pub mod slt;
pub mod tpch;
