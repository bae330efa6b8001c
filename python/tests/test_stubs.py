"""The type stubs describe the module as it is (mypy's stubtest compares them with it)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_stubs_match_the_module(tmp_path):
    pytest.importorskip("mypy")
    config = tmp_path / "mypy.ini"
    # pyarrow ships no stubs; the cache stays out of the source tree.
    config.write_text(f"[mypy]\nignore_missing_imports = True\ncache_dir = {tmp_path / 'cache'}\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "quiver", "--mypy-config-file", str(config)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
