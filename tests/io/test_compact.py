"""Repeated text held as categoricals: less memory, the same values, the same files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest

from siting.io.compact import concat, repeated_text


@pytest.fixture
def cells() -> pd.DataFrame:
    """200,000 cells of 400 parcels, as a grid gives them: each parcel's text repeated on its cells."""
    rng = np.random.default_rng(1)
    parcel = rng.integers(0, 400, 200_000)
    return pd.DataFrame({
        "candidate_id": [f"G-{i}" for i in range(200_000)],
        "unit_name": pd.Series([f"Bureau of Land Management unit {p}" for p in parcel], dtype="str"),
        "agency": np.array(["BLM", "DOD", "USFS", "DOE"], dtype=object)[parcel % 4],
        "agency_in__threshold": "BLM, USFS, DOD, DOE, BOR",
        "within__pass": np.where(parcel % 2 == 0, True, None),  # not text: left alone
        "acres": rng.uniform(0, 1, 200_000),
    })


def test_repeated_text_becomes_categorical_with_the_same_values_in_less_memory(cells):
    before = cells.copy(deep=True)
    out = repeated_text(cells)
    kinds = {c: str(out[c].dtype) for c in out}
    assert kinds["unit_name"] == kinds["agency"] == kinds["agency_in__threshold"] == "category"
    assert kinds["candidate_id"] == str(cells["candidate_id"].dtype)  # all distinct: text as before
    assert kinds["within__pass"] == "object" and kinds["acres"] == "float64"
    for col in cells:
        assert out[col].astype(object).tolist() == cells[col].astype(object).tolist(), col
    pd.testing.assert_frame_equal(cells, before)  # the input is not changed
    text = ["unit_name", "agency_in__threshold"]
    assert out[text].memory_usage(deep=True).sum() < cells[text].memory_usage(deep=True).sum() / 5
    taken = np.arange(0, 200_000, 2)  # a copy of half the rows (the eligible cells) costs codes, not text
    assert out[text].take(taken).memory_usage(deep=True).sum() < \
        cells[text].take(taken).memory_usage(deep=True).sum() / 5


def test_repeated_text_sorts_and_compares_as_text_and_keeps_missing_values():
    frame = pd.DataFrame({"agency": ["FWS", "BLM", None, "BLM", "DOD", "FWS"]})
    out = repeated_text(frame)
    assert str(out["agency"].dtype) == "category"
    assert out.sort_values("agency")["agency"].tolist()[:5] == sorted(["FWS", "BLM", "BLM", "DOD", "FWS"])
    assert out["agency"].isna().tolist() == frame["agency"].isna().tolist()
    assert (out["agency"] == "BLM").tolist() == (frame["agency"] == "BLM").tolist()
    assert out["agency"].isin(["DOD", "FWS"]).sum() == 3
    assert repeated_text(pd.DataFrame({"a": ["x", "y"]}), share=0.5)["a"].dtype != "category"


def test_a_run_keeps_repeated_text_as_categoricals_and_writes_it_as_text(demo_result, demo_out):
    sites, ledger = demo_result.sites, demo_result.ledger
    for col in ["agency", "source", "failed_rules", "unit_id", "tier"]:
        assert isinstance(sites[col].dtype, pd.CategoricalDtype), col
    assert isinstance(ledger["candidate_id"].dtype, pd.CategoricalDtype)
    assert not isinstance(sites["site_id"].dtype, pd.CategoricalDtype)  # one per site
    written = pyogrio.read_dataframe(demo_out / "siting.gpkg", layer="sites", read_geometry=False)
    info = pyogrio.read_info(demo_out / "siting.gpkg", layer="sites")
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types["agency"] == types["tier"] == "object"  # GDAL text fields
    back = written.set_index("site_id").loc[sites["site_id"]]
    for col in ["agency", "tier", "unit_id"]:
        assert back[col].tolist() == sites[col].astype(object).tolist(), col


