//! quiver-wasm: the engine compiled to `wasm32-unknown-unknown` behind a wasm-bindgen API.
//!
//! This crate is the browser and Node home of the same planner the native CLI uses. For now
//! it exposes a minimal surface (a session that runs SQL over in-memory data and returns
//! Arrow IPC bytes); it exists so that the engine's portability is compiled and checked on
//! every change.

use quiver_engine::{HostConfig, Session};

/// The host configuration used in the browser: one partition (no threads) and no spilling.
pub fn browser_config() -> HostConfig {
    HostConfig::default()
        .with_target_partitions(1)
        .with_spill(false, None)
}

/// Runs `sql` and returns the last statement's result as an Arrow IPC stream.
///
/// # Errors
/// The engine's error, as text.
pub async fn query_ipc(session: &Session, sql: &str) -> Result<Vec<u8>, String> {
    use quiver_engine::output::{Format, OutputOptions, encode};
    let batches = session.query(sql).await.map_err(|e| e.to_string())?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => std::sync::Arc::new(quiver_engine::arrow::datatypes::Schema::empty()),
    };
    encode(Format::Arrow, schema, &batches, &OutputOptions::default()).map_err(|e| e.to_string())
}

#[cfg(target_arch = "wasm32")]
mod bindings {
    use wasm_bindgen::prelude::*;

    /// A Quiver session in JavaScript.
    #[wasm_bindgen]
    pub struct Quiver {
        session: quiver_engine::Session,
    }

    #[wasm_bindgen]
    impl Quiver {
        /// Creates a session.
        #[wasm_bindgen(constructor)]
        pub fn new() -> Result<Quiver, JsError> {
            let session = quiver_engine::Session::new(super::browser_config())
                .map_err(|e| JsError::new(&e.to_string()))?;
            Ok(Quiver { session })
        }

        /// Runs SQL and returns the result as Arrow IPC stream bytes.
        pub async fn query(&self, sql: String) -> Result<Vec<u8>, JsError> {
            super::query_ipc(&self.session, &sql)
                .await
                .map_err(|e| JsError::new(&e))
        }

        /// The engine's version.
        pub fn version() -> String {
            env!("CARGO_PKG_VERSION").to_string()
        }
    }
}
