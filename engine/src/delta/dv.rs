//! Deletion vectors: which rows of a data file are deleted.
//!
//! A descriptor points at a bitmap stored inline (Z85 text), in a file next to the table
//! named by a UUID, or at an absolute path. Stored bitmaps are framed by their size and a
//! CRC-32, both checked. The bitmap is a "portable" 64-bit roaring bitmap array: a magic
//! number, the count of 32-bit bitmaps, then each bitmap with its high 32 bits as a key.

use object_store::ObjectStoreExt;
use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use roaring::RoaringBitmap;

use super::actions::DeletionVector;
use super::log::DeltaLog;
use crate::{Error, Result};

const MAGIC: u32 = 1_681_511_377;
const Z85: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Decodes Z85 text (its length a multiple of 5) into bytes.
pub(crate) fn z85_decode(text: &str) -> Option<Vec<u8>> {
    let mut table = [255u8; 256];
    for (i, c) in Z85.iter().enumerate() {
        table[*c as usize] = i as u8;
    }
    if !text.len().is_multiple_of(5) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 5 * 4);
    let chunks = text.len() / 5;
    for (i, chunk) in text.as_bytes().chunks(5).enumerate() {
        // A block can never start with '#' (84 × 85⁴ > 2³²), so a last block that does is the
        // short-tail form of Rust's `z85` crate, which some writers use: one '#' per padding
        // byte, then the tail's value in the remaining digits, big-endian.
        let padding = chunk.iter().take_while(|c| **c == b'#').count();
        let digits = if i + 1 == chunks && padding > 0 {
            if padding > 3 {
                return None;
            }
            &chunk[padding..]
        } else {
            chunk
        };
        let mut value: u64 = 0;
        for c in digits {
            let digit = table[*c as usize];
            if digit == 255 {
                return None;
            }
            value = value * 85 + u64::from(digit);
        }
        let value = u32::try_from(value).ok()?;
        out.extend_from_slice(&value.to_be_bytes()[padding.min(3)..]);
    }
    Some(out)
}

/// Where a `u` descriptor's file is, relative to the table root.
fn uuid_file(encoded: &str) -> Option<String> {
    if encoded.len() < 20 {
        return None;
    }
    let (prefix, id) = encoded.split_at(encoded.len() - 20);
    let bytes = z85_decode(id)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    Some(if prefix.is_empty() {
        format!("deletion_vector_{uuid}.bin")
    } else {
        format!("{prefix}/deletion_vector_{uuid}.bin")
    })
}

/// The deleted row indexes of one data file, ascending.
pub(crate) async fn deleted_rows(log: &DeltaLog, dv: &DeletionVector) -> Result<Vec<u64>> {
    let error = |path: &str, why: String| Error::CorruptFile {
        path: path.to_string(),
        reason: format!("deletion vector: {why}"),
    };
    let size =
        usize::try_from(dv.size_in_bytes).map_err(|_| error("log", "negative size".into()))?;
    let bitmap = match dv.storage_type.as_str() {
        "i" => {
            let mut bytes = z85_decode(&dv.path_or_inline_dv)
                .ok_or_else(|| error("inline deletion vector", "invalid Z85 text".into()))?;
            if bytes.len() < size {
                return Err(error(
                    "inline deletion vector",
                    "shorter than its size".into(),
                ));
            }
            bytes.truncate(size);
            bytes
        }
        "u" | "p" => {
            let relative = if dv.storage_type == "u" {
                uuid_file(&dv.path_or_inline_dv).ok_or_else(|| {
                    error(
                        &dv.path_or_inline_dv,
                        "not a valid UUID-relative path".into(),
                    )
                })?
            } else {
                dv.path_or_inline_dv.clone()
            };
            let path = super::paths::resolve(log, &relative)?;
            let shown = crate::location::display_location(&log.store_url, path.as_ref());
            let offset = u64::try_from(dv.offset.unwrap_or(1))
                .map_err(|_| error(&shown, "negative offset".into()))?;
            let end = offset + 4 + size as u64 + 4;
            let framed = log
                .store
                .get_range(&path, offset..end)
                .await
                .map_err(|e| match e {
                    object_store::Error::NotFound { .. } => Error::NotFound {
                        path: format!("{shown} (deletion vector)"),
                        original: None,
                    },
                    other => error(&shown, other.to_string()),
                })?;
            if framed.len() as u64 != end - offset {
                return Err(error(
                    &shown,
                    "file is shorter than the descriptor says".into(),
                ));
            }
            let declared = u32::from_be_bytes([framed[0], framed[1], framed[2], framed[3]]);
            if declared as usize != size {
                return Err(error(
                    &shown,
                    format!("size field {declared} differs from the log's {size}"),
                ));
            }
            let data = &framed[4..4 + size];
            let stored = u32::from_be_bytes([
                framed[4 + size],
                framed[5 + size],
                framed[6 + size],
                framed[7 + size],
            ]);
            if crc32fast::hash(data) != stored {
                return Err(error(&shown, "checksum mismatch".into()));
            }
            data.to_vec()
        }
        other => {
            return Err(error("log", format!("unknown storage type '{other}'")));
        }
    };
    let rows = decode_bitmap(&bitmap).map_err(|why| error("deletion vector", why))?;
    if rows.len() as i64 != dv.cardinality {
        return Err(error(
            "deletion vector",
            format!(
                "holds {} rows but the log says {}",
                rows.len(),
                dv.cardinality
            ),
        ));
    }
    Ok(rows)
}

