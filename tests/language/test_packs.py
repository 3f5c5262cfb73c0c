"""Law packs: scenarios that include them load and decide as their rules say; broken packs and includes get
located errors (cases in tests/fixtures/pack-errors.yaml); pack paths are confined as the hostile-input rules
require."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from tranche import check, decide, load_scenario, run_tests
from tranche.errors import PolicyError
from tranche.language.schema import schema

REPO = Path(__file__).parent.parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CASES = yaml.safe_load((FIXTURES / "pack-errors.yaml").read_text())["cases"]


@pytest.mark.parametrize("name", ["pack-faa", "pack-7008"])
def test_fixtures_on_packs_check_clean_and_their_policy_tests_pass(name: str) -> None:
    result = check(FIXTURES / name)
    assert result.passed and not result.warnings(), [str(d) for d in result.diagnostics]
    failed = [r.test.name for r in run_tests(load_scenario(FIXTURES / name)) if not r.passed]
    assert failed == []


def test_pack_rules_come_first_and_carry_their_dates_sources_and_basis() -> None:
    s = load_scenario(FIXTURES / "pack-7008")
    assert [r.id for r in s.law.rules] == ["sec7008.a.restriction", "sec7008.a.democracy_notification",
                                          "law.embargo.lethal"]
    restriction, _, embargo = s.law.rules
    assert restriction.basis == "record" and restriction.sources == ("pl118-47-7008",)
    assert restriction.exempt == ("democracy", "humanitarian", "not_to_government", "other_funds")
    # one condition per class, resolved at validation into `unless`, then one per waiver that lifts the rule
    assert len(restriction.unless) == 6
    assert [u.waiver for u in restriction.unless] == [None] * 4 + ["waiver.7008.BOR.training", "waiver.7008.BOR.B2"]
    assert (embargo.effective, embargo.sunset) == (dt.date(2001, 3, 1), dt.date(2003, 3, 1))
    assert restriction.span is not None and restriction.span.file.endswith(os.path.join("packs", "sec-7008",
                                                                                         "law.yaml"))
    # the scenario dates a pack's fact; the pack's role stands and the sources join
    coup = s.facts["sec7008.coup_determination"]
    assert coup.role == "trigger" and str(coup.date) == "2001-01-15" and "pl118-47-7008" in coup.sources
    assert "pl118-47-7008" in s.sources and "s1" in s.sources


def test_the_faa_pack_binds_from_the_acts_approval() -> None:
    s = load_scenario(FIXTURES / "pack-faa")
    before = decide(s, "A2", "1961-09-03")
    after = decide(s, "A2", "1961-09-04")
    assert before.outcome.value == "permitted"
    assert after.outcome.value == "blocked"
    assert after.missing_facts == ("faa1961.511b.determination", "faa1961.511b.report")


def test_changing_a_pack_changes_the_law_version(tmp_path: Path) -> None:
    copy = _layout(tmp_path)
    before = load_scenario(copy).law.version
    law = tmp_path / "packs" / "sec-7008" / "law.yaml"
    law.write_text(law.read_text().replace("when: {flags: [democracy]}", "when: {flags: [democracy, humanitarian]}"))
    assert load_scenario(copy).law.version != before


def _layout(tmp_path: Path) -> Path:
    """The pack-7008 fixture and both packs at their relative places under ``tmp_path``."""
    for d in ("packs/sec-7008", "packs/faa-1961", "tests/fixtures/pack-7008"):
        shutil.copytree(REPO / d, tmp_path / d)
    return tmp_path / "tests" / "fixtures" / "pack-7008"


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """Run with ``tmp_path`` as the working folder, so that diagnostics show relative paths."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_error_case(in_tmp: Path, case: dict[str, Any]) -> None:
    _layout(in_tmp)
    target = in_tmp / case["file"]
    text = target.read_text()
    assert case["find"] in text, f"fixture text `{case['find']}` not found in {case['file']}"
    target.write_text(text.replace(case["find"], case["replace"], 1))
    result = check("tests/fixtures/pack-7008")
    assert not result.passed and result.scenario is None
    d = result.errors()[0]  # the first error is the cause: no cascade before it
    assert (d.code, d.message, d.help) == (case["code"], case["message"], case["help"]), str(d)
    assert d.span is not None and d.span.file == case.get("in", case["file"])
    assert (d.span.line, d.span.col) == (case["line"], case["col"]), str(d)
    assert d.help, str(d)
    with pytest.raises(PolicyError):
        load_scenario("tests/fixtures/pack-7008")


def test_a_failed_include_causes_no_cascade(in_tmp: Path) -> None:
    root = _layout(in_tmp)
    law = root / "law.yaml"
    law.write_text(law.read_text().replace("packs/sec-7008", "packs/sec-7009"))
    assert [d.code for d in check(root).errors()] == ["bad-include"]


