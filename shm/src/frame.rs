//! A frame's payload: standard encapsulated Arrow IPC messages, `([DictionaryBatch]*
//! RecordBatch)+`, each starting on a 64-byte boundary with every body buffer 64-byte aligned,
//! so any Arrow IPC reader decodes a slot, and arrow-rs decodes it without copying.
//!
//! Decoding checks every length and offset against the payload before arrow-ipc sees the
//! message (arrow-ipc trusts some of them), then lets arrow validate the arrays, unless the
//! reader said it trusts the writer.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ipc::reader::FileDecoder;
use arrow::ipc::writer::{
    DictionaryTracker, IpcDataGenerator, IpcWriteOptions, StreamEncoder, write_message,
};
use arrow::ipc::{Block, MessageHeader, MetadataVersion, root_as_message};

pub(crate) const ALIGN: usize = 64;
const CONTINUATION: u32 = 0xFFFF_FFFF;

fn write_options() -> IpcWriteOptions {
    IpcWriteOptions::try_new(ALIGN, false, MetadataVersion::V5)
        .expect("64 is a valid IPC alignment")
}

/// The encapsulated IPC Schema message for `schema`, as stored in the ring's schema table.
pub(crate) fn schema_message(schema: &Schema) -> Result<Vec<u8>, ArrowError> {
    let opts = write_options();
    let encoded = IpcDataGenerator::default().schema_to_bytes_with_dictionary_tracker(
        schema,
        &mut DictionaryTracker::new(false),
        &opts,
    );
    let mut out = Vec::new();
    write_message(&mut out, encoded, &opts)?;
    Ok(out)
}

fn has_dictionaries(fields: &[Arc<Field>]) -> bool {
    fn walk(t: &DataType) -> bool {
        match t {
            DataType::Dictionary(..) => true,
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _)
            | DataType::Map(f, _) => walk(f.data_type()),
            DataType::Struct(fs) => fs.iter().any(|f| walk(f.data_type())),
            DataType::Union(fs, _) => fs.iter().any(|(_, f)| walk(f.data_type())),
            DataType::RunEndEncoded(a, b) => walk(a.data_type()) || walk(b.data_type()),
            _ => false,
        }
    }
    fields.iter().any(|f| walk(f.data_type()))
}

/// Encodes batches of one schema into IPC messages without the stream's schema message.
/// The encoded body buffers are the batch's own buffers (no copy); the writer copies them
/// once, into the slot.
pub(crate) struct Encoder {
    pub schema: SchemaRef,
    dictionaries: bool,
    inner: Option<StreamEncoder>,
}

pub(crate) struct Encoded {
    pub buffers: Vec<Buffer>,
    pub len: usize,
}

impl Encoder {
    pub fn new(schema: SchemaRef) -> Self {
        Encoder {
            dictionaries: has_dictionaries(schema.fields()),
            schema,
            inner: None,
        }
    }

    /// Starts a new frame. Frames must decode on their own, so an encoder of a schema with
    /// dictionaries starts afresh and repeats every dictionary in the frame.
    pub fn begin_frame(&mut self) {
        if self.dictionaries {
            self.inner = None;
        }
    }

    pub fn encode(&mut self, batch: &RecordBatch) -> Result<Encoded, ArrowError> {
        let fresh = self.inner.is_none();
        if fresh {
            self.inner = Some(StreamEncoder::try_new_with_options(
                &self.schema,
                write_options(),
            )?);
        }
        let mut buffers = self.inner.as_mut().expect("set above").encode(batch)?;
        if fresh {
            // The first output of a stream encoder starts with the Schema message, which the
            // ring keeps in its schema table instead: skip it.
            let mut prefix = [0u8; 8];
            gather(&buffers, &mut prefix);
            let meta = i32::from_le_bytes(prefix[4..8].try_into().unwrap());
            if u32::from_le_bytes(prefix[..4].try_into().unwrap()) != CONTINUATION || meta < 0 {
                return Err(ArrowError::IpcError(
                    "unexpected stream encoder output".into(),
                ));
            }
            buffers = drop_front(buffers, 8 + meta as usize);
        }
        let len = buffers.iter().map(|b| b.len()).sum();
        if len % ALIGN != 0 {
            return Err(ArrowError::IpcError(format!(
                "encoded message of {len} bytes is not 64-byte aligned"
            )));
        }
        Ok(Encoded { buffers, len })
    }
}

