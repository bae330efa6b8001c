//! From a table's source to a mapped Arrow IPC file: finding the newest complete partition,
//! converting it through the engine, and opening the result without a copy.
//!
//! A partition is a first-level folder named `YYYY-MM-DD` under the source that holds a
//! `_SUCCESS` marker; its Parquet files (names not starting with `_` or `.`) are its data.
//! A conversion writes a new file under a temporary name in `data_dir/<table>/tmp/`,
//! fsyncs it and renames it into place: a file that is mapped is never truncated or
//! rewritten, and a process killed half-way leaves only a temporary file, removed at the
//! next start. `manifest.json` (also written by rename) names the file that serves.

use std::fs::File;
use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, RecordBatch};
use arrow::buffer::Buffer;
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::{FileDecoder, read_footer_length};
use arrow::ipc::writer::FileWriter;
use arrow::ipc::{Block, root_as_footer};
use bytes::Bytes;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{Expr, cast, col};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use quiver_engine::Session;
use quiver_engine::delta::DeltaTable;
use serde::{Deserialize, Serialize};
use url::Url;

use super::config::{LoadMode, Source, TableConfig};

/// What to convert: a partition's files, or a Delta table version.
#[derive(Debug, Clone)]
pub struct Found {
    /// `2026-11-30`, or `v12` for a Delta version.
    pub partition: String,
    /// Equal fingerprints mean the same data (partition, marker, files and their sizes).
    pub fingerprint: String,
    what: Data,
}

#[derive(Debug, Clone)]
enum Data {
    Files(Vec<Url>),
    Delta(Arc<dyn datafusion::catalog::TableProvider>),
}

/// A table's source, opened once: its session (with the store and credentials the config
/// gives) and where partitions live.
pub struct Origin {
    session: Session,
    kind: OriginKind,
}

enum OriginKind {
    Partitions {
        store: Arc<dyn ObjectStore>,
        /// The URL of the folder holding the partitions, ending in `/`.
        root: Url,
        prefix: Path,
    },
    Delta {
        uri: String,
    },
}

impl Origin {
    /// Opens the source a table's config names.
    ///
    /// # Errors
    /// A message when the location is not usable.
    pub fn open(source: &Source) -> Result<Self, String> {
        let mut resources = crate::host::Resources::default();
        let (root, delta) = match source {
            Source::Local { path } => {
                let abs =
                    std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let url = Url::from_directory_path(&abs)
                    .map_err(|()| format!("{} is not a folder path", abs.display()))?;
                (url, None)
            }
            Source::S3 {
                bucket,
                prefix,
                region,
                endpoint,
            } => {
                let mut options = vec![("aws_region".to_string(), region.clone())];
                if let Some(endpoint) = endpoint {
                    options.push(("aws_endpoint".into(), endpoint.clone()));
                    if endpoint.starts_with("http://") {
                        options.push(("aws_allow_http".into(), "true".into()));
                    }
                }
                resources.s3 = crate::host::S3Options::parse(options)?;
                let prefix = prefix.trim_matches('/');
                let text = if prefix.is_empty() {
                    format!("s3://{bucket}/")
                } else {
                    format!("s3://{bucket}/{prefix}/")
                };
                (Url::parse(&text).map_err(|e| format!("{text}: {e}"))?, None)
            }
            Source::Delta { uri } => (
                Url::parse("file:///").map_err(|e| e.to_string())?,
                Some(uri.clone()),
            ),
        };
        let session = Session::new(crate::host::config(&resources)).map_err(|e| e.to_string())?;
        let kind = match delta {
            Some(uri) => OriginKind::Delta { uri },
            None => {
                let store = session.object_store(&root).map_err(|e| e.to_string())?;
                let prefix = Path::from_url_path(root.path()).map_err(|e| e.to_string())?;
                OriginKind::Partitions {
                    store,
                    root,
                    prefix,
                }
            }
        };
        Ok(Self { session, kind })
    }