def test_a_law_file_with_an_error_still_reads_its_packs(in_tmp: Path) -> None:
    root = _layout(in_tmp)
    law = root / "law.yaml"
    law.write_text(law.read_text().replace("sunset: 2003-03-01", "sunset: 2001-03-01"))
    assert [d.code for d in check(root).errors()] == ["value-error"]  # no unknown pack facts in tests.yaml


def test_a_pack_path_through_a_link_is_refused(in_tmp: Path) -> None:
    root = _layout(in_tmp)
    (in_tmp / "elsewhere").mkdir()
    shutil.move(str(in_tmp / "packs" / "sec-7008"), str(in_tmp / "elsewhere" / "sec-7008"))
    (in_tmp / "packs" / "sec-7008").symlink_to(in_tmp / "elsewhere" / "sec-7008")
    errors = check(root).errors()
    assert [d.code for d in errors] == ["bad-include"]
    assert "passes through the link `sec-7008`" in errors[0].message


def test_a_pack_file_linked_out_of_its_folder_is_refused(in_tmp: Path) -> None:
    root = _layout(in_tmp)
    pack = in_tmp / "packs" / "sec-7008"
    shutil.move(str(pack / "sources.yaml"), str(in_tmp / "sources.yaml"))
    (pack / "sources.yaml").symlink_to(in_tmp / "sources.yaml")
    assert root.exists()
    errors = check("tests/fixtures/pack-7008").errors()
    assert errors[0].code == "file-link" and errors[0].span is not None
    assert errors[0].span.file == "packs/sec-7008/sources.yaml"


@pytest.mark.parametrize("written", ["~/packs/x", "https://example.org/pack", "C:/packs", "", "..", "."])
def test_pack_paths_that_are_not_relative_folders_are_refused(in_tmp: Path, written: str) -> None:
    root = _layout(in_tmp)
    law = root / "law.yaml"
    law.write_text(law.read_text().replace("include: [../../../packs/sec-7008]", f"include: [{written!r}]"))
    codes = [d.code for d in check(root).errors()]
    assert codes and codes[0] == "bad-include", codes


def test_too_many_packs(in_tmp: Path) -> None:
    root = _layout(in_tmp)
    law = root / "law.yaml"
    many = ", ".join(["../../../packs/sec-7008"] + [f"../../../packs/p{i}" for i in range(40)])
    law.write_text(law.read_text().replace("include: [../../../packs/sec-7008]", f"include: [{many}]"))
    messages = [d.message for d in check(root).errors() if d.code == "bad-include"]
    assert "`include`: more than 32 law packs" in messages


def test_the_schema_describes_packs_exemptions_dates_and_starts() -> None:
    law = schema("law.yaml")
    assert {"include", "exemptions"} <= set(law["properties"])
    rule = law["$defs"]["RuleFile"]["properties"]
    assert {"effective", "sunset", "exempt", "basis"} <= set(rule)
    regimes = schema("regimes.yaml")["$defs"]
    assert {"all", "any"} <= set(regimes["StartFile"]["properties"])
    assert "announced" in regimes["TimelineEntryFile"]["properties"]
    assert schema("pack.yaml")["required"] == ["id", "title"]


@pytest.mark.parametrize("pack", ["faa-1961", "sec-7008"])
def test_shipped_packs_validate_against_their_schemas(pack: str) -> None:
    import jsonschema

    for name in ("pack.yaml", "law.yaml", "facts.yaml", "sources.yaml"):
        data = yaml.safe_load((REPO / "packs" / pack / name).read_text())
        jsonschema.validate(_jsonable(data), schema(name))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def test_the_format_docs_show_the_fixture_they_name() -> None:
    """docs/format.md's pack example is a file the tests load (the `<!-- example: PATH -->` above the block)."""
    text = (REPO / "docs" / "format.md").read_text()
    import re

    found = re.findall(r"<!-- example: (\S+) -->\n```yaml\n(.*?)```", text, re.S)
    assert found
    for path, block in found:
        assert block == (REPO / path).read_text(), path
        assert check(REPO / Path(path).parent).passed


def test_the_store_keeps_dates_exemptions_and_starts() -> None:
    """The store's documents round-trip the new fields, so stored law and timelines keep their versions."""
    from tranche.store.codec import law_doc, law_from_doc, timeline_doc, timeline_from_doc, types_of

    s = load_scenario(FIXTURES / "pack-7008")
    assert law_from_doc(law_doc(s.law), types_of(s.attributes), s.law.version) == s.law
    assert all(timeline_from_doc(timeline_doc(t)) == t for t in s.timelines.values())
