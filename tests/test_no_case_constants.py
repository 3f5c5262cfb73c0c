"""No case constants in `tranche/`: a scenario's dates, option names, source, fact and scenario ids live in
its own files (a case-specific demo is the scenario's `demo:` block), never in the tool's code.

The names are read from every scenario under scenarios/ with PyYAML (not with tranche), so a new
scenario extends the check by itself.  Docstrings are documentation (their doctests use the shipped
scenarios) and are not searched; comments are not code.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "tranche"
TOKEN = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass
class CaseNames:
    dates: set[dt.date] = field(default_factory=set)
    options: set[str] = field(default_factory=set)  # regime and timeline ids: matched as whole strings
    ids: set[str] = field(default_factory=set)  # source, fact and scenario ids: matched as tokens


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _format_words() -> set[str]:
    """Words the file format itself uses (its field names): not case constants even when an id reuses one."""
    from tranche.language.model import FILE_MODELS

    words: set[str] = set()
    seen: set[type] = set()

    def visit(model: Any) -> None:
        if model in seen or not hasattr(model, "model_fields"):
            return
        seen.add(model)
        for name, f in model.model_fields.items():
            words.add(name)
            words.add(f.alias or name)
            for arg in getattr(f.annotation, "__args__", ()) or (f.annotation,):
                visit(arg)
                for inner in getattr(arg, "__args__", ()):
                    visit(inner)

    for model in FILE_MODELS.values():
        visit(model)
    return words


def case_names(scenarios: Path = ROOT / "scenarios") -> CaseNames:
    out = CaseNames()
    for folder in sorted(p for p in scenarios.iterdir() if (p / "scenario.yaml").exists()):
        docs = {f.name: yaml.safe_load(f.read_text(encoding="utf-8")) or {} for f in folder.glob("*.yaml")}
        out.ids.add(docs["scenario.yaml"]["id"])
        for doc in docs.values():
            out.dates.update(v for v in _walk(doc) if isinstance(v, dt.date))
        regimes = docs.get("regimes.yaml", {})
        out.options.update(r["id"] for r in regimes.get("regimes", []))
        out.options.update(t["id"] for t in regimes.get("timelines", []))
        out.ids.update(s["id"] for s in docs.get("sources.yaml", {}).get("sources", []))
        out.ids.update(f["id"] for f in docs.get("facts.yaml", {}).get("facts", []))
    out.options -= _format_words()
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def findings(source: str, names: CaseNames, where: str = "<string>") -> list[str]:
    """Every case constant in ``source``: `where:line: what`."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    iso = {d.isoformat() for d in names.dates}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
            if text.strip() in names.options:
                out.append(f"{where}:{node.lineno}: option name `{text.strip()}`")
            for date in re.findall(r"\d{4}-\d{2}-\d{2}", text):
                if date in iso:
                    out.append(f"{where}:{node.lineno}: date {date}")
            for token in TOKEN.findall(text):
                if token.strip(".") in names.ids:
                    out.append(f"{where}:{node.lineno}: id `{token}`")
        elif isinstance(node, ast.Call) and len(node.args) == 3 and all(
                isinstance(a, ast.Constant) and isinstance(a.value, int) for a in node.args):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname == "date":
                try:
                    day = dt.date(*(a.value for a in node.args))  # type: ignore[misc]
                except ValueError:
                    continue
                if day in names.dates:
                    out.append(f"{where}:{node.lineno}: date {day}")
    return out


def test_the_names_come_from_the_scenarios() -> None:
    names = case_names()
    assert {"limited", "recommended", "full"} <= names.options  # the memo's options (peru-1962)
    assert "frus-427" in names.ids and "peru-1962" in names.ids
    assert dt.date(1962, 10, 3) in names.dates


def test_the_check_can_fail() -> None:
    names = case_names()
    bad = '''
import datetime as dt
AS_OF = dt.date(1962, 10, 3)
OPTIONS = ["limited", "recommended", "full"]
NOTE = "see frus-427"
HELP = "e.g. 1962-07-18"
def f():
    """Docstrings may say limited, 1962-10-03 and frus-427."""
'''
    found = findings(bad, names)
    assert len(found) == 6, found


def test_no_case_constants_in_tranche() -> None:
    names = case_names()
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        bad += findings(path.read_text(encoding="utf-8"), names, str(path.relative_to(ROOT)))
    assert not bad, "\n".join(bad)
