"""Open a saved map in headless Chromium (Debian's /usr/bin/chromium via Playwright).

The sandbox and CI have no internet, so requests for the CDN assets folium references are answered
with the same files from the folium-offline package (a test dependency), and tile requests are
refused. What the page then does is real: Leaflet and the plugins run, parse the embedded GeoJSON
and draw the layers.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

CHROMIUM = os.environ.get("SITING_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_available() -> bool:
    try:
        import offlinefolium  # noqa: F401
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def _route(route):
    from offlinefolium.elements import _res

    url = route.request.url
    if url.startswith(("file://", "data:")):
        return route.continue_()
    if url in _res:
        mime = "text/css" if url.endswith(".css") else "application/javascript"
        return route.fulfill(status=200, body=_res[url].encode("utf-8"), content_type=mime)
    return route.abort()  # tiles and anything else: no network


READY_JS = "() => typeof L !== 'undefined' && Object.values(window).some(v => v instanceof L.Map)"
COUNT_JS = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  let sites = 0, features = 0, clustered = 0;
  map.eachLayer(l => {
    if (l.feature) { features++; if (l.feature.properties.site_id !== undefined) sites++; }
    if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) clustered += l.getLayers().length;
  });
  return {sites, features, clustered};
}"""
OPEN_POPUP_JS = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  let done = null;
  map.eachLayer(l => {
    if (!done && l.feature && l.feature.properties.site_id !== undefined) { l.openPopup(); done = l; }
  });
  const el = document.querySelector('.leaflet-popup-content');
  return el ? el.innerHTML : null;
}"""


def inspect_map(path, *, screenshot=None, timeout_s: float = 60.0) -> dict:
    """Load the map; return load time, console errors, dialogs, counts and the first popup's HTML."""
    from playwright.sync_api import sync_playwright

    result = {"errors": [], "dialogs": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("console", lambda m: result["errors"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: result["errors"].append(str(e)))
        page.on("dialog", lambda d: (result["dialogs"].append(d.message), d.dismiss()))
        page.route("**/*", _route)
        start = time.perf_counter()
        page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_s * 1000)
        page.wait_for_function(READY_JS, timeout=timeout_s * 1000)
        result["load_seconds"] = time.perf_counter() - start
        result.update(page.evaluate(COUNT_JS))
        result["popup_html"] = page.evaluate(OPEN_POPUP_JS)
        page.wait_for_timeout(300)
        if screenshot:
            page.screenshot(path=str(screenshot))
        browser.close()
    return result
