"""The adapter registry and the canonical layer schemas.

A :class:`Source` maps one published dataset schema to a canonical layer. It
is detected from the field names of a file (case-insensitive), and
``read_layer(..., source="name")`` overrides the detection.

Canonical layers (units in column names):

========== ==================================================================
kind       columns
========== ==================================================================
parcels    parcel_id, agency, manager_name, designation, gap_status, unit_name,
           state, reported_acres, source
deposits   deposit_id, name, commodities ("a;b"), critical, dev_status, source
infra      feature_id, kind, name, voltage_kv, status, category, source
features   feature_id, kind, name, source
========== ==================================================================

The original attributes are kept after the canonical columns so that filters
can use them too.

Examples
--------
>>> padus = get("padus")
>>> isinstance(padus, Source), padus.kind
(True, 'parcels')
>>> sorted(Context.__dataclass_fields__)[:2]
['issues', 'layer']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting.core.errors import FieldError
from siting.schema import CANONICAL

__all__ = [
    "CANONICAL",
    "Context",
    "Source",
    "available",
    "detect",
    "get",
    "register",
]

log = logging.getLogger(__name__)



@dataclass
class Context:
    """What an adapter knows about the layer it converts.

    Attributes
    ----------
    layer : str
        The layer's name in the scenario (e.g. ``"parcels"``).
    path : str or None
        The file it came from.
    options : dict
        Per-layer options from the scenario (``id_field``, ``kind``,
        ``critical_year``...).
    issues : list of dict
        Repairs the adapter made (sentinels set to NA...), for the run report.
    """

    layer: str
    path: str | None = None
    options: dict = field(default_factory=dict)
    issues: list[dict] = field(default_factory=list)
    quiet: bool = False

    def note(self, field_name: str, what: str, count: int, action: str, ids=()) -> None:
        """Record a repair (e.g. sentinel -> NA) with a count and example ids."""
        if count:
            self.issues.append(
                {"layer": self.layer, "field": field_name, "problem": what,
                 "count": int(count), "action": action, "examples": [str(i) for i in ids][:5]}
            )
            if not self.quiet:
                log.warning("layer %r: %s in field %s for %d feature(s); %s",
                            self.layer, what, field_name, count, action)


@dataclass(frozen=True)
class Source:
    """One published dataset schema and its conversion to a canonical layer.

    Attributes
    ----------
    name : str
        Registry key, used as ``source=`` in scenarios.
    kind : str
        One of the keys of :data:`CANONICAL`.
    title : str
        Human-readable dataset name.
    signatures : tuple of frozenset
        Each a set of lower-case field names; the source matches a file whose
        fields include every name of any one signature.
    convert : callable
        ``convert(df, ctx) -> DataFrame`` of canonical columns on ``df.index``.
    priority : int
        Higher wins when several sources match.
    geometry : str
        Expected geometry family: ``"polygon"``, ``"line"``, ``"point"`` or ``"any"``.
    """

    name: str
    kind: str
    title: str
    signatures: tuple[frozenset[str], ...]
    convert: Callable[[pd.DataFrame, Context], pd.DataFrame]
    priority: int = 0
    geometry: str = "any"

    def matches(self, fields: Iterable[str], family: str | None = None) -> int:
        """Return the size of the largest matching signature (0: no match).

        A source that expects another geometry family than ``family`` never matches.
        """
        if family and self.geometry != "any" and family != self.geometry:
            return 0
        low = {norm_field(f) for f in fields}
        sizes = [len(sig) for sig in self.signatures if sig <= low]
        return max(sizes, default=0)


_REGISTRY: dict[str, Source] = {}


def register(source: Source) -> Source:
    """Add a source to the registry (last registration of a name wins).

    Examples
    --------
    >>> s = register(Source("demo_points", "features", "Demo", (frozenset({"demo_id"}),),
    ...                     convert=lambda df, ctx: df.iloc[:, :0]))
    >>> get("demo_points").title
    'Demo'
    >>> _ = _REGISTRY.pop("demo_points")
    """
    _REGISTRY[source.name] = source
    return source


def available() -> list[str]:
    """Return the registered source names.

    Examples
    --------
    >>> "padus" in available() and "mrds" in available()
    True
    """
    return sorted(_REGISTRY)


def get(name: str) -> Source:
    """Return a source by name, with an error listing the valid names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise FieldError(
            f"source {name!r} is unknown; known sources: {', '.join(available())}"
        ) from None


