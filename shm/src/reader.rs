//! A reader of a ring: every reader sees every frame (broadcast), each with its own cursor.
//!
//! Taking frame `s`: pin it (publish `pin_min`, SeqCst), then check the slot's stamp is still
//! `2s+2` (SeqCst). The writer marks a slot before it checks pins, so either the reader sees
//! the slot is being reused and lets go, or the writer sees the pin and waits. The frame's
//! batches point into the mapping and hold the pin until their last buffer drops.
//!
//! A reader holding many frames (a sort over the ring) would stall the writer; once it holds
//! half the slots, further frames are copied out and released at once.

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::buffer::{Buffer, MutableBuffer};
use arrow::datatypes::SchemaRef;

use crate::error::{Error, Result};
use crate::frame;
use crate::layout::*;
use crate::ring::{Ring, now_ns};
use crate::sys;
use crate::writer::PROBE_INTERVAL;

/// Where a new reader starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The oldest frame still in the ring.
    Oldest,
    /// Only frames published after the reader attached.
    Latest,
    /// A given sequence number (frames before the oldest retained one are reported as lagged).
    Seq(u64),
}

impl std::str::FromStr for Start {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "oldest" => Ok(Start::Oldest),
            "latest" => Ok(Start::Latest),
            other => other.parse::<u64>().map(Start::Seq).map_err(|_| {
                format!("unknown start '{other}': use oldest, latest or a sequence number")
            }),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ReaderOptions {
    pub start: Start,
    /// Spin this long before sleeping when no frame is there (lowest latency, one busy core).
    pub spin: Duration,
    /// Copy every frame out of the ring instead of pinning it.
    pub copy: bool,
    /// Skip validating decoded arrays (offsets are still checked): for rings whose writer is
    /// trusted to be Quiver.
    pub trust_writer: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            start: Start::Oldest,
            spin: Duration::ZERO,
            copy: false,
            trust_writer: false,
        }
    }
}

impl ReaderOptions {
    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }
    pub fn spin(mut self, spin: Duration) -> Self {
        self.spin = spin;
        self
    }
    pub fn copy(mut self, copy: bool) -> Self {
        self.copy = copy;
        self
    }
    pub fn trust_writer(mut self, trust: bool) -> Self {
        self.trust_writer = trust;
        self
    }
}

/// One frame: its batches, which (unless copied) point into the ring.
#[derive(Clone, Debug)]
pub struct Frame {
    pub seq: u64,
    pub epoch: u32,
    pub schema_id: u32,
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub rows: u64,
    pub publish_time_ns: u64,
    /// Whether the frame was copied out of the ring (see `ReaderOptions::copy`).
    pub copied: bool,
}

/// What `Reader::recv` found.
#[derive(Debug)]
pub enum Recv {
    Frame(Frame),
    /// Nothing arrived before the timeout.
    TimedOut,
    /// The writer closed the ring and this reader has read every frame.
    Closed,
}

/// The reader's record and pins, shared with every buffer it handed out.
struct Shared {
    ring: Ring,
    record: u32,
    pins: Mutex<BTreeMap<u64, u32>>,
}

impl Shared {
    fn rec(&self) -> usize {
        self.ring.geo.reader_record(self.record)
    }

    fn publish_pins(&self, pins: &BTreeMap<u64, u32>) {
        let min = pins.keys().next().copied().unwrap_or(u64::MAX);
        self.ring
            .u32(self.rec() + R_PIN_COUNT)
            .store(pins.len() as u32, Ordering::Relaxed);
        self.ring
            .u64(self.rec() + R_PIN_MIN)
            .store(min, Ordering::SeqCst);
    }

    fn pin(&self, seq: u64) -> usize {
        let mut pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        *pins.entry(seq).or_insert(0) += 1;
        self.publish_pins(&pins);
        pins.len()
    }

    fn unpin(&self, seq: u64) {
        let mut pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = pins.get_mut(&seq) {
            *n -= 1;
            if *n == 0 {
                pins.remove(&seq);
            }
        }
        self.publish_pins(&pins);
        drop(pins);
        self.nudge_writer();
    }

