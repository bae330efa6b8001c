//! The workspace's integration tests, in one binary: every test binary links DataFusion,
//! deltalake and the native crate, and linking is most of a cold `make test` on two cores.
//! One module per area.

mod common;
mod corpus;
mod datafusion_slt;
mod delta;
mod delta_differential;
mod shm;
mod slt;
mod tpch;
mod wasm_slt_format;
