"""Site fact sheets (issue 18 item 3): one page per site with every section, HTML and PDF."""

from __future__ import annotations

import re

import numpy as np
import pytest
from oracle import ground_distance
from paths import cli

from siting.core.errors import SitingWarning
from siting.deliver.sheets import margin, write_sheets

SECTIONS = ["Land status", "Rules", "Factors", "Nearest infrastructure", "Deposits within the haul radius",
            "Rank stability", "Sources"]


@pytest.fixture(scope="module")
def sheets(tiny_result, tmp_path_factory):
    out = tmp_path_factory.mktemp("sheets")
    return write_sheets(tiny_result, out, top=3, pdf=False), out


def test_one_page_per_best_site_with_every_section(sheets, tiny_result):
    pages, out = sheets
    best = tiny_result.sites.sort_values("rank")["site_id"].head(3).tolist()
    assert [p.stem for p in pages] == best and (out / "index.html").exists()
    for page in pages:
        text = page.read_text()
        assert all(f"<h2>{s}</h2>" in text for s in SECTIONS)
        assert "data:image/png;base64," in text  # the maps are inside the page


def test_every_rule_of_the_site_with_value_threshold_and_margin(sheets, tiny_result):
    pages, _ = sheets
    site = pages[0].stem
    text = pages[0].read_text()
    rows = tiny_result.ledger[tiny_result.ledger["candidate_id"] == site]
    for _, r in rows.iterrows():
        assert f"<td>{r['rule']}</td>" in text
    within = rows[rows["rule"] == "within_substations"].iloc[0]
    room = margin(within["value"], "<=", within["threshold"])
    assert room == pytest.approx(float(within["threshold"]) - float(within["value"])) and room >= 0
    assert f"<td>{room:,.0f}</td>" in text or f"<td>{room:.4g}</td>" in text


def test_deposits_within_the_haul_radius_are_counted_on_the_ground(sheets, tiny_result):
    pages, _ = sheets
    feed = next(f for f in tiny_result.scenario.factors if f.kind == "feedstock")
    deps = tiny_result.layers[feed.feedstock]
    site = tiny_result.sites.set_index("site_id").loc[pages[0].stem]
    close = deps[np.asarray(deps.distance(site.geometry)) < feed.radius_m * 1.1]
    truth = sum(ground_distance(site.geometry, g, deps.crs) <= feed.radius_m for g in close.geometry)
    found = re.search(r"([\d,]+) deposits within ([\d.]+) km on the ground", pages[0].read_text())
    assert found and int(found.group(1).replace(",", "")) == truth and truth > 0


def test_without_chromium_the_html_is_written_and_a_warning_says_how(tiny_result, tmp_path, monkeypatch):
    monkeypatch.setenv("SITING_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.warns(SitingWarning, match="PDF fact sheets need Chromium: apt-get install chromium"):
        pages = write_sheets(tiny_result, tmp_path / "s", top=1)
    assert pages[0].exists() and not pages[0].with_suffix(".pdf").exists()


@pytest.mark.browser
def test_sheets_from_the_cli_as_pdf(demo_out, tmp_path):
    r = cli("sheets", demo_out, "--top", "2", "--out", tmp_path / "sheets")
    assert r.returncode == 0, r.stderr
    pdfs = sorted((tmp_path / "sheets").glob("*.pdf"))
    assert len(pdfs) == 2 and all(p.read_bytes()[:5] == b"%PDF-" and p.stat().st_size > 20_000 for p in pdfs)