fn gather(buffers: &[Buffer], out: &mut [u8]) {
    let mut at = 0;
    for b in buffers {
        if at == out.len() {
            break;
        }
        let n = (out.len() - at).min(b.len());
        out[at..at + n].copy_from_slice(&b.as_slice()[..n]);
        at += n;
    }
}

fn drop_front(buffers: Vec<Buffer>, mut n: usize) -> Vec<Buffer> {
    let mut out = Vec::with_capacity(buffers.len());
    for b in buffers {
        if n >= b.len() {
            n -= b.len();
            continue;
        }
        out.push(if n > 0 { b.slice(n) } else { b });
        n = 0;
    }
    out
}

/// Why a payload did not decode; the reader turns it into `Corrupt`.
pub(crate) type DecodeError = String;

fn read_u32(p: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(p[at..at + 4].try_into().unwrap())
}

/// Checks the buffers and nodes a record batch header names against its body.
fn check_batch(rb: arrow::ipc::RecordBatch<'_>, body_len: u64) -> Result<(), DecodeError> {
    if rb.compression().is_some() {
        return Err("compressed IPC bodies are not used in rings".into());
    }
    if rb.length() < 0 || rb.length() > i32::MAX as i64 {
        return Err(format!("row count {} out of range", rb.length()));
    }
    if let Some(buffers) = rb.buffers() {
        for b in buffers.iter() {
            let (off, len) = (b.offset(), b.length());
            if off < 0
                || len < 0
                || (off as u64)
                    .checked_add(len as u64)
                    .is_none_or(|end| end > body_len)
            {
                return Err(format!(
                    "buffer at {off}+{len} outside a body of {body_len} bytes"
                ));
            }
        }
    }
    if let Some(nodes) = rb.nodes() {
        for n in nodes.iter() {
            if n.length() < 0
                || n.length() > i32::MAX as i64
                || n.null_count() < 0
                || n.null_count() > n.length()
            {
                return Err(format!(
                    "field node of length {} with {} nulls",
                    n.length(),
                    n.null_count()
                ));
            }
        }
    }
    Ok(())
}

