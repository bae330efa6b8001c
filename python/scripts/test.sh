#!/usr/bin/env bash
# Builds the `quiver` Python module into a virtual environment and runs its pytest suite.
#
#   python/scripts/test.sh             # build (debug, shared target dir) and test
#   python/scripts/test.sh -k delta    # extra arguments go to pytest
#
# The venv ($QUIVER_VENV, default ~/.cache/quiver/venv) sees the system's site-packages, and
# only what is missing is installed. The module is built with `maturin develop` in the dev
# profile into the cargo target dir the other tests use ($CARGO_TARGET_DIR, default
# ~/.cache/quiver/target), so DataFusion is compiled again only for features the Python crate
# adds (see NEEDS.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}"
venv="${QUIVER_VENV:-$HOME/.cache/quiver/venv}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv --system-site-packages "$venv"
fi
py="$venv/bin/python"

# name==version pins, or a bare name for any version.
wanted=("maturin==1.16.*" pytest polars pandas "pyarrow==26.0.1" "deltalake==1.6.6" "duckdb==2.0.0" mypy)
missing=$("$py" - "${wanted[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

for spec in sys.argv[1:]:
    name, _, pin = spec.partition("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        print(spec)
        continue
    if pin and not (have == pin or (pin.endswith("*") and have.startswith(pin[:-1]))):
        print(spec)
PY
)
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086 # one requirement per word
    "$py" -m pip install --quiet $missing
fi

started=$(date +%s)
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    "$venv/bin/maturin" develop --quiet --manifest-path "$here/Cargo.toml"
echo "quiver module built in $(( $(date +%s) - started ))s"

cd "$here"
# CI=true makes tests that need ../shared/testdata fail instead of skipping when it is absent.
exec "$py" -m pytest tests "$@"
