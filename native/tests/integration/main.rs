//! The `quiver` binary's integration tests, in one test binary (each links DataFusion and
//! deltalake): one module per area.

mod bad_input;
mod cli;
mod common;
mod delta_write;
mod remote;
mod repl;
