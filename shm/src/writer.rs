//! The one writer of a ring: creates or takes it over, publishes frames, closes it.
//!
//! Publishing sequence `s` into slot `i` (whose previous frame was `p = s - N`):
//! 1. `block` policy: wait until no live reader still has to read `p`.
//! 2. Mark the slot "being written" (`stamp = 2s+1`, SeqCst): from here no reader accepts
//!    `p` from it any more.
//! 3. Wait until no live reader has `p` pinned (SeqCst loads: with step 2 and the reader's
//!    pin-then-check, one of the two always sees the other).
//! 4. Copy the encoded messages in (the one copy), fill in the slot header.
//! 5. `stamp = 2s+2` (Release), `write_seq = s+1`, bump the data futex and wake waiting
//!    readers.
//!
//! While waiting the writer probes the locks of the readers that hold it up; a reader whose
//! lock the kernel released is dead, and its record is cleared (reaped).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::datatypes::SchemaRef;

use crate::error::{Error, Result};
use crate::frame::{self, Encoder};
use crate::layout::*;
use crate::ring::{Ring, RingOptions, now_ns};
use crate::sys;

/// How often a waiting writer or reader checks whether the peers it waits for are alive.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_millis(10);

pub struct Writer {
    ring: Ring,
    seq: u64,
    schemas: Vec<SchemaRef>,
    current: Option<(u32, Encoder)>,
    write_timeout: Duration,
    spin: Duration,
    taken_over: bool,
    closed: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Hold {
    /// A reader has not read the frame yet (`block` policy).
    Unread,
    /// A reader holds the frame's buffers.
    Pinned,
}

struct Frame {
    schema_id: u32,
    parts: Vec<Buffer>,
    len: usize,
    rows: u64,
    batches: u32,
}

impl Writer {
    /// Creates ring `name`, or takes over an existing ring of that name whose writer has
    /// died or closed it. A ring whose writer is alive gives `AlreadyExists`.
    pub fn create(name: &str, opts: RingOptions) -> Result<Writer> {
        let (ring, taken_over) = Ring::create(name, &opts)?;
        let mut w = Writer {
            seq: ring.u64(W_SEQ).load(Ordering::Acquire),
            ring,
            schemas: Vec::new(),
            current: None,
            write_timeout: Duration::from_secs(30),
            spin: Duration::ZERO,
            taken_over,
            closed: false,
        };
        if taken_over {
            w.load_schemas()?;
        }
        Ok(w)
    }

    /// How long `write` waits for slow readers (`block`) or pinned slots before `RingFull`.
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Spin this long before sleeping when the ring is full (lower latency, one busy core).
    pub fn with_spin(mut self, spin: Duration) -> Self {
        self.spin = spin;
        self
    }

    pub fn name(&self) -> &str {
        &self.ring.name
    }

    pub fn geometry(&self) -> &Geometry {
        &self.ring.geo
    }

    /// Whether `create` took over an existing ring (its frames stay readable).
    pub fn taken_over(&self) -> bool {
        self.taken_over
    }

    /// The sequence number the next frame will get.
    pub fn next_seq(&self) -> u64 {
        self.seq
    }

    pub fn epoch(&self) -> u32 {
        self.ring.u32(W_EPOCH).load(Ordering::Acquire)
    }

    /// Publishes `batch` as one frame (or several, if it is larger than a slot). Returns the
    /// sequence of the last frame written.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<u64> {
        self.write_batches(std::slice::from_ref(batch))
    }

    /// Publishes `batches`, packing consecutive batches of one schema into as few frames as
    /// fit a slot. Returns the sequence of the last frame written.
    pub fn write_batches(&mut self, batches: &[RecordBatch]) -> Result<u64> {
        let mut pending: Option<Frame> = None;
        for batch in batches {
            let id = self.schema_id(&batch.schema())?;
            if pending.as_ref().is_some_and(|f| f.schema_id != id) {
                self.publish(pending.take().unwrap())?;
            }
            self.pack(id, batch, &mut pending)?;
        }
        if let Some(f) = pending {
            self.publish(f)?;
        }
        Ok(self.seq - 1)
    }

