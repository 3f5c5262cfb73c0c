"""`tranche fmt [--check] [--diff] SCENARIO...`: rewrites scenario files in the canonical layout (the layout
itself is tested in tests/language/test_layout.py), checks without writing like `black --check`, and never
half-writes a file or writes one that does not parse."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tranche.language.layout import layout, model_for
from tranche.language.syntax import parse_yaml

from ..helpers import run

ROOT = Path(__file__).parent.parent.parent
HAND = ROOT / "tests" / "fixtures" / "fmt" / "regimes.yaml"  # written by hand, not in the layout
PERU = ROOT / "scenarios" / "peru-1962"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """A copy of Peru with its regimes.yaml replaced by the hand-written one (a folder with one file to change)."""
    root = tmp_path / "peru"
    shutil.copytree(PERU, root)
    shutil.copy(HAND, root / "regimes.yaml")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def test_fmt_rewrites_what_is_not_canonical_and_then_checks_clean(capsys: pytest.CaptureFixture[str],
                                                                   scenario: Path) -> None:
    before = snapshot(scenario)
    code, out, _ = run(capsys, "fmt", str(scenario))
    assert code == 0
    assert out.splitlines() == [f"reformatted {scenario / 'regimes.yaml'}", "1 file reformatted, 7 unchanged"]
    after = snapshot(scenario)
    assert [n for n in after if after[n] != before[n]] == ["regimes.yaml"]
    text = after["regimes.yaml"].decode()
    assert text == layout(HAND.read_text(), "regimes.yaml", model_for(scenario / "regimes.yaml"))
    assert parse_yaml(text, "x")[0] == parse_yaml(HAND.read_text(), "x")[0]
    assert "# released" in text and "# why, in the record's words" in text  # comments kept
    code, out, _ = run(capsys, "fmt", str(scenario))  # fmt twice is fmt once
    assert code == 0 and out.strip() == "8 files already in the canonical layout"
    assert snapshot(scenario) == after
    code, _, _ = run(capsys, "fmt", "--check", str(scenario))
    assert code == 0


def test_check_writes_nothing_and_names_each_file_and_its_first_changed_line(capsys: pytest.CaptureFixture[str],
                                                                           scenario: Path) -> None:
    before = snapshot(scenario)
    code, out, err = run(capsys, "fmt", "--check", str(scenario), "--error-format", "json")
    assert code == 1 and out == ""
    assert snapshot(scenario) == before
    doc = json.loads(err)
    formatted = layout(HAND.read_text(), "regimes.yaml", model_for(scenario / "regimes.yaml")).splitlines()
    first = next(i for i, (a, b) in enumerate(zip(HAND.read_text().splitlines(), formatted), 1) if a != b)
    assert [(e["code"], e["file"], e["line"]) for e in doc["errors"]] == \
        [("not-canonical", str(scenario / "regimes.yaml"), first)]
    assert doc["error"].startswith("1 of 8 files would be reformatted")


def test_diff_prints_the_change_and_writes_nothing(capsys: pytest.CaptureFixture[str], scenario: Path) -> None:
    before = snapshot(scenario)
    code, out, err = run(capsys, "fmt", "--diff", str(scenario))
    assert code == 0 and snapshot(scenario) == before
    assert out.startswith(f"--- {scenario / 'regimes.yaml'}\n+++ {scenario / 'regimes.yaml'} (formatted)\n")
    assert "+  - id: closed\n" in out and "1 of 8 files would be reformatted" in err


def test_a_file_that_does_not_parse_is_not_written(capsys: pytest.CaptureFixture[str], scenario: Path) -> None:
    (scenario / "sources.yaml").write_text("sources:\n  - id: a\n    title: [unclosed\n")
    bad = (scenario / "sources.yaml").read_bytes()
    code, out, err = run(capsys, "fmt", str(scenario), "--error-format", "json")
    assert code == 1
    assert (scenario / "sources.yaml").read_bytes() == bad
    doc = json.loads(err)
    assert [(e["code"], Path(e["file"]).name) for e in doc["errors"]] == [("yaml-syntax", "sources.yaml")]
    assert doc["errors"][0]["line"] is not None and doc["errors"][0]["help"]
    assert "1 file reformatted; 1 file could not be formatted" in doc["error"]
    assert f"reformatted {scenario / 'regimes.yaml'}" in out  # the others are formatted all the same


def test_a_failed_write_leaves_the_file_whole(capsys: pytest.CaptureFixture[str], scenario: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(scenario)
    os.chmod(scenario / "regimes.yaml", 0o640)

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    code, _, err = run(capsys, "fmt", str(scenario))
    assert code == 1 and "cannot write it: No space left on device" in " ".join(err.split())
    assert snapshot(scenario) == before  # no half-written file, no temporary file left beside it
    monkeypatch.undo()
    code, _, _ = run(capsys, "fmt", str(scenario))
    assert code == 0 and (scenario / "regimes.yaml").stat().st_mode & 0o777 == 0o640  # its mode kept


def test_a_link_is_followed_and_kept(capsys: pytest.CaptureFixture[str], scenario: Path, tmp_path: Path) -> None:
    real = tmp_path / "real-regimes.yaml"
    shutil.move(scenario / "regimes.yaml", real)
    (scenario / "regimes.yaml").symlink_to(real)
    code, _, _ = run(capsys, "fmt", str(scenario / "regimes.yaml"))
    assert code == 0
    assert (scenario / "regimes.yaml").is_symlink()
    assert real.read_text() == layout(HAND.read_text(), "regimes.yaml", model_for(scenario / "regimes.yaml"))


def test_the_peru_scenario_is_canonical(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copytree(PERU, tmp_path / "peru")
    code, out, _ = run(capsys, "fmt", "--check", str(tmp_path / "peru"))
    assert code == 0 and out.strip() == "8 files already in the canonical layout"


@pytest.mark.parametrize("argv, message", [
    (["fmt", "nowhere"], "no file or folder `nowhere`"),
    (["fmt", str(PERU / "pipeline.csv")], "is not a YAML file"),
])
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1 and message in err