    /// The newest complete partition (or the Delta table's newest version), or `None` when
    /// there is none yet.
    ///
    /// # Errors
    /// When listing fails, or a marker's HEAD fails other than "not found".
    pub async fn discover(&self) -> Result<Option<Found>, String> {
        match &self.kind {
            OriginKind::Delta { uri } => {
                let table = self
                    .session
                    .open(uri, &Default::default())
                    .await
                    .map_err(|e| e.to_string())?;
                let Some(delta) = table.downcast_ref::<DeltaTable>() else {
                    return Err(format!("{uri} is not a Delta table (no _delta_log)"));
                };
                let version = delta.snapshot().version;
                Ok(Some(Found {
                    partition: format!("v{version}"),
                    fingerprint: format!("delta:{uri}@{version}"),
                    what: Data::Delta(table),
                }))
            }
            OriginKind::Partitions {
                store,
                root,
                prefix,
            } => {
                let listing = store
                    .list_with_delimiter(Some(prefix))
                    .await
                    .map_err(|e| format!("cannot list {root}: {e}"))?;
                let mut dates: Vec<String> = listing
                    .common_prefixes
                    .iter()
                    .filter_map(|p| p.filename().map(str::to_string))
                    .filter(|name| chrono::NaiveDate::parse_from_str(name, "%Y-%m-%d").is_ok())
                    .collect();
                dates.sort_unstable_by(|a, b| b.cmp(a));
                for date in dates {
                    let folder = prefix.clone().join(date.as_str());
                    let marker = folder.clone().join("_SUCCESS");
                    let marker = match store.head(&marker).await {
                        Ok(meta) => meta,
                        Err(object_store::Error::NotFound { .. }) => continue,
                        Err(e) => {
                            return Err(format!("cannot check {root}{date}/_SUCCESS: {e}"));
                        }
                    };
                    let inside = store
                        .list_with_delimiter(Some(&folder))
                        .await
                        .map_err(|e| format!("cannot list {root}{date}/: {e}"))?;
                    let mut files: Vec<_> = inside
                        .objects
                        .into_iter()
                        .filter(|o| {
                            o.location.filename().is_some_and(|n| {
                                n.ends_with(".parquet")
                                    && !n.starts_with('_')
                                    && !n.starts_with('.')
                            })
                        })
                        .collect();
                    if files.is_empty() {
                        return Err(format!(
                            "partition {date} has _SUCCESS but no Parquet files"
                        ));
                    }
                    files.sort_by(|a, b| a.location.cmp(&b.location));
                    let mut fingerprint = format!(
                        "{date}|{}|{:?}",
                        marker.last_modified.timestamp_nanos_opt().unwrap_or(0),
                        marker.e_tag
                    );
                    let mut urls = Vec::with_capacity(files.len());
                    for f in &files {
                        fingerprint.push_str(&format!("|{}:{}:{:?}", f.location, f.size, f.e_tag));
                        let name = f.location.filename().unwrap_or_default();
                        let url = root
                            .join(&format!("{date}/{name}"))
                            .map_err(|e| format!("{root}{date}/{name}: {e}"))?;
                        urls.push(url);
                    }
                    return Ok(Some(Found {
                        partition: date,
                        fingerprint,
                        what: Data::Files(urls),
                    }));
                }
                Ok(None)
            }
        }
    }

