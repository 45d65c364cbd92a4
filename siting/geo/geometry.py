"""Geometry checks and repairs for input layers (vectorized shapely 2).

:func:`clean` decides, for each feature, whether it is kept as is, repaired or
rejected, and says why:

* missing, empty, or with NaN/infinite coordinates -> rejected ("no geometry");
* GeometryCollections -> exploded, the parts of the layer's family kept;
* another family than the layer's (a point in a parcel layer) -> error listing
  the ids (or rejected with ``on_wrong_type="drop"``);
* invalid (self-intersection, bowtie) -> ``make_valid(method="structure")``
  keeping the parts of the layer's family (``on_invalid="repair"``), or
  rejected (``"drop"``), or an error (``"raise"``). Never ``buffer(0)``.

Polygon and line layers are promoted to Multi* so that each layer has one
geometry type. :func:`prepared` prepares geometries for a block of predicates and frees them after.

Examples
--------
>>> import numpy as np
>>> from shapely import Polygon, Point
>>> bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
>>> res = clean(np.array([bowtie, None, Polygon([(0, 0), (1, 0), (1, 1)])]), family="polygon")
>>> res.status.tolist()
['repaired', 'rejected', 'ok']
>>> res.geoms[0].geom_type, round(res.geoms[0].area, 2)
('MultiPolygon', 0.5)
>>> from shapely import GeometryCollection, LineString, Point, box
>>> dominant_family(np.array([Point(0, 0), box(0, 0, 1, 1), box(1, 1, 2, 2)]))
'polygon'
>>> [g.geom_type for g in keep_family(np.array([GeometryCollection([box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])])]),
...                                  "polygon")]
['MultiPolygon']
>>> isinstance(clean(np.array([box(0, 0, 1, 1)])), CleanResult)
True
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import shapely

from siting.core.errors import GeometryError

__all__ = ["FAMILIES", "CleanResult", "clean", "dominant_family", "family_of", "keep_family", "one_part",
           "prepared"]

log = logging.getLogger(__name__)

#: shapely type ids per geometry family.
FAMILIES = {"point": (0, 4), "line": (1, 2, 5), "polygon": (3, 6)}
_COLLECTION = 7
ON_INVALID = ("repair", "drop", "raise")


@dataclass
class CleanResult:
    """Outcome of :func:`clean`, aligned with the input array.

    Attributes
    ----------
    geoms : ndarray of geometry
        Cleaned geometries (None where rejected).
    status : ndarray of str
        ``"ok"``, ``"repaired"`` or ``"rejected"``.
    reason : ndarray of str
        Why a feature was repaired or rejected ("" when ok).
    family : str
        The layer's geometry family.
    """

    geoms: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    family: str


def family_of(geoms: np.ndarray) -> np.ndarray:
    """Return each geometry's family: point, line, polygon, collection or none.

    Examples
    --------
    >>> from shapely import Point, LineString
    >>> family_of(np.array([Point(0, 0), LineString([(0, 0), (1, 1)]), None])).tolist()
    ['point', 'line', 'none']
    """
    ids = shapely.get_type_id(geoms)
    out = np.full(len(geoms), "none", dtype=object)
    for fam, types in FAMILIES.items():
        out[np.isin(ids, types)] = fam
    out[ids == _COLLECTION] = "collection"
    return out


def dominant_family(geoms: np.ndarray) -> str | None:
    """Return the most common family among non-empty geometries (None if none).

    Collections count for the family of their first part.
    """
    fam = family_of(geoms)
    coll = fam == "collection"
    if coll.any():
        first = shapely.get_geometry(geoms[coll], 0)
        fam = fam.copy()
        fam[coll] = family_of(first)
    fam = fam[(fam != "none") & ~shapely.is_empty(geoms)]
    if not len(fam):
        return None
    values, counts = np.unique(fam.astype(str), return_counts=True)
    return str(values[np.argmax(counts)])


def _bad_coords(geoms: np.ndarray) -> np.ndarray:
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = np.zeros(len(geoms), dtype=bool)
    nonfinite = ~np.isfinite(coords).all(axis=1)
    bad[np.unique(index[nonfinite])] = True
    return bad


def keep_family(geoms: np.ndarray, family: str) -> np.ndarray:
    """Explode, keep parts of ``family``, and rebuild one Multi* (or Point) per input."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    # parts of a collection can themselves be multi: explode once more
    parts2, index2 = shapely.get_parts(parts, return_index=True)
    index = index[index2]
    keep = np.isin(shapely.get_type_id(parts2), FAMILIES[family]) & ~shapely.is_empty(parts2)
    parts2, index = parts2[keep], index[keep]
    out = np.full(len(geoms), None, dtype=object)
    if not len(parts2):
        return out
    if family == "polygon":
        return shapely.multipolygons(parts2, indices=index, out=out)
    if family == "line":
        return shapely.multilinestrings(parts2, indices=index, out=out)
    single = np.bincount(index, minlength=len(geoms)) == 1
    pts = shapely.multipoints(parts2, indices=index, out=out)
    first = shapely.get_geometry(pts[single], 0)
    pts[single] = first
    return pts


def one_part(geoms: np.ndarray) -> np.ndarray:
    """Each Multi* geometry of one part as that part (a new array; the others as they are).

    A grid cell cut by the land's edge is one polygon: as a MultiPolygon of one part it is not seen as
    convex, so the ground searches make and keep its convex hull, and GEOS holds one more object for it.

    Examples
    --------
    >>> from shapely import MultiPolygon, box
    >>> out = one_part(np.array([MultiPolygon([box(0, 0, 1, 1)]), MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)]),
    ...                          None]))
    >>> [None if g is None else g.geom_type for g in out]
    ['Polygon', 'MultiPolygon', None]
    """
    out = np.array(geoms, dtype=object)
    single = np.flatnonzero(np.isin(shapely.get_type_id(out), [4, 5, 6]) & (shapely.get_num_geometries(out) == 1))
    out[single] = shapely.get_geometry(out[single], 0)
    return out