    fn nudge_writer(&self) {
        if self.ring.u32(WRITER_WAITING).load(Ordering::SeqCst) != 0 {
            self.ring.u32(SPACE_FUTEX).fetch_add(1, Ordering::SeqCst);
            sys::futex_wake_all(self.ring.u32(SPACE_FUTEX));
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let rec = self.rec();
        self.ring
            .u64(rec + R_PIN_MIN)
            .store(u64::MAX, Ordering::SeqCst);
        self.ring.u32(rec + R_PIN_COUNT).store(0, Ordering::SeqCst);
        self.ring.u32(rec + R_STATE).store(0, Ordering::SeqCst);
        self.nudge_writer();
        // Closing the file (when `ring` drops) releases the record's lock.
    }
}

/// Keeps frame `seq` pinned while any buffer of its batches is alive.
struct SlotPin {
    shared: Arc<Shared>,
    seq: u64,
}

impl Drop for SlotPin {
    fn drop(&mut self) {
        self.shared.unpin(self.seq);
    }
}

pub struct Reader {
    shared: Arc<Shared>,
    cursor: u64,
    schemas: Vec<Option<SchemaRef>>,
    opts: ReaderOptions,
}

impl Reader {
    /// Attaches to ring `name` as a new reader.
    pub fn open(name: &str, opts: ReaderOptions) -> Result<Reader> {
        let ring = Ring::attach(name)?;
        let g = ring.geo.clone();
        let record = (0..g.max_readers)
            .find(|&i| sys::try_lock(&ring.file, READER_LOCK_BASE + i as u64, 1).unwrap_or(false))
            .ok_or_else(|| Error::BadOptions {
                ring: name.to_string(),
                detail: format!(
                    "all {} reader records are in use by live readers",
                    g.max_readers
                ),
            })?;
        let w = ring.u64(W_SEQ).load(Ordering::SeqCst);
        let cursor = match opts.start {
            Start::Oldest => w.saturating_sub(g.slot_count as u64).max(1),
            Start::Latest => w,
            Start::Seq(s) => s.max(1),
        };
        let rec = g.reader_record(record);
        ring.u32(rec + R_PID)
            .store(sys::getpid(), Ordering::Relaxed);
        ring.u64(rec + R_PIN_MIN).store(u64::MAX, Ordering::Relaxed);
        ring.u32(rec + R_PIN_COUNT).store(0, Ordering::Relaxed);
        ring.u32(rec + R_FLAGS)
            .store(u32::from(opts.copy) << 2, Ordering::Relaxed);
        ring.u64(rec + R_ATTACH_TIME)
            .store(now_ns(), Ordering::Relaxed);
        ring.u64(rec + R_LAGGED).store(0, Ordering::Relaxed);
        ring.u64(rec + R_READ).store(0, Ordering::Relaxed);
        ring.u64(rec + R_CURSOR).store(cursor, Ordering::SeqCst);
        ring.u32(rec + R_STATE).store(1, Ordering::SeqCst);
        Ok(Reader {
            shared: Arc::new(Shared {
                ring,
                record,
                pins: Mutex::new(BTreeMap::new()),
            }),
            cursor,
            schemas: Vec::new(),
            opts,
        })
    }

    pub fn name(&self) -> &str {
        &self.shared.ring.name
    }

    pub fn geometry(&self) -> &Geometry {
        &self.shared.ring.geo
    }

    /// The next sequence this reader will read.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// The address range of this reader's mapping of the ring, for checking that batches
    /// point into it.
    pub fn mapping(&self) -> std::ops::Range<usize> {
        let base = self.shared.ring.base() as usize;
        base..base + self.shared.ring.map_len()
    }

    /// The sequence the writer will publish next: frames before it have been published.
    pub fn published(&self) -> u64 {
        self.shared.ring.u64(W_SEQ).load(Ordering::SeqCst)
    }

    /// The writer's process id as the ring records it.
    pub fn writer_pid(&self) -> u32 {
        self.shared.ring.u32(W_PID).load(Ordering::Acquire)
    }

