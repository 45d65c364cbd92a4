"""Plain file downloads (zip, CSV, GeoTIFF): resumed where they stopped, checked by SHA-256.

A download goes to ``NAME.part``; a second try asks for the rest with an HTTP ``Range`` header (a
server that ignores it sends the whole file again, which is then written from the start). The file
is moved into place only when whole, and when the catalog records a SHA-256 it must match.

Examples
--------
>>> sha256_of(__file__) == sha256_of(__file__)
True
"""

from __future__ import annotations

from pathlib import Path

import requests

from siting.core.errors import FetchError
from siting.io.hashing import sha256_of

__all__ = ["download", "sha256_of"]


def download(client, url: str, dest, *, sha256: str | None = None) -> Path:
    """Download ``url`` to ``dest`` (resuming a ``.part`` file); check ``sha256`` when given.

    >>> import tempfile
    >>> from siting.fetch.client import Client
    >>> download(Client(retries=0), "http://127.0.0.1:9/roads.zip", tempfile.mkdtemp() + "/roads.zip")
    Traceback (most recent call last):
    ...
    siting.core.errors.FetchError: http://127.0.0.1:9/roads.zip: the connection failed ...
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    resp = client.get(url, stream=True, headers={"Range": f"bytes={have}-"} if have else None)
    mode = "ab" if have and resp.status_code == 206 else "wb"  # 200: the server sent the whole file
    expected = resp.headers.get("Content-Length")
    written = 0
    with open(part, mode) as f:
        try:
            for chunk in resp.iter_content(2**16):
                f.write(chunk)
                written += len(chunk)
        except requests.RequestException as exc:  # cut short: what came stays in .part for the next try
            raise FetchError(f"{url}: the download stopped after {written:,} bytes ({exc.__class__.__name__}); "
                             "run the fetch again to resume") from exc
    if expected is not None and written != int(expected):
        raise FetchError(f"{url}: {written:,} of {int(expected):,} bytes arrived; run the fetch again to resume")
    if sha256 and sha256_of(part) != sha256:
        part.unlink()
        raise FetchError(f"{url}: the file's SHA-256 is not the catalog's {sha256}; the publisher may have "
                         "updated it (update the catalog entry) or the download is corrupt (fetch again)")
    part.replace(dest)
    return dest
