#!/usr/bin/env bash
# Builds the npm package into wasm/pkg: the engine for wasm32 with SIMD, its wasm-bindgen
# glue, wasm-opt, and the JS wrapper, types and README from wasm/js.
# Installs what it needs (wasm-bindgen-cli at the crate's exact version, binaryen) first.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}"
PROFILE="${QUIVER_WASM_PROFILE:-wasm-release}"
OUT="${QUIVER_WASM_OUT:-wasm/pkg}"
# wasm-opt level: -O1 (see CHANGELOG for the sizes each level gave); 0 skips wasm-opt.
WASM_OPT_LEVEL="${QUIVER_WASM_OPT:--O1}"

bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
    echo "build-wasm: installing wasm-bindgen-cli $bindgen_version (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
# wasm-opt from binaryen's npm build (pinned in wasm/tests/package.json): Debian's binaryen
# 108 breaks the externref table wasm-bindgen emits.
(cd wasm/tests && npm install --no-audit --no-fund --silent)
WASM_OPT=wasm/tests/node_modules/.bin/wasm-opt

# After a panic an instance is dead (wasm32 has no unwinding) and the JS wrapper starts a
# new one in a fresh copy of the glue. The old glue module stays in the module map and its
# module-level `wasm` keeps the dead instance, with all its memory, alive. This appends
# `__quiver_release()`, which swaps that instance for an inert stand-in: the memory can be
# collected, and finalizers or late callbacks of the old instance do nothing.
release_glue() {
    local glue=$1
    if ! grep -q '^let wasmModule, wasmInstance, wasm;$' "$glue"; then
        echo "build-wasm: $glue does not declare its instance as expected; update release_glue" >&2
        exit 1
    fi
    # The views of its memory and the settled init promise refer to the instance too.
    local caches
    caches=$(grep -o -e '^let cached[A-Za-z0-9]*Memory0' -e '^let __wbg_init_promise' "$glue" |
        sed -e 's/^let \(cached.*\)/    \1 = null;/' -e 's/^let \(__wbg_init_promise\)/    \1 = undefined;/')
    cat >>"$glue" <<JS

/** Added by Quiver's build: lets a crashed instance go (see scripts/build-wasm.sh). */
export function __quiver_release() {
    const scratch = new WebAssembly.Memory({ initial: 1 });
    const table = { get: () => undefined, set: () => {}, grow: () => 0, length: 0 };
    wasm = new Proxy({}, {
        get: (_, name) => (name === 'memory' ? scratch : name === '__wbindgen_externrefs' ? table : () => 0),
    });
    wasmInstance = undefined;
    wasmModule = undefined;
$caches
}
JS
}

RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+simd128" \
    cargo build -p quiver-wasm --target wasm32-unknown-unknown --profile "$PROFILE"
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$PROFILE/quiver_wasm.wasm"

rm -rf "$OUT"
mkdir -p "$OUT"
wasm-bindgen --target web --remove-name-section --remove-producers-section \
    --out-dir "$OUT" --out-name quiver_wasm "$wasm"
release_glue "$OUT/quiver_wasm.js"
if [ "$WASM_OPT_LEVEL" != 0 ]; then
    echo "build-wasm: wasm-opt $WASM_OPT_LEVEL (minutes)"
    node --max-old-space-size=8000 "$WASM_OPT" "$WASM_OPT_LEVEL" --enable-simd --enable-bulk-memory \
        --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
        --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
        "$OUT/quiver_wasm_bg.wasm" -o "$OUT/quiver_wasm_bg.wasm"
fi
cp wasm/js/index.js wasm/js/core.js wasm/js/worker.js wasm/js/index.d.ts wasm/js/package.json wasm/js/README.md "$OUT/"
size=$(stat -c %s "$OUT/quiver_wasm_bg.wasm")
gz=$(gzip -9 -c "$OUT/quiver_wasm_bg.wasm" | wc -c)
echo "build-wasm: $OUT/quiver_wasm_bg.wasm $(awk -v s="$size" 'BEGIN{printf "%.1f", s/1e6}') MB, gzip $(awk -v s="$gz" 'BEGIN{printf "%.2f", s/1e6}') MB"
