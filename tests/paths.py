"""Paths the tests share (imported by the tests and by conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
DEMO = SAMPLE / "nevada_demo.yaml"


def realdata_dir() -> Path:
    """The real-data folder: SITING_REALDATA, or ../shared/realdata beside the repository."""
    return Path(os.environ.get("SITING_REALDATA", ROOT.parent / "shared" / "realdata"))
