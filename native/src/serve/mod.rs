//! `quiver serve`: batch feature lookups over HTTP, answered as Arrow IPC or JSON, from
//! tables fed by polling date partitions with `_SUCCESS` markers (local or S3) or a Delta
//! table's newest version.
//!
//! Each table's poller finds the newest complete partition, reads its Parquet files through
//! the engine, writes a new Arrow IPC file in `data_dir` (never over a mapped one), maps
//! it, indexes its keys and swaps it in; each request reads one version from start to end,
//! and a replaced version's file goes when its last reader is done. A restart serves the
//! last converted version at once and then polls.
//!
//! - [`config`]: the YAML file (Murr-compatible);
//! - [`load`]: discovery, conversion and zero-copy opening;
//! - [`table`]: one version's key index and gathers;
//! - [`fetch`]: request bodies and answer encodings;
//! - [`state`]: tables, reloads and status;
//! - [`server`]: HTTP, limits, auth and metrics;
//! - [`flight`]: Arrow Flight `DoGet` over the same lookups.

pub mod config;
pub mod fetch;
pub mod flight;
pub mod load;
pub mod server;
pub mod state;
pub mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use config::Config;

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub config: PathBuf,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub data_dir: Option<PathBuf>,
    /// Parse and check the config, then exit.
    pub check: bool,
    /// Load every table once, print their status, then exit.
    pub once: bool,
}

/// Reads and checks the config file, with the command line's overrides applied.
///
/// # Errors
/// A message naming the file and what is wrong.
pub fn read_config(options: &Options) -> Result<Config, String> {
    let text = std::fs::read_to_string(&options.config)
        .map_err(|e| format!("cannot read {}: {e}", options.config.display()))?;
    let mut config =
        Config::parse(&text).map_err(|e| format!("{}: {e}", options.config.display()))?;
    if let Some(host) = &options.host {
        config.server.host.clone_from(host);
    }
    if let Some(port) = options.port {
        config.server.port = port;
    }
    if let Some(dir) = &options.data_dir {
        config.server.data_dir.clone_from(dir);
    }
    if config.tables.is_empty() {
        return Err(format!("{}: no tables to serve", options.config.display()));
    }
    Ok(config)
}

/// Makes sure `data_dir` can hold converted files.
fn usable_data_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("data_dir {}: {e}", dir.display()))?;
    tempfile::tempfile_in(dir)
        .map(drop)
        .map_err(|e| format!("data_dir {} is not writable: {e}", dir.display()))
}

/// Runs `quiver serve`; returns when a signal (Ctrl-C, SIGTERM) stops it, or at once for
/// `--check` and `--once`.
///
/// # Errors
/// A message for a bad config, an unusable `data_dir`, or an address that cannot be bound.
pub async fn run(options: Options) -> Result<(), String> {
    let config = read_config(&options)?;
    if options.check {
        println!(
            "{}: ok ({} table{})",
            options.config.display(),
            config.tables.len(),
            if config.tables.len() == 1 { "" } else { "s" }
        );
        return Ok(());
    }
    usable_data_dir(&config.server.data_dir)?;
    state::loader()?;
    let mut tables = BTreeMap::new();
    for (name, table) in &config.tables {
        let served = state::Served::open(name, table.clone(), &config.server.data_dir)?;
        tables.insert(name.clone(), Arc::new(served));
    }
    if options.once {
        let mut failed = false;
        for t in tables.values() {
            let result = t.reload().await;
            failed |= result.is_err() || t.current().is_none();
            println!("{}", t.describe(false));
        }
        return if failed {
            Err("not every table could be loaded".into())
        } else {
            Ok(())
        };
    }
    let (listener, local) = bind(&config.server.host, config.server.port, "").await?;
    for t in tables.values() {
        tokio::spawn(Arc::clone(t).poll_forever());
    }
    let app = Arc::new(server::App::new(tables, config.server.clone()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if let Some(port) = config.server.flight_port {
        let (flight, at) = bind(&config.server.host, port, " for Flight").await?;
        println!("quiver serve: Arrow Flight on grpc://{at}");
        let mut stopped = stopped.clone();
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let until = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = flight::serve(app, flight, until).await {
                log::error!("serve: Flight stopped: {e}");
            }
        });
    }
    // Tests and scripts read the bound address here (port 0 picks a free one).
    println!("quiver serve: listening on http://{local}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    server::serve(app, listener, async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    })
    .await;
    Ok(())
}

/// A listener on `host:port` and the address it got (port 0 picks a free one); `what` says
/// what for in the error.
async fn bind(
    host: &str,
    port: u16,
    what: &str,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), String> {
    let addr = format!("{host}:{port}");
    let fail = |e: std::io::Error| format!("cannot listen{what} on {addr}: {e}");
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(fail)?;
    let local = listener.local_addr().map_err(fail)?;
    Ok((listener, local))
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