/// Decodes a frame's payload into `n_batches` record batches of `schema`. The batches share
/// `payload`'s memory: a payload over the mapping gives zero-copy batches.
pub(crate) fn decode(
    payload: &Buffer,
    schema: &SchemaRef,
    n_batches: u32,
    trust_writer: bool,
) -> Result<Vec<RecordBatch>, DecodeError> {
    let run = || -> Result<Vec<RecordBatch>, DecodeError> {
        let p = payload.as_slice();
        let mut decoder =
            FileDecoder::new(schema.clone(), MetadataVersion::V5).with_require_alignment(true);
        if trust_writer {
            // SAFETY: the caller asked to trust the ring's writer: it is a Quiver writer that
            // encoded these messages from valid arrays (the offsets were still checked above).
            decoder = unsafe { decoder.with_skip_validation(true) };
        }
        let mut out = Vec::with_capacity(n_batches as usize);
        let mut at = 0usize;
        while at < p.len() {
            if !at.is_multiple_of(ALIGN) || p.len() - at < 8 {
                return Err(format!("message at byte {at} is misaligned or cut short"));
            }
            if read_u32(p, at) != CONTINUATION {
                return Err(format!("no IPC continuation marker at byte {at}"));
            }
            let meta_len = read_u32(p, at + 4) as usize;
            let meta_end = at
                .checked_add(8 + meta_len)
                .filter(|&e| meta_len > 0 && meta_len <= i32::MAX as usize && e <= p.len())
                .ok_or_else(|| {
                    format!("metadata length {meta_len} at byte {at} runs past the payload")
                })?;
            let message = root_as_message(&p[at + 8..meta_end])
                .map_err(|e| format!("message at byte {at}: {e}"))?;
            let body_len = message.bodyLength();
            let end = u64::try_from(body_len)
                .ok()
                .and_then(|b| (meta_end as u64).checked_add(b))
                .filter(|&e| e <= p.len() as u64)
                .ok_or_else(|| {
                    format!("body length {body_len} at byte {at} runs past the payload")
                })? as usize;
            let block = Block::new(0, (8 + meta_len) as i32, body_len);
            let msg = payload.slice_with_length(at, end - at);
            match message.header_type() {
                MessageHeader::DictionaryBatch => {
                    let dict = message
                        .header_as_dictionary_batch()
                        .and_then(|d| d.data())
                        .ok_or("dictionary message without data")?;
                    check_batch(dict, body_len as u64)?;
                    decoder
                        .read_dictionary(&block, &msg)
                        .map_err(|e| e.to_string())?;
                }
                MessageHeader::RecordBatch => {
                    let rb = message
                        .header_as_record_batch()
                        .ok_or("record batch without header")?;
                    check_batch(rb, body_len as u64)?;
                    let batch = decoder
                        .read_record_batch(&block, &msg)
                        .map_err(|e| e.to_string())?
                        .ok_or("empty record batch message")?;
                    out.push(batch);
                }
                other => return Err(format!("unexpected {other:?} message in a frame")),
            }
            at = end;
        }
        if out.len() != n_batches as usize {
            return Err(format!(
                "the slot header says {n_batches} batches, the payload holds {}",
                out.len()
            ));
        }
        Ok(out)
    };
    match std::panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(_) => Err("the IPC decoder panicked on this payload".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, DictionaryArray, Int64Array, StringArray};
    use arrow::datatypes::Int32Type;

    fn concat(e: &Encoded) -> Buffer {
        let mut v = Vec::new();
        for b in &e.buffers {
            v.extend_from_slice(b.as_slice());
        }
        // 64-aligned like a slot payload
        let mut m = arrow::buffer::MutableBuffer::with_capacity(v.len());
        m.extend_from_slice(&v);
        m.into()
    }

    #[test]
    fn batches_and_dictionaries_round_trip_and_damage_is_an_error() {
        let dict: DictionaryArray<Int32Type> = vec!["a", "b", "a"].into_iter().collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Int64, true),
            Field::new("s", DataType::Utf8, false),
            Field::new("d", dict.data_type().clone(), false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])),
                Arc::new(StringArray::from(vec!["x", "yy", "zzz"])),
                Arc::new(dict),
            ],
        )
        .unwrap();
        let mut enc = Encoder::new(schema.clone());
        enc.begin_frame();
        let e = enc.encode(&batch).unwrap();
        let payload = concat(&e);
        let back = decode(&payload, &schema, 1, false).unwrap();
        assert_eq!(back[0], batch);
        // A second frame repeats its dictionary and decodes alone.
        enc.begin_frame();
        let again = concat(&enc.encode(&batch).unwrap());
        assert_eq!(decode(&again, &schema, 1, false).unwrap()[0], batch);
        assert!(decode(&payload, &schema, 2, false).is_err());

        let mut rng = 0x2545F4914F6CDD1Du64;
        for _ in 0..2000 {
            let mut bytes = payload.as_slice().to_vec();
            for _ in 0..3 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let i = (rng as usize) % bytes.len();
                bytes[i] = (rng >> 32) as u8;
            }
            let mut m = arrow::buffer::MutableBuffer::with_capacity(bytes.len());
            m.extend_from_slice(&bytes);
            let _ = decode(&m.into(), &schema, 1, false); // an error or a batch, never a crash
        }
        let schema_bytes = schema_message(&schema).unwrap();
        let parsed = arrow::ipc::convert::try_schema_from_ipc_buffer(&schema_bytes).unwrap();
        assert_eq!(&parsed, schema.as_ref());
    }
}
