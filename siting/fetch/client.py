"""HTTP for fetching: one ``requests`` session with urllib3 retries, timeouts, whole bodies or an error.

Why these libraries: ``requests`` and ``urllib3`` are installed with almost every Python GIS stack,
are maintained by the Python Software Foundation's ecosystem, and urllib3's ``Retry`` already does
what agency services need: exponential backoff on 429 and 5xx, honouring ``Retry-After``, for GET.
What they do not do, this module adds: a body cut short (fewer bytes than ``Content-Length``, or
JSON that does not parse) is retried and then an error, never a short layer; ArcGIS's "HTTP 200 with
an ``error`` member" is an error; the last error names the URL, the status and what to do.

Examples
--------
>>> client = Client(retries=2, timeout_s=5)
>>> client.retry.total, client.retry.respect_retry_after_header, 429 in client.retry.status_forcelist
(2, True, True)
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field

import requests
from requests import Response
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from siting import __version__
from siting.core.errors import FetchError

__all__ = ["Client"]

log = logging.getLogger(__name__)

#: Statuses retried with backoff (Retry-After honoured): rate limits and server trouble.
RETRY_STATUS = (429, 500, 502, 503, 504)


@dataclass
class Client:
    """A retrying HTTP client that counts its requests (``client.requests``) and keeps their URLs.

    Parameters
    ----------
    retries : int
        Tries after the first, for 429/5xx statuses and for bodies cut short.
    backoff_s : float
        urllib3's backoff factor: waits of ``backoff_s * 2 ** n`` seconds (or Retry-After).
    timeout_s : float
        Connect and read timeout of each request.
    concurrency : int
        Most requests in flight at once (pages of a layer fetched in parallel).
    """

    retries: int = 4
    backoff_s: float = 0.5
    timeout_s: float = 120.0
    concurrency: int = 2
    requests: int = 0
    log: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.retry = Retry(total=self.retries, backoff_factor=self.backoff_s, status_forcelist=RETRY_STATUS,
                           allowed_methods=frozenset({"GET"}), respect_retry_after_header=True,
                           raise_on_status=False)
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=self.retry, pool_maxsize=max(self.concurrency, 1))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = f"siting/{__version__} (+https://example.invalid/siting)"
        self._lock = threading.Lock()

    def get(self, url: str, params: dict | None = None, *, stream: bool = False, headers=None) -> Response:
        """GET with retries; a final 4xx/5xx is a :class:`FetchError` naming the URL and the status."""
        tries = 0
        while True:
            with self._lock:
                self.requests += 1
                self.log.append({"url": url, "params": dict(params or {})})
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout_s, stream=stream, headers=headers)
                if not stream:
                    resp.content  # noqa: B018  (read the whole body now: a short one raises here)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                tries += 1
                if tries > self.retries:
                    raise FetchError(f"{url}: the connection failed or the response was cut short {tries} times "
                                     f"({exc.__class__.__name__}); try again later, or check the address") from exc
                log.warning("%s: %s; retrying (%d of %d)", url, exc.__class__.__name__, tries, self.retries)
                continue
            except requests.Timeout as exc:
                raise FetchError(f"{url}: no answer within {self.timeout_s:g} s; try again later") from exc
            if resp.status_code >= 400:
                raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason} after {self.retries} retries "
                                 f"({resp.text[:200]!r}); the service may be down or the query wrong")
            return resp

    def json(self, url: str, params: dict | None = None) -> dict:
        """GET a JSON document; a body that does not parse is fetched again, then an error."""
        for attempt in range(self.retries + 1):
            resp = self.get(url, params)
            try:
                doc = json.loads(resp.content)
            except ValueError:
                log.warning("%s: the response is not complete JSON; retrying (%d of %d)", url, attempt + 1,
                            self.retries)
                continue
            if isinstance(doc, dict) and "error" in doc:  # ArcGIS reports failures with HTTP 200
                err = doc["error"]
                raise FetchError(f"{url}: the service answered with an error: {err.get('code', '')} "
                                 f"{err.get('message', err)} {err.get('details', '')}".strip())
            return doc
        raise FetchError(f"{url}: the response was not complete JSON {self.retries + 1} times (cut short?); "
                         "try again later")
