"""HTML pages to PDF with headless Chromium: the page prints as it shows on screen.

Why Chromium: the fact sheets are HTML first (they open anywhere); Chromium prints them with the same
layout engine, CSS print rules and embedded images, and it is one system package that the map checks
already use. WeasyPrint would add Pango and cairo native libraries to a pip install, and matplotlib's
PDF backend cannot lay out tables. Without Chromium the HTML is written and a warning says how to get
the PDF.

Examples
--------
>>> find_chromium() is None or find_chromium().name.startswith(("chromium", "google-chrome", "chrome"))
True
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from siting.core.errors import MissingDependencyError, OutputError

__all__ = ["find_chromium", "print_pdf"]

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> Path | None:
    """The Chromium executable: ``SITING_CHROMIUM``, else the first of chromium, chromium-browser, google-chrome."""
    named = os.environ.get("SITING_CHROMIUM")
    if named:
        return Path(named) if Path(named).exists() else None
    found = next((shutil.which(n) for n in _NAMES if shutil.which(n)), None)
    return Path(found) if found else None


def print_pdf(html: Path, pdf: Path, *, timeout_s: float = 120.0) -> Path:
    """Print one HTML file to ``pdf`` (Letter, no header or footer).

    Examples
    --------
    >>> print_pdf(Path("out/nevada/sheets/K-1.html"), Path("out/nevada/sheets/K-1.pdf"))  # doctest: +SKIP
    PosixPath('out/nevada/sheets/K-1.pdf')
    """
    chromium = find_chromium()
    if chromium is None:
        raise MissingDependencyError("PDF fact sheets need Chromium: apt-get install chromium (or set SITING_CHROMIUM "
                                     "to a Chrome/Chromium executable); the HTML sheets are written")
    args = [str(chromium), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
            Path(html).resolve().as_uri()]
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise OutputError(f"Chromium could not print {html.name} to PDF (exit {done.returncode}): "
                          f"{done.stderr.strip()[-300:]}")
    return pdf
