"""The one exception tree of siting.

Every error raised on purpose by the library is a :class:`SitingError`. Each
subclass also derives from the matching builtin (``ValueError``, ``OSError``,
``ImportError``) so that generic ``except`` clauses keep working.

Messages say what was wrong, where (layer, file, row or feature id, field) and
what to do about it.

Examples
--------
>>> from siting.core.errors import LayerError, SitingError
>>> err = LayerError("no CRS; add `crs:` to the layer", layer="parcels", path="a.shp")
>>> isinstance(err, SitingError) and isinstance(err, ValueError)
True
>>> str(err)
"layer 'parcels' (file a.shp): no CRS; add `crs:` to the layer"
>>> from siting.core import errors
>>> [c.__name__ for c in (errors.CRSError, errors.FieldError, errors.GeometryError, errors.RasterError)
...  if issubclass(c, errors.SitingError)]
['CRSError', 'FieldError', 'GeometryError', 'RasterError']
>>> issubclass(errors.ScenarioError, ValueError), issubclass(errors.InputFileError, OSError)
(True, True)
>>> issubclass(errors.SitingWarning, UserWarning) and not issubclass(errors.SitingWarning, errors.SitingError)
True
>>> issubclass(errors.OutputExistsError, errors.OutputError), issubclass(errors.MissingDependencyError, ImportError)
(True, True)
>>> issubclass(errors.FetchError, errors.SitingError) and issubclass(errors.FetchError, OSError)
True
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from types import FrameType

__all__ = [
    "CRSError",
    "FetchError",
    "FieldError",
    "GeometryError",
    "InputFileError",
    "LayerError",
    "MissingDependencyError",
    "OutputError",
    "OutputExistsError",
    "RasterError",
    "ScenarioError",
    "SitingError",
    "SitingWarning",
    "warn",
]

#: The folder of the siting package: frames whose file lies in it are the library's own.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class SitingError(Exception):
    """Base class of every error siting raises on purpose."""


class SitingWarning(UserWarning):
    """Something a user should see in a notebook: repairs, rejections, sentinels, empty layers.

    One warning per layer summarises what was changed or dropped (the details are in the layer
    report, ``result.rejects`` and ``run.json``). Silence it with
    ``warnings.simplefilter("ignore", SitingWarning)``.
    """


class ScenarioError(SitingError, ValueError):
    """A scenario file or dict is invalid; the message names the key path."""


def _where(layer: str | None, path: str | None) -> str:
    parts = []
    if layer:
        parts.append(f"layer {layer!r}")
    if path:
        parts.append(f"(file {path})" if layer else f"file {path}")
    return " ".join(parts)


class LayerError(SitingError, ValueError):
    """A problem with one input layer.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    layer, path : str, optional
        The layer name and its file; prefixed to the message.
    field : str, optional
        The field concerned, kept as an attribute.
    ids : sequence, optional
        Example row numbers or feature ids, kept as an attribute.
    """

    def __init__(
        self,
        message: str,
        *,
        layer: str | None = None,
        path: str | None = None,
        field: str | None = None,
        ids: Sequence | None = None,
    ) -> None:
        self.layer = layer
        self.path = path
        self.field = field
        self.ids = list(ids) if ids is not None else []
        where = _where(layer, path)
        super().__init__(f"{where}: {message}" if where else message)


class CRSError(LayerError):
    """A layer has no CRS, or one siting cannot measure in."""


class FieldError(LayerError):
    """A required field is missing or holds values of the wrong kind."""


class GeometryError(LayerError):
    """Geometries are of the wrong type or cannot be repaired."""


class RasterError(SitingError, ValueError):
    """A raster cannot be read, does not overlap the study area, or is misused."""


class InputFileError(SitingError, OSError):
    """An input file is missing, unreadable or refused (size, zip bombs)."""


class OutputError(SitingError, OSError):
    """An output could not be written or failed its re-read check."""


class OutputExistsError(OutputError, FileExistsError):
    """The output exists and ``overwrite`` was not given."""


class FetchError(SitingError, OSError):
    """A dataset could not be fetched: the service refused, failed after its retries, or sent too little."""


class MissingDependencyError(SitingError, ImportError):
    """An optional dependency is needed; the message says what to install."""


def warn(message: str, category: type[Warning] = SitingWarning) -> None:
    """Issue a warning attributed to the first caller outside siting: the user's own line.

    A notebook or script then shows the line that called siting (``result = siting.run(...)``), not a line
    deep in the library, and Python's once-per-place filter counts places in the user's code.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("layer 'towns': 3 feature(s) repaired")
    >>> caught[0].category.__name__, str(caught[0].message), caught[0].filename.startswith("<doctest")
    ('SitingWarning', "layer 'towns': 3 feature(s) repaired", True)
    """
    level = 2
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)