@contextmanager
def prepared(geoms: np.ndarray) -> Iterator[np.ndarray]:
    """Prepare ``geoms`` for repeated predicates while the block runs, then free what was prepared here.

    A prepared geometry keeps its index for as long as the object lives: preparing a run's 2 M cells
    once for a raster factor held about 700 bytes per cell until the run ended. Geometries that came
    in prepared stay prepared.

    Examples
    --------
    >>> from shapely import box
    >>> cells = np.array([box(0, 0, 1, 1), box(2, 0, 3, 1)])
    >>> with prepared(cells) as g:
    ...     bool(shapely.is_prepared(g).all())
    True
    >>> bool(shapely.is_prepared(cells).any())
    False
    """
    geoms = np.asarray(geoms, dtype=object)
    fresh = geoms[~shapely.is_prepared(geoms) & ~shapely.is_missing(geoms)]
    shapely.prepare(fresh)
    try:
        yield geoms
    finally:
        shapely.destroy_prepared(fresh)


def clean(
    geoms: np.ndarray, *, family: str | None = None, on_invalid: str = "repair",
    on_wrong_type: str = "raise", ids=None, layer: str | None = None, path: str | None = None,
) -> CleanResult:
    """Check and repair a layer's geometries.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
    family : {"point", "line", "polygon"}, optional
        The layer's family; the dominant family of ``geoms`` when omitted.
    on_invalid : {"repair", "drop", "raise"}
        What to do with invalid geometries.
    on_wrong_type : {"raise", "drop"}
        What to do with features of another family.
    ids : array-like, optional
        Feature ids for messages (default: positions).
    layer, path : str, optional
        Named in errors.

    Returns
    -------
    CleanResult

    Raises
    ------
    GeometryError
        On features of the wrong family (``on_wrong_type="raise"``) or invalid
        geometries with ``on_invalid="raise"``; the message lists example ids.
    """
    if on_invalid not in ON_INVALID:
        raise ValueError(f"on_invalid must be one of {ON_INVALID}, not {on_invalid!r}")
    geoms = np.asarray(geoms, dtype=object)
    ids = np.asarray(ids if ids is not None else np.arange(len(geoms)), dtype=object)
    status = np.full(len(geoms), "ok", dtype=object)
    reason = np.full(len(geoms), "", dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms) | _bad_coords(geoms)
    status[missing], reason[missing] = "rejected", "no geometry (missing, empty or NaN coordinates)"
    family = family or dominant_family(geoms[~missing]) or "polygon"
    fam = family_of(geoms)
    wrong = ~missing & (fam != family) & (fam != "collection")
    if wrong.any():
        if on_wrong_type == "raise":
            raise GeometryError(
                f"expects {family} geometries but {int(wrong.sum())} feature(s) are "
                f"{', '.join(sorted(set(fam[wrong])))} (rows {', '.join(map(str, ids[wrong][:5]))}); "
                "remove them or load them as a separate layer",
                layer=layer, path=path, ids=ids[wrong][:5],
            )
        status[wrong], reason[wrong] = "rejected", f"not a {family} geometry"
    live = status == "ok"
    out = np.full(len(geoms), None, dtype=object)
    out[live] = geoms[live]
    coll = live & (fam == "collection")
    _repair_invalid(out, status, reason, live, on_invalid, ids, layer, path)
    reason[coll & (status == "ok")] = "kept the parts of a geometry collection"
    status[coll & (status == "ok")] = "repaired"
    live = status != "rejected"
    out[live] = keep_family(out[live], family)
    lost = live & (shapely.is_missing(out) | shapely.is_empty(out))
    status[lost] = "rejected"
    reason[lost] = np.where(reason[lost] == "", "no usable geometry",
                            reason[lost].astype(str) + " (nothing usable remained)")
    if family == "polygon":
        tiny = (status != "rejected") & (shapely.area(out) <= 0)
        status[tiny], reason[tiny] = "rejected", "polygon with zero area"
        out[tiny] = None
    return CleanResult(out, status, reason, family)


def _repair_invalid(out, status, reason, live, on_invalid: str, ids, layer, path) -> None:
    """Repair (``make_valid``), drop or refuse the invalid geometries among ``live``, in place."""
    invalid = live & ~shapely.is_valid(out)
    if invalid.any() and on_invalid == "raise":
        why = shapely.is_valid_reason(out[invalid])
        raise GeometryError(
            f"{int(invalid.sum())} invalid geometr{'y' if invalid.sum() == 1 else 'ies'}, e.g. "
            + "; ".join(f"id {i}: {w}" for i, w in zip(ids[invalid][:5], why[:5], strict=False))
            + "; fix them or set on_invalid: repair",
            layer=layer, path=path, ids=ids[invalid][:5],
        )
    if invalid.any():
        reason[invalid] = shapely.is_valid_reason(out[invalid])
        if on_invalid == "drop":
            status[invalid] = "rejected"
            reason[invalid] = "invalid geometry: " + reason[invalid].astype(str)
            out[invalid] = None
        else:
            out[invalid] = shapely.make_valid(out[invalid], method="structure", keep_collapsed=False)
            status[invalid] = "repaired"
            reason[invalid] = "repaired invalid geometry: " + reason[invalid].astype(str)
