"""Files that point at other files: GDAL/OGR virtual formats (``.vrt``), checked before GDAL opens them.

A local ``.vrt`` can name an ``http://`` source (or ``/vsicurl/``, ``/vsis3/``...), and GDAL would
fetch it: a run that looks local would use the network, and hashing the ``.vrt`` alone would not
record what was read. :func:`check_local` refuses remote sources inside a virtual file unless the
caller opts in (``allow_network``), and :func:`virtual_sources` lists every file a virtual file
reads (nested ``.vrt`` included), so run.json can hash what was actually read.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "roads.vrt").write_text('<OGRVRTDataSource><OGRVRTLayer name="r">'
...     '<SrcDataSource>https://example.invalid/roads.geojson</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')
>>> virtual_sources(d / "roads.vrt")
['https://example.invalid/roads.geojson']
>>> check_local(d / "roads.vrt", what="layer 'roads'")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
siting.core.errors.InputFileError: layer 'roads': .../roads.vrt reads https://example.invalid/roads.geojson from ...
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from siting.core.errors import InputFileError

__all__ = ["NETWORK", "check_local", "virtual_sources"]

#: Paths GDAL would read over the network.
NETWORK = re.compile(r"^(https?|ftp|s3|gs|az)://|^/vsi(curl|s3|gs|az|adls|oss|swift|webhdfs|hdfs)", re.I)
_SOURCE_TAGS = ("SrcDataSource", "SourceFilename", "SourceDataSource")
_MAX_DEPTH = 8


def virtual_sources(path, _depth: int = 0) -> list[str]:
    """Every source a ``.vrt`` names, local paths resolved as GDAL would (nested ``.vrt`` followed)."""
    path = Path(path)
    if path.suffix.lower() != ".vrt" or not path.is_file() or _depth > _MAX_DEPTH:
        return []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputFileError(f"{path} is not a valid VRT (XML) file: {exc}") from None
    out = []
    for el in root.iter():
        text = (el.text or "").strip()
        if el.tag not in _SOURCE_TAGS or not text:
            continue
        relative = el.get("relativeToVRT", el.get("relativetoVRT", "0")) == "1"
        if NETWORK.match(text) or not relative:
            out.append(text)
        else:
            out.append(str((path.parent / text).resolve()))
        if out[-1].lower().endswith(".vrt") and not NETWORK.match(out[-1]):
            out += virtual_sources(out[-1], _depth + 1)
    return out


def check_local(path, *, allow_network: bool = False, what: str = "input") -> list[str]:
    """Refuse a network path, or a virtual file that reads one, unless ``allow_network``; return the sources.

    Raises
    ------
    InputFileError
        Naming the remote source and how to allow it.
    """
    text = str(path)
    remote = [text] if NETWORK.match(text) else [s for s in virtual_sources(path) if NETWORK.match(s)]
    if remote and not allow_network:
        via = "" if remote == [text] else f"{path} reads "
        raise InputFileError(f"{what}: {via}{remote[0]} from the network; siting reads local files only unless "
                             "you allow it (layer option `allow_network: true`): download the data first")
    return virtual_sources(path)