def test_concat_keeps_categoricals_of_different_values_without_text_per_row():
    a = repeated_text(pd.DataFrame({"agency": ["BLM", "BLM", "DOD"] * 1_000, "acres": 1.0}))
    b = repeated_text(pd.DataFrame({"agency": ["USFS", "FWS", "FWS"] * 1_000, "acres": 2.0}))
    c = pd.DataFrame({"agency": ["NPS", None, "BLM"], "acres": 3.0})  # plain text, with a missing value
    out = concat([a, b, c], ignore_index=True)
    plain = pd.concat([f.astype({"agency": object}) for f in (a, b, c)], ignore_index=True)
    assert isinstance(out["agency"].dtype, pd.CategoricalDtype)
    assert out["agency"].cat.categories.tolist() == ["BLM", "DOD", "FWS", "NPS", "USFS"]  # sorted union
    assert out["agency"].astype(object).tolist() == plain["agency"].tolist()
    assert out["acres"].tolist() == plain["acres"].tolist()
    assert str(pd.concat([a, b])["agency"].dtype) != "category"  # what plain pandas would have given
    mixed = concat([a, pd.DataFrame({"agency": [1.5]})], ignore_index=True)  # not text: pandas decides
    assert mixed["agency"].tolist()[-1] == 1.5


def test_code_that_writes_new_text_into_categorical_columns_takes_them_as_text():
    """Categoricals refuse values outside their categories; the places that fill, neutralise or map site text
    (missing agencies, formula-like names) must not fail on them."""
    import geopandas as gpd
    from shapely import box

    from siting.io.writers import csv_safe
    from siting.score.readiness import PermittingSpec, permitting

    names = repeated_text(pd.DataFrame({"unit_name": ["=HYPERLINK(1)", "=HYPERLINK(1)", "Tonopah", None]}))
    assert isinstance(names["unit_name"].dtype, pd.CategoricalDtype)
    assert csv_safe(names)["unit_name"].tolist()[:3] == ["'=HYPERLINK(1)", "'=HYPERLINK(1)", "Tonopah"]
    sites = gpd.GeoDataFrame(repeated_text(pd.DataFrame({"agency": ["DOD", "DOD", None]})),
                             geometry=[box(0, 0, 10, 10)] * 3, crs=5070)
    plain = sites.astype({"agency": object})
    spec = PermittingSpec()
    pd.testing.assert_frame_equal(permitting(sites, {}, spec, name="p"), permitting(plain, {}, spec, name="p"))


def test_categorical_text_is_written_batch_by_batch_as_the_same_text(tmp_path, monkeypatch):
    # the writers decode categorical text one batch at a time (a national run's twenty such columns are
    # half a GB as text at once); the GeoPackage and the GeoParquet hold the same text and gaps throughout
    import geopandas as gpd
    import shapely

    from siting.io import batches, writers

    n = 40
    names = np.array(["BLM", "DOD", None, "USFS", "Bureau of Reclamation"], dtype=object)[np.arange(n) % 5]
    frame = gpd.GeoDataFrame(repeated_text(pd.DataFrame({"agency": pd.Series(names, dtype="str"),
                                                         "n": np.arange(n)})),
                             geometry=shapely.box(np.arange(n), 0, np.arange(n) + 1, 1), crs=5070)
    assert isinstance(frame["agency"].dtype, pd.CategoricalDtype)
    seen = []
    real = batches._arrow_table
    monkeypatch.setattr(batches, "_arrow_table", lambda part, promote: seen.append(part["agency"].dtype)
                        or real(part, promote))
    monkeypatch.setattr(batches, "WRITE_BATCH", 7)
    writers.write_gpkg(tmp_path / "t.gpkg", {"sites": frame})
    writers.write_parquet(frame, tmp_path / "t.parquet")
    assert len(seen) == 2 * 6 and all(isinstance(d, pd.CategoricalDtype) for d in seen)  # still codes per batch
    def plain(s: pd.Series) -> list:
        return s.astype(object).where(s.notna(), None).tolist()

    back = pyogrio.read_dataframe(tmp_path / "t.gpkg", layer="sites")
    assert plain(back["agency"]) == plain(frame["agency"]) and back["n"].tolist() == list(range(n))
    assert plain(pd.read_parquet(tmp_path / "t.parquet")["agency"]) == plain(frame["agency"])
    assert plain(frame["agency"]).count(None) == n // 5  # the gaps were there to keep