def detect(fields: Iterable[str], family: str | None = None) -> Source:
    """Return the best-matching source for a file's field names and geometry family.

    The source with the most specific matching signature wins, ties broken by
    priority; ``generic`` is the fallback. ``family`` (``"polygon"``,
    ``"line"``, ``"point"``) rules out sources of another geometry.

    Examples
    --------
    >>> detect(["Mang_Name", "GAP_Sts", "Unit_Nm"]).name
    'padus'
    >>> detect(["VOLTAGE", "VOLT_CLASS", "OBJECTID"]).name
    'hifld_transmission'
    >>> detect(["foo", "bar"]).name
    'generic'
    """
    fields = list(fields)
    scored = [(s.matches(fields, family), s.priority, s.name) for s in _REGISTRY.values()]
    best = max((t for t in scored if t[0] > 0), default=None)
    return _REGISTRY[best[2]] if best else _REGISTRY["generic"]


# --------------------------------------------------------------------------- helpers
_USED: ContextVar[set | None] = ContextVar("siting_fields_used", default=None)


def convert_tracked(source: Source, df: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, set]:
    """Run ``source.convert`` and return its output and the input fields it read."""
    token = _USED.set(set())
    try:
        return source.convert(df, ctx), set(_USED.get() or ())
    finally:
        _USED.reset(token)


def norm_field(name) -> str:
    """Normalise a field name for matching: case, spaces, and Esri's trailing ``*`` (key fields).

    Examples
    --------
    >>> norm_field("Site_ID *"), norm_field(" GAP_Sts")
    ('site_id', 'gap_sts')
    """
    return str(name).strip().rstrip("*").strip().lower().replace(" ", "_")


def column(df: pd.DataFrame, *names: str) -> str | None:
    """Return the first column of ``df`` matching any of ``names`` (see :func:`norm_field`)."""
    lookup = {norm_field(c): c for c in df.columns}
    for name in names:
        key = norm_field(name) if name else None
        if key in lookup:
            used = _USED.get()
            if used is not None:
                used.add(lookup[key])
            return lookup[key]
    return None


def text(df: pd.DataFrame, *names: str, default=pd.NA) -> pd.Series:
    """Return the first matching column as stripped strings; blanks become NA."""
    col = column(df, *names)
    if col is None:
        return pd.Series(default, index=df.index, dtype="object")
    s = df[col].astype("object")
    s = s.where(s.notna(), None).map(lambda v: None if v is None else str(v).strip())
    s = s.where(~s.isin(["", "<Null>", "None", "nan", "#N\\A", "N/A"]), None)
    return s.astype("object").where(s.notna(), pd.NA)


def number(
    df: pd.DataFrame, ctx: Context, *names: str, sentinels: Iterable[float] = (),
    id_values: pd.Series | None = None,
) -> pd.Series:
    """Return the first matching column as float, sentinels and non-numbers set to NA.

    Counts of sentinels and unparsable values are recorded in ``ctx``.
    """
    col = column(df, *names)
    if col is None:
        return pd.Series(np.nan, index=df.index, dtype="float64")
    raw = df[col]
    vals = pd.to_numeric(raw, errors="coerce").astype("float64")
    ids = id_values if id_values is not None else pd.Series(df.index, index=df.index)
    bad = vals.isna() & raw.notna() & (raw.astype("object").map(lambda v: str(v).strip()) != "")
    ctx.note(col, "non-numeric values", int(bad.sum()), "set to NA", ids[bad])
    for sentinel in sentinels:
        hit = vals == sentinel
        ctx.note(col, f"sentinel {sentinel:g}", int(hit.sum()), "set to NA", ids[hit])
        vals = vals.mask(hit)
    return vals


def _as_id_text(vals: pd.Series) -> pd.Series:
    as_num = pd.to_numeric(vals, errors="coerce")
    whole = as_num.notna() & (as_num == np.floor(as_num))
    out = vals.astype("object").map(lambda v: None if pd.isna(v) else str(v).strip())
    out[whole] = as_num[whole].astype("int64").astype(str)
    return out.astype("object")


def ids(df: pd.DataFrame, ctx: Context, *names: str, prefix: str) -> pd.Series:
    """Return a string id column: the option ``id_field``, the first of ``names``, or row numbers.

    An ``id_field`` the user configured is used as is (the loader then refuses nulls and
    duplicates). A natural id the adapter picks (``OBJECTID``, ``dep_id``...) that turns out
    incomplete or not unique is replaced by row numbers, with a note in the run report.
    """
    wanted = ctx.options.get("id_field")
    col = column(df, wanted) if wanted else column(df, *names)
    if wanted and col is None:
        raise FieldError(
            f"id_field {wanted!r} is not a field of this layer; available fields: "
            + ", ".join(str(c) for c in df.columns if c != "geometry"),
            layer=ctx.layer, path=ctx.path, field=wanted,
        )
    rows = pd.Series([f"{prefix}{i}" for i in range(1, len(df) + 1)], index=df.index, dtype="object")
    if col is None:
        return rows
    out = _as_id_text(df[col])
    bad = out.isna() | out.duplicated(keep=False)
    if bad.any() and not wanted:
        ctx.note(col, "missing or repeated ids", int(bad.sum()), "row numbers used as ids instead",
                 out[bad].dropna().unique())
        return rows
    return out
