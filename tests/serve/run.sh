#!/usr/bin/env bash
# Runs the `quiver serve` tests: the built binary against real HTTP on loopback, pyarrow as
# the reference, moto as the S3 server, deltalake as the Delta writer, and the `murr` 0.3.1
# client through the compatibility routes.
#
#   tests/serve/run.sh              # build (if needed) and test
#   tests/serve/run.sh -k murr      # extra arguments go to pytest
#
# It shares the Python package's venv ($QUIVER_VENV, default ~/.cache/quiver/venv, which
# sees the system's site-packages) and installs only what is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}"
venv="${QUIVER_VENV:-$HOME/.cache/quiver/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv --system-site-packages "$venv"
fi
py="$venv/bin/python"

wanted=(pytest numpy "pyarrow==26.0.1" "deltalake==1.6.6" "murr==0.3.1" boto3 "moto[server]")
missing=$("$py" - "${wanted[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

for spec in sys.argv[1:]:
    name, _, pin = spec.partition("==")
    name = name.split("[")[0]
    try:
        have = version(name)
    except PackageNotFoundError:
        print(spec)
        continue
    if pin and have != pin:
        print(spec)
PY
)
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086 # one requirement per word
    "$py" -m pip install --quiet $missing
fi

# The binary, built with the features the other tests use (nothing to do when they ran).
(cd "$here" && cargo test --workspace --no-run --quiet)

cd "$here"
exec "$py" -m pytest tests/serve "$@"
