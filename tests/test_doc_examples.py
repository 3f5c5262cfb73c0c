"""Docs are executed: every `$ tranche ...` example in README.md and docs/*.md runs, in order, in a fresh working
folder per document, and its output is compared with the documented one (issue 13).

Normalised before comparing: whitespace (so wrapping at another terminal width or path length does not matter),
hashes, UUIDs, times, durations and the working folder (absolute folders the docs write to, /safe/place, are
made inside it).  A line `...` in the documented output stands for any output (`... text`: any output, then `text`).
A block preceded by `<!-- docs-test: skip (why) -->`, or holding commands of other programs (benchmarks) than
tranche and sqlite3, is not run.  The width is 100 columns, or the `COLUMNS=N`
the text just above the block names.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tranche.cli.main import main

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "cli.md")]
DOCUMENTED_DIRS = ("/tmp/session", "/tmp/sess", "/tmp/desk")  # where the documented sessions ran: the working folder
PLACES = ("/safe/place",)  # absolute folders the docs write to: made inside the working folder


@dataclass
class Example:
    line: int
    command: str
    expected: list[str] = field(default_factory=list)
    columns: int = 100


def examples(doc: Path) -> list[Example]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    out: list[Example] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        above = "\n".join(lines[max(0, i - 3):i])
        end = next((k for k in range(i + 1, len(lines)) if lines[k].startswith("```")), len(lines))
        others = [t for t in lines[i + 1:end] if t.startswith("$ ") and not t.startswith(("$ tranche ", "$ sqlite3 "))]
        skip = "docs-test: skip" in above or bool(others)  # a block of other programs' commands is not ours
        width = re.search(r"COLUMNS=(\d+)", above)
        j = i + 1
        current: Example | None = None
        while j < len(lines) and not lines[j].startswith("```"):
            text = lines[j]
            if text.startswith("$ "):
                command = text[2:]
                while command.endswith("\\") and j + 1 < len(lines):
                    j += 1
                    command = command[:-1] + " " + lines[j].strip()
                current = Example(j + 1, command, columns=int(width.group(1)) if width else 100)
                if not skip:
                    out.append(current)
            elif current is not None:
                current.expected.append(text)
            j += 1
        i = j + 1
    return out


def normalise(text: str, here: str) -> str:
    text = text.replace(here, "<dir>")
    for d in DOCUMENTED_DIRS:
        text = text.replace(d, "<dir>")
    for place in PLACES:
        text = text.replace(f"<dir>{place}", place)
    text = re.sub(r"\btr_[0-9a-f]{12}_[A-Za-z0-9_-]+", "<token>", text)  # API tokens are random
    text = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uuid>", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}T[\d:.]+Z?", "<time>", text)
    text = re.sub(r"\b[0-9a-f]{12,64}\b", "<hash>", text)
    text = re.sub(r"\bin \d+(\.\d+)?s\b", "in <n>s", text)
    return " ".join(text.split())


def run_example(ex: Example, capsys: pytest.CaptureFixture[str], here: Path) -> str:
    command, echo = ex.command, None
    m = re.fullmatch(r"(.*?);\s*echo\s+(\"exit \$\?\"|\$\?)\s*", command)
    if m:
        command, echo = m.group(1), m.group(2)
    argv = shlex.split(command, comments=True)
    for place in PLACES:
        (here / place.lstrip("/")).mkdir(parents=True, exist_ok=True)
        argv = [a.replace(place, str(here / place.lstrip("/"))) for a in argv]
    if argv[0] == "sqlite3":  # the docs' tampering steps (a refusal prints the error, as sqlite3 does)
        try:
            with sqlite3.connect(here / argv[1]) as con:
                con.execute(argv[2])
        except sqlite3.Error as exc:
            return f"Runtime error near line 1: {exc}\n"
        return ""
    assert argv[0] == "tranche", f"line {ex.line}: only tranche and sqlite3 commands are run: {ex.command}"
    with pytest.raises(SystemExit) as exc:
        main(argv[1:])
    out, err = capsys.readouterr()
    code = exc.value.code
    text = out + err
    if echo is not None:
        text += ("exit " if "exit" in echo else "") + f"{code}\n"
    return text


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_every_documented_example_gives_its_documented_output(doc: Path, capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    exs = examples(doc)
    if not exs:
        pytest.skip(f"{doc.name}: no example to run (none, or all marked as not run)")
    for name in ("scenarios", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "packs", tmp_path / "packs")  # a copy: a pack path may not pass through a link
    monkeypatch.chdir(tmp_path)
    for var in ("TRANCHE_DB", "TRANCHE_ERROR_FORMAT", "TRANCHE_ACTOR"):
        monkeypatch.delenv(var, raising=False)
    failures = []
    for ex in exs:
        monkeypatch.setenv("COLUMNS", str(ex.columns))
        actual = normalise(run_example(ex, capsys, tmp_path), str(tmp_path))
        pieces = [normalise(p, str(tmp_path)) for p in re.split(r"^\s*\.\.\.(?:\s|$)", "\n".join(ex.expected), flags=re.M)]
        at = 0
        for n, piece in enumerate(pieces):
            if not piece:
                continue
            found = actual.find(piece, at) if n or len(pieces) > 1 else (0 if actual == piece else -1)
            if n == 0 and len(pieces) > 1 and not actual.startswith(piece):
                found = -1
            if found < 0:
                failures.append(f"{doc.name}:{ex.line}: $ {ex.command}\n  documented: {piece[:400]}\n"
                                f"  actual:     {actual[at:at + 400]}")
                break
            at = found + len(piece)
    assert not failures, "\n\n".join(failures)
