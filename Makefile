# Quiver: the two commands a new user needs are `make demo` and `make test`.
# Both install what they need first and skip what is already there.

SHELL := /bin/bash
CARGO_TARGET_DIR ?= $(HOME)/.cache/quiver/target
export CARGO_TARGET_DIR
# Builds are CPU-bound; keep the machine responsive on small boxes.
CARGO ?= cargo

.PHONY: demo test setup test-rust test-serve test-python test-wasm test-js test-web web wasm fmt-check lint bench compare clean

## Run the guided tour: builds the CLI and runs `quiver demo`. It builds with the same
## features as the tests (`cargo test --no-run`), so a later `make test` rebuilds nothing.
demo: setup
	$(CARGO) test --workspace --no-run --quiet
	$(CARGO_TARGET_DIR)/debug/quiver demo

## Run every test: formatting and lints (native and wasm32), unit, sqllogictest, corpora,
## TPC-H, CLI, the Python package, the wasm build check, and the npm package in Node and
## headless Chromium.
test: setup fmt-check lint test-rust test-serve test-python test-js test-web

setup:
	@scripts/setup.sh

fmt-check:
	$(CARGO) fmt --all -- --check

test-rust:
	$(CARGO) test --workspace --no-fail-fast

## `quiver serve` as a user runs it: the binary over real HTTP on loopback, with pyarrow,
## moto (S3), deltalake and the murr 0.3.1 client as the independent peers.
test-serve: setup
	tests/serve/run.sh

## The Python package (python/): built with maturin into a venv (~/.cache/quiver/venv) from
## the same target dir, then its pytest suite against pyarrow, polars, pandas and deltalake.
test-python: setup
	python/scripts/test.sh

# The engine must always compile for the browser; this builds it (and the wasm crate) for
# wasm32-unknown-unknown and prints the module size.
test-wasm:
	$(CARGO) build -p quiver-wasm --target wasm32-unknown-unknown
	@ls -l $(CARGO_TARGET_DIR)/wasm32-unknown-unknown/debug/quiver_wasm.wasm | awk '{printf "wasm (debug, unoptimised) size: %.1f MB\n", $$5/1e6}'

## Build the npm package into wasm/pkg (release wasm with SIMD, wasm-bindgen, wasm-opt).
wasm: setup
	scripts/build-wasm.sh

# The package as a user installs it (npm pack + npm install into a temp project), tested in
# Node 20 and in Debian's headless Chromium.
test-js: wasm
	cd wasm/tests && npm install --no-audit --no-fund --silent && npm test

## Serve the data explorer (web-demo/) on http://127.0.0.1:8080/ (PORT=... to change it).
## npm copies the package folder (web-demo/.npmrc: install-links); the copy is renewed each time.
web: wasm
	cd web-demo && rm -rf node_modules/quiver-wasm && npm install --no-audit --no-fund --silent
	node scripts/serve.mjs web-demo --port $${PORT:-8080}

# The explorer end to end in Debian's headless Chromium (screenshots in web-demo/test-results).
test-web: wasm
	cd web-demo && rm -rf node_modules/quiver-wasm && npm install --no-audit --no-fund --silent && npm test

## Lints, native and wasm32, warnings denied (part of `make test`).
lint: setup
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p quiver-engine -p quiver-wasm --target wasm32-unknown-unknown -- -D warnings

## Criterion benches over TPC-H SF 0.01 (scan, filter, aggregate, join).
bench: setup
	$(CARGO) bench --bench tpch

## Side-by-side TPC-H at SF 1 against DuckDB, datafusion-python and Polars.
compare: setup
	$(CARGO) build --release -p quiver
	python3 benches/compare.py --scale 1 --quiver $(CARGO_TARGET_DIR)/release/quiver

clean:
	$(CARGO) clean
