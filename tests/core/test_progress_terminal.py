"""Progress you can see: a bar per step in a (pseudo-)terminal, one log line per step without one, nothing with -q."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from siting.core.pipeline import STEPS

pytestmark = pytest.mark.slow  # three whole runs in subprocesses


def _in_pty(args: list[str], columns: int, timeout_s: float = 300.0) -> str:
    """Run ``siting ARGS`` on a pseudo-terminal of ``columns`` columns (0: one that reports no size)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.environ["SITING_PROGRESS"] = "1"
        os.execv(sys.executable, [sys.executable, "-m", "siting.cli", *args])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    out, start = b"", time.monotonic()
    while time.monotonic() - start < timeout_s:
        if select.select([fd], [], [], 1.0)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")[-2000:]
    return out.decode(errors="replace")


@pytest.mark.parametrize("columns", [100, 0])
def test_a_terminal_run_draws_a_bar_and_a_line_per_step(tiny_yaml, tmp_path, columns):
    text = _in_pty(["run", str(tiny_yaml), "--out", str(tmp_path / "out")], columns)
    assert "%|" in text and ("step/s" in text or "s/step" in text)  # tqdm's bar, drawn
    for step in ("load layers", "constraints", "factors", "scoring"):
        assert f"siting: {step}: " in text  # each finished step, with its counts and seconds


def test_quiet_draws_nothing(tiny_yaml, tmp_path):
    text = _in_pty(["-q", "run", str(tiny_yaml), "--out", str(tmp_path / "out")], 100)
    assert "%|" not in text and "siting: load layers" not in text
    assert "2 rejected" not in text and "sites covering" in text  # errors only (no warning), and the result's line


def test_without_a_terminal_each_step_is_one_log_line(tiny_yaml, tmp_path):
    env = {**os.environ, "SITING_PROGRESS": "1"}
    r = subprocess.run([sys.executable, "-m", "siting.cli", "run", str(tiny_yaml), "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("INFO siting.steps: ")]
    assert [ln.split(": ")[1] for ln in lines] == list(STEPS)  # one line per step, in order
    assert "%|" not in r.stderr  # and no bar in a log file
    # repairs and rejections are still told without -q (one line each: tests/core/test_cli.py)
    assert "WARNING siting: layer 'deposits' (mrds_deposits.csv, 512 read): 2 rejected" in r.stderr
