"""SHA-256 of files, read in blocks (input and output files can be gigabytes).

Examples
--------
>>> sha256_of(__file__) == sha256_of(__file__)
True
>>> len(sha256_of(__file__))
64
"""

from __future__ import annotations

import hashlib

__all__ = ["BLOCK", "sha256_of"]

#: Bytes read at a time: the memory a hash needs, whatever the file's size.
BLOCK = 1 << 20


def sha256_of(path) -> str:
    """The SHA-256 (hex) of the file at ``path``, read in :data:`BLOCK` blocks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_of(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
