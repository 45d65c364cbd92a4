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


def cli(*args, cwd=ROOT, env=None, timeout=600):
    """Run ``siting ARGS`` as a user would (a subprocess); returns the CompletedProcess."""
    import subprocess
    import sys

    full_env = None if env is None else {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "siting.cli", *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