    /// Converts `found` into a new Arrow IPC file in `dir` (under a temporary name, then
    /// renamed to `name`), reading it through the engine, keeping and casting the declared
    /// columns, and checking keys and non-nullable columns for nulls.
    ///
    /// # Errors
    /// A message naming the partition and what is wrong with it; nothing is left in `dir`.
    pub async fn convert(
        &self,
        found: &Found,
        config: &TableConfig,
        dir: &FsPath,
        name: &str,
    ) -> Result<(PathBuf, u64), String> {
        let at = &found.partition;
        let ctx = self.session.context();
        let provider: Arc<dyn datafusion::catalog::TableProvider> = match &found.what {
            Data::Delta(table) => table.clone(),
            Data::Files(urls) => {
                let urls = urls
                    .iter()
                    .map(|u| ListingTableUrl::parse(u.as_str()))
                    .collect::<datafusion::error::Result<Vec<_>>>()
                    .map_err(|e| format!("partition {at}: {e}"))?;
                // Served strings are utf8: read them so, instead of as views cast afterwards.
                let mut parquet = ctx.state().table_options().parquet.clone();
                parquet.global.schema_force_view_types = false;
                let options =
                    ListingOptions::new(Arc::new(ParquetFormat::default().with_options(parquet)))
                        .with_file_extension(".parquet");
                let listing = ListingTableConfig::new_with_multi_paths(urls)
                    .with_listing_options(options)
                    .infer_schema(&ctx.state())
                    .await
                    .map_err(|e| format!("partition {at}: {}", first_line(&e.to_string())))?;
                Arc::new(
                    ListingTable::try_new(listing).map_err(|e| format!("partition {at}: {e}"))?,
                )
            }
        };
        let source = provider.schema();
        let (exprs, fields, non_null) =
            plan_columns(&source, config).map_err(|e| format!("partition {at}: {e}"))?;
        let served = Arc::new(Schema::new(fields));
        let frame = ctx
            .read_table(provider)
            .and_then(|f| f.select(exprs))
            .map_err(|e| format!("partition {at}: {e}"))?;
        let mut stream = frame
            .execute_stream()
            .await
            .map_err(|e| format!("partition {at}: {}", first_line(&e.to_string())))?;

        let tmp_dir = dir.join("tmp");
        std::fs::create_dir_all(&tmp_dir)
            .map_err(|e| format!("cannot create {}: {e}", tmp_dir.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(".convert-")
            .suffix(".arrow")
            .tempfile_in(&tmp_dir)
            .map_err(|e| format!("cannot create a file in {}: {e}", tmp_dir.display()))?;
        let write_err =
            |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", tmp.path().display());
        let mut writer = FileWriter::try_new(
            std::io::BufWriter::with_capacity(1 << 20, tmp.as_file()),
            &served,
        )
        .map_err(|e| write_err(&e))?;
        let mut pending: Vec<RecordBatch> = Vec::new();
        let mut pending_rows = 0usize;
        let mut rows = 0u64;
        while let Some(batch) = stream
            .try_next()
            .await
            .map_err(|e| format!("partition {at}: {}", first_line(&e.to_string())))?
        {
            for &c in &non_null {
                if batch.column(c).null_count() > 0 {
                    return Err(format!(
                        "partition {at}: column '{}' holds nulls but is a key or declared nullable: false",
                        served.field(c).name()
                    ));
                }
            }
            let batch = RecordBatch::try_new(served.clone(), batch.columns().to_vec())
                .map_err(|e| format!("partition {at}: {e}"))?;
            rows += batch.num_rows() as u64;
            pending_rows += batch.num_rows();
            pending.push(batch);
            if pending_rows >= BATCH_ROWS {
                let one = concat_batches(&served, &pending).map_err(|e| write_err(&e))?;
                writer.write(&one).map_err(|e| write_err(&e))?;
                pending.clear();
                pending_rows = 0;
            }
        }
        if pending_rows > 0 || rows == 0 {
            let one = concat_batches(&served, &pending).map_err(|e| write_err(&e))?;
            writer.write(&one).map_err(|e| write_err(&e))?;
        }
        if let Some(min) = config.min_rows
            && rows < min
        {
            return Err(format!(
                "partition {at}: {rows} rows, fewer than min_rows ({min})"
            ));
        }
        let mut out = writer.into_inner().map_err(|e| write_err(&e))?;
        out.flush().map_err(|e| write_err(&e))?;
        drop(out);
        tmp.as_file().sync_all().map_err(|e| write_err(&e))?;
        let path = dir.join(name);
        tmp.persist(&path)
            .map_err(|e| format!("cannot move the converted file to {}: {e}", path.display()))?;
        sync_dir(dir);
        Ok((path, rows))
    }
}

/// Rows per batch of a converted file: few large batches keep a gather to one `take`.
const BATCH_ROWS: usize = 1 << 20;

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The expressions, the served fields, and the positions that must hold no nulls.
type Projection = (Vec<Expr>, Vec<Field>, Vec<usize>);

/// The projection that turns the source's columns into the served ones: the declared
/// columns in order, each cast to its dtype when that only widens it (strings of any
/// layout become utf8); with no declared columns, every source column with strings
/// normalised. Returns the expressions, the served fields, and the columns that must
/// hold no nulls (keys and `nullable: false`).
fn plan_columns(source: &Schema, config: &TableConfig) -> Result<Projection, String> {
    let mut exprs = Vec::new();
    let mut fields = Vec::new();
    let mut non_null = Vec::new();
    let mut add = |name: &str, target: DataType, nullable: bool| -> Result<(), String> {
        let Ok(field) = source.field_with_name(name) else {
            let have: Vec<&str> = source.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(format!(
                "column '{name}' is missing (the files have {})",
                have.join(", ")
            ));
        };
        if !widens(field.data_type(), &target) {
            return Err(format!(
                "column '{name}' is {} in the files but the config says {target} (only widening casts are made)",
                field.data_type()
            ));
        }
        let key = config.key.iter().any(|k| k == name);
        if key || !nullable {
            non_null.push(fields.len());
        }
        exprs.push(
            cast(
                col(format!("\"{}\"", name.replace('"', "\"\""))),
                target.clone(),
            )
            .alias(name),
        );
        fields.push(Field::new(name, target, nullable && !key));
        Ok(())
    };
    if config.columns.is_empty() {
        for f in source.fields() {
            let target = normalised(f.data_type());
            add(f.name(), target, true)?;
        }
        for k in &config.key {
            if source.field_with_name(k).is_err() {
                return Err(format!("key column '{k}' is missing"));
            }
        }
    } else {
        for (name, column) in &config.columns {
            add(name, column.dtype.data_type(), column.nullable)?;
        }
    }
    Ok((exprs, fields, non_null))
}

/// Strings of any layout as utf8, binaries as binary; everything else as it is.
fn normalised(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        DataType::Dictionary(_, v) => normalised(v),
        other => other.clone(),
    }
}

/// Whether a value of `from` always fits `to` without loss (the casts a served column may
/// make, and the ones a request's keys may make).
pub fn widens(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    if from == to {
        return true;
    }
    let rank_signed = |t: &DataType| match t {
        Int8 => Some(1),
        Int16 => Some(2),
        Int32 => Some(3),
        Int64 => Some(4),
        _ => None,
    };
    let rank_unsigned = |t: &DataType| match t {
        UInt8 => Some(1),
        UInt16 => Some(2),
        UInt32 => Some(3),
        UInt64 => Some(4),
        _ => None,
    };
    match (from, to) {
        (Utf8View | LargeUtf8 | Utf8, Utf8) => true,
        (Dictionary(_, v), to) => widens(v, to),
        (Float16 | Float32, Float64) | (Float16, Float32) => true,
        (Int8 | Int16 | UInt8 | UInt16, Float32) => true,
        (Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32, Float64) => true,
        (Timestamp(_, _), Timestamp(_, _)) => true,
        (Date32 | Date64, Date32) => matches!(from, Date32),
        _ => match (
            rank_signed(from),
            rank_unsigned(from),
            rank_signed(to),
            rank_unsigned(to),
        ) {
            (Some(a), _, Some(b), _) => a <= b,
            (_, Some(a), _, Some(b)) => a <= b,
            (_, Some(a), Some(b), _) => a < b,
            _ => false,
        },
    }
}

/// What `manifest.json` in a table's folder says: the file that serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u64,
    pub partition: String,
    pub fingerprint: String,
    pub file: String,
    pub rows: u64,
    /// The config's columns and key when the file was written: a changed config converts
    /// again instead of serving the old shape.
    pub shape: String,
}