    fn pack(&mut self, id: u32, batch: &RecordBatch, pending: &mut Option<Frame>) -> Result<()> {
        let capacity = self.ring.geo.capacity() as usize;
        if pending.is_none() {
            self.encoder(id).begin_frame();
        }
        let encoded = self
            .encoder(id)
            .encode(batch)
            .map_err(|e| Error::arrow(&self.ring.name, e))?;
        if encoded.len > capacity {
            if batch.num_rows() <= 1 {
                return Err(Error::MessageTooLarge {
                    ring: self.ring.name.clone(),
                    bytes: encoded.len as u64,
                    capacity: capacity as u64,
                });
            }
            // Too large for one slot: write it in halves. (The encoder may have recorded a
            // dictionary from the discarded encoding, so halves start new frames.)
            if let Some(f) = pending.take() {
                self.publish(f)?;
            }
            let half = batch.num_rows() / 2;
            self.pack(id, &batch.slice(0, half), pending)?;
            if let Some(f) = pending.take() {
                self.publish(f)?;
            }
            self.pack(id, &batch.slice(half, batch.num_rows() - half), pending)?;
            return Ok(());
        }
        if let Some(f) = pending.as_ref()
            && f.len + encoded.len > capacity
        {
            // Does not fit beside what is pending: publish that and encode afresh (a frame
            // must carry its own dictionaries).
            self.publish(pending.take().unwrap())?;
            return self.pack(id, batch, pending);
        }
        let f = pending.get_or_insert_with(|| Frame {
            schema_id: id,
            parts: Vec::new(),
            len: 0,
            rows: 0,
            batches: 0,
        });
        f.parts.extend(encoded.buffers);
        f.len += encoded.len;
        f.rows += batch.num_rows() as u64;
        f.batches += 1;
        Ok(())
    }

    fn encoder(&mut self, id: u32) -> &mut Encoder {
        if self.current.as_ref().is_none_or(|(cur, _)| *cur != id) {
            self.current = Some((id, Encoder::new(self.schemas[id as usize].clone())));
        }
        &mut self.current.as_mut().unwrap().1
    }

    /// The id of `schema` in the ring's schema table, adding it if it is new.
    fn schema_id(&mut self, schema: &SchemaRef) -> Result<u32> {
        if let Some((id, enc)) = &self.current
            && (Arc::ptr_eq(&enc.schema, schema) || enc.schema == *schema)
        {
            return Ok(*id);
        }
        if let Some(id) = self.schemas.iter().position(|s| s == schema) {
            return Ok(id as u32);
        }
        let name = self.ring.name.clone();
        let bytes = frame::schema_message(schema).map_err(|e| Error::arrow(&name, e))?;
        let g = &self.ring.geo;
        let count = self.ring.u32(W_SCHEMA_COUNT).load(Ordering::Acquire);
        let table = g.schema_offset as usize;
        let blob_start = MAX_SCHEMAS as usize * SCHEMA_ENTRY as usize;
        let offset = if count == 0 {
            blob_start
        } else {
            let last = table + (count as usize - 1) * SCHEMA_ENTRY as usize;
            let end = self.ring.u32(last + S_OFFSET).load(Ordering::Acquire) as usize
                + self.ring.u32(last + S_LEN).load(Ordering::Acquire) as usize;
            end.div_ceil(frame::ALIGN) * frame::ALIGN
        };
        if count >= MAX_SCHEMAS || offset + bytes.len() > g.schema_bytes as usize {
            return Err(Error::TooManySchemas {
                ring: name,
                max: MAX_SCHEMAS,
            });
        }
        // SAFETY: bytes past the last published schema are read by nobody until
        // `schema_count` (stored below with Release) says they exist.
        unsafe { self.ring.write_bytes(table + offset, &bytes) };
        let entry = table + count as usize * SCHEMA_ENTRY as usize;
        self.ring.u32(entry + S_ID).store(count, Ordering::Relaxed);
        self.ring
            .u32(entry + S_OFFSET)
            .store(offset as u32, Ordering::Relaxed);
        self.ring
            .u32(entry + S_LEN)
            .store(bytes.len() as u32, Ordering::Relaxed);
        self.ring
            .u32(entry + S_CRC)
            .store(crc32fast::hash(&bytes), Ordering::Relaxed);
        self.ring
            .u32(W_SCHEMA_COUNT)
            .store(count + 1, Ordering::Release);
        self.schemas.push(schema.clone());
        Ok(count)
    }

