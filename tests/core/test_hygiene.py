"""House hygiene (issue 14 item 6): no global side effects, SITING_THREADS honoured, tracebacks on request."""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest
import shapely

from siting.core import settings
from siting.geo import proximity


@pytest.mark.slow  # a fresh interpreter that imports everything (about 5 s): in CI's slow tests
def test_importing_siting_and_drawing_charts_never_changes_the_matplotlib_backend(tmp_path):
    code = (
        "import matplotlib\nmatplotlib.use('svg')\nimport pandas as pd\nimport siting\n"
        "from siting.deliver import plots, static\n"
        "t = pd.DataFrame({'threshold': [1, 2], 'sites': [3, 4], 'acres': [5.0, 6.0],\n"
        "                  'is_scenario_value': [True, False]})\n"
        "plots.relaxation_plot(t, 'r')\nplots.relaxation_plot(t, 'r', ax=plots.figure_axes((3, 2)))\n"
        "small = {'name': 'b', 'base_dir': 'sample_data', 'layers': {'parcels': {'path': 'federal_lands.gpkg'}}}\n"
        f"static.static_map(siting.run(small, progress=False), {str(tmp_path / 'm.png')!r}, dpi=40)\n"
        "print(matplotlib.get_backend())\n")
    from paths import ROOT

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().lower() == "svg"


class _Recording(proximity.cKDTree):
    calls: ClassVar[list] = []

    def query_ball_point(self, *args, **kwargs):
        _Recording.calls.append(kwargs.get("workers"))
        return super().query_ball_point(*args, **kwargs)

    def query(self, *args, **kwargs):
        _Recording.calls.append(kwargs.get("workers", 1))
        return super().query(*args, **kwargs)


@pytest.mark.parametrize("threads", [1, 2])
def test_every_kdtree_query_runs_on_at_most_siting_threads(monkeypatch, threads):
    monkeypatch.setattr(settings, "THREADS", threads)
    monkeypatch.setattr(proximity, "cKDTree", _Recording)
    _Recording.calls = []
    rng = np.random.default_rng(0)
    pts = shapely.points(rng.uniform(0, 1e5, (500, 2)))
    cells = shapely.buffer(shapely.points(rng.uniform(0, 1e5, (200, 2))), 300)
    proximity.count_within(cells, pts, 2_000.0)
    proximity.nearest(pts[:50], pts[50:])
    assert _Recording.calls and all(w is not None and 1 <= w <= threads for w in _Recording.calls)


def test_the_cli_shows_a_traceback_only_when_asked(monkeypatch, capsys, tmp_path):
    from siting import cli
    from siting.io import info

    def broken(*a, **k):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(info, "describe", broken)
    with pytest.raises(SystemExit) as code:
        cli.main(["info", str(tmp_path)])
    assert code.value.code == 3 and "internal error: RuntimeError: unexpected" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="unexpected"):
        cli.main(["-vv", "info", str(tmp_path)])
    with pytest.raises(SystemExit):  # "-vv" as a value, not the option, shows none
        cli.main(["info", str(tmp_path), "--layer", "-vv"])
