"""Each layer imports only the layers to its left (STYLE.md):
errors <- language <- semantics <- engine <- {compiler, analysis} <- store <- service <- cli."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "tranche"
ORDER = ["errors", "language", "semantics", "engine", "compiler", "analysis", "store", "service", "cli"]
RANK = {"errors": 0, "language": 1, "semantics": 2, "engine": 3, "compiler": 4, "analysis": 4, "store": 5, "service": 6,
        "cli": 7}


def layer_of(path: Path) -> str | None:
    rel = path.relative_to(PACKAGE).parts
    name = rel[0].removesuffix(".py")
    return name if name in RANK else None


def imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(PACKAGE).parts) - 1
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                mod = node.module or ""
                if mod.startswith("tranche."):
                    out.add(mod.split(".")[1])
                continue
            if node.level > depth:  # relative import climbing to the package root
                first = (node.module or "").split(".")[0]
                if first:
                    out.add(first)
                else:
                    out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tranche."):
                    out.add(alias.name.split(".")[1])
    return {x for x in out if x in RANK}


def test_layers_import_only_to_their_left() -> None:
    bad = []
    for path in PACKAGE.rglob("*.py"):
        layer = layer_of(path)
        if layer is None:
            continue
        for other in imported_layers(path):
            if other == layer:
                continue
            if RANK[other] >= RANK[layer]:
                bad.append(f"{path.relative_to(PACKAGE)} imports {other}")
    assert not bad, bad


def test_nothing_imports_cli() -> None:
    for path in PACKAGE.rglob("*.py"):
        if layer_of(path) in (None, "cli"):
            continue
        assert "cli" not in imported_layers(path), path


def _layer_of_import(node: ast.ImportFrom, path: Path) -> str | None:
    """The layer an import names, or None for one inside the importing layer (or outside tranche)."""
    depth = len(path.relative_to(PACKAGE).parts) - 1
    if node.level == 0:
        mod = node.module or ""
        return mod.split(".")[1] if mod.startswith("tranche.") and mod.split(".")[1] in RANK else None
    if node.level <= depth:
        return None
    first = (node.module or "").split(".")[0] or (node.names[0].name if len(node.names) == 1 else "")
    return first if first in RANK else None


def test_no_import_of_tranche_hidden_in_a_function() -> None:
    """An import cycle is solved by the layout, not by importing inside a function (issue: one semantic core):
    a function may import only a layer strictly to its left -- deferring a heavy one (the store: SQLAlchemy and
    Alembic) to the commands that use it, for start-up time -- never its own layer or one to its right.

    The CLI imports lazily on purpose (start-up time) and `tranche/__init__.py` loads its names on first use;
    imports only for type checking are fine everywhere.
    """
    bad = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "cli" or rel == Path("__init__.py") or "migrations" in rel.parts:
            continue
        layer = layer_of(path)
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("tranche")):
                    other = _layer_of_import(node, path)
                    if layer is None or other is None or RANK[other] >= RANK[layer]:
                        bad.append(f"{rel}:{node.lineno}")
    assert not bad, bad