    /// After a takeover: learn the schemas already in the table, so ids stay stable.
    fn load_schemas(&mut self) -> Result<()> {
        let count = self.ring.u32(W_SCHEMA_COUNT).load(Ordering::Acquire);
        for id in 0..count {
            let schema = crate::reader::load_schema(&self.ring, id)?;
            self.schemas.push(schema);
        }
        Ok(())
    }

    fn publish(&mut self, f: Frame) -> Result<()> {
        let s = self.seq;
        let g = self.ring.geo.clone();
        let slot = g.slot_offset(s);
        let previous = s.checked_sub(g.slot_count as u64).filter(|&p| p >= 1);
        if let (Some(p), Policy::Block) = (previous, g.policy) {
            self.wait_for_readers(Hold::Unread, p)?;
        }
        let stamp = self.ring.u64(slot + SL_STAMP);
        let before = stamp.load(Ordering::Acquire);
        stamp.store(2 * s + 1, Ordering::SeqCst);
        if let Some(p) = previous
            && let Err(e) = self.wait_for_readers(Hold::Pinned, p)
        {
            // Nothing was written: the slot still holds `p` intact.
            stamp.store(before, Ordering::SeqCst);
            return Err(e);
        }
        let mut at = slot + SLOT_HEADER as usize;
        let mut crc = crc32fast::Hasher::new();
        let checksum = g.flags & FLAG_CHECKSUM != 0;
        for part in &f.parts {
            // SAFETY: the slot is marked as being written and no live reader has its previous
            // frame pinned (step 3), so no process reads these bytes now; the frame fits the
            // slot's capacity (checked when packing).
            unsafe { self.ring.write_bytes(at, part.as_slice()) };
            if checksum {
                crc.update(part.as_slice());
            }
            at += part.len();
        }
        let r = &self.ring;
        r.u64(slot + SL_LEN).store(f.len as u64, Ordering::Relaxed);
        r.u32(slot + SL_SCHEMA)
            .store(f.schema_id, Ordering::Relaxed);
        r.u32(slot + SL_BATCHES).store(f.batches, Ordering::Relaxed);
        r.u64(slot + SL_ROWS).store(f.rows, Ordering::Relaxed);
        r.u64(slot + SL_TIME).store(now_ns(), Ordering::Relaxed);
        r.u32(slot + SL_EPOCH)
            .store(r.u32(W_EPOCH).load(Ordering::Relaxed), Ordering::Relaxed);
        r.u32(slot + SL_FLAGS)
            .store(if checksum { FLAG_CHECKSUM } else { 0 }, Ordering::Relaxed);
        r.u32(slot + SL_CRC)
            .store(if checksum { crc.finalize() } else { 0 }, Ordering::Relaxed);
        stamp.store(2 * s + 2, Ordering::Release);
        r.u64(W_SEQ).store(s + 1, Ordering::SeqCst);
        self.seq = s + 1;
        r.u32(DATA_FUTEX).fetch_add(1, Ordering::SeqCst);
        if r.u32(READERS_WAITING).load(Ordering::SeqCst) > 0 {
            sys::futex_wake_all(r.u32(DATA_FUTEX));
        }
        Ok(())
    }

    /// A live reader record that holds sequence `p` in the way `hold` says, if any.
    fn blocker(&self, hold: Hold, p: u64) -> Option<u32> {
        let g = &self.ring.geo;
        (0..g.max_readers).find(|&i| {
            let rec = g.reader_record(i);
            if self.ring.u32(rec + R_STATE).load(Ordering::SeqCst) != 1 {
                return false;
            }
            match hold {
                Hold::Unread => self.ring.u64(rec + R_CURSOR).load(Ordering::SeqCst) <= p,
                Hold::Pinned => self.ring.u64(rec + R_PIN_MIN).load(Ordering::SeqCst) <= p,
            }
        })
    }

