"""Hostile inputs (tests/fixtures/hostile.yaml): each is refused fast, located, without a traceback.

A case is a few lines of data: which file of a copy of the mini fixture to replace and how (text,
bytes, a link, a FIFO, a folder), and the diagnostic `check` must give.  Every case must finish in
seconds (the billion-laughs file took 56 s and 3.8 GB before aliases were bounded).  The same cases
run through the command line too: exit 1, one error per problem, no traceback.
"""

from __future__ import annotations

import codecs
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tranche.language import check
from tests.helpers import run

ROOT = Path(__file__).parent.parent
MINI = ROOT / "fixtures" / "mini"
CASES: list[dict[str, Any]] = yaml.safe_load((ROOT / "fixtures" / "hostile.yaml").read_text())


def build(case: dict[str, Any], folder: Path) -> Path:
    shutil.copytree(MINI, folder)
    target = folder / case["file"]
    if "copy" in case:
        shutil.copy(target, folder / Path(case["link"]).name)
    if "text" in case or "expr" in case or "hex" in case or "link" in case or "fifo" in case or "folder" in case:
        target.unlink()
    if "text" in case:
        encoding = case.get("encoding", "utf-8")
        data = case["text"].encode(encoding)
        if encoding == "utf-16" and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            data = codecs.BOM_UTF16_LE + data
        target.write_bytes(data)
    elif "expr" in case:
        target.write_text(eval(case["expr"]))  # noqa: S307 - our own fixture
    elif "hex" in case:
        target.write_bytes(bytes.fromhex(case["hex"]))
    elif "link" in case:
        target.symlink_to(case["link"])
    elif case.get("fifo"):
        os.mkfifo(target)
    elif case.get("folder"):
        target.mkdir()
    return folder


@pytest.fixture(params=CASES, ids=[c["name"] for c in CASES])
def case(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], Path]:
    for name, value in (request.param.get("env") or {}).items():
        monkeypatch.setenv(name, value)
    return request.param, build(request.param, tmp_path / "scenario")


def test_hostile_input(case: tuple[dict[str, Any], Path]) -> None:
    spec, folder = case
    start = time.perf_counter()
    result = check(folder)
    assert time.perf_counter() - start < 10, "took too long"
    everything = "\n".join(f"{d.message} {d.help or ''} {d}" for d in result.diagnostics)
    for text in spec.get("leaks", ()):
        assert text not in everything
    for code in spec.get("absent", ()):
        assert code not in {d.code for d in result.diagnostics}
    if spec["code"] is None:
        assert result.passed, [str(d) for d in result.errors()]
        return
    severity = spec.get("severity", "error")
    found = [d for d in result.diagnostics if d.code == spec["code"] and d.severity == severity
             and spec["message"] in d.message]
    assert found, [(d.code, d.message) for d in result.diagnostics]
    d = found[0]
    assert d.span is not None and d.span.file.endswith(spec["file"])
    if "line" in spec:
        assert d.span.line == spec["line"], d
    if "column" in spec:
        assert d.span.col == spec["column"], d
    assert (d.message[0].islower() or d.message[0] == "`") and "\n" not in d.message and not d.message.endswith(".")


@pytest.mark.parametrize("spec", [c for c in CASES if c["code"] and c.get("severity", "error") == "error"],
                         ids=lambda c: c["name"])
def test_hostile_input_on_the_command_line(spec: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in (spec.get("env") or {}).items():
        monkeypatch.setenv(name, value)
    folder = build(spec, tmp_path / "scenario")
    code, out, err = run(capsys, "--error-format", "plain", "check", str(folder))
    assert code == 1 and spec["message"] in err
