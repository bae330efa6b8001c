#!/usr/bin/env python3
"""Prints the features the workspace test build (`cargo test --workspace`) turns on that a
build of the Python module alone (`maturin develop` = `cargo build -p quiver-python`) lacks.

Every crate listed is compiled twice into the shared target dir, with everything that
depends on it (a difference in serde or arrow means all of DataFusion). An empty list means
`make test` and `maturin develop` share every artifact. See NEEDS.md.

    python3 python/scripts/feature_gap.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PYTHON = Path(__file__).resolve().parents[1]
ROOT = PYTHON.parent
LINE = re.compile(r"^(\S+) v(\S+) \[(.*)\]$")


def features(*args: str, cwd: Path) -> dict:
    out = subprocess.run(
        ["cargo", "tree", *args, "--prefix", "none", "-f", "{p} [{f}]"],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout
    found: dict = {}
    for line in out.splitlines():
        line = re.sub(r" \((\*|proc-macro|/[^)]*)\)", "", line.strip())
        m = LINE.match(line)
        if m:
            found.setdefault((m.group(1), m.group(2)), set()).update(f for f in m.group(3).split(",") if f)
    return found


def main() -> int:
    tests = features("--workspace", "-e", "normal,build,dev,features", cwd=ROOT)
    own_workspace = "[workspace]" in (PYTHON / "Cargo.toml").read_text()
    if own_workspace:  # the draft: python/ is still its own workspace
        module = features("-e", "normal,build,features", cwd=PYTHON)
        # ... whose own additions the members will share once it joins.
        for key, feats in module.items():
            if key in tests:
                tests[key] |= feats
    else:
        module = features("-p", "quiver-python", "-e", "normal,build,features", cwd=ROOT)
    gap = {k: sorted(tests[k] - module[k]) for k in sorted(set(tests) & set(module)) if tests[k] - module[k]}
    for (name, version), missing in gap.items():
        print(f"{name} {version}: {', '.join(missing)}")
    return 1 if gap else 0


if __name__ == "__main__":
    sys.exit(main())
