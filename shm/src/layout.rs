//! The ring file's layout, version 1. All integers are little-endian and naturally aligned;
//! fields written by different processes sit on different 64-byte lines. README.md of this
//! crate has the same tables for readers written in other languages.
//!
//! ```text
//! page 0      header: creator fields (CRC-checked), the writer's line, the wake-up words
//! page 1..    reader table: max_readers records of 64 bytes
//! then        schema table: 64 entries of 16 bytes, then encapsulated IPC Schema messages
//! then        slot_count slots of slot_bytes: a 64-byte slot header, then the payload:
//!             encapsulated IPC messages ([DictionaryBatch]* RecordBatch)+, each 64-aligned
//! ```
//!
//! Locks (open-file-description byte-range locks on the ring file; they say nothing about
//! the bytes' content): byte 0 exclusive = the writer, for its whole life; byte
//! `READER_LOCK_BASE + i` exclusive = the owner of reader record i.

pub const MAGIC: [u8; 8] = *b"QUIVRING";
pub const LAYOUT_VERSION: u32 = 1;
pub const PAGE: u64 = 4096;
pub const HEADER_BYTES: u64 = PAGE;

// Creator fields: written once, before the ring gets its name; covered by the header CRC.
pub const H_MAGIC: usize = 0;
pub const H_VERSION: usize = 8;
pub const H_HEADER_BYTES: usize = 12;
pub const H_TOTAL: usize = 16;
pub const H_RING_ID: usize = 24;
pub const H_SLOTS: usize = 32;
pub const H_MAX_READERS: usize = 36;
pub const H_SLOT_BYTES: usize = 40;
pub const H_SLOTS_OFFSET: usize = 48;
pub const H_POLICY: usize = 56;
pub const H_FLAGS: usize = 60;
pub const H_CREATE_TIME: usize = 64;
pub const H_SCHEMA_OFFSET: usize = 72;
pub const H_SCHEMA_BYTES: usize = 80;
pub const H_READER_OFFSET: usize = 88;
pub const H_CREATOR_UID: usize = 96;
pub const H_CRC: usize = 124;

// The writer's line.
/// The next sequence number to publish; sequences start at 1.
pub const W_SEQ: usize = 128;
pub const W_EPOCH: usize = 136;
pub const W_STATE: usize = 140;
pub const W_PID: usize = 144;
/// The last sequence of a closed ring.
pub const W_EOS: usize = 152;
pub const W_SCHEMA_COUNT: usize = 160;

// Wake-up words.
/// +1 per publish; readers FUTEX_WAIT here.
pub const DATA_FUTEX: usize = 192;
pub const READERS_WAITING: usize = 196;
/// +1 when a reader advances or unpins while the writer waits; the writer waits here.
pub const SPACE_FUTEX: usize = 256;
pub const WRITER_WAITING: usize = 260;

pub const STATE_NONE: u32 = 0;
pub const STATE_OPEN: u32 = 1;
pub const STATE_CLOSED: u32 = 2;
pub const STATE_ABANDONED: u32 = 3;

pub const FLAG_CHECKSUM: u32 = 1;

// Reader records, 64 bytes each.
pub const READER_RECORD: u64 = 64;
pub const R_STATE: usize = 0;
pub const R_PID: usize = 4;
/// The next sequence this reader will consume (flow control for the `block` policy).
pub const R_CURSOR: usize = 8;
/// The lowest sequence this reader has pinned; `u64::MAX` when none.
pub const R_PIN_MIN: usize = 16;
pub const R_PIN_COUNT: usize = 24;
pub const R_FLAGS: usize = 28;
pub const R_ATTACH_TIME: usize = 32;
pub const R_LAGGED: usize = 40;
pub const R_READ: usize = 48;

pub const WRITER_LOCK: u64 = 0;
pub const READER_LOCK_BASE: u64 = PAGE;

// Schema table.
pub const MAX_SCHEMAS: u32 = 64;
pub const SCHEMA_ENTRY: u64 = 16;
pub const SCHEMA_TABLE_BYTES: u64 = 64 * 1024;
pub const S_ID: usize = 0;
pub const S_OFFSET: usize = 4;
pub const S_LEN: usize = 8;
pub const S_CRC: usize = 12;

// Slots.
pub const SLOT_HEADER: u64 = 64;
/// 0 = empty; 2s+1 = being written as sequence s; 2s+2 = holds sequence s, complete.
pub const SL_STAMP: usize = 0;
pub const SL_LEN: usize = 8;
pub const SL_SCHEMA: usize = 16;
pub const SL_BATCHES: usize = 20;
pub const SL_ROWS: usize = 24;
pub const SL_TIME: usize = 32;
pub const SL_EPOCH: usize = 40;
pub const SL_FLAGS: usize = 44;
pub const SL_CRC: usize = 48;

