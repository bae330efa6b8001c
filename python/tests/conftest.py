"""Shared fixtures: a fresh connection per test, and the peer corpora in ../shared/testdata."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import quiver

WORKSPACE = Path(__file__).resolve().parents[2]
TESTDATA = Path(os.environ.get("QUIVER_TESTDATA", WORKSPACE.parent / "shared" / "testdata"))


def require_testdata() -> Path:
    """The corpora folder; a missing one fails under CI (CI=true) and skips elsewhere."""
    if TESTDATA.is_dir():
        return TESTDATA
    message = f"the peer corpora are missing: {TESTDATA} (set QUIVER_TESTDATA)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def testdata() -> Path:
    return require_testdata()


@pytest.fixture
def con() -> quiver.Connection:
    return quiver.connect(threads=2)
