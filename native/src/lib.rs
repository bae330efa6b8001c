//! quiver: the native side of Quiver.
//!
//! The `quiver` binary (in `main.rs` and `cli/`) is a thin shell over this library, which
//! holds what only a native process can do: the host configuration with local (memory-mapped),
//! S3 and HTTP stores, and Delta writes (`writes`). Later: serving, shared memory and clusters.

pub mod host;
pub mod mmap;
pub mod writes;