pub const DEFAULT_SIZE: u64 = 256 << 20;
pub const DEFAULT_SLOTS: u32 = 8;
pub const DEFAULT_MAX_READERS: u32 = 64;

/// What the writer does when the slot it needs still holds a frame some reader has not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Wait for the slowest live reader (up to the write timeout, then `RingFull`).
    Block,
    /// Never wait on unread frames; a reader that falls behind gets `Lagged { missed }`.
    Overwrite,
}

impl Policy {
    pub fn code(self) -> u32 {
        match self {
            Policy::Block => 0,
            Policy::Overwrite => 1,
        }
    }

    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Policy::Block),
            1 => Some(Policy::Overwrite),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Policy::Block => "block",
            Policy::Overwrite => "overwrite",
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "block" => Ok(Policy::Block),
            "overwrite" => Ok(Policy::Overwrite),
            other => Err(format!(
                "unknown ring policy '{other}': use block or overwrite"
            )),
        }
    }
}

/// A ring's fixed shape, as the creator chose it and the header records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub total_bytes: u64,
    pub slot_count: u32,
    pub max_readers: u32,
    pub slot_bytes: u64,
    pub slots_offset: u64,
    pub reader_offset: u64,
    pub schema_offset: u64,
    pub schema_bytes: u64,
    pub policy: Policy,
    pub flags: u32,
}

fn round_up(n: u64, to: u64) -> u64 {
    n.div_ceil(to) * to
}

impl Geometry {
    /// Lays out a ring of about `size` bytes in all with `slots` slots. `None` when the size
    /// leaves less than one page of payload per slot.
    pub fn plan(
        size: u64,
        slots: u32,
        max_readers: u32,
        policy: Policy,
        flags: u32,
    ) -> Option<Self> {
        if slots == 0 || max_readers == 0 || max_readers > 4096 {
            return None;
        }
        let reader_offset = HEADER_BYTES;
        let schema_offset = reader_offset + round_up(max_readers as u64 * READER_RECORD, PAGE);
        let slots_offset = schema_offset + SCHEMA_TABLE_BYTES;
        let per_slot = size.checked_sub(slots_offset)? / slots as u64;
        let slot_bytes = per_slot / PAGE * PAGE;
        if slot_bytes < 2 * PAGE {
            return None;
        }
        Some(Geometry {
            total_bytes: slots_offset + slot_bytes * slots as u64,
            slot_count: slots,
            max_readers,
            slot_bytes,
            slots_offset,
            reader_offset,
            schema_offset,
            schema_bytes: SCHEMA_TABLE_BYTES,
            policy,
            flags,
        })
    }

    /// The largest payload one frame can carry.
    pub fn capacity(&self) -> u64 {
        self.slot_bytes - SLOT_HEADER
    }

    pub fn slot_offset(&self, seq: u64) -> usize {
        (self.slots_offset + ((seq - 1) % self.slot_count as u64) * self.slot_bytes) as usize
    }

    pub fn reader_record(&self, i: u32) -> usize {
        (self.reader_offset + i as u64 * READER_RECORD) as usize
    }

    /// Serialises the creator fields and their CRC into the first 128 header bytes.
    pub fn encode(&self, ring_id: u64, create_time_ns: u64, uid: u32) -> [u8; 128] {
        let mut h = [0u8; 128];
        let put32 = |h: &mut [u8; 128], off: usize, v: u32| {
            h[off..off + 4].copy_from_slice(&v.to_le_bytes())
        };
        let put64 = |h: &mut [u8; 128], off: usize, v: u64| {
            h[off..off + 8].copy_from_slice(&v.to_le_bytes())
        };
        h[H_MAGIC..H_MAGIC + 8].copy_from_slice(&MAGIC);
        put32(&mut h, H_VERSION, LAYOUT_VERSION);
        put32(&mut h, H_HEADER_BYTES, HEADER_BYTES as u32);
        put64(&mut h, H_TOTAL, self.total_bytes);
        put64(&mut h, H_RING_ID, ring_id);
        put32(&mut h, H_SLOTS, self.slot_count);
        put32(&mut h, H_MAX_READERS, self.max_readers);
        put64(&mut h, H_SLOT_BYTES, self.slot_bytes);
        put64(&mut h, H_SLOTS_OFFSET, self.slots_offset);
        put32(&mut h, H_POLICY, self.policy.code());
        put32(&mut h, H_FLAGS, self.flags);
        put64(&mut h, H_CREATE_TIME, create_time_ns);
        put64(&mut h, H_SCHEMA_OFFSET, self.schema_offset);
        put64(&mut h, H_SCHEMA_BYTES, self.schema_bytes);
        put64(&mut h, H_READER_OFFSET, self.reader_offset);
        put32(&mut h, H_CREATOR_UID, uid);
        let crc = crc32fast::hash(&h[..H_CRC]);
        put32(&mut h, H_CRC, crc);
        h
    }

