"""Facility footprints and the upper bound on how many fit on a piece of land.

Examples
--------
>>> fp = Footprint.from_acres(160)
>>> round(fp.w, 1), fp.pitch(800)[0] == fp.w + 800
(804.7, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from siting.core import settings
from siting.core.errors import ScenarioError

__all__ = ["HEX_DENSITY", "SHAPES", "Footprint", "packing_bound"]

SHAPES = ("square", "rectangle", "circle")
#: Buffers here use arcs of ARC_SEGS segments per quarter circle. GEOS rounds each corner's arc to a whole
#: number of segments, so one segment can span 1.5 quanta of ``pi / (2 ARC_SEGS)`` and its chord comes to
#: ``cos(3 pi / (8 ARC_SEGS))`` of the distance (0.27 % short); buffers are widened by ARC_SLACK of their distance
#: to err on the safe side (erosions never too generous, growths never short). The former 0.2 % left setbacks
#: 0.07 % short on rough land (0.21 m at 300 m).
ARC_SEGS = 16
ARC_SLACK = 1 / math.cos(3 * math.pi / (8 * ARC_SEGS)) - 1 + 1e-5
HEX_DENSITY = math.pi / math.sqrt(12)


@dataclass(frozen=True)
class Footprint:
    """A facility footprint: ``w`` x ``h`` metres (rectangles, squares) or radius ``r`` (circles).

    For rectangles ``r`` is the circumradius (half the diagonal).
    """

    shape: str
    w: float
    h: float
    r: float
    area: float

    @classmethod
    def from_acres(cls, acres: float, shape: str = "square", aspect: float = 1.0) -> Footprint:
        """Footprint of ``acres`` (``aspect`` = width / height for rectangles).

        Examples
        --------
        >>> Footprint.from_acres(160, "circle").shape
        'circle'
        >>> Footprint.from_acres(160, "hexagon")
        Traceback (most recent call last):
        ...
        siting.core.errors.ScenarioError: footprint shape 'hexagon' is unknown; use one of square, rectangle, circle
        """
        if shape not in SHAPES:
            raise ScenarioError(f"footprint shape {shape!r} is unknown; use one of {', '.join(SHAPES)}")
        if not acres > 0 or not aspect > 0:
            raise ScenarioError(f"footprint_acres ({acres}) and aspect ({aspect}) must be > 0")
        area = acres * settings.M2_PER_ACRE
        if shape == "circle":
            r = math.sqrt(area / math.pi)
            return cls(shape, 2 * r, 2 * r, r, area)
        aspect = 1.0 if shape == "square" else aspect
        w, h = math.sqrt(area * aspect), math.sqrt(area / aspect)
        return cls(shape, w, h, math.hypot(w, h) / 2, area)

    @property
    def acres(self) -> float:
        """Footprint area in acres."""
        return self.area / settings.M2_PER_ACRE

    @property
    def inner(self) -> float:
        """Radius of the largest disk inside the footprint."""
        return self.r if self.shape == "circle" else min(self.w, self.h) / 2

    def polygons(self, x: np.ndarray, y: np.ndarray, theta) -> np.ndarray:
        """Footprint polygons centred at (x, y), rotated by ``theta`` radians (scalar or per site).

        Examples
        --------
        >>> import numpy as np
        >>> fp = Footprint.from_acres(247.105)
        >>> p = fp.polygons(np.array([0.0]), np.array([0.0]), 0.0)[0]
        >>> round(p.area / 1e6, 3), round(p.bounds[2], 1)
        (1.0, 500.0)
        """
        x, y = np.asarray(x, float), np.asarray(y, float)
        if self.shape == "circle":
            return shapely.buffer(shapely.points(x, y), self.r, quad_segs=ARC_SEGS)
        theta = np.broadcast_to(np.asarray(theta, float), x.shape)
        hw, hh = self.w / 2, self.h / 2
        corners = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
        c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
        px = x[:, None] + corners[None, :, 0] * c - corners[None, :, 1] * s
        py = y[:, None] + corners[None, :, 0] * s + corners[None, :, 1] * c
        return shapely.polygons(np.stack([px, py], axis=-1))

    def pitch(self, spacing: float) -> tuple[float, float]:
        """Lattice steps (along a row, between rows) that keep sites ``spacing`` apart.

        Circles use a hexagonal lattice (rows offset by half a step), rectangles a rectangular one.
        """
        if self.shape == "circle":
            d = 2 * self.r + spacing
            return d, d * math.sqrt(3) / 2
        return self.w + spacing, self.h + spacing

    def cell_area(self, spacing: float) -> float:
        """Land one site takes in the densest packing: the bound divides the land area by this.

        Circles: the hexagon around the disk grown by half the spacing, ``2 sqrt(3) R^2`` - the disk
        area divided by the hexagonal packing density. Rectangles: the rectangle grown by half the
        spacing with rounded corners (Steiner's formula); grown rectangles cannot overlap, so their
        total area cannot exceed the land grown by half the spacing.
        """
        half = spacing / 2
        if self.shape == "circle":
            return math.pi * (self.r + half) ** 2 / HEX_DENSITY
        return self.area + 2 * (self.w + self.h) * half + math.pi * half**2

    def bound_margin(self, spacing: float) -> float:
        """How far the land is grown before dividing by :meth:`cell_area` (see :func:`packing_bound`)."""
        if self.shape == "circle":
            return 2 * (self.r + spacing / 2) / math.sqrt(3) - self.r
        return spacing / 2


def erode(geoms: np.ndarray, distance) -> np.ndarray:
    """Points at least ``distance`` (one, or one per polygon) inside each polygon (the arc chords are covered)."""
    return shapely.buffer(geoms, -distance * (1 + ARC_SLACK), quad_segs=ARC_SEGS)


def grow(geoms: np.ndarray, distance: float) -> np.ndarray:
    """Every point within ``distance`` of each polygon (the arc chords are covered)."""
    return shapely.buffer(geoms, distance * (1 + ARC_SLACK), quad_segs=ARC_SEGS)


def packing_bound(eligible: gpd.GeoDataFrame, fp: Footprint, spacing_m: float = 0.0,
                  edge_setback_m: float = 0.0) -> float:
    """Upper bound on the number of footprints that fit: grown land area / area one site needs.

    The bound is the land area divided by the area one site needs with spacing
    (:meth:`Footprint.cell_area`: for circles the disk grown by half the spacing divided by the
    hexagonal packing density ``pi / sqrt(12)``). So that it holds on small and ragged pieces too,
    the land (after the setback) is first grown by :meth:`Footprint.bound_margin`: half the spacing
    for rectangles, whose grown shapes are disjoint and lie in the grown land; for circles the
    Voronoi-cell argument of Fejes Toth (the cell of a disk of radius R, clipped to the disk of
    radius 2R/sqrt(3) about its centre, has area at least 2 sqrt(3) R^2).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> land = gpd.GeoDataFrame(geometry=[box(0, 0, 10_000, 10_000)], crs=5070)
    >>> round(packing_bound(land, Footprint.from_acres(247.105)), 1)  # 1 km2 squares on 100 km2
    100.0
    """
    parts = shapely.get_parts(np.asarray(eligible.geometry.values, dtype=object))
    if edge_setback_m > 0:
        parts = shapely.get_parts(shapely.buffer(parts, -edge_setback_m, quad_segs=ARC_SEGS))
    if fp.shape == "circle":  # centres lie in the land eroded by r; grow that by 2R / sqrt(3)
        centres = shapely.buffer(parts, -fp.r, quad_segs=ARC_SEGS)
        grown = grow(centres[~shapely.is_empty(centres)], fp.r + fp.bound_margin(spacing_m))
    else:
        margin = fp.bound_margin(spacing_m)
        grown = grow(parts, margin) if margin > 0 else parts
    area = float(np.nansum(shapely.area(grown))) if len(grown) else 0.0
    return area / fp.cell_area(spacing_m)
