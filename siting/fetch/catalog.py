"""The catalog of national datasets (``siting/data/catalog.yaml``) and the extents a fetch can ask for.

A user catalog (a YAML file with the same ``datasets:`` mapping, named by ``SITING_CATALOG`` or
``catalog=``) adds datasets or overrides fields of the packaged ones. An extent is a state (postal
code or name: its box from the packaged basemap's state outline) or a box ``W,S,E,N`` in degrees.

Examples
--------
>>> load_catalog()["mrds"]["protocol"]
'wfs'
>>> Extent.of(state="NV").key, Extent.of(state="NV").fips
('state-NV', '32')
>>> Extent.of(bbox="-116,38,-115,39").key
'bbox--116.0000_38.0000_-115.0000_39.0000'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from siting.core.errors import ScenarioError

__all__ = ["STATES", "Extent", "load_catalog"]

#: USPS code -> FIPS code of the states, DC and territories (Census).
STATES = {"AL": "01", "AK": "02", "AZ": "04", "AR": "05", "CA": "06", "CO": "08", "CT": "09", "DE": "10",
          "DC": "11", "FL": "12", "GA": "13", "HI": "15", "ID": "16", "IL": "17", "IN": "18", "IA": "19",
          "KS": "20", "KY": "21", "LA": "22", "ME": "23", "MD": "24", "MA": "25", "MI": "26", "MN": "27",
          "MS": "28", "MO": "29", "MT": "30", "NE": "31", "NV": "32", "NH": "33", "NJ": "34", "NM": "35",
          "NY": "36", "NC": "37", "ND": "38", "OH": "39", "OK": "40", "OR": "41", "PA": "42", "RI": "44",
          "SC": "45", "SD": "46", "TN": "47", "TX": "48", "UT": "49", "VT": "50", "VA": "51", "WA": "53",
          "WV": "54", "WI": "55", "WY": "56", "AS": "60", "GU": "66", "MP": "69", "PR": "72", "VI": "78"}
REQUIRED = ("title", "publisher", "protocol", "url", "licence", "citation")


def load_catalog(catalog=None) -> dict[str, dict]:
    """The packaged catalog, updated entry by entry and field by field from a user catalog.

    Parameters
    ----------
    catalog : path, optional
        A user catalog (default ``SITING_CATALOG`` when set).

    Raises
    ------
    ScenarioError
        When a user catalog cannot be read or an entry lacks a required field.
    """
    text = (resources.files("siting") / "data" / "catalog.yaml").read_text(encoding="utf-8")
    entries = {k: dict(v) for k, v in yaml.safe_load(text)["datasets"].items()}
    user = catalog or os.environ.get("SITING_CATALOG")
    if user:
        try:
            extra = (yaml.safe_load(Path(user).read_text(encoding="utf-8")) or {}).get("datasets") or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ScenarioError(f"user catalog {user}: {exc}") from exc
        for name, fields in extra.items():
            entries[name] = {**entries.get(name, {}), **(fields or {})}
    for name, entry in entries.items():
        missing = [f for f in REQUIRED if not entry.get(f)]
        if missing:
            raise ScenarioError(f"catalog entry {name!r} lacks {', '.join(missing)}; add them to the user catalog")
    return entries


@dataclass(frozen=True)
class Extent:
    """What part of a national dataset to fetch: a state or a box (W, S, E, N degrees)."""

    key: str
    bbox: tuple[float, float, float, float]
    fips: str | None = None

    @classmethod
    def of(cls, state: str | None = None, bbox=None) -> Extent:
        """The extent of a state (postal code or name) or a box (``"W,S,E,N"`` or a sequence)."""
        if (state is None) == (bbox is None):
            raise ScenarioError("give a state (--state NV) or a box (--bbox W,S,E,N), one of them")
        if state is not None:
            return cls._state(str(state))
        values = [float(v) for v in (bbox.split(",") if isinstance(bbox, str) else bbox)]
        if len(values) != 4 or not (values[0] < values[2] and values[1] < values[3]):
            raise ScenarioError(f"bbox {bbox!r}: give W,S,E,N in degrees with W < E and S < N")
        w, s, e, n = values
        if not (w >= -180 and e <= 180 and s >= -90 and n <= 90):
            raise ScenarioError(f"bbox {bbox!r} is not in degrees (longitude -180..180, latitude -90..90)")
        return cls("bbox-" + "_".join(f"{v:.4f}" for v in values), (w, s, e, n))

    @classmethod
    def _state(cls, state: str) -> Extent:
        from siting.deliver.basemap import read_basemap

        states = read_basemap(max_towns=0, tolerance_deg=0.0)["states"]
        code = state.upper() if state.upper() in STATES else None
        if code is None:
            names = {n.lower(): fp for fp, n in zip(states["statefp"], states["name"], strict=True)}
            fips = names.get(state.lower())
            code = next((c for c, f in STATES.items() if f == fips), None)
        if code is None:
            raise ScenarioError(f"state {state!r}: give a USPS code (NV) or a state name (Nevada)")
        row = states[states["statefp"] == STATES[code]]
        if not len(row):
            raise ScenarioError(f"state {state!r} has no outline in the packaged basemap; give --bbox instead")
        w, s, e, n = (round(float(v), 4) for v in row.total_bounds)
        return cls(f"state-{code}", (w, s, e, n), STATES[code])
