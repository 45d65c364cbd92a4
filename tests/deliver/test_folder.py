"""The output folder (issue 16 items 1, 2, 9, 10, 17, 18): ours only, one writer, no lost outputs, clear errors."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest
import shapely
from paths import cli

from siting.core.errors import OutputError, OutputExistsError
from siting.deliver import folder as folder_mod
from siting.deliver import outputs
from siting.deliver.folder import MARKER, check_output_dir, output_lock


def _save(result, out, **kw):
    return result.save(out, formats=["csv"], **kw)


def test_overwrite_refuses_a_folder_with_user_files_and_keeps_them(tmp_path, tiny_yaml):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.docx").write_text("four years of work")
    (out / "scenario.yaml").write_text(tiny_yaml.read_text())
    r = cli("run", tiny_yaml, "--out", out, "--overwrite")
    assert r.returncode == 1 and "was not written by siting" in r.stderr and "thesis.docx" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["scenario.yaml", "thesis.docx"]


def test_overwrite_replaces_a_folder_siting_wrote_but_not_one_a_user_added_to(tmp_path, tiny_result):
    out = _save(tiny_result, tmp_path / "out")
    marker = json.loads((out / MARKER).read_text())
    assert marker["run_id"] == tiny_result.meta["run_id"] and "sites.csv" in marker["files"]
    assert _save(tiny_result, out, overwrite=True) == out
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match=r"holds files siting did not write \(notes\.txt\)"):
        _save(tiny_result, out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_second_writer_fails_fast_naming_the_first(tmp_path, tiny_result):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom siting.deliver.folder import output_lock\n"
        f"with output_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(60)\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match=rf"being written by another run \(pid {holder.pid}, started 20"):
            _save(tiny_result, out)
    finally:
        holder.kill()
        holder.wait()
    assert _save(tiny_result, out) == out  # the dead holder's lock is taken over
    assert not list(tmp_path.glob(".st-lock-*"))


def test_no_single_failure_between_the_renames_loses_the_earlier_outputs(tmp_path, tiny_result, monkeypatch):
    out = _save(tiny_result, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(folder_mod, "_exchange", lambda a, b: False)  # a file system without RENAME_EXCHANGE
    real_replace, calls = os.replace, []

    def second_fails(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError(errno.EIO, "I/O error", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(folder_mod.os, "replace", second_fails)
    with pytest.raises(OutputError, match="I/O error"):
        _save(tiny_result, out, overwrite=True)
    monkeypatch.setattr(folder_mod.os, "replace", real_replace)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_kill_between_the_renames_is_undone_by_the_next_run(tmp_path, tiny_result):
    out = _save(tiny_result, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    aside = tmp_path / f".st-old-{dead}-{folder_mod._tag(out)}"
    os.replace(out, aside)  # as a run killed after its first rename leaves it
    assert check_output_dir(out, overwrite=True) == out  # the next run puts it back before anything else
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and not aside.exists()


def test_exchange_swaps_two_folders_atomically(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not folder_mod._exchange(a, b):
        pytest.skip("this file system has no RENAME_EXCHANGE (the fallback path is tested above)")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"),
                                         (errno.EACCES, "permission denied")])
def test_disk_and_permission_failures_name_the_path_and_the_cause(tmp_path, tiny_result, monkeypatch, code, words):
    def fail(result, tmp, formats, offline_map):
        raise OSError(code, os.strerror(code), str(tmp / "siting.gpkg"))

    monkeypatch.setattr(outputs, "_write_all", fail)
    with pytest.raises(OutputError, match=words) as info:
        _save(tiny_result, tmp_path / "out")
    assert str(tmp_path / "out") in str(info.value) and "internal error" not in str(info.value)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".st-")]


def test_long_names_fit_and_too_long_or_newline_names_are_refused_clearly(tmp_path, tiny_result):
    long_ok = tmp_path / ("x" * 250)
    assert _save(tiny_result, long_ok) == long_ok and (long_ok / "sites.csv").exists()
    with pytest.raises(OutputError, match="too long"):
        _save(tiny_result, tmp_path / ("y" * 300))
    with pytest.raises(OutputError, match="control character"):
        _save(tiny_result, tmp_path / "two\nlines")
    r = cli("run", "nope.yaml", "--out", tmp_path / ("z" * 300))
    assert "internal error" not in r.stderr


def test_a_symlinked_output_folder_is_written_through(tmp_path, tiny_result):
    target = tmp_path / "real"
    link = tmp_path / "link"
    _save(tiny_result, target)
    link.symlink_to(target, target_is_directory=True)
    assert _save(tiny_result, link, overwrite=True) == target
    assert link.is_symlink() and (link / "sites.csv").exists() and os.path.realpath(link) == str(target)


def test_a_site_without_geometry_is_an_error_not_a_null_in_the_output(tmp_path, tiny_result):
    broken = tiny_result.sites.copy()
    broken.loc[broken.index[0], "geometry"] = shapely.Polygon()
    result = type(tiny_result)(**{**tiny_result.__dict__, "sites": broken})
    with pytest.raises(OutputError, match=rf"no usable geometry \(e.g. {broken['site_id'].iloc[0]}\)"):
        _save(result, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_site_with_nan_coordinates_is_an_error_whichever_batch_it_is_in(tmp_path, tiny_result, monkeypatch):
    monkeypatch.setattr("siting.deliver.outputs.WRITE_BATCH", 2)  # the coordinates are checked in batches
    broken = tiny_result.sites.copy()
    x0, y0, *_ = broken.geometry.iloc[-1].bounds
    with pytest.warns(RuntimeWarning, match="invalid value"):  # shapely warns while it makes the ring
        bad = shapely.Polygon([(x0, y0), (x0 + 9, y0), (float("nan"), y0 + 9)])
    broken.loc[broken.index[-1], "geometry"] = bad
    result = type(tiny_result)(**{**tiny_result.__dict__, "sites": broken})
    with pytest.raises(OutputError, match=r"no usable geometry \(e.g. \(a site with NaN coordinates\)\)"):
        _save(result, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_lock_is_reentrant_in_one_process(tmp_path):
    with output_lock(tmp_path / "o"), output_lock(tmp_path / "o"):
        assert len(list(tmp_path.glob(".st-lock-*"))) == 1
    assert not list(tmp_path.glob(".st-lock-*"))
