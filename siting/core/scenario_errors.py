"""Validation errors of a scenario as one line each: the key path, what is wrong, what is allowed.

pydantic reports locations with union-branch labels (``LayerSpec``, ``list[LayerSpec]``) and rule
tags; these helpers turn them into the key path a user wrote (``constraints[2].distance_m``) and
list the keys a mapping allows.

Examples
--------
>>> message({"loc": ("layers", "parcels", "LayerSpec", "pth"), "type": "extra_forbidden", "msg": "", "input": 1})[:62]
'layers.parcels.pth: unknown key; allowed keys: path, fetch, st'
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel

__all__ = ["is_branch", "message"]


def _unwrap(tp):
    """Yield the model classes an annotation can hold."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        yield from _unwrap(typing.get_args(tp)[0])
    elif origin in (Union, types.UnionType, list, dict):
        for arg in typing.get_args(tp):
            yield from _unwrap(arg)
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp


def _model_at(loc: tuple) -> type[BaseModel] | None:
    from siting.core.scenario import Scenario

    models: list = [Scenario]
    for key in loc:
        if isinstance(key, int) or is_branch(key):
            continue
        nxt = []
        for m in models:
            if key in m.model_fields:
                nxt.extend(_unwrap(m.model_fields[key].annotation))
            else:
                nxt.extend(_tagged(key) if m is not Scenario else [])
        if not nxt:
            return models[0] if len(models) == 1 else None
        models = list(dict.fromkeys(nxt))
    return models[0] if len(models) == 1 else None


def is_branch(key) -> bool:
    """A union-branch label pydantic puts in locations (``LayerSpec``, ``list[LayerSpec]``).

    >>> is_branch("list[LayerSpec]"), is_branch("parcels")
    (True, False)
    """
    return isinstance(key, str) and ("[" in key or key[:1].isupper() or key.startswith("function-"))


def _tagged(key) -> list[type[BaseModel]]:
    """The rule or factor classes a union tag in an error location stands for."""
    from siting.core.scenario import Rule
    from siting.score.factors import FACTOR_TYPES

    rules = [c for c in _unwrap(Rule) if c.model_fields["rule"].default == key]
    return rules + ([FACTOR_TYPES[key]] if key in FACTOR_TYPES else [])


def _path(loc: tuple) -> str:
    out = ""
    for prev, key in zip((None, *loc), loc, strict=False):
        if isinstance(key, int):
            out += f"[{key}]"
        elif (isinstance(prev, int) and _tagged(key)) or is_branch(key):
            continue
        else:
            out += f".{key}" if out else str(key)
    return out or "(top level)"


def message(err: Any) -> str:
    """One pydantic error as ``key.path: what is wrong`` (with the allowed keys for an unknown one).

    >>> message({"loc": ("name",), "type": "missing", "msg": "Field required", "input": {}})
    'name: missing required key'
    """
    loc = tuple(err["loc"])
    where_ = _path(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = ", ".join(model.model_fields) if model else "see the docs"
        allowed = allowed.replace(", base_dir", "")
        return f"{where_}: unknown key; allowed keys: {allowed}"
    if kind == "missing":
        return f"{where_}: missing required key"
    if kind == "union_tag_invalid":
        from siting.core.scenario import Rule

        tags = ", ".join(c.model_fields["rule"].default for c in _unwrap(Rule))
        return f"{where_}: rule {err['input'].get('rule')!r} is unknown; use one of {tags}"
    if kind == "union_tag_not_found":
        return f"{where_}: each constraint needs a `rule:` key"
    if kind == "factor_kind":
        return f"{where_}: {err['msg']}"
    msg = err["msg"].removeprefix("Value error, ")
    if isinstance(err.get("input"), bool) and "string" in msg:
        msg += " (YAML reads yes/no/on/off as true/false: quote the value)"
    return f"{where_}: {msg}"
