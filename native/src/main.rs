//! `quiver`: SQL over Parquet, CSV, JSON, Arrow IPC and Delta, local, on S3 or over HTTP.

mod cli;
mod demo;

fn main() -> std::process::ExitCode {
    cli::main()
}