    /// Checks a header read from a file of `file_len` bytes. Errors are described in words;
    /// the caller wraps them into the ring's error kinds.
    pub fn decode(h: &[u8; 128], file_len: u64) -> Result<(Self, HeaderInfo), HeaderError> {
        let get32 = |off: usize| u32::from_le_bytes(h[off..off + 4].try_into().unwrap());
        let get64 = |off: usize| u64::from_le_bytes(h[off..off + 8].try_into().unwrap());
        if h[..8] != MAGIC {
            return Err(HeaderError::Magic(h[..8].try_into().unwrap()));
        }
        if get32(H_VERSION) != LAYOUT_VERSION {
            return Err(HeaderError::Version(get32(H_VERSION)));
        }
        if crc32fast::hash(&h[..H_CRC]) != get32(H_CRC) {
            return Err(HeaderError::Invalid(
                "the header checksum does not match".into(),
            ));
        }
        let policy = Policy::from_code(get32(H_POLICY))
            .ok_or_else(|| HeaderError::Invalid(format!("unknown policy {}", get32(H_POLICY))))?;
        let g = Geometry {
            total_bytes: get64(H_TOTAL),
            slot_count: get32(H_SLOTS),
            max_readers: get32(H_MAX_READERS),
            slot_bytes: get64(H_SLOT_BYTES),
            slots_offset: get64(H_SLOTS_OFFSET),
            reader_offset: get64(H_READER_OFFSET),
            schema_offset: get64(H_SCHEMA_OFFSET),
            schema_bytes: get64(H_SCHEMA_BYTES),
            policy,
            flags: get32(H_FLAGS),
        };
        // The shape must be one `plan` could have produced: every region inside the file,
        // page-aligned and in order, so no later offset computation can leave the mapping.
        let consistent = get32(H_HEADER_BYTES) as u64 == HEADER_BYTES
            && g.slot_count > 0
            && g.max_readers > 0
            && g.max_readers <= 4096
            && g.reader_offset == HEADER_BYTES
            && g.schema_offset
                == g.reader_offset + round_up(g.max_readers as u64 * READER_RECORD, PAGE)
            && g.schema_bytes == SCHEMA_TABLE_BYTES
            && g.slots_offset == g.schema_offset + g.schema_bytes
            && g.slot_bytes >= 2 * PAGE
            && g.slot_bytes.is_multiple_of(PAGE)
            && (g.slot_count as u64)
                .checked_mul(g.slot_bytes)
                .and_then(|s| s.checked_add(g.slots_offset))
                == Some(g.total_bytes);
        if !consistent {
            return Err(HeaderError::Invalid(
                "the header's sizes and offsets do not fit together".into(),
            ));
        }
        if file_len < g.total_bytes {
            return Err(HeaderError::Truncated {
                expected: g.total_bytes,
                actual: file_len,
            });
        }
        let info = HeaderInfo {
            ring_id: get64(H_RING_ID),
            create_time_ns: get64(H_CREATE_TIME),
            creator_uid: get32(H_CREATOR_UID),
        };
        Ok((g, info))
    }
}

#[derive(Clone, Debug)]
pub struct HeaderInfo {
    pub ring_id: u64,
    pub create_time_ns: u64,
    pub creator_uid: u32,
}

#[derive(Debug)]
pub enum HeaderError {
    Magic([u8; 8]),
    Version(u32),
    Invalid(String),
    Truncated { expected: u64, actual: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planned_header_round_trips_and_damage_is_caught() {
        let g = Geometry::plan(
            DEFAULT_SIZE,
            DEFAULT_SLOTS,
            DEFAULT_MAX_READERS,
            Policy::Overwrite,
            0,
        )
        .unwrap();
        assert_eq!(g.slots_offset % PAGE, 0);
        assert!(g.total_bytes <= DEFAULT_SIZE);
        assert_eq!(g.slot_offset(1), g.slots_offset as usize);
        assert_eq!(g.slot_offset(9), g.slots_offset as usize);
        let h = g.encode(7, 1, 0);
        let (back, info) = Geometry::decode(&h, g.total_bytes).unwrap();
        assert_eq!(back, g);
        assert_eq!(info.ring_id, 7);
        assert!(matches!(
            Geometry::decode(&h, g.total_bytes - 1),
            Err(HeaderError::Truncated { .. })
        ));
        let mut bad = h;
        bad[H_SLOTS] ^= 1;
        assert!(matches!(
            Geometry::decode(&bad, g.total_bytes),
            Err(HeaderError::Invalid(_))
        ));
        let mut bad = h;
        bad[0] = b'X';
        assert!(matches!(
            Geometry::decode(&bad, g.total_bytes),
            Err(HeaderError::Magic(_))
        ));
        assert!(Geometry::plan(100_000, 8, 64, Policy::Block, 0).is_none());
    }
}
