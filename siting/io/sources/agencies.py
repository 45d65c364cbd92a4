"""One agency vocabulary for every land dataset.

PAD-US writes managers as codes (``Mang_Name = "BLM"``), the flattened
Vector-Analysis file as names (``MngNm_D = "Bureau of Land Management"``),
BLM's Surface Management Agency layer as its own codes (``ADMIN_AGENCY_CODE``).
All map to: BLM, USFS, FWS, NPS, DOD, DOE, BOR, USACE, TVA, NRCS, ARS, NOAA,
OTHER_FED, TRIB, STATE, LOCAL, NGO, PRIVATE, JOINT, UNKNOWN.

Examples
--------
>>> to_agency(["BLM", "Forest Service", "Department of Defense", "ARMY", "SLB", None]).tolist()
['BLM', 'USFS', 'DOD', 'DOD', 'STATE', 'UNKNOWN']
>>> to_agency(["State Fish and Wildlife", "U.S. Fish and Wildlife Service"]).tolist()
['STATE', 'FWS']
"""

from __future__ import annotations

import re

import pandas as pd

from siting.schema import AGENCIES, FEDERAL

__all__ = ["AGENCIES", "FEDERAL", "to_agency"]  # the vocabulary itself lives in siting.schema


_CODES = {
    # PAD-US Mang_Name / Own_Name codes
    "BLM": "BLM", "USFS": "USFS", "FS": "USFS", "FWS": "FWS", "USFWS": "FWS", "NPS": "NPS",
    "DOD": "DOD", "ARMY": "DOD", "NAVY": "DOD", "USAF": "DOD", "USMC": "DOD", "AF": "DOD",
    "DOE": "DOE", "BOR": "BOR", "USBR": "BOR", "USACE": "USACE", "COE": "USACE",
    "TVA": "TVA", "NRCS": "NRCS", "ARS": "ARS", "NOAA": "NOAA", "OTHF": "OTHER_FED",
    "OTHS": "STATE", "BIA": "TRIB", "TRIB": "TRIB", "SDC": "STATE", "SDNR": "STATE",
    "SDOL": "STATE", "SFW": "STATE", "SLB": "STATE", "SPR": "STATE", "SLO": "STATE",
    "STAT": "STATE", "CITY": "LOCAL", "CNTY": "LOCAL", "REG": "LOCAL", "LOC": "LOCAL",
    "RWD": "LOCAL", "NGO": "NGO", "PVT": "PRIVATE", "PRIVATE": "PRIVATE", "JNT": "JOINT",
    "UNK": "UNKNOWN", "UNKL": "UNKNOWN", "DESG": "UNKNOWN", "FED": "OTHER_FED",
    # BLM Surface Management Agency ADMIN_AGENCY_CODE
    "ST": "STATE", "PVT/UND": "PRIVATE", "UND": "UNKNOWN", "LG": "LOCAL",
    "OTHFE": "OTHER_FED", "DOD-ARMY": "DOD", "DOD-NAVY": "DOD", "DOD-USAF": "DOD",
}
_NAMES = [
    (r"^state\b", "STATE"),  # "State Fish and Wildlife" is a state agency, not FWS
    (r"land management", "BLM"),
    (r"forest service|national forest", "USFS"),
    (r"fish and wildlife|wildlife refuge", "FWS"),
    (r"park service|national park", "NPS"),
    (r"defense|army|navy|air force|marine corps|military", "DOD"),
    (r"army corps|corps of engineers", "USACE"),
    (r"department of energy|energy", "DOE"),
    (r"reclamation", "BOR"),
    (r"tennessee valley", "TVA"),
    (r"natural resources conservation", "NRCS"),
    (r"agricultural research", "ARS"),
    (r"oceanic and atmospheric", "NOAA"),
    (r"indian|tribal|tribe|reservation|american indian", "TRIB"),
    (r"federal", "OTHER_FED"),
    (r"state", "STATE"),
    (r"city|county|local|municipal|regional", "LOCAL"),
    (r"non-governmental|ngo|conservancy", "NGO"),
    (r"private", "PRIVATE"),
    (r"joint", "JOINT"),
    (r"unknown|undetermined", "UNKNOWN"),
]
# corps of engineers must win over "army"
_NAMES.sort(key=lambda item: item[1] != "USACE")


def _one(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "UNKNOWN"
    text = str(value).strip()
    code = _CODES.get(text.upper())
    if code:
        return code
    low = text.lower()
    for pattern, agency in _NAMES:
        if re.search(pattern, low):
            return agency
    return "UNKNOWN"


def to_agency(values) -> pd.Series:
    """Map manager codes or names to the siting agency vocabulary.

    Parameters
    ----------
    values : array-like of str

    Returns
    -------
    Series of str
        Unrecognised or missing values become ``"UNKNOWN"``.
    """
    s = pd.Series(values, dtype="object")
    uniques = {v: _one(v) for v in s.dropna().unique()}  # map distinct values only
    return s.map(uniques).fillna("UNKNOWN").astype("object")
