//! Shared-memory Arrow rings: one writer process, many reader processes, every reader sees
//! every frame, and readers get record batches that point into the shared mapping.
//!
//! A ring is a file in `/dev/shm` (`quiver-NAME`): a header page, a table of reader records,
//! a table of schemas, then N slots, each holding one frame of standard encapsulated Arrow IPC
//! messages (any IPC reader decodes a slot). The layout is in [`layout`].
//!
//! - Broadcast with pins: a reader's batches keep their slot pinned until the last buffer is
//!   dropped; the writer never overwrites a pinned slot.
//! - Policies: [`Policy::Block`] waits for the slowest live reader (then `RingFull`);
//!   [`Policy::Overwrite`] never waits on unread frames, and a lagging reader gets
//!   `Lagged { missed }`.
//! - Liveness through open-file-description locks, which the kernel releases when a process
//!   dies: a killed reader stops holding the writer within a probe interval (10 ms), readers
//!   learn `WriterGone`, and creating the ring again takes it over.
//! - Waiting by futex on words in the mapping, with an optional spin.
//!
//! Linux only (futex, OFD locks, `/dev/shm`).
//!
//! ```no_run
//! use quiver_shm::{Reader, ReaderOptions, Recv, RingOptions, Writer};
//! # fn main() -> quiver_shm::Result<()> {
//! # let batch: arrow::array::RecordBatch = unimplemented!();
//! let mut w = Writer::create("ticks", RingOptions::default().size(64 << 20).slots(8))?;
//! w.write(&batch)?;
//! let mut r = Reader::open("ticks", ReaderOptions::default())?;
//! if let Recv::Frame(frame) = r.recv(Some(std::time::Duration::from_secs(1)))? {
//!     println!("{} rows", frame.rows);
//! }
//! w.close()?;
//! # Ok(()) }
//! ```

pub mod admin;
mod error;
mod frame;
pub mod layout;
mod reader;
mod ring;
mod sys;
mod writer;

pub use error::{Error, Result};
pub use layout::{Geometry, Policy};
pub use reader::{Frame, Reader, ReaderOptions, Recv, Start};
pub use ring::{RingOptions, ring_dir, ring_path};
pub use writer::Writer;

/// This machine's memcpy bandwidth into a pre-faulted mapping of a file in the ring
/// directory, in bytes per second: the bound on a writer, which copies each frame once.
/// `spread` destinations of `size` bytes are written in turn, as a ring's slots are
/// (`spread = 1` copies into one warm destination, which caches flatter). The time is the
/// best of three passes over all destinations, after one pass to warm up. `quiver shm bench`
/// prints it beside its results.
pub fn memcpy_bandwidth(size: usize, spread: usize) -> std::io::Result<f64> {
    let spread = spread.max(1);
    let total = size * spread;
    // An unnamed file (O_TMPFILE): nothing to clean up, whatever happens.
    let file = tempfile::tempfile_in(ring_dir())?;
    file.set_len(total as u64)?;
    let map = memmap2::MmapOptions::new()
        .len(total)
        .populate()
        .map_raw(&file)?;
    let src = vec![7u8; size];
    let rounds = (20 / spread).max(1);
    let mut best = f64::MAX;
    for pass in 0..4 {
        let t = std::time::Instant::now();
        for _ in 0..rounds {
            for d in 0..spread {
                // SAFETY: destination `d` is `size` bytes inside the mapping of an unnamed file
                // this process just created, so no other process or mapping can
                // touch it; `src` is a separate allocation of `size` bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        src.as_ptr(),
                        map.as_mut_ptr().add(d * size),
                        size,
                    )
                };
            }
        }
        std::hint::black_box(map.as_ptr());
        if pass > 0 {
            best = best.min(t.elapsed().as_secs_f64());
        }
    }
    Ok((size * spread * rounds) as f64 / best)
}
