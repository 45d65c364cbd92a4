"""Reading a scenario file safely: YAML or TOML to plain data, refusing what would be read wrongly.

* the file's size is capped (:data:`siting.core.settings.MAX_SCENARIO_BYTES`);
* YAML is read with a safe loader that refuses a key given twice in one mapping (naming the key and
  both lines: a second ``constraints:`` would otherwise silently replace the first);
* numbers YAML 1.1 reads in surprising ways are refused with the fix: a leading zero (``0100000``
  is octal 32,768 there), sexagesimal ``1:30`` (90), underscores are fine (``50_000``);
* aliases may not expand the document past :data:`MAX_NODES` values (an "alias bomb");
* NaN and infinity are refused anywhere (``.nan``, ``.inf``, TOML ``nan``/``inf``), naming the key.

Examples
--------
>>> read_scenario_text("a: 1\\nb: [2, 3]\\n", "s.yaml")
{'a': 1, 'b': [2, 3]}
>>> read_scenario_text("constraints: []\\nconstraints: [1]\\n", "s.yaml")
Traceback (most recent call last):
...
siting.core.errors.ScenarioError: s.yaml: key 'constraints' is given twice (lines 1 and 2); merge them into one
>>> read_scenario_text("buffer_m: 0100000\\n", "s.yaml")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
siting.core.errors.ScenarioError: s.yaml line 1: '0100000' has a leading zero (... octal 32768); write 100000, ...
>>> read_scenario_text("w: {best: .nan}\\n", "s.yaml")
Traceback (most recent call last):
...
siting.core.errors.ScenarioError: s.yaml: w.best is NaN or infinite; give a finite number
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from siting.core import settings
from siting.core.errors import ScenarioError

__all__ = ["MAX_NODES", "check_values", "read_scenario_file", "read_scenario_text"]

#: Values (mappings, lists and scalars) a scenario may hold once its aliases are expanded.
MAX_NODES = 100_000
_OCTAL = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys and YAML 1.1's octal and sexagesimal numbers."""

    source = "scenario"

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ScenarioError(f"{self.source}: key {key!r} is given twice (lines {seen[key] + 1} and "
                                    f"{key_node.start_mark.line + 1}); merge them into one")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        text = str(node.value)
        line = node.start_mark.line + 1
        if _OCTAL.match(text):
            value = int(text.replace("_", ""), 8) if set(text.lstrip("+-0")) <= set("01234567_") else None
            octal = f" (YAML 1.1 reads it as octal {value})" if value is not None else ""
            raise ScenarioError(f"{self.source} line {line}: {text!r} has a leading zero{octal}; write "
                                f"{int(text.replace('_', ''))}, or quote it for text")
        if ":" in text:
            raise ScenarioError(f"{self.source} line {line}: {text!r} is a YAML 1.1 base-60 number; quote it "
                                "for text or write the number in decimal")
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node):
        if _SEXAGESIMAL.match(str(node.value)):
            raise ScenarioError(f"{self.source} line {node.start_mark.line + 1}: {node.value!r} is a YAML 1.1 "
                                "base-60 number; quote it for text or write the number in decimal")
        return super().construct_yaml_float(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)


def check_values(data: Any, source: str) -> None:
    """Refuse NaN/infinity and documents whose aliases expand past :data:`MAX_NODES` values.

    Examples
    --------
    >>> check_values({"a": [1.0, 2.0]}, "scenario") is None
    True
    >>> check_values({"f": [{"w": float("inf")}]}, "scenario")
    Traceback (most recent call last):
    ...
    siting.core.errors.ScenarioError: scenario: f[0].w is NaN or infinite; give a finite number
    """
    sizes: dict[int, int] = {}

    def size(value, path: str) -> int:
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(f"{source}: {path or 'the document'} is NaN or infinite; give a finite number")
        if not isinstance(value, dict | list):
            return 1
        if id(value) in sizes:  # an alias: its values count again wherever it is used
            return sizes[id(value)]
        items = value.items() if isinstance(value, dict) else enumerate(value)
        total = 1
        for key, item in items:
            total += size(item, f"{path}.{key}" if path and isinstance(value, dict) else
                          f"{path}[{key}]" if path else str(key))
            if total > MAX_NODES:
                raise ScenarioError(f"{source}: the scenario expands to more than {MAX_NODES:,} values "
                                    "(aliases repeating aliases?); write it out without nested aliases")
        sizes[id(value)] = total
        return total

    if size(data, "") > MAX_NODES:
        raise ScenarioError(f"{source}: the scenario expands to more than {MAX_NODES:,} values")


def read_scenario_text(text: str, source: str, *, toml: bool = False) -> Any:
    """Parse scenario text (YAML, or TOML with ``toml=True``) into plain data, checked as above.

    ``source`` names the file in messages.
    """
    try:
        if toml:
            data = tomllib.loads(text)
        else:
            loader = _StrictLoader(text)
            loader.source = source
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"scenario file {source} is not valid {'TOML' if toml else 'YAML'}: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"scenario file {source} nests too deeply") from None
    check_values(data, source)
    return data


def read_scenario_file(path: Path) -> Any:
    """Read a scenario file (``.toml`` as TOML, anything else as YAML) under the size cap.

    Raises
    ------
    ScenarioError
        Missing file, too large, not valid, a duplicate key, an ambiguous number, NaN/inf, an alias bomb.

    Examples
    --------
    >>> read_scenario_file(Path("sample_data/nevada_demo.yaml"))["name"]
    'nevada-demo'
    """
    if not path.is_file():
        raise ScenarioError(f"scenario file not found: {path} (working directory {Path.cwd()})")
    size = path.stat().st_size
    if size > settings.MAX_SCENARIO_BYTES:
        raise ScenarioError(f"scenario file {path} is {size:,} bytes; the limit is {settings.MAX_SCENARIO_BYTES:,}")
    return read_scenario_text(path.read_text(encoding="utf-8"), str(path), toml=path.suffix.lower() == ".toml")
