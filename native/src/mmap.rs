//! Local files for the engine, with opt-in zero-copy reads through memory maps.
//!
//! [`MmapStore`] wraps object_store's local filesystem and lists folders faster. Whether its
//! reads map files is an [`MmapChoice`], in ripgrep's manner: the safe default never maps;
//! [`MmapChoice::auto`] is `unsafe` and says in its `# Safety` section what the caller
//! promises. With maps, ranged reads hand out [`Bytes`] that point into the map, so Arrow IPC
//! arrays and Parquet pages are decoded straight from the page cache without a copy. Every
//! other operation goes to the wrapped store.

use std::fmt;
use std::fs::File;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ListResult, MultipartUpload,
    ObjectMeta, ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload,
    PutResult, RenameOptions, Result,
};

/// Whether reads of local files may use memory maps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MmapChoice {
    map: bool,
}

impl MmapChoice {
    /// Never map: reads copy bytes out of the file. Safe whatever happens to the files.
    pub fn never() -> Self {
        Self { map: false }
    }

    /// Map files for ranged reads, so decoded arrays point into the page cache.
    ///
    /// # Safety
    /// A memory map shows later changes to the file, and truncating a mapped file makes
    /// access beyond its new end fault (SIGBUS). The caller promises that files read through
    /// the store are neither truncated nor rewritten in place while a query that read them
    /// (or a batch it returned) is alive. Delta data files and the files Quiver writes are
    /// never changed in place; a file that is can give wrong results or end the process, as
    /// with other mmap readers.
    pub unsafe fn auto() -> Self {
        Self { map: true }
    }

    /// True when reads map files.
    pub fn maps(self) -> bool {
        self.map
    }
}

/// A local-filesystem store whose ranged reads are memory-mapped when its [`MmapChoice`]
/// allows.
#[derive(Debug)]
pub struct MmapStore {
    inner: Arc<LocalFileSystem>,
    choice: MmapChoice,
}

impl MmapStore {
    /// A store for the whole local filesystem.
    pub fn new(choice: MmapChoice) -> Self {
        Self {
            inner: Arc::new(LocalFileSystem::new()),
            choice,
        }
    }

    fn map(&self, location: &Path) -> Result<Bytes> {
        let path = self.inner.path_to_filesystem(location)?;
        let not_found = |e: std::io::Error| -> object_store::Error {
            if e.kind() == std::io::ErrorKind::NotFound {
                object_store::Error::NotFound {
                    path: path.display().to_string(),
                    source: Box::new(e),
                }
            } else {
                object_store::Error::Generic {
                    store: "mmap",
                    source: Box::new(e),
                }
            }
        };
        let file = File::open(&path).map_err(not_found)?;
        let meta = file.metadata().map_err(not_found)?;
        if meta.is_dir() {
            return Err(object_store::Error::NotFound {
                path: path.display().to_string(),
                source: "is a directory".into(),
            });
        }
        if meta.len() == 0 {
            return Ok(Bytes::new());
        }
        // SAFETY: only reached when the store was built with `MmapChoice::auto`, whose caller
        // promised that files read here are not truncated or changed in place.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(not_found)?;
        Ok(Bytes::from_owner(map))
    }
}

impl fmt::Display for MmapStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MmapStore({})", self.inner)
    }
}

/// The files below `root` whose object path sorts after `offset`, in no particular order.
/// Folders whose every path sorts before `offset` are not entered.
fn list_after(root: std::path::PathBuf, offset: &str) -> Vec<Result<ObjectMeta>> {
    let mut out = Vec::new();
    let mut folders = vec![root];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                out.push(Err(object_store::Error::Generic {
                    store: "mmap",
                    source: Box::new(e),
                }));
                continue;
            }
        };
        // One path conversion per folder (it resolves the path on disk), then names only.
        let Ok(base) = Path::from_filesystem_path(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let location = base.clone().join(file_name.as_str());
            let name = location.as_ref();
            let is_dir = match entry.file_type() {
                Ok(t) if t.is_symlink() => path.is_dir(),
                Ok(t) => t.is_dir(),
                Err(_) => false,
            };
            if is_dir {
                if name >= offset || offset.starts_with(name) {
                    folders.push(path);
                }
            } else if name > offset
                && let Ok(meta) = std::fs::metadata(&path)
            {
                out.push(Ok(ObjectMeta {
                    last_modified: meta
                        .modified()
                        .map(chrono::DateTime::<chrono::Utc>::from)
                        .unwrap_or_default(),
                    size: meta.len(),
                    location,
                    e_tag: None,
                    version: None,
                }));
            }
        }
    }
    out
}

fn out_of_range(range: &Range<u64>, len: u64) -> object_store::Error {
    object_store::Error::Generic {
        store: "mmap",
        source: format!("range {range:?} is beyond the file's {len} bytes").into(),
    }
}

fn slice(bytes: &Bytes, range: Range<u64>) -> Result<Bytes> {
    let len = bytes.len() as u64;
    if range.start > range.end || range.end > len {
        return Err(out_of_range(&range, len));
    }
    Ok(bytes.slice(range.start as usize..range.end as usize))
}

