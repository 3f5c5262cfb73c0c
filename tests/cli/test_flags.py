"""One vocabulary of flags (issue 13): a short flag stands for one long flag everywhere, a long flag has the same
short form everywhere, and docs/cli.md's table lists every flag; old spellings keep working."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
import typer.main

from tranche.cli.main import app

from ..helpers import run

ROOT = Path(__file__).parent.parent.parent
MINI = str(ROOT / "tests" / "fixtures" / "mini")
PERU = str(ROOT / "scenarios" / "peru-1962")


def flags() -> list[tuple[str, list[str], list[str]]]:
    """(command path, long flags, short flags) of every option of every command."""
    out = []

    def walk(cmd: object, path: list[str]) -> None:
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, [*path, name])
        for p in getattr(cmd, "params", ()):
            opts = [o for o in getattr(p, "opts", []) if o.startswith("-")]
            if opts:
                out.append((" ".join(path), [o for o in opts if o.startswith("--")],
                            [o for o in opts if not o.startswith("--")]))

    walk(typer.main.get_command(app), ["tranche"])
    return out


def test_a_short_flag_means_one_long_flag() -> None:
    meaning: dict[str, set[str]] = defaultdict(set)
    for _, longs, shorts in flags():
        for s in shorts:
            meaning[s].add(longs[0])
    assert {s: m for s, m in meaning.items() if len(m) > 1} == {}


def test_a_long_flag_has_one_short_form() -> None:
    forms: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for path, longs, shorts in flags():
        if path != "tranche":  # the root's options are the global ones
            forms[longs[0]].add(tuple(shorts))
    assert {f: v for f, v in forms.items() if len(v) > 1} == {}


def test_every_flag_is_in_the_table() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    table = text.split("## One vocabulary of flags", 1)[1].split("\n## ", 1)[0]
    ignore = {"--help", "--version", "--install-completion", "--show-completion", "--with-law", "--engine",
              "--dates", "--every", "--from", "--to", "--status", "--stale", "--item", "--on", "--until",
              "--source", "--revision", "--anchor", "--key", "--since", "--action", "--by", "--role", "--admin"}
    missing = {f for _, longs, _ in flags() for f in longs[:1] if f not in ignore and f"`{f}" not in table}
    assert not missing
    for _, longs, shorts in flags():
        for s in shorts:
            assert f"`{s}`" in table, s


def test_old_and_new_spellings(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", MINI, "--as-of", "2001-06-01", "-o", "closed,open", "--format", "json"]
    _, old, _ = run(capsys, *argv, "--items")
    _, new, _ = run(capsys, *argv, "--by-item")
    assert json.loads(old) == json.loads(new) and json.loads(new)["options"][0]["decisions"]
    _, positional, _ = run(capsys, "diff", PERU, "limited", "recommended", "--format", "json")
    code, by_option, _ = run(capsys, "diff", PERU, "-o", "limited,recommended", "--format", "json")
    assert code == 0 and json.loads(positional) == json.loads(by_option)
    code, _, err = run(capsys, "diff", PERU, "limited")
    assert code == 1 and "diff compares two options; 1 given" in err


def test_decide_and_compare_default_to_today(capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    code, out, _ = run(capsys, "decide", MINI, "I1", "--format", "json")
    assert code == 0 and json.loads(out)["as_of"] == dt.date.today().isoformat()
    code, out, _ = run(capsys, "compare", MINI, "-o", "open", "--format", "json")
    assert code == 0 and json.loads(out)["as_of"] == dt.date.today().isoformat()
