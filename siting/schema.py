"""The shared vocabulary: canonical columns and ids, layer roles, agencies, designations, palettes.

Every module that names a canonical column, an agency, a designation type or a map colour takes it
from here, so a change is made once.

Examples
--------
>>> ID_COLUMN["deposits"], ROLE_KIND["parcels"], "parcel_id" in CANONICAL["parcels"]
('deposit_id', 'parcels', True)
>>> "DOD" in FEDERAL and "WSA" in SPECIAL_DESIGNATIONS and DESIGNATIONS["WSA"]
'Wilderness Study Area'
>>> AGENCY_COLOURS["BLM"], rgb("#e8b04b"), light("#000000", 0.5)
('#e8b04b', '232,176,75', '#808080')
>>> unit_weights([3, 1]).tolist(), unit_weights([[1, 1], [0, 2]]).tolist()
([0.75, 0.25], [[0.5, 0.5], [0.0, 1.0]])
"""

from __future__ import annotations

import numpy as np

__all__ = ["AGENCIES", "AGENCY_COLOURS", "CANONICAL", "DESIGNATIONS", "FEDERAL", "ID_COLUMN", "PARCEL_COLUMNS",
           "ROLE_KIND", "SCORE_RAMP", "SPECIAL_DESIGNATIONS", "TIER_COLOURS", "light", "rgb", "unit_weights"]

#: Canonical columns of each kind of layer (then the source's own attributes, then ``src_row``).
CANONICAL: dict[str, list[str]] = {
    "parcels": ["parcel_id", "agency", "manager_name", "designation", "gap_status", "unit_name", "state",
                "reported_acres", "source"],
    "deposits": ["deposit_id", "name", "commodities", "critical", "dev_status", "source"],
    "infrastructure": ["feature_id", "kind", "name", "voltage_kv", "status", "category", "source"],
    "features": ["feature_id", "kind", "name", "source"],
}
#: The id column of each kind of layer.
ID_COLUMN = {"parcels": "parcel_id", "deposits": "deposit_id", "infrastructure": "feature_id",
             "features": "feature_id"}
#: Scenario layer names whose kind is fixed (the ``parcels`` layer must hold parcels).
ROLE_KIND = {"parcels": "parcels", "deposits": "deposits"}
#: Parcel columns carried onto candidates.
PARCEL_COLUMNS = ["parcel_id", "agency", "manager_name", "designation", "gap_status", "unit_name", "state",
                  "reported_acres", "installation", "source"]

#: The agency vocabulary (PAD-US manager codes and others map onto it, see ``io/sources/agencies``).
AGENCIES = (
    "BLM", "USFS", "FWS", "NPS", "DOD", "DOE", "BOR", "USACE", "TVA", "NRCS", "ARS", "NOAA",
    "OTHER_FED", "TRIB", "STATE", "LOCAL", "NGO", "PRIVATE", "JOINT", "UNKNOWN",
)
FEDERAL = frozenset(AGENCIES[:13])

#: PAD-US ``Des_Tp`` codes and their meaning (PAD-US Data Manual, designation types).
DESIGNATIONS = {
    "ACEC": "Area of Critical Environmental Concern", "ACC": "Access Area",
    "CONE": "Conservation Easement", "FOTH": "Federal Other or Unknown",
    "HCA": "Historic or Cultural Area", "IRA": "Inventoried Roadless Area",
    "MIL": "Military Land", "MIT": "Mitigation Land or Bank", "MPA": "Marine Protected Area",
    "NCA": "National Conservation Area", "NF": "National Forest", "NG": "National Grassland",
    "NLS": "National Lakeshore or Seashore", "NM": "National Monument or Landmark",
    "NP": "National Park", "NRA": "National Recreation Area",
    "NS": "National Scenic, Botanical or Volcanic Area", "NT": "National Scenic or Historic Trail",
    "NWR": "National Wildlife Refuge", "PUB": "National Public Lands", "REA": "Research or Educational Area",
    "REC": "Recreation Management Area", "RNA": "Research Natural Area", "SDA": "Special Designation Area",
    "TRIBL": "Native American Land", "UNK": "Unknown", "WA": "Wilderness Area",
    "WPA": "Watershed Protection Area", "WSA": "Wilderness Study Area", "WSR": "Wild and Scenic River",
}
#: Designations that usually bar or slow industrial development on federal land.
SPECIAL_DESIGNATIONS = frozenset(
    {"WA", "WSA", "NP", "NM", "NCA", "ACEC", "RNA", "NWR", "WSR", "IRA", "NLS", "NRA", "NS", "HCA"}
)

#: Map colours of the land managers (hex); static maps use lighter tints (:func:`light`).
AGENCY_COLOURS = {"BLM": "#e8b04b", "USFS": "#3a7d44", "DOD": "#7d5ba6", "DOE": "#c0504d", "FWS": "#4f81bd",
                  "NPS": "#2e8b57", "BOR": "#8c6d31", "USACE": "#636363"}
#: The score ramp, worst to best.
SCORE_RAMP = ["#d73027", "#fee08b", "#1a9850"]
#: Tier colours, best first (the last for sites without a tier).
TIER_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#999999"]


def rgb(colour: str) -> str:
    """``"#rrggbb"`` as ``"r,g,b"`` (the form QGIS styles take)."""
    return ",".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5))


def light(colour: str, amount: float = 0.6) -> str:
    """``colour`` mixed with white (``amount`` 0: unchanged, 1: white)."""
    mixed = [round(int(colour[i:i + 2], 16) + (255 - int(colour[i:i + 2], 16)) * amount) for i in (1, 3, 5)]
    return "#" + "".join(f"{min(v, 255):02x}" for v in mixed)


def unit_weights(weights) -> np.ndarray:
    """Weights scaled to sum to 1 along the last axis (one vector, or one per row).

    Raises
    ------
    ValueError
        When weights are negative, not finite, or sum to 0.
    """
    w = np.asarray(weights, dtype=float)
    total = w.sum(axis=-1, keepdims=True)
    if not np.isfinite(w).all() or (w < 0).any() or (total <= 0).any():
        raise ValueError(f"weights must be finite, >= 0 and not all 0; got {w.tolist()}")
    return w / total