#[async_trait]
impl ObjectStore for MmapStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        // Whole-file reads, and conditional or versioned requests, keep the wrapped store's
        // exact semantics (a `File` payload, which some readers special-case); ranged reads,
        // which is how the engine fetches data, are served from the map.
        if !self.choice.maps()
            || options.range.is_none()
            || options.if_match.is_some()
            || options.if_none_match.is_some()
            || options.if_modified_since.is_some()
            || options.if_unmodified_since.is_some()
            || options.version.is_some()
            || options.head
        {
            return self.inner.get_opts(location, options).await;
        }
        let bytes = self.map(location)?;
        let meta = self.inner.head(location).await?;
        let len = bytes.len() as u64;
        let range = match options.range {
            None => 0..len,
            Some(GetRange::Bounded(r)) => r.start..r.end.min(len),
            Some(GetRange::Offset(o)) => o..len,
            Some(GetRange::Suffix(n)) => len.saturating_sub(n)..len,
        };
        let data = slice(&bytes, range.clone())?;
        Ok(GetResult {
            payload: GetResultPayload::Stream(stream::once(async move { Ok(data) }).boxed_stream()),
            meta,
            range,
            attributes: Default::default(),
        })
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        if !self.choice.maps() {
            return self.inner.get_ranges(location, ranges).await;
        }
        let bytes = self.map(location)?;
        ranges.iter().map(|r| slice(&bytes, r.clone())).collect()
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    /// Lists the entries after `offset` below `prefix`, looking only at file names until
    /// then: the wrapped store reads the metadata of every file and filters afterwards, which
    /// makes "the Delta commits after version N" cost as much as listing the whole log.
    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        let Some(root) = prefix.and_then(|p| self.inner.path_to_filesystem(p).ok()) else {
            return self.inner.list_with_offset(prefix, offset);
        };
        stream::iter(list_after(root, offset.as_ref())).boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

trait BoxedStreamExt {
    fn boxed_stream(self) -> BoxStream<'static, Result<Bytes>>;
}

impl<S: futures::Stream<Item = Result<Bytes>> + Send + 'static> BoxedStreamExt for S {
    fn boxed_stream(self) -> BoxStream<'static, Result<Bytes>> {
        Box::pin(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listing_after_an_offset_skips_what_sorts_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("_delta_log");
        std::fs::create_dir_all(log.join("_sidecars")).unwrap();
        for v in 0..5 {
            std::fs::write(log.join(format!("{v:020}.json")), "{}").unwrap();
        }
        std::fs::write(log.join("_sidecars").join("a.parquet"), "x").unwrap();
        let store = MmapStore::new(MmapChoice::never());
        let prefix = Path::from_filesystem_path(&log).unwrap();
        let offset = Path::from_filesystem_path(log.join(format!("{:020}.json", 2))).unwrap();
        let mut names: Vec<String> = store
            .list_with_offset(Some(&prefix), &offset)
            .map(|m| {
                m.unwrap()
                    .location
                    .as_ref()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
            .await;
        names.sort();
        assert_eq!(
            names,
            vec![
                format!("{:020}.json", 3),
                format!("{:020}.json", 4),
                "a.parquet".to_string()
            ]
        );
    }

    #[tokio::test]
    async fn reads_return_the_bytes_asked_for_mapped_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.bin");
        std::fs::write(&file, b"0123456789").unwrap();
        // SAFETY: the test's file is not changed while it is read.
        let mapped_store = MmapStore::new(unsafe { MmapChoice::auto() });
        for store in [mapped_store, MmapStore::new(MmapChoice::never())] {
            let path = Path::from_filesystem_path(&file).unwrap();
            let all = store.get(&path).await.unwrap().bytes().await.unwrap();
            assert_eq!(&all[..], b"0123456789");
            let mapped = store.get_range(&path, 0..10).await.unwrap();
            assert_eq!(&mapped[..], b"0123456789");
            let parts = store.get_ranges(&path, &[0..2, 8..10]).await.unwrap();
            assert_eq!(
                parts,
                vec![Bytes::from_static(b"01"), Bytes::from_static(b"89")]
            );
            assert_eq!(store.get_range(&path, 5..20).await.unwrap().len(), 5);
            let missing = Path::from_filesystem_path(dir.path()).unwrap().join("nope");
            assert!(matches!(
                store.get(&missing).await,
                Err(object_store::Error::NotFound { .. })
            ));
        }
    }

    #[tokio::test]
    async fn arrow_ipc_arrays_point_into_the_map() {
        use quiver_engine::arrow::array::{Array, Int64Array};
        use quiver_engine::arrow::datatypes::{DataType, Field, Schema};
        use quiver_engine::arrow::ipc::writer::FileWriter;
        use quiver_engine::arrow::record_batch::RecordBatch;

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.arrow");
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from_iter_values(0..100_000))],
        )
        .unwrap();
        let mut w = FileWriter::try_new(std::fs::File::create(&file).unwrap(), &schema).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();

        let path = Path::from_filesystem_path(&file).unwrap();
        let size = std::fs::metadata(&file).unwrap().len();
        // SAFETY: the test's file is not changed while it is read.
        let choices = [unsafe { MmapChoice::auto() }, MmapChoice::never()];
        for choice in choices {
            let store = MmapStore::new(choice);
            let bytes = store.get_range(&path, 0..size).await.unwrap();
            let (_, batches) =
                quiver_engine::sources::ipc::decode(bytes.clone(), "x.arrow").unwrap();
            let values = batches[0].column(0).to_data().buffers()[0].as_ptr() as usize;
            let map = bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len();
            // Mapped, the arrays point into the map; never mapped, the file was not mapped
            // (the range came from an ordinary read) and still decodes.
            if choice.maps() {
                assert!(
                    map.contains(&values),
                    "the decoded column was copied out of the map"
                );
            }
            assert_eq!(batches[0].column(0).len(), 100_000);
        }
    }
}