    /// Frames this reader missed in all (overwritten before it read them).
    pub fn lagged_total(&self) -> u64 {
        self.shared
            .ring
            .u64(self.shared.rec() + R_LAGGED)
            .load(Ordering::Relaxed)
    }

    /// The schema frames with id `id` carry.
    pub fn schema(&mut self, id: u32) -> Result<SchemaRef> {
        if let Some(Some(s)) = self.schemas.get(id as usize) {
            return Ok(s.clone());
        }
        let schema = load_schema(&self.shared.ring, id)?;
        if self.schemas.len() <= id as usize {
            self.schemas.resize(id as usize + 1, None);
        }
        self.schemas[id as usize] = Some(schema.clone());
        Ok(schema)
    }

    /// The schema of the next frame, waiting for it up to `timeout`; `None` if the ring
    /// closed empty or nothing came in time. The frame is not consumed.
    pub fn peek_schema(&mut self, timeout: Option<Duration>) -> Result<Option<SchemaRef>> {
        let shared = self.shared.clone();
        let ring = &shared.ring;
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let w = ring.u64(W_SEQ).load(Ordering::SeqCst);
            let from = self
                .cursor
                .max(w.saturating_sub(ring.geo.slot_count as u64).max(1));
            // The first published frame still intact (a slot may have been reused or cleared
            // by a takeover since `w` was read: then look at the next one).
            for s in from..w {
                let slot = ring.geo.slot_offset(s);
                let id = ring.u32(slot + SL_SCHEMA).load(Ordering::Acquire);
                if ring.u64(slot + SL_STAMP).load(Ordering::SeqCst) == 2 * s + 2 {
                    return self.schema(id).map(Some);
                }
            }
            if let Some(Recv::Closed | Recv::TimedOut) = self.wait(w, deadline)? {
                return Ok(None);
            }
        }
    }

