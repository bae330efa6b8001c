//! # quiver-engine: the one planner
//!
//! Quiver has three frontends (the native `quiver` CLI, the npm package and the browser
//! explorer) and exactly one planner, which lives here. Everything in this crate compiles for
//! native targets and for `wasm32-unknown-unknown`.
//!
//! ## What the engine owns
//! - [`Session`]: the only place that builds a DataFusion `SessionState`. It wires in the
//!   object-store registry, the file sources, the `read_*` table functions and the SQL
//!   front end, and offers [`Session::sql`], [`Session::plan`] and [`Session::execute`].
//! - [`sources`]: Parquet, CSV, JSON/NDJSON and Arrow IPC (file and stream), globs and
//!   hive-style partition folders, quoted paths in `FROM 'data/*.parquet'`, and the table
//!   functions `read_parquet`, `read_csv`, `read_json`, `read_ipc`.
//! - [`output`]: encoders for results: pretty tables, CSV, JSON, NDJSON, Markdown, Arrow IPC
//!   stream and Parquet.
//!
//! ## What a host supplies
//! A frontend describes its world in a [`HostConfig`]: which object stores serve which URL
//! schemes (native passes local files, S3 and HTTP; wasm passes in-memory files and `fetch`),
//! the memory limit, the number of target partitions, and whether spilling to disk is allowed.
//!
//! ## How a query flows
//! 1. [`Session::parse`] reads SQL text through the one front end, [`sql`]: it cuts a script
//!    into statements, tells DataFusion SQL from `DESCRIBE HISTORY` and the Delta statements
//!    only a writer runs, and parses each (syntax errors carry line and column).
//! 2. [`Session::plan`] rewrites `read_*(...)` calls into resolved tables, resolves quoted
//!    paths through [`sources::PathTables`] (which lists and infers schemas through the
//!    object store), and asks DataFusion for a logical plan.
//! 3. [`Session::execute`] runs the plan and hands back a stream of Arrow record batches; a
//!    panic anywhere below becomes an [`Error`], so a bad file never takes the host down.

#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// The plan codecs serve the cluster, which is native-only.
#[cfg(not(target_arch = "wasm32"))]
pub mod codec;
pub mod delta;
mod error;
mod host;
mod location;
pub mod output;
mod panic_guard;
mod platform;
mod session;
pub mod sources;
pub mod sql;
mod stores;
mod timeseries;

pub use error::{Error, Result};
pub use host::{HostConfig, StoreFactory};
pub use panic_guard::PanicGuardStream;
pub use session::Session;

/// Re-exported so frontends and tests use exactly the engine's DataFusion and Arrow.
pub use datafusion;
pub use datafusion::arrow;
#[cfg(not(target_arch = "wasm32"))]
pub use datafusion_proto;
pub use object_store;
pub use parquet;
