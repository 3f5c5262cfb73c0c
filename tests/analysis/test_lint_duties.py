"""lint on caps, notifications and waivers, and `diff --with-law` on them, on edited copies of Ruritania.

Each case edits one line of scenarios/ruritania-7008 and expects the finding a reader would want,
located at the construct; the figures in the messages are the pipeline's (pipeline.csv), added by hand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tranche import check, load_scenario
from tranche.analysis import diff, lint

from ..helpers import run

RUR = Path(__file__).resolve().parents[2] / "scenarios" / "ruritania-7008"


def _copy(tmp_path: Path, file: str, find: str, replace: str) -> Path:
    shutil.copytree(RUR, tmp_path / "scenarios" / "rur")
    shutil.copytree(RUR.parent.parent / "packs", tmp_path / "packs")
    target = tmp_path / "scenarios" / "rur" / file
    text = target.read_text()
    assert find in text, find
    target.write_text(text.replace(find, replace, 1))
    return tmp_path / "scenarios" / "rur"


def _line(folder: Path, text: str) -> int:
    """The line of law.yaml holding ``text`` (where a finding on that entry is located)."""
    lines = (folder / "law.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def _findings(folder: Path, code: str) -> list:
    return [d for d in lint(load_scenario(folder), as_of=None) if d.code == code]


def test_the_scenario_itself_has_none_of_these_findings() -> None:
    codes = {d.code for d in lint(load_scenario(RUR))}
    assert not codes & {"cap-scope-empty", "cap-never-binds", "notification-unreached", "waiver-scope-empty",
                        "waiver-lifts-nothing", "no-source"}


def test_a_cap_above_what_its_lines_total(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "law.yaml", 'limit: "15000000.00"', 'limit: "22200000.00"')
    [d] = _findings(folder, "cap-never-binds")
    # FY 2025 FMF: R25-01 14,000,000 + R25-02 700,000 + R25-04 7,500,000 = 22,200,000
    assert d.message == ("cap `cap.fmf.RUR-FY2025`: can never bind on this pipeline: the 3 lines in its scope total "
                         "22,200,000.00, within its limit of 22,200,000.00, so even with every one permitted it "
                         "blocks nothing")
    assert d.span is not None and d.span.file.endswith("law.yaml") and d.span.line == _line(folder, "- id: cap.fmf")


def test_a_cap_a_cent_below_binds(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "law.yaml", 'limit: "15000000.00"', 'limit: "22199999.99"')
    assert _findings(folder, "cap-never-binds") == []


def test_a_cap_on_an_account_without_lines(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "law.yaml", "when: {program: RUR-FY2025, account: FMF}",
                   "when: {program: RUR-FY2025, account: ESF}")
    [d] = _findings(folder, "cap-scope-empty")
    assert "cap `cap.fmf.RUR-FY2025`: no line of the pipeline is in its scope" in d.message
    assert "account in [ESF]" in d.message


def test_a_notification_threshold_no_line_reaches(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "law.yaml", "amount: {gte: 14000000}", "amount: {gte: 18000000.01}")
    [d] = _findings(folder, "notification-unreached")
    # the MDE lines it would cover: R24-01 18,000,000, R24-08 16,000,000, R25-01 14,000,000
    assert d.message == ("notification `notify.aeca36b.mde`: no line of the pipeline reaches its threshold "
                         "(amount gte [18000000.01]): the largest line it otherwise covers is `R24-01`, "
                         "18,000,000.00")
    assert d.span is not None and d.span.line == _line(folder, "- id: notify.aeca36b.mde")


def test_a_waiver_for_an_account_without_lines(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "facts.yaml", "scope: {account: PKO}", "scope: {account: ESF}")
    [d] = _findings(folder, "waiver-scope-empty")
    assert d.message.startswith("waiver `waiver.7008.RUR.pko`, lifting `sec7008.a.restriction`: no line of the "
                                "pipeline is in its scope (account in [ESF])")


def test_a_waiver_of_lines_the_restriction_does_not_reach(tmp_path: Path) -> None:
    # humanitarian lines are exempt from the restriction: a waiver for them lifts nothing
    folder = _copy(tmp_path, "facts.yaml", "scope: {account: PKO}", "scope: {flags: [humanitarian]}")
    [d] = _findings(folder, "waiver-lifts-nothing")
    assert "none of the 2 lines in its scope (flags all [humanitarian])" in d.message


def test_a_waiver_naming_an_unknown_program_is_an_error_of_check(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "facts.yaml", "scope: {account: PKO}", "scope: {program: RUR-FY2026}")
    errors = check(folder).errors()
    assert [(e.code, e.message) for e in errors] == [
        ("unknown-program", "fact `waiver.7008.RUR.pko`: unknown program `RUR-FY2026`")]
    assert errors[0].help and "RUR-FY2025" in errors[0].help


def test_diff_with_law_states_the_caps_effect(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", str(RUR), "pause", "pre_coup", "--with-law", "--as-of", "2024-03-20", "-a",
                       "congress.notification.RUR-case-1@2024-01-01", "--format", "json")
    assert code == 0
    data = json.loads(out)
    [effect] = data["caps"]
    assert effect == {"text": effect["text"], "cap": "cap.fmf.RUR-FY2025", "pool": [], "limit": "15000000.00",
                      "allocated": ["700000.00", "14700000.00"], "blocked": [[], ["R25-04"]],
                      "blocked_amount": ["0.00", "7500000.00"]}
    [counts] = data["duties"]
    assert (counts["kind"], counts["name"], counts["under"], counts["not_under"]) == (
        "cap", "cap.fmf.RUR-FY2025", "pre_coup", "pause")
    # newly counting under pre_coup: the FY 2025 FMF lines the pause reviews (R25-01, R25-04), not the
    # humanitarian field hospital it permits
    assert counts["items"] == ["R25-01", "R25-04"] and counts["impact"] == {"RUR-FY2025": "21500000.00"}


def test_diff_with_law_names_the_notification_owed() -> None:
    s = load_scenario(RUR)
    d = diff(s, "record", "restored", as_of="2024-05-01", law=True)
    owed = [st for st in d.duties if st.kind == "notification"]
    assert owed and all(st.under == "restored" for st in owed)
    # the lethal MDE sale: held under the record, waiting for its notification under `restored`
    assert [i for st in owed for i in st.items] == ["R24-08"]
    assert "each waits 30 days after `congress.notification.RUR-case-1`" in owed[0].text
    assert not diff(s, "record", "restored", as_of="2024-05-01").duties  # the regimes alone: the law aside
