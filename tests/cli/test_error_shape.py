"""One JSON error shape: under `--error-format json` every failing command prints exactly one JSON document on
stderr, with the same keys (tranche.errors.ERROR_KEYS), and nothing else there (after datasette's
tests/test_error_shape.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tranche.errors import DIAGNOSTIC_KEYS, ERROR_KEYS

from ..helpers import run

MINI = Path(__file__).parent.parent / "fixtures" / "mini"
KEYS = ["ok", "error", "code", "help", "status", "errors", "warnings"]  # written out: the contract, not the code
DIAG = ["code", "severity", "message", "help", "file", "line", "column"]


@pytest.fixture
def broken(tmp_path: Path) -> str:
    """The mini scenario with an unknown category in a rule (regimes.yaml line 10, column 21)."""
    root = tmp_path / "broken"
    shutil.copytree(MINI, root)
    regimes = root / "regimes.yaml"
    regimes.write_text(regimes.read_text().replace("category: spares", "category: spare"))
    return str(root)


@pytest.fixture
def bad_items(tmp_path: Path) -> str:
    path = tmp_path / "items.csv"
    path.write_text("id,recipient,program,channel,category,amount,flags\nX1,AAA,P1,grant,spares,abc,\n")
    return str(path)


M = str(MINI)
DAY = ["--as-of", "2001-06-01"]
FAILURES: dict[str, list[str]] = {
    "check: bad policy file": ["check", "{broken}"],
    "test: bad policy file": ["test", "{broken}"],
    "decide: bad policy file": ["decide", "{broken}", "I1", *DAY],
    "compare: bad policy file": ["compare", "{broken}", *DAY, "--options", "open"],
    "lint: bad policy file": ["lint", "{broken}"],
    "diff: bad policy file": ["diff", "{broken}", "open", "closed"],
    "decide: unknown item": ["decide", M, "I9", *DAY],
    "decide: unknown regime": ["decide", M, "I1", *DAY, "--regime", "clsed"],
    "decide: bad date": ["decide", M, "I1", "--as-of", "2001-02-30"],
    "decide: unknown fact in --assume": ["decide", M, "I1", *DAY, "--assume", "waiver.AA"],
    "decide: no regime in force": ["decide", M, "I1", "--as-of", "1999-01-01"],
    "compare: unknown option": ["compare", M, *DAY, "--options", "open,nope"],
    "timeline: unknown recipient": ["timeline", M, "--recipient", "AAB"],
    "diff: unknown regime": ["diff", M, "open", "clsed"],
    "schema: unknown file": ["schema", "regime.yaml"],
    "review list: no store": ["--db", "{tmp}/none.db", "review", "list"],
    "decide: stored id without a store": ["decide", "no-such-scenario", "I1", *DAY],
    "bulk: bad input file": ["bulk", M, "--items", "{items}", "--out", "{tmp}/out.parquet", *DAY],
    "usage: missing argument": ["decide", M],
    "usage: unknown option": ["decide", M, "I1", *DAY, "--regim", "open"],
    "usage: bad choice": ["decide", M, "I1", *DAY, "--format", "yaml"],
}


def test_the_keys_are_the_documented_ones() -> None:
    assert list(ERROR_KEYS) == KEYS and list(DIAGNOSTIC_KEYS) == DIAG


@pytest.mark.parametrize("name", list(FAILURES))
def test_every_failure_is_one_json_document_of_one_shape(name: str, capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path, broken: str, bad_items: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no tranche.db here
    monkeypatch.delenv("TRANCHE_DB", raising=False)
    argv = [a.format(broken=broken, items=bad_items, tmp=tmp_path) for a in FAILURES[name]]
    code, _, err = run(capsys, "--error-format", "json", *argv)
    assert code == 1
    doc = json.loads(err)  # exactly one document: anything else on stderr makes this fail
    assert list(doc) == KEYS
    assert doc["ok"] is False and doc["status"] == code
    assert isinstance(doc["error"], str) and "\n" not in doc["error"] and not doc["error"][:1].isupper()
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", doc["code"]), doc["code"]
    assert doc["errors"], "a failure lists at least one diagnostic"
    for d in doc["errors"] + doc["warnings"]:
        assert list(d) == DIAG
        assert d["message"] and re.fullmatch(r"[a-z]+(-[a-z]+)*", d["code"]), d
    assert all(d["severity"] == "error" for d in doc["errors"])


def test_the_env_variable_selects_json_too(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANCHE_ERROR_FORMAT", "json")
    code, _, err = run(capsys, "decide", M, "I9", *DAY)
    assert code == 1 and list(json.loads(err)) == KEYS


def test_a_policy_error_is_located(capsys: pytest.CaptureFixture[str], broken: str) -> None:
    code, _, err = run(capsys, "--error-format", "json", "check", broken)
    doc = json.loads(err)
    assert doc["code"] == "policy"
    d = doc["errors"][0]
    assert (d["code"], d["line"], d["column"], d["help"]) == ("unknown-category", 10, 21, "did you mean `spares`?")
    assert d["file"].endswith("regimes.yaml")


def test_a_usage_error_has_a_help_and_no_location(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--error-format", "json", "decide", M, "I1", "--as-of", "2001-02-30")
    doc = json.loads(err)
    assert doc["code"] == "usage" and doc["error"] == "--as-of: `2001-02-30` is not a date"
    assert doc["help"] and doc["errors"][0]["help"] == doc["help"]
    assert (doc["errors"][0]["file"], doc["errors"][0]["line"], doc["errors"][0]["column"]) == (None, None, None)


def test_warnings_of_a_passing_check_are_one_document_with_ok_true(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    root = tmp_path / "warned"
    shutil.copytree(MINI, root)
    programs = root / "programs.yaml"
    text = programs.read_text()
    assert "total:" in text
    programs.write_text(re.sub(r"total: [0-9.]+", "total: 1.00", text, count=1))
    code, out, err = run(capsys, "--error-format", "json", "check", str(root))
    assert code == 0 and "ok" in out
    doc = json.loads(err)
    assert list(doc) == KEYS and doc["ok"] is True and doc["status"] == 0
    assert doc["error"] is None and doc["errors"] == [] and doc["warnings"][0]["code"] == "program-total"


def test_human_and_plain_forms_are_unchanged_in_spirit(capsys: pytest.CaptureFixture[str], broken: str) -> None:
    code, _, err = run(capsys, "check", broken)
    assert code == 1 and "regimes.yaml:10:21" in err and err.rstrip().endswith("was not loaded")
    code, _, err = run(capsys, "--error-format", "plain", "decide", M, "I9", *DAY)
    assert code == 1 and err.startswith("error: unknown item `I9`")
