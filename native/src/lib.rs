//! quiver: the native side of Quiver.
//!
//! The `quiver` binary (in `main.rs` and `cli/`) is a thin shell over this library, which
//! holds what only a native process can do:
//!
//! - [`run`]: the statement router every native frontend runs SQL through;
//! - [`delta`]: Delta writes through the `deltalake` crate, and `quiver delta verify`;
//! - [`host`]: the host configuration, with local, S3 and HTTP stores for reads and writes;
//! - [`mmap`]: opt-in memory-mapped reads of local files;
//! - [`serve`]: `quiver serve`, batch key lookups over HTTP from polled partitions;
//! - [`shm`]: shared-memory rings in SQL (`read_shm`, `COPY ... TO 'shm://'`), on the
//!   `quiver-shm` crate.
//!
//! Later: clusters, attached to the router.

pub mod delta;
mod error;
pub mod host;
pub mod mmap;
pub mod run;
pub mod serve;
pub mod shm;

pub use error::{Error, Result};