impl Manifest {
    /// Reads `dir/manifest.json`; `None` when there is none or it cannot be read.
    pub fn read(dir: &FsPath) -> Option<Self> {
        let text = std::fs::read(dir.join("manifest.json")).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Writes `dir/manifest.json` by rename, so it is always whole.
    ///
    /// # Errors
    /// The file system's.
    pub fn write(&self, dir: &FsPath) -> std::io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".manifest-")
            .tempfile_in(dir)?;
        serde_json::to_writer_pretty(&mut tmp, self)?;
        tmp.as_file().sync_all()?;
        tmp.persist(dir.join("manifest.json"))
            .map_err(|e| e.error)?;
        sync_dir(dir);
        Ok(())
    }
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &FsPath) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// An Arrow IPC file opened for serving: its schema and batches, which point into a
/// read-only map of the file.
pub struct Mapped {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub bytes: usize,
}

/// Opens the Arrow IPC file at `path` for serving, mapped or read into memory as `mode`
/// says, and decodes its batches without copying their data.
///
/// # Errors
/// When the file cannot be opened or is not a whole Arrow IPC file.
pub fn open_mapped(path: &FsPath, mode: LoadMode) -> Result<Mapped, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut file = File::open(path).map_err(|e| fail(&e))?;
    let buffer = match mode {
        LoadMode::Mmap => {
            // `populate` maps every page now (MAP_POPULATE), so the first requests against a
            // new version do not each take page faults.
            // SAFETY: `quiver serve` maps only files it wrote into its own `data_dir` and
            // renamed into place; it never truncates, rewrites or appends to such a file (a
            // newer version is a new file, and an old one is only unlinked, which leaves the
            // mapped pages valid). Another process changing files in `data_dir` breaks this
            // promise, as for any mmap reader; the docs say so, and `load: memory` avoids it.
            let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
                .map_err(|e| fail(&e))?;
            Buffer::from(Bytes::from_owner(map))
        }
        LoadMode::Memory => {
            let len = file.metadata().map_err(|e| fail(&e))?.len();
            let len = usize::try_from(len).map_err(|e| fail(&e))?;
            // Arrow's own allocation is 64-byte aligned, as the file's buffers need.
            let mut bytes = arrow::buffer::MutableBuffer::from_len_zeroed(len);
            std::io::Read::read_exact(&mut file, bytes.as_slice_mut()).map_err(|e| fail(&e))?;
            bytes.into()
        }
    };
    let bytes = buffer.len();
    if bytes < 18 {
        return Err(fail(&"too short to be an Arrow IPC file"));
    }
    let mut trailer = [0u8; 10];
    trailer.copy_from_slice(&buffer[bytes - 10..]);
    let footer_len = read_footer_length(trailer).map_err(|e| fail(&e))?;
    if footer_len + 10 > bytes {
        return Err(fail(&"the footer is longer than the file"));
    }
    let footer =
        root_as_footer(&buffer[bytes - 10 - footer_len..bytes - 10]).map_err(|e| fail(&e))?;
    let schema = footer
        .schema()
        .ok_or_else(|| fail(&"no schema in the footer"))?;
    let schema = Arc::new(arrow::ipc::convert::fb_to_schema(schema));
    // Batches must point into the map: refuse to copy quietly to realign.
    let mut decoder =
        FileDecoder::new(schema.clone(), footer.version()).with_require_alignment(true);
    let slice = |block: &Block| -> Result<Buffer, String> {
        let start = usize::try_from(block.offset()).map_err(|e| fail(&e))?;
        let len = block.metaDataLength() as usize
            + usize::try_from(block.bodyLength()).map_err(|e| fail(&e))?;
        if start.checked_add(len).is_none_or(|end| end > bytes) {
            return Err(fail(&"a block lies beyond the end of the file"));
        }
        Ok(buffer.slice_with_length(start, len))
    };
    for block in footer.dictionaries().iter().flatten() {
        let data = slice(block)?;
        decoder
            .read_dictionary(block, &data)
            .map_err(|e| fail(&e))?;
    }
    let mut batches = Vec::new();
    for block in footer.recordBatches().iter().flatten() {
        let data = slice(block)?;
        if let Some(batch) = decoder
            .read_record_batch(block, &data)
            .map_err(|e| fail(&e))?
        {
            batches.push(batch);
        }
    }
    Ok(Mapped {
        schema,
        batches,
        bytes,
    })
}

