//! Arrow IPC files and streams, checked before they are decoded.
//!
//! arrow-ipc trusts the lengths a file declares: a message length or a compressed buffer's
//! "uncompressed size" that is larger than the file can make it allocate without bound and
//! abort the process. So every message is walked first: its length, its flatbuffer, its
//! body, every buffer range and every declared uncompressed size are checked against the
//! bytes actually present. Only then does arrow's decoder run, and it runs with panics
//! caught. The bytes come from the object store as one [`Bytes`]; natively that is a
//! memory map, and decoded arrays point into it without copying.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamDecoder;
use datafusion::arrow::ipc::{self, MessageHeader};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::datasource::MemTable;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::panic_guard::guard_sync;
use crate::{Error, Result};

const FILE_MAGIC: &[u8] = b"ARROW1";
const CONTINUATION: [u8; 4] = [0xFF; 4];
/// The largest single buffer a compressed message may declare once decompressed.
const MAX_DECOMPRESSED_BUFFER: i64 = 1 << 32;
/// The most a whole file may expand to through compression.
const MAX_DECOMPRESSED_TOTAL: i64 = 1 << 35;

/// Reads every file in `files` and serves them as one in-memory table (one partition per
/// file). All files must share a schema; repeated column names in it are made distinct
/// (see [`super::column_names`]).
pub async fn open_table(
    store: Arc<dyn ObjectStore>,
    files: &[ObjectMeta],
    store_url: &str,
) -> Result<MemTable> {
    let mut schema: Option<SchemaRef> = None;
    let mut first_path = String::new();
    let mut partitions = Vec::with_capacity(files.len());
    for meta in files {
        // A ranged read: hosts that map files serve it without a copy.
        let bytes = store
            .get_range(&meta.location, 0..meta.size)
            .await
            .map_err(|e| Error::from_datafusion(e.into()))?;
        let path = crate::location::display_location(store_url, meta.location.as_ref());
        let (file_schema, batches) = decode(bytes, &path)?;
        match &schema {
            None => {
                schema = Some(file_schema);
                first_path.clone_from(&path);
            }
            Some(s) if s.fields() == file_schema.fields() => {}
            Some(s) => {
                return Err(Error::corrupt(
                    path,
                    format!("its schema {file_schema} differs from the first file's {s}"),
                ));
            }
        }
        partitions.push(batches);
    }
    let Some(schema) = schema else {
        return Err(Error::invalid("read_ipc", "no files to read"));
    };
    let source = match files.len() {
        1 => first_path,
        n => format!("{first_path} (and {} more files)", n - 1),
    };
    let (schema, partitions) = match super::column_names::distinct(&schema, &source) {
        None => (schema, partitions),
        Some(distinct) => {
            let distinct = Arc::new(distinct);
            let renamed = partitions
                .into_iter()
                .map(|batches| {
                    batches
                        .into_iter()
                        .map(|b| with_schema(b, &distinct))
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?;
            (distinct, renamed)
        }
    };
    MemTable::try_new(schema, partitions).map_err(Error::from_datafusion)
}

/// `batch` under `schema`, which differs from its own in names only.
fn with_schema(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(Arc::clone(schema), batch.columns().to_vec(), &options)
        .map_err(|e| Error::from_datafusion(e.into()))
}

/// Decodes an Arrow IPC file or stream held in `bytes`. `path` names it in errors.
///
/// # Errors
/// [`Error::CorruptFile`] when any declared length does not fit the bytes present, when a
/// flatbuffer does not verify, or when arrow rejects the contents (including by panicking).
pub fn decode(bytes: Bytes, path: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let region = stream_region(&bytes).map_err(|r| Error::corrupt(path, r))?;
    let end = validate_messages(&bytes, region.clone()).map_err(|r| Error::corrupt(path, r))?;
    let stream = bytes.slice(region.start..end);
    guard_sync("decoding Arrow IPC", || {
        let mut decoder = StreamDecoder::new();
        let mut buffer = Buffer::from(stream);
        let mut batches = Vec::new();
        while !buffer.is_empty() {
            match decoder.decode(&mut buffer) {
                Ok(Some(batch)) => batches.push(batch),
                Ok(None) => {}
                Err(e) => return Err(Error::corrupt(path, e)),
            }
        }
        let Some(schema) = decoder.schema() else {
            return Err(Error::corrupt(path, "no schema message"));
        };
        Ok((schema, batches))
    })
    .map_err(|e| match e {
        Error::Panic { message, .. } => Error::corrupt(path, message),
        other => other,
    })
}

/// The byte range holding the message stream: everything after the magic of an IPC file up
/// to its footer, or a whole stream.
fn stream_region(bytes: &[u8]) -> Result<std::ops::Range<usize>, String> {
    if !bytes.starts_with(FILE_MAGIC) {
        if bytes.len() < 8 {
            return Err(format!(
                "{} bytes is too short for an Arrow IPC stream",
                bytes.len()
            ));
        }
        return Ok(0..bytes.len());
    }
    // File: magic (padded to 8), messages, footer, footer length (i32), magic.
    let n = bytes.len();
    if n < 8 + 4 + FILE_MAGIC.len() || !bytes.ends_with(FILE_MAGIC) {
        return Err("truncated Arrow IPC file: the closing magic is missing".into());
    }
    let len_at = n - FILE_MAGIC.len() - 4;
    let footer_len = i32::from_le_bytes([
        bytes[len_at],
        bytes[len_at + 1],
        bytes[len_at + 2],
        bytes[len_at + 3],
    ]);
    let footer_len =
        usize::try_from(footer_len).map_err(|_| format!("negative footer length {footer_len}"))?;
    let footer_start = len_at
        .checked_sub(footer_len)
        .filter(|s| *s >= 8)
        .ok_or_else(|| format!("footer length {footer_len} exceeds the file's {n} bytes"))?;
    ipc::root_as_footer(&bytes[footer_start..len_at])
        .map_err(|e| format!("invalid footer: {}", first_line(&e.to_string())))?;
    // Writers pad the magic to their alignment (8 bytes in the spec, 64 in arrow-rs); the
    // padding is zeros, which no message can start with in a whole 8-byte word.
    let mut start = 8;
    while start + 8 <= footer_start && bytes[start..start + 8].iter().all(|b| *b == 0) {
        start += 8;
    }
    Ok(start..footer_start)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim()
}

fn read_i32(bytes: &[u8], at: usize) -> Option<i32> {
    let b = bytes.get(at..at + 4)?;
    Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Walks the messages in `region`, checking every declared length. Returns where the stream
/// ends (at the end-of-stream marker or the end of the region).
fn validate_messages(bytes: &[u8], region: std::ops::Range<usize>) -> Result<usize, String> {
    let mut pos = region.start;
    let mut decompressed_total: i64 = 0;
    let mut saw_schema = false;
    while pos < region.end {
        let (header_len, len) = if bytes.get(pos..pos + 4) == Some(&CONTINUATION[..]) {
            (
                8,
                read_i32(bytes, pos + 4).ok_or("truncated message length")?,
            )
        } else {
            (4, read_i32(bytes, pos).ok_or("truncated message length")?)
        };
        if len == 0 {
            return Ok((pos + header_len).min(region.end));
        }
        let len = usize::try_from(len).map_err(|_| format!("negative message length {len}"))?;
        let meta_start = pos + header_len;
        let meta_end = meta_start
            .checked_add(len)
            .filter(|e| *e <= region.end)
            .ok_or_else(|| {
                format!(
                    "message at byte {pos} declares {len} bytes of metadata but only {} remain",
                    region.end.saturating_sub(meta_start)
                )
            })?;
        let message = ipc::root_as_message(&bytes[meta_start..meta_end]).map_err(|e| {
            format!(
                "message at byte {pos} is not a valid flatbuffer: {}",
                first_line(&e.to_string())
            )
        })?;
        let body_len = usize::try_from(message.bodyLength())
            .map_err(|_| format!("negative body length at byte {pos}"))?;
        let body_end = meta_end
            .checked_add(body_len)
            .filter(|e| *e <= region.end)
            .ok_or_else(|| {
                format!(
                    "message at byte {pos} declares a {body_len}-byte body but only {} bytes remain",
                    region.end.saturating_sub(meta_end)
                )
            })?;
        let body = &bytes[meta_end..body_end];
        match message.header_type() {
            MessageHeader::Schema => {
                let schema = message
                    .header_as_schema()
                    .ok_or("schema message without a schema")?;
                // arrow-rs decodes some big-endian types wrongly rather than failing; refuse
                // them all rather than return wrong values.
                if schema.endianness() == ipc::Endianness::Big {
                    return Err("big-endian Arrow IPC data is not supported".into());
                }
                saw_schema = true;
            }
            MessageHeader::RecordBatch => {
                let batch = message
                    .header_as_record_batch()
                    .ok_or("record batch message without a header")?;
                check_batch(batch, body, &mut decompressed_total)?;
            }
            MessageHeader::DictionaryBatch => {
                let dict = message
                    .header_as_dictionary_batch()
                    .ok_or("dictionary message without a header")?;
                let data = dict.data().ok_or("dictionary message without data")?;
                check_batch(data, body, &mut decompressed_total)?;
            }
            other => return Err(format!("unsupported message type {other:?}")),
        }
        if !saw_schema {
            return Err("the first message is not a schema".into());
        }
        pos = body_end;
    }
    Ok(region.end)
}

fn check_batch(
    batch: ipc::RecordBatch<'_>,
    body: &[u8],
    decompressed_total: &mut i64,
) -> Result<(), String> {
    if batch.length() < 0 {
        return Err(format!("negative row count {}", batch.length()));
    }
    if let Some(nodes) = batch.nodes() {
        for node in nodes.iter() {
            if node.length() < 0 || node.null_count() < 0 || node.null_count() > node.length() {
                return Err(format!(
                    "field node with length {} and null count {}",
                    node.length(),
                    node.null_count()
                ));
            }
        }
    }
    let compressed = batch.compression().is_some();
    if let Some(buffers) = batch.buffers() {
        for buf in buffers.iter() {
            let (offset, length) = (buf.offset(), buf.length());
            let range = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(length).ok())
                .and_then(|(o, l)| Some(o..o.checked_add(l)?))
                .filter(|r| r.end <= body.len())
                .ok_or_else(|| {
                    format!("buffer at offset {offset} with length {length} lies outside the {}-byte body", body.len())
                })?;
            if compressed && range.len() >= 8 {
                let b = &body[range.start..range.start + 8];
                let declared = i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                if declared != -1 {
                    if !(0..=MAX_DECOMPRESSED_BUFFER).contains(&declared) {
                        return Err(format!(
                            "compressed buffer declares {declared} uncompressed bytes"
                        ));
                    }
                    *decompressed_total += declared;
                    if *decompressed_total > MAX_DECOMPRESSED_TOTAL {
                        return Err("compressed buffers declare more than 32 GiB in total".into());
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::ipc::writer::{FileWriter, StreamWriter};

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, false),
            Field::new("b", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![Some("x"), None, Some("z")])),
            ],
        )
        .unwrap()
    }

    /// `b` written as an Arrow IPC file and as a stream.
    fn file_and_stream(b: &RecordBatch) -> (Vec<u8>, Vec<u8>) {
        let mut file = Vec::new();
        let mut w = FileWriter::try_new(&mut file, &b.schema()).unwrap();
        w.write(b).unwrap();
        w.finish().unwrap();
        drop(w);
        let mut stream = Vec::new();
        let mut w = StreamWriter::try_new(&mut stream, &b.schema()).unwrap();
        w.write(b).unwrap();
        w.finish().unwrap();
        drop(w);
        (file, stream)
    }

    #[test]
    fn file_and_stream_round_trip() {
        let b = batch();
        let (file, stream) = file_and_stream(&b);
        for bytes in [file, stream] {
            let region = stream_region(&bytes).unwrap();
            let end = validate_messages(&bytes, region.clone()).unwrap();
            assert!(end > region.start);
            let (_, batches) = decode(Bytes::from(bytes), "t").unwrap();
            assert_eq!(batches, vec![b.clone()]);
        }
    }

    /// A batch whose schema repeats `a` (legal in Arrow; pyarrow writes such files) and
    /// holds the name `a_1` further on, which the renaming must skip.
    fn repeated_names() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, false),
            Field::new("a", DataType::Utf8, true),
            Field::new("a_1", DataType::Int32, false),
            Field::new("a", DataType::Int32, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("x"), None])),
                Arc::new(Int32Array::from(vec![10, 20])),
                Arc::new(Int32Array::from(vec![100, 200])),
            ],
        )
        .unwrap()
    }

    #[tokio::test]
    async fn repeated_column_names_read_with_suffixes() {
        let (file, stream) = file_and_stream(&repeated_names());
        let store = Arc::new(object_store::memory::InMemory::new());
        store.put(&"dup.arrow".into(), file.into()).await.unwrap();
        store
            .put(&"dup.arrows".into(), stream.into())
            .await
            .unwrap();
        let session = crate::Session::new(crate::HostConfig::in_memory(store)).unwrap();
        for sql in [
            "SELECT * FROM 'dup.arrow' ORDER BY a",
            "SELECT a, a_2, a_1, a_3 FROM read_ipc('dup.arrows') ORDER BY a",
        ] {
            let batches = session.query(sql).await.unwrap();
            let shown = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string();
            let names: Vec<String> = batches[0]
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(names, ["a", "a_2", "a_1", "a_3"], "{sql}");
            assert!(shown.contains("| 2 |     | 20  | 200 |"), "{sql}\n{shown}");
        }
    }

    #[test]
    fn declared_lengths_beyond_the_bytes_are_errors() {
        let (_, mut stream) = file_and_stream(&batch());
        // Claim a 2 GB schema message.
        stream[4..8].copy_from_slice(&0x7fff_0000_i32.to_le_bytes());
        let err = decode(Bytes::from(stream.clone()), "bad.arrows")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.arrows") && err.contains("metadata"),
            "{err}"
        );
        // Truncation anywhere is an error, never a panic.
        for cut in [9, 40, stream.len() / 2] {
            assert!(decode(Bytes::from(stream[..cut].to_vec()), "t").is_err());
        }
    }
}