    /// Waits up to `timeout` (forever with `None`) for the next frame.
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Recv> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let ring = &self.shared.ring;
            let n = ring.geo.slot_count as u64;
            let s = self.cursor;
            let w = ring.u64(W_SEQ).load(Ordering::SeqCst);
            if s < w {
                let oldest = w.saturating_sub(n).max(1);
                if s < oldest {
                    return Err(self.lagged(oldest - s));
                }
                let held = self.shared.pin(s);
                let t = ring
                    .u64(ring.geo.slot_offset(s) + SL_STAMP)
                    .load(Ordering::SeqCst);
                if t != 2 * s + 2 {
                    self.shared.unpin(s);
                    // Reused since: every frame up to the one now in the slot minus N is gone.
                    let missed = if t > 2 * s + 2 {
                        let now_in_slot = (t - 1) / 2;
                        (now_in_slot + 1).saturating_sub(n).saturating_sub(s).max(1)
                    } else {
                        1
                    };
                    return Err(self.lagged(missed));
                }
                let copy = self.opts.copy || held > (n as usize / 2).max(1);
                return self.take(s, copy).map(Recv::Frame);
            }
            if let Some(done) = self.wait(w, deadline)? {
                return Ok(done);
            }
        }
    }

    /// Waits for `write_seq` to move past `w`. `Some` when the ring ended or time ran out.
    fn wait(&mut self, w: u64, deadline: Option<Instant>) -> Result<Option<Recv>> {
        let ring = &self.shared.ring;
        let spin_until = Instant::now() + self.opts.spin;
        let mut last_probe = Instant::now();
        loop {
            if ring.u64(W_SEQ).load(Ordering::SeqCst) != w {
                return Ok(None);
            }
            match ring.u32(W_STATE).load(Ordering::SeqCst) {
                STATE_CLOSED => {
                    return Ok(if ring.u64(W_SEQ).load(Ordering::SeqCst) <= self.cursor {
                        Some(Recv::Closed)
                    } else {
                        None
                    });
                }
                STATE_ABANDONED => return Err(self.writer_gone(w)),
                _ => {}
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(Some(Recv::TimedOut));
            }
            if now < spin_until {
                std::hint::spin_loop();
                continue;
            }
            if now.duration_since(last_probe) >= PROBE_INTERVAL {
                last_probe = now;
                if !ring.writer_alive() && ring.u32(W_STATE).load(Ordering::SeqCst) == STATE_OPEN {
                    return Err(self.writer_gone(w));
                }
            }
            let data = ring.u32(DATA_FUTEX);
            ring.u32(READERS_WAITING).fetch_add(1, Ordering::SeqCst);
            let seen = data.load(Ordering::SeqCst);
            if ring.u64(W_SEQ).load(Ordering::SeqCst) == w
                && ring.u32(W_STATE).load(Ordering::SeqCst) == STATE_OPEN
            {
                let mut sleep = PROBE_INTERVAL;
                if let Some(d) = deadline {
                    sleep = sleep.min(
                        d.saturating_duration_since(now)
                            .max(Duration::from_micros(50)),
                    );
                }
                sys::futex_wait(data, seen, sleep);
            }
            ring.u32(READERS_WAITING).fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn writer_gone(&self, w: u64) -> Error {
        let ring = &self.shared.ring;
        if ring.replaced() {
            return Error::RingReplaced {
                ring: ring.name.clone(),
            };
        }
        Error::WriterGone {
            ring: ring.name.clone(),
            pid: ring.u32(W_PID).load(Ordering::Acquire),
            last_seq: w - 1,
        }
    }

    fn lagged(&mut self, missed: u64) -> Error {
        let rec = self.shared.rec();
        self.shared
            .ring
            .u64(rec + R_LAGGED)
            .fetch_add(missed, Ordering::Relaxed);
        self.advance(self.cursor + missed);
        Error::Lagged {
            ring: self.shared.ring.name.clone(),
            missed,
        }
    }

    fn advance(&mut self, to: u64) {
        self.cursor = to;
        let rec = self.shared.rec();
        self.shared
            .ring
            .u64(rec + R_CURSOR)
            .store(to, Ordering::SeqCst);
        self.shared.nudge_writer();
    }

    /// Decodes pinned frame `s` (its pin is released when the batches drop, or at once when
    /// copying).
    fn take(&mut self, s: u64, copy: bool) -> Result<Frame> {
        let shared = self.shared.clone();
        let ring = &shared.ring;
        let slot = ring.geo.slot_offset(s);
        let len = ring.u64(slot + SL_LEN).load(Ordering::Relaxed);
        let schema_id = ring.u32(slot + SL_SCHEMA).load(Ordering::Relaxed);
        let n_batches = ring.u32(slot + SL_BATCHES).load(Ordering::Relaxed);
        let rows = ring.u64(slot + SL_ROWS).load(Ordering::Relaxed);
        let publish_time_ns = ring.u64(slot + SL_TIME).load(Ordering::Relaxed);
        let epoch = ring.u32(slot + SL_EPOCH).load(Ordering::Relaxed);
        let flags = ring.u32(slot + SL_FLAGS).load(Ordering::Relaxed);
        let crc = ring.u32(slot + SL_CRC).load(Ordering::Relaxed);
        let fail = |this: &mut Self, detail: String| {
            this.advance(s + 1);
            Error::corrupt(&this.shared.ring.name, format!("frame {s}: {detail}"))
        };
        if len > ring.geo.capacity() {
            shared.unpin(s);
            return Err(fail(self, format!("payload length {len} exceeds the slot")));
        }
        let schema = match self.schema(schema_id) {
            Ok(schema) => schema,
            Err(e) => {
                shared.unpin(s);
                self.advance(s + 1);
                return Err(e);
            }
        };
        let at = slot + SLOT_HEADER as usize;
        let payload: Buffer = if copy {
            let mut owned = MutableBuffer::with_capacity(len as usize);
            // SAFETY: frame `s` is pinned and its stamp was checked after pinning, so the
            // writer does not touch these bytes until the pin is released below.
            let bytes = unsafe { ring.read_bytes(at, len as usize) };
            owned.extend_from_slice(&bytes);
            shared.unpin(s);
            owned.into()
        } else {
            let ptr = NonNull::new(ring.base().wrapping_add(at)).expect("mapping is not null");
            let pin = Arc::new(SlotPin {
                shared: shared.clone(),
                seq: s,
            });
            // SAFETY: `ptr..ptr+len` lies inside the mapping (len <= capacity, checked), the
            // mapping lives as long as `pin` (it owns the ring through `shared`), and the
            // writer never writes a slot while a live reader has its frame pinned; the pin
            // is released when the last buffer sharing this allocation drops.
            unsafe { Buffer::from_custom_allocation(ptr, len as usize, pin) }
        };
        if flags & FLAG_CHECKSUM != 0 && crc32fast::hash(payload.as_slice()) != crc {
            drop(payload);
            return Err(fail(self, "payload checksum mismatch".into()));
        }
        let batches = match frame::decode(&payload, &schema, n_batches, self.opts.trust_writer) {
            Ok(b) => b,
            Err(detail) => {
                drop(payload);
                return Err(fail(self, detail));
            }
        };
        drop(payload);
        let rec = shared.rec();
        ring.u64(rec + R_READ).fetch_add(1, Ordering::Relaxed);
        self.advance(s + 1);
        Ok(Frame {
            seq: s,
            epoch,
            schema_id,
            schema,
            batches,
            rows,
            publish_time_ns,
            copied: copy,
        })
    }
}

impl Drop for Reader {
    /// A reader that is gone reads nothing more: it stops holding a `block` writer back at
    /// once, while batches it handed out keep their slots pinned until they are dropped.
    fn drop(&mut self) {
        let rec = self.shared.rec();
        self.shared
            .ring
            .u64(rec + R_CURSOR)
            .store(u64::MAX, Ordering::SeqCst);
        self.shared.nudge_writer();
    }
}

impl Iterator for Reader {
    type Item = Result<Frame>;

    /// Frames until the writer closes the ring; errors (`Lagged`, `WriterGone`) are items.
    fn next(&mut self) -> Option<Result<Frame>> {
        match self.recv(None) {
            Ok(Recv::Frame(f)) => Some(Ok(f)),
            Ok(Recv::Closed) => None,
            Ok(Recv::TimedOut) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Reads schema `id` from the ring's schema table, checking its bounds and CRC.
pub(crate) fn load_schema(ring: &Ring, id: u32) -> Result<SchemaRef> {
    let count = ring.u32(W_SCHEMA_COUNT).load(Ordering::Acquire);
    if id >= count || id >= MAX_SCHEMAS {
        return Err(Error::corrupt(
            &ring.name,
            format!("frame names schema {id}, the table holds {count}"),
        ));
    }
    let table = ring.geo.schema_offset as usize;
    let entry = table + id as usize * SCHEMA_ENTRY as usize;
    let offset = ring.u32(entry + S_OFFSET).load(Ordering::Relaxed) as usize;
    let len = ring.u32(entry + S_LEN).load(Ordering::Relaxed) as usize;
    let crc = ring.u32(entry + S_CRC).load(Ordering::Relaxed);
    let blob_start = MAX_SCHEMAS as usize * SCHEMA_ENTRY as usize;
    if offset < blob_start
        || offset
            .checked_add(len)
            .is_none_or(|e| e > ring.geo.schema_bytes as usize)
    {
        return Err(Error::corrupt(
            &ring.name,
            format!("schema {id} lies outside the schema table"),
        ));
    }
    // SAFETY: a published schema blob is never written again (the table is append-only).
    let bytes = unsafe { ring.read_bytes(table + offset, len) };
    if crc32fast::hash(&bytes) != crc {
        return Err(Error::corrupt(
            &ring.name,
            format!("schema {id} fails its checksum"),
        ));
    }
    let schema =
        std::panic::catch_unwind(|| arrow::ipc::convert::try_schema_from_ipc_buffer(&bytes))
            .map_err(|_| Error::corrupt(&ring.name, format!("schema {id} does not decode")))?
            .map_err(|e| Error::corrupt(&ring.name, format!("schema {id}: {e}")))?;
    Ok(Arc::new(schema))
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("ring", &self.shared.ring.name)
            .field("record", &self.shared.record)
            .field("cursor", &self.cursor)
            .finish()
    }
}
