"""The package's shape: no import cycles, counting the imports inside functions (which
import-linter, run by .ci/run with the layer contracts in pyproject.toml, also sees, but
a cycle through a lazy import is easy to add without noticing), and one convention for
every package's __init__.py."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "openeis"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """Every openeis module `name` imports, wherever the import statement is (module level,
    inside a function, under TYPE_CHECKING): `from pkg import submodule` counts as the
    submodule, `from module import name` as the module."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
            targets = submodules if len(submodules) == len(node.names) else [base, *submodules]
        else:
            continue
        for target in targets:
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != name and target.startswith("openeis"):
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _unit(module: str) -> str:
    """A subpackage (openeis.models) or a top-level module (openeis.config... openeis.demo)."""
    return ".".join(module.split(".")[:2])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _edges_within(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    return [f"{a} -> {b}" for a in component for b in sorted(graph.get(a, ())) if b in component]


def test_no_cycle_between_subpackages_and_top_level_modules():
    units: dict[str, set[str]] = defaultdict(set)
    for module, targets in GRAPH.items():
        units[_unit(module)] |= {_unit(t) for t in targets if _unit(t) != _unit(module)}
    # The root package (openeis/__init__.py: the version, thread pools set before native
    # libraries load) is imported by everything and imports only thread_pools.
    assert GRAPH["openeis"] == {"openeis.thread_pools"}
    cycles = _cycles({u: t - {"openeis"} for u, t in units.items()})
    assert not cycles, [_edges_within(c, units) for c in cycles]


def test_no_cycle_between_modules():
    cycles = _cycles(GRAPH)
    assert not cycles, [_edges_within(c, GRAPH) for c in cycles]


def test_the_cycle_check_sees_imports_inside_functions(tmp_path):
    """The check above would be worthless if it missed lazy imports: a function-level import
    is an edge like any other."""
    path = tmp_path / "openeis" / "x.py"
    path.parent.mkdir()
    path.write_text("def f():\n    from openeis.store import base\n")
    global MODULES
    saved = dict(MODULES)
    try:
        MODULES["openeis.x"] = path
        assert _imports("openeis.x", path) == {"openeis.store.base"}
        graph = {**GRAPH, "openeis.x": {"openeis.store.base"},
                 "openeis.store.base": GRAPH["openeis.store.base"] | {"openeis.x"}}
        assert ["openeis.store.base", "openeis.x"] in _cycles(graph)
    finally:
        MODULES = saved


def test_every_package_init_is_a_docstring_and_re_exports():
    """One convention for __init__.py: a docstring saying what the package holds, then
    nothing, or the package's public names imported from its own modules (or its config
    section) and listed in __all__. No code, no lazy __getattr__. The root package alone also
    sets the thread pools before any native library loads."""
    packages = [p.parent for p in PACKAGE.rglob("*.py")] + [PACKAGE]
    for directory in sorted(set(packages)):
        init = directory / "__init__.py"
        assert init.exists(), f"{directory} has no __init__.py"
        if directory == PACKAGE:
            continue
        tree = ast.parse(init.read_text())
        body = tree.body
        assert body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), \
            f"{init}: starts with a docstring"
        name = _module_name(init)
        for node in body[1:]:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            if isinstance(node, ast.ImportFrom):
                assert node.module.startswith((name + ".", "openeis.config.")), f"{init}: imports {node.module}"
                continue
            assert isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__all__"], \
                f"{init}: line {node.lineno} is neither an import of its own modules nor __all__"