/// Decodes a portable roaring bitmap array into ascending row indexes.
fn decode_bitmap(bytes: &[u8]) -> std::result::Result<Vec<u64>, String> {
    if bytes.len() < 12 {
        return Err("bitmap too short".into());
    }
    let magic = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if magic != MAGIC {
        return Err(format!("unknown bitmap format (magic {magic})"));
    }
    let mut count_bytes = [0u8; 8];
    count_bytes.copy_from_slice(&bytes[4..12]);
    let count = u64::from_le_bytes(count_bytes);
    let mut rest = &bytes[12..];
    let mut rows = Vec::new();
    for _ in 0..count {
        if rest.len() < 4 {
            return Err("bitmap truncated".into());
        }
        let key = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        rest = &rest[4..];
        let bitmap = RoaringBitmap::deserialize_from(&mut rest).map_err(|e| e.to_string())?;
        rows.extend(bitmap.iter().map(|v| (u64::from(key) << 32) | u64::from(v)));
    }
    rows.sort_unstable();
    Ok(rows)
}

/// The rows to read of a file with `total` rows of which `deleted` (ascending) are gone.
pub(crate) fn selection(deleted: &[u64], total: u64) -> RowSelection {
    let mut selectors = Vec::new();
    let mut at = 0u64;
    let mut i = 0;
    while i < deleted.len() {
        let start = deleted[i].min(total);
        let mut end = start;
        while i < deleted.len() && deleted[i] == end && end < total {
            end += 1;
            i += 1;
        }
        if end == start {
            // An index past the end of the file: nothing there to delete.
            i += 1;
            continue;
        }
        if start > at {
            selectors.push(RowSelector::select((start - at) as usize));
        }
        selectors.push(RowSelector::skip((end - start) as usize));
        at = end;
    }
    if total > at {
        selectors.push(RowSelector::select((total - at) as usize));
    }
    RowSelection::from(selectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z85_round_trips_the_spec_example() {
        // The ZeroMQ Z85 specification's test vector.
        assert_eq!(
            z85_decode("HelloWorld").unwrap(),
            vec![0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        );
        assert!(z85_decode("Hell").is_none());
        // The short-tail form: two padding bytes, then 0x0300 in three digits.
        assert_eq!(z85_decode("00000##093").unwrap(), vec![0, 0, 0, 0, 3, 0]);
    }

    #[test]
    fn uuid_paths_keep_their_prefix() {
        let p = uuid_file("ab^-aqEH.-t@S}K{vb[*k^").unwrap();
        assert!(p.starts_with("ab/deletion_vector_"), "{p}");
        assert!(p.ends_with(".bin"));
    }

    #[test]
    fn selections_skip_deleted_runs() {
        let s = selection(&[0, 1, 5, 9], 10);
        let selectors: Vec<RowSelector> = s.into();
        assert_eq!(
            selectors,
            vec![
                RowSelector::skip(2),
                RowSelector::select(3),
                RowSelector::skip(1),
                RowSelector::select(3),
                RowSelector::skip(1),
            ]
        );
    }
}
