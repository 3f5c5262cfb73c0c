"""The `effective:` shorthand on regimes builds the timeline of record."""

from __future__ import annotations

import shutil
from pathlib import Path

from tranche import decide, load_scenario
from tranche.language import check

MINI = Path(__file__).parent.parent / "fixtures" / "mini"

SHORTHAND = """regimes:
  - id: open
    default: permitted
    effective: {date: 2000-01-01}
  - id: closed
    default: prohibited
    effective: {fact: coup.AAA}
    rules:
      - id: closed.spares
        when: {channel: grant, category: spares}
        effect: permit
"""


def copy(tmp_path: Path, regimes: str) -> Path:
    root = tmp_path / "s"
    shutil.copytree(MINI, root)
    (root / "regimes.yaml").write_text(regimes)
    (root / "tests.yaml").unlink()
    return root


def test_effective_regimes_form_the_record(tmp_path: Path) -> None:
    s = load_scenario(copy(tmp_path, SHORTHAND))
    assert [e.regime for e in s.timelines["record"].entries] == ["open", "closed"]
    assert decide(s, "I2", "2000-06-01").in_force.regime.id == "open"
    assert decide(s, "I2", "2001-06-01").outcome.value == "prohibited"
    assert decide(s, "I1", "2001-06-01").rules == ("closed.spares",)


def test_effective_and_a_record_timeline_conflict(tmp_path: Path) -> None:
    text = SHORTHAND + """timelines:
  - id: history
    recipient: AAA
    record: true
    entries:
      - regime: open
        from: {date: 2000-01-01}
"""
    result = check(copy(tmp_path, text))
    assert [d.code for d in result.errors()] == ["timeline-overlap"]
    assert "already has one, `history`" in result.errors()[0].message


def test_effective_entries_out_of_order(tmp_path: Path) -> None:
    text = SHORTHAND.replace("effective: {date: 2000-01-01}", "effective: {date: 2002-01-01}")
    errors = check(copy(tmp_path, text)).errors()
    assert [d.code for d in errors] == ["timeline-order"]
