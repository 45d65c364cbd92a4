"""The house rules of the code base, checked on the source itself (docs/architecture.md states them).

* no module over 500 lines, no function over 80;
* no import cycle between siting's modules, a package and its submodules included;
* only the deliver package imports folium; only ``geo/raster.py`` and ``geo/raster_blocks.py`` import
  rasterio; only the source adapters (``io/sources/``) name the federal datasets' fields;
* nothing outside ``screen/rules.py`` compares with a rule-type name (the rules carry their behaviour);
* every public name (a module's ``__all__``) has a docstring and a runnable example (``>>>``) in its
  own docstring or its module's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from paths import ROOT

from siting.screen.rules import RULE_TYPES

PACKAGE = ROOT / "siting"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path: Path) -> set[str]:
    """siting modules imported at module level (not inside functions: those are lazy on purpose)."""
    found = set()
    for node in _tree(path).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("siting")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("siting"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    known = {_name(p) for p in MODULES}
    return {m for m in found if m in known} - {_name(path)}  # ``from package import submodule`` in __init__


def test_no_module_over_500_lines_and_no_function_over_80():
    long_modules = [(p.name, n) for p in MODULES if (n := len(p.read_text().splitlines())) > 500]
    long_functions = [(str(p.relative_to(ROOT)), f.name, f.end_lineno - f.lineno + 1) for p in MODULES
                      for f in ast.walk(_tree(p)) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                      and f.end_lineno - f.lineno + 1 > 80]
    assert long_modules == [] and long_functions == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk of ``graph`` closes (module -> modules it imports)."""
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_import_cycles():
    graph = {_name(p): _imports(p) for p in MODULES}
    assert sum(map(len, graph.values())) > 100, "the import graph was read"
    assert _cycles(graph) == []


def test_a_package_submodule_cycle_is_noticed():
    assert _cycles({"p": {"p.a"}, "p.a": {"p"}, "q": set()}) == [["p", "p.a", "p"]]


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


@pytest.mark.parametrize("library, allowed", [
    ("folium", {"siting.deliver.maps", "siting.deliver.folium_adapter", "siting.deliver.result_map",
                "siting.deliver.web", "siting.deliver.bulk", "siting.deliver.basemap"}),
    ("branca", {"siting.deliver.maps", "siting.deliver.folium_adapter"}),
    ("rasterio", {"siting.geo.raster", "siting.geo.raster_blocks"}),
    ("offlinefolium", {"siting.deliver.folium_adapter"}),
])
def test_only_one_place_imports_each_heavy_library(library, allowed):
    users = set()
    for p in MODULES:
        for node in _runtime_nodes(_tree(p)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == library or n.startswith(library + ".") for n in names):
                users.add(_name(p))
    assert users <= allowed


def test_every_warning_goes_through_one_helper():
    # siting.core.errors.warn attributes a warning to the user's own line; a direct warnings.warn would point
    # into the library (and its stacklevel breaks when the call moves)
    direct = [f"{p.relative_to(ROOT)}:{n.lineno}" for p in MODULES if p.name != "errors.py" for n in ast.walk(_tree(p))
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "warn"
              and getattr(n.func.value, "id", "") == "warnings"]
    assert direct == []


def test_only_the_source_adapters_know_the_federal_field_names():
    fields = {"Mang_Name", "GAP_Sts", "Des_Tp", "MAX_VOLT", "VOLT_CLASS", "dev_stat", "commod1", "SITE_NAME"}
    users = set()
    for p in MODULES:
        if "sources" in p.parts:
            continue
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.Constant) and node.value in fields:
                users.add(_name(p))
    assert users == set()


def test_nothing_outside_the_rules_switches_on_rule_types():
    tags = {c.model_fields["rule"].default for c in RULE_TYPES}
    offenders = []
    for p in MODULES:
        if p.name == "rules.py":
            continue
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.Compare):
                consts = [c for c in ast.walk(node) if isinstance(c, ast.Constant) and c.value in tags]
                if consts:
                    offenders.append(f"{p.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def _public(path: Path):
    tree = _tree(path)
    value = next((n.value for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, "id", None) == "__all__" for t in n.targets)), None)
    names = [c.value for c in ast.walk(value) if isinstance(c, ast.Constant)] if value is not None else []
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    return tree, [(name, defs[name]) for name in names if name in defs]


def test_every_public_name_is_documented_with_a_runnable_example():
    missing = []
    for p in MODULES:
        tree, public = _public(p)
        module_doc = ast.get_docstring(tree) or ""
        examples = "\n".join(line for line in module_doc.splitlines() if line.lstrip().startswith((">>>", "...")))
        for name, node in public:
            doc = ast.get_docstring(node) or ""
            if not doc:
                missing.append(f"{_name(p)}.{name}: no docstring")
            elif ">>>" not in doc and name not in examples:
                missing.append(f"{_name(p)}.{name}: no example")
    assert missing == []
