"""`tranche check` on broken copies of the mini scenario (issue 13, item 7): an enum value gets "did you mean",
also when it is a word of the format that means the same elsewhere (`default: forbid`); one mistake reports one
error, not a cascade in the files that refer to what it broke; and every independent problem comes out in one run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tranche.language import model

from ..helpers import run

MINI = Path(__file__).parent.parent / "fixtures" / "mini"


def broken(tmp_path: Path, *edits: tuple[str, str, str]) -> Path:
    """A copy of the mini scenario with each ``(file, old, new)`` edit made once (``old`` must be there)."""
    root = tmp_path / "broken"
    shutil.copytree(MINI, root)
    for file, old, new in edits:
        text = (root / file).read_text(encoding="utf-8")
        assert old in text, (file, old)
        (root / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


def check(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, list[dict[str, Any]]]:
    code, _, err = run(capsys, "check", str(root), "--error-format", "json")
    return code, json.loads(err)["errors"] if err.strip() else []


def line_of(root: Path, file: str, text: str) -> int:
    return next(i for i, line in enumerate((root / file).read_text().splitlines(), 1) if text in line)


def choices(model_cls: Any, name: str) -> tuple[str, ...]:
    from typing import get_args

    annotation = model_cls.model_fields[name].annotation
    args = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    literal = args[0]
    return tuple(get_args(literal)) if get_args(literal) else get_args(annotation)


@pytest.mark.parametrize("file, old, new, field, means", [
    ("regimes.yaml", "effect: permit", "effect: allow", (model.RuleFile, "effect"), "permit"),
    ("regimes.yaml", "effect: review", "effect: block", (model.RuleFile, "effect"), "forbid"),
    ("regimes.yaml", "default: prohibited", "default: forbid", (model.RegimeFile, "default"), "prohibited"),
    ("regimes.yaml", "default: permitted", "default: allow", (model.RegimeFile, "default"), "permitted"),
    ("tests.yaml", "expect: blocked", "expect: block", (model.PolicyTestFile, "expect"), "blocked"),
    ("tests.yaml", "expect: permitted", "expect: permit", (model.PolicyTestFile, "expect"), "permitted"),
    ("regimes.yaml", "effect: review", "effect: reveiw", (model.RuleFile, "effect"), "review"),
    ("facts.yaml", "kind: determination", "kind: determination\n    role: waver", (model.FactFile, "role"), "waiver"),
    ("sources.yaml", "title: A source", "title: A source\n    marking: SECRT", (model.SourceFile, "marking"), "SECRET"),
    ("programs.yaml", "recipient: AAA", "recipient: AAA\n    basis: recrod", (model.ProgramFile, "basis"), "record"),
])
def test_an_enum_value_gets_did_you_mean(capsys: pytest.CaptureFixture[str], tmp_path: Path, file: str, old: str,
                                         new: str, field: tuple[Any, str], means: str) -> None:
    assert means in choices(*field)  # the suggestion is a value the field takes
    root = broken(tmp_path, (file, old, new))
    code, errors = check(capsys, root)
    assert code == 1
    assert len(errors) == 1, errors
    wrong = new.split(":")[-1].strip()
    assert errors[0]["code"] == "bad-value" and f"`{wrong}`" in errors[0]["message"]
    assert errors[0]["help"] == f"did you mean `{means}`?"
    assert errors[0]["file"].endswith(file) and errors[0]["line"] == line_of(root, file, new.split("\n")[-1].strip())


def test_one_bad_effect_does_not_cascade_into_the_tests(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    tests = (MINI / "tests.yaml").read_text()
    assert "rules: [closed.spares]" in tests  # a test names the rule whose regime the bad effect breaks
    root = broken(tmp_path, ("regimes.yaml", "effect: permit", "effect: allow"))
    code, errors = check(capsys, root)
    assert code == 1
    assert [(e["code"], Path(e["file"]).name) for e in errors] == [("bad-value", "regimes.yaml")], errors


def test_every_independent_problem_is_reported_in_one_run(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    """A bad effect makes one rule of regimes.yaml fail its shape check; the unknown facts in a regime's
    `effective:` and a timeline's `from:` of the same file (and that `effective:` making a second timeline of
    record), a bad amount in the pipeline and an unknown source in facts.yaml are independent of it, and come out
    in the same run."""
    root = broken(tmp_path,
                  ("regimes.yaml", "effect: permit", "effect: allow"),
                  ("regimes.yaml", "  - id: open\n    default: permitted\n",
                   "  - id: open\n    default: permitted\n    effective: {fact: coup.AAB}\n"),
                  ("regimes.yaml", "from: {fact: coup.AAA}", "from: {fact: coup.AXA}"),
                  ("pipeline.csv", ",100.00,", ",1O0.00,"),
                  ("facts.yaml", "sources: [s1]", "sources: [s9]"))
    code, errors = check(capsys, root)
    assert code == 1
    found = sorted((Path(e["file"]).name, e["code"], e["line"]) for e in errors)
    assert found == sorted([
        ("regimes.yaml", "bad-value", line_of(root, "regimes.yaml", "effect: allow")),
        ("regimes.yaml", "unknown-fact", line_of(root, "regimes.yaml", "coup.AAB")),
        ("regimes.yaml", "timeline-overlap", line_of(root, "regimes.yaml", "coup.AAB")),  # with `record`
        ("regimes.yaml", "unknown-fact", line_of(root, "regimes.yaml", "coup.AXA")),
        ("pipeline.csv", "bad-amount", line_of(root, "pipeline.csv", "1O0.00")),
        ("facts.yaml", "unknown-source", line_of(root, "facts.yaml", "[s9]")),
    ]), errors
    assert all(e["help"] for e in errors)