/// True when every buffer of `array` lies inside `range` (the mapped file): the zero-copy
/// promise, checked in tests.
#[cfg(test)]
pub fn points_into(array: &dyn Array, range: std::ops::Range<usize>) -> bool {
    let data = array.to_data();
    data.buffers()
        .iter()
        .all(|b| range.contains(&(b.as_ptr() as usize)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float32Array, StringArray};

    #[test]
    fn widening_rules() {
        assert!(widens(&DataType::Int32, &DataType::Int64));
        assert!(widens(&DataType::UInt16, &DataType::Int32));
        assert!(!widens(&DataType::UInt32, &DataType::Int32));
        assert!(!widens(&DataType::Int64, &DataType::Int32));
        assert!(!widens(&DataType::Float64, &DataType::Float32));
        assert!(widens(&DataType::Utf8View, &DataType::Utf8));
        assert!(!widens(&DataType::Int64, &DataType::Utf8));
        assert!(!widens(&DataType::Float32, &DataType::Int64));
    }

    #[test]
    fn a_written_file_maps_without_copies() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("x", DataType::Float32, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["a", "bb", "ccc"])),
                Arc::new(Float32Array::from(vec![Some(1.0), None, Some(3.0)])),
            ],
        )
        .unwrap();
        let path = dir.path().join("f.arrow");
        let mut w = FileWriter::try_new(File::create(&path).unwrap(), &schema).unwrap();
        w.write(&batch).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        let held = open_mapped(&path, LoadMode::Memory).unwrap();
        assert_eq!(held.batches[1], batch);
        let mapped = open_mapped(&path, LoadMode::Mmap).unwrap();
        assert_eq!(mapped.batches.len(), 2);
        assert_eq!(mapped.batches[1], batch);
        // Every buffer lies inside the map: find its range from one pointer and the length.
        let base = mapped.batches[0].column(0).to_data().buffers()[0].as_ptr() as usize;
        let start = base - (base % 4096);
        let range = start..start + mapped.bytes + 4096;
        for b in &mapped.batches {
            for c in b.columns() {
                assert!(points_into(c.as_ref(), range.clone()));
            }
        }

        std::fs::write(dir.path().join("bad.arrow"), b"ARROW1\0\0not really").unwrap();
        for mode in [LoadMode::Mmap, LoadMode::Memory] {
            assert!(open_mapped(&dir.path().join("bad.arrow"), mode).is_err());
        }
    }
}
