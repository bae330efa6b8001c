#!/usr/bin/env bash
# Installs what building and testing Quiver needs, skipping whatever is already present:
# the wasm32 Rust target, clang (zstd's C code is compiled for wasm32 with it), rustfmt,
# chromium (the npm package's browser tests), and the Python test peers.
set -euo pipefail

need_apt=()
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
# The npm package's browser tests run Debian's headless Chromium (never a downloaded one).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ((${#need_apt[@]})); then
    echo "setup: installing ${need_apt[*]} with apt-get"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo is missing; install Rust (rustup) first" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        echo "setup: adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    if ! cargo fmt --version >/dev/null 2>&1; then
        rustup component add rustfmt
    fi
    if ! cargo clippy --version >/dev/null 2>&1; then
        rustup component add clippy
    fi
fi

# Python test peers: moto (an S3-compatible server for the S3 tests) and boto3.
if ! python3 -c "import moto.server, boto3" >/dev/null 2>&1; then
    echo "setup: installing moto[server] and boto3 with pip"
    python3 -m pip install --quiet 'moto[server]' boto3
fi

# deltalake (delta-rs's Python package): the independent client the Delta write tests
# read Quiver's tables with, and write tables with for Quiver to change.
if [ "$(python3 -c 'import deltalake; print(deltalake.__version__)' 2>/dev/null)" != "1.6.6" ]; then
    echo "setup: installing deltalake 1.6.6 with pip"
    python3 -m pip install --quiet 'deltalake==1.6.6'
fi

# pyarrow: tests/delta/hash.py hashes Delta results the way the deltalake oracle was made.
if ! python3 -c "import pyarrow" >/dev/null 2>&1; then
    echo "setup: installing pyarrow with pip"
    python3 -m pip install --quiet 'pyarrow==26.0.1'
fi