    /// Clears reader record `i` if its owner is dead. The writer takes the record's lock
    /// while clearing it, so a reader attaching at the same moment cannot be clobbered.
    fn reap_if_dead(&self, i: u32) -> bool {
        let byte = READER_LOCK_BASE + i as u64;
        if !sys::try_lock(&self.ring.file, byte, 1).unwrap_or(false) {
            return false;
        }
        let rec = self.ring.geo.reader_record(i);
        // The lock was free: whoever owned a record still marked active has died.
        if self.ring.u32(rec + R_STATE).load(Ordering::SeqCst) == 1 {
            log::info!(
                "ring '{}': reader pid {} died; releasing its record",
                self.ring.name,
                self.ring.u32(rec + R_PID).load(Ordering::Relaxed)
            );
            self.ring
                .u64(rec + R_PIN_MIN)
                .store(u64::MAX, Ordering::SeqCst);
            self.ring.u32(rec + R_PIN_COUNT).store(0, Ordering::SeqCst);
            self.ring.u32(rec + R_STATE).store(0, Ordering::SeqCst);
        }
        let _ = sys::unlock(&self.ring.file, byte, 1);
        true
    }

    fn wait_for_readers(&self, hold: Hold, p: u64) -> Result<()> {
        let start = Instant::now();
        let mut last_probe = start;
        loop {
            let Some(i) = self.blocker(hold, p) else {
                return Ok(());
            };
            let waited = start.elapsed();
            if waited < self.spin {
                std::hint::spin_loop();
                continue;
            }
            if last_probe.elapsed() >= PROBE_INTERVAL {
                last_probe = Instant::now();
                if self.reap_if_dead(i) {
                    continue;
                }
            }
            if waited >= self.write_timeout {
                let rec = self.ring.geo.reader_record(i);
                let pid = self.ring.u32(rec + R_PID).load(Ordering::Relaxed);
                let why = match hold {
                    Hold::Unread => format!(
                        "it has not read frame {p} yet; its cursor is at {}",
                        self.ring.u64(rec + R_CURSOR).load(Ordering::Relaxed)
                    ),
                    Hold::Pinned => format!("it still holds frame {p}'s buffers"),
                };
                return Err(Error::RingFull {
                    ring: self.ring.name.clone(),
                    pid,
                    why,
                    waited_ms: waited.as_millis() as u64,
                });
            }
            let space = self.ring.u32(SPACE_FUTEX);
            self.ring.u32(WRITER_WAITING).store(1, Ordering::SeqCst);
            let seen = space.load(Ordering::SeqCst);
            if self.blocker(hold, p).is_some() {
                let left = self
                    .write_timeout
                    .saturating_sub(waited)
                    .max(Duration::from_micros(100));
                sys::futex_wait(space, seen, left.min(PROBE_INTERVAL));
            }
            self.ring.u32(WRITER_WAITING).store(0, Ordering::SeqCst);
        }
    }

    /// Ends the stream: readers drain what is left and then see the end. The ring file stays
    /// for late readers until `quiver shm rm` or `gc` removes it.
    pub fn close(mut self) -> Result<()> {
        self.finish(STATE_CLOSED);
        Ok(())
    }

    /// Stops writing without ending the stream: the ring waits for its next writer, and
    /// readers keep waiting (they see neither the end nor `WriterGone`). What
    /// `quiver shm create` does after creating a ring.
    pub fn leave_open(mut self) {
        self.finish(STATE_NONE);
    }

    fn finish(&mut self, state: u32) {
        if self.closed {
            return;
        }
        self.closed = true;
        let r = &self.ring;
        r.u64(W_EOS).store(self.seq - 1, Ordering::SeqCst);
        r.u32(W_STATE).store(state, Ordering::SeqCst);
        r.u32(DATA_FUTEX).fetch_add(1, Ordering::SeqCst);
        sys::futex_wake_all(r.u32(DATA_FUTEX));
    }
}

impl Drop for Writer {
    /// A writer dropped without `close` closes the ring, unless it is dropped by a panic:
    /// then readers learn that the writer is gone rather than that the stream ended.
    fn drop(&mut self) {
        let state = if std::thread::panicking() {
            STATE_ABANDONED
        } else {
            STATE_CLOSED
        };
        self.finish(state);
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("ring", &self.ring.name)
            .field("next_seq", &self.seq)
            .field("geometry", &self.ring.geo)
            .finish()
    }
}
