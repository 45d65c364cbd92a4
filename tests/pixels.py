"""Read a rendered static map's pixels: score colours at the sites, swatches in the legend."""

from __future__ import annotations

import numpy as np
import shapely
from matplotlib.colors import to_rgb

from siting.deliver import static


def _pixels(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[:, :, :3].astype(int)


def score_colour_hits(result, fig, n: int = 30) -> tuple[int, int]:
    """How many of the best ``n`` sites show their score's colour at their centre pixel."""
    img, ax = _pixels(fig), fig.siting_axes
    best = result.sites.nsmallest(n, "rank")
    pts = shapely.point_on_surface(np.asarray(best.geometry.values, dtype=object))
    disp = ax.transData.transform(np.column_stack([shapely.get_x(pts), shapely.get_y(pts)]))
    height, cmap, hits = img.shape[0], static._cmap(), 0
    for (x, y), score in zip(disp, best["score"], strict=True):
        pixel = img[round(height - y), round(x)]
        hits += int(np.abs(pixel - np.array(cmap(score)[:3]) * 255).max() < 40)
    return hits, len(best)


def legend_pixels(fig, colour: str) -> int:
    """Pixels of ``colour`` inside the map legend's box."""
    img, legend = _pixels(fig), fig.siting_axes.get_legend()
    box, height = legend.get_window_extent(), img.shape[0]
    region = img[int(height - box.y1):int(height - box.y0), int(box.x0):int(box.x1)]
    return int((np.abs(region - np.array(to_rgb(colour)) * 255).max(axis=2) < 8).sum())
