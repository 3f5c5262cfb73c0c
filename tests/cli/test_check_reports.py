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


PERU = Path(__file__).parent.parent.parent / "scenarios" / "peru-1962"


def peru_broken(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A copy of the Peru scenario with each ``(old, new)`` edit made once in regimes.yaml (``old`` must be
    there, once)."""
    root = tmp_path / "peru"
    shutil.copytree(PERU, root)
    path = root / "regimes.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return root


def where(root: Path, token: str, after: str = "") -> tuple[int, int]:
    """Line and column (1-based) of ``token`` in the copy's regimes.yaml, first after the text ``after``."""
    text = (root / "regimes.yaml").read_text(encoding="utf-8")
    offset = text.index(token, text.index(after) if after else 0)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def test_every_problem_of_one_regime_file_is_reported_in_one_run(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    """Six independent mistakes in the Peru scenario's regimes.yaml: three rules that fail their shape check
    (a bad `effect`, a `when` written as a list, an unknown field) and, around them, an unknown operator, an
    unknown flag in the rule with the bad effect, an unknown flag and an unknown fact elsewhere.  One run
    reports every one at its file:line:col, and the tests that name the malformed rules are not "unknown rule"."""
    tests = (PERU / "tests.yaml").read_text()
    for rule in ("limited.grant.internal_security", "interim.economic.no_new_commitments", "resumed.sale.naval_vessels"):
        assert f"[{rule}]" in tests  # tests.yaml names each rule made malformed below
    root = peru_broken(
        tmp_path,
        ("          flags: [internal_security]\n        effect: forbid",
         "          flags: [internal_securty]\n        effect: allow"),
        ("          channel: economic\n          commitment: new\n",
         "          - channel: economic\n          - commitment: new\n"),
        ("        criterion: >-\n          the President, 25 January 1963",
         "        critrion: >-\n          the President, 25 January 1963"),
        ("category: {not: [maintenance, spares]}", "category: {nto: [maintenance, spares]}"),
        ("          flags: [humanitarian]", "          flags: [humanitarain]"),
        ("from: {fact: restrictions.removed.PER}\n        basis: record\n        sources: [tel-313]\n        notes:",
         "from: {fact: restrictions.remved.PER}\n        basis: record\n        sources: [tel-313]\n        notes:"),
    )
    code, errors = check(capsys, root)
    assert code == 1
    found = sorted((e["code"], e["line"], e["column"]) for e in errors)
    assert found == sorted([
        ("bad-value", *where(root, "allow", "effect: allow")),
        ("unknown-flag", *where(root, "internal_securty")),
        ("bad-type", *where(root, "- channel: economic")),
        ("unknown-field", *where(root, "critrion", "critrion:")),
        ("bad-operator", *where(root, "nto", "{nto:")),
        ("unknown-flag", *where(root, "humanitarain", "flags: [humanitarain]")),
        ("unknown-fact", *where(root, "restrictions.remved.PER")),
    ]), errors
    assert all(Path(e["file"]).name == "regimes.yaml" and e["help"] for e in errors), errors
    helps = {e["code"] + ":" + e["message"].rsplit(" ", 1)[-1]: e["help"] for e in errors}
    assert helps["bad-value:'forbid'"] == "did you mean `permit`?"  # `allow` means permit
    assert helps["unknown-flag:`internal_securty`"] == "did you mean `internal_security`?"
    assert helps["bad-operator:`nto`"] == "did you mean `not`?"
    assert "must be a mapping" in next(e["message"] for e in errors if e["code"] == "bad-type")


@pytest.mark.parametrize("old, new, flag, means", [
    ("          flags: [humanitarian]", "          flags: [humanitarain]", "humanitarain", "humanitarian"),
    ("        unless:\n          flags: {any: [internal_security, sensitive]}\n        effect: permit\n        basis: "
     "record\n        sources: [frus-427]\n        notes:",
     "        unless:\n          flags: {any: [internal_security, sensitve]}\n        effect: permit\n        basis: "
     "record\n        sources: [frus-427]\n        notes:", "sensitve", "sensitive"),
    ("          channel: grant\n          flags: [internal_security]",
     "          channel: grant\n          flags: [sensitive, internal-security]", "internal-security",
     "internal_security"),
])
def test_an_unknown_flag_points_at_its_entry(capsys: pytest.CaptureFixture[str], tmp_path: Path, old: str, new: str,
                                             flag: str, means: str) -> None:
    """An unknown flag in a rule's `flags` (a list, or a list under an operator inside `unless`) is located at
    the flag itself, with the close declared flag as the help."""
    declared = (PERU / "scenario.yaml").read_text()
    assert f"\n  {means}:" in declared and f"\n  {flag}:" not in declared
    root = peru_broken(tmp_path, (old, new))
    code, errors = check(capsys, root)
    assert code == 1
    assert [(e["code"], e["line"], e["column"]) for e in errors] == [("unknown-flag", *where(root, flag, new))], errors
    assert errors[0]["message"].endswith(f"unknown flag `{flag}`")
    assert errors[0]["help"] == f"did you mean `{means}`?"


def test_a_malformed_law_rule_hides_nothing_of_the_regimes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A law rule that fails its shape check is set aside too: the law's other rules are still read, so the
    regimes are still checked against it, and their own mistakes come out in the same run."""
    root = peru_broken(tmp_path, ("          flags: [humanitarian]", "          flags: [humanitarain]"))
    law = root / "law.yaml"
    text = law.read_text(encoding="utf-8")
    first = text.index("effect: ")
    law.write_text(text[:first] + "effect: alow" + text[text.index("\n", first):], encoding="utf-8")
    code, errors = check(capsys, root)
    assert code == 1
    assert sorted((Path(e["file"]).name, e["code"]) for e in errors) == [
        ("law.yaml", "bad-value"), ("regimes.yaml", "unknown-flag")], errors


def test_a_bad_default_hides_nothing_else_of_its_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A regime's `default: forbid` (the outcome is `prohibited`) is reported and set aside: the file's other
    regimes and rules are still checked, the regimes that extend it raise no "missing default", and the tests
    that name it are not "unknown regime"."""
    assert "regime: suspension" in (PERU / "tests.yaml").read_text()  # a test names the regime
    assert "extends: suspension" in (PERU / "regimes.yaml").read_text()  # and a regime extends it
    root = peru_broken(tmp_path,
                       ("    recipients: [PER]\n    default: prohibited\n    basis: record\n",
                        "    recipients: [PER]\n    default: forbid\n    basis: record\n"),
                       ("          flags: [internal_security]\n        effect: forbid",
                        "          flags: [internal_securty]\n        effect: forbid"),
                       ("from: {fact: restrictions.removed.PER}\n        basis: record\n        sources: [tel-313]\n"
                        "        notes:",
                        "from: {fact: restrictions.remved.PER}\n        basis: record\n        sources: [tel-313]\n"
                        "        notes:"))
    code, errors = check(capsys, root)
    assert code == 1
    assert sorted((e["code"], e["line"], e["column"]) for e in errors) == sorted([
        ("bad-value", *where(root, "forbid", "default: forbid")),
        ("unknown-flag", *where(root, "internal_securty")),
        ("unknown-fact", *where(root, "restrictions.remved.PER")),
    ]), errors
    assert next(e["help"] for e in errors if e["code"] == "bad-value") == "did you mean `prohibited`?"


def test_an_unknown_name_far_from_every_declared_one_says_where_they_are(capsys: pytest.CaptureFixture[str],
                                                                        tmp_path: Path) -> None:
    facts = [line for line in (PERU / "facts.yaml").read_text().splitlines() if line.startswith("  - id: ")]
    assert len(facts) > 12  # too many to list in the help
    root = peru_broken(tmp_path, ("from: {fact: restrictions.removed.PER}\n        basis: record\n        sources: "
                                  "[tel-313]\n        notes:",
                                  "from: {fact: zzz}\n        basis: record\n        sources: [tel-313]\n        notes:"))
    code, errors = check(capsys, root)
    assert code == 1 and [e["code"] for e in errors] == ["unknown-fact"], errors
    assert errors[0]["help"] == (f"none of the {len(facts)} declared in facts.yaml is close; check the spelling "
                                 "there")


def test_mistakes_outside_rules_set_aside_only_their_entry(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    """A regime of the wrong shape, an unknown key on another regime, a timeline entry of the wrong shape, a program
    and a source with mistakes of their own: each is reported and set aside (or, for an unknown key, the key), and
    the rest of every file is still read, so an unknown fact in the same timeline comes out in the same run, and
    nothing that names the regime set aside (timelines, tests, the regime extending it) cascades."""
    assert "extends: suspension" in (PERU / "regimes.yaml").read_text()
    assert "regime: suspension" in (PERU / "tests.yaml").read_text()
    root = peru_broken(
        tmp_path,
        ("    recipients: [PER]\n    default: prohibited\n    basis: record\n",
         "    recipients: PER\n    default: prohibited\n    basis: record\n"),
        ("  - id: normal\n", "  - id: normal\n    titel: Normal\n"),
        ("      - regime: resumed\n        from: {fact: restrictions.removed.PER}\n        basis: record\n"
         "        sources: [tel-313]\n        notes:",
         "      - regime: resumed\n        from: {fact: restrictions.remved.PER}\n        basis: record\n"
         "        sources: [tel-313]\n        notes:"),
    )
    for file, old, new in (("programs.yaml", "    fiscal_year: 1963\n", "    fiscal_year: 1963x\n"),
                           ("sources.yaml", "  - id: frus-415\n", "  - id: frus-415\n    urll: x\n"),
                           ("regimes.yaml", "      - regime: interim\n        from: {fact: relations.resumed.PER}",
                            "      - regime: interim\n        from: 1962-08-17")):  # the first timeline's
        text = (root / file).read_text(encoding="utf-8")
        assert old in text, old
        (root / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    code, errors = check(capsys, root)
    assert code == 1
    found = sorted((Path(e["file"]).name, e["code"], e["line"]) for e in errors)
    assert found == sorted([
        ("regimes.yaml", "bad-type", line_of(root, "regimes.yaml", "recipients: PER")),
        ("regimes.yaml", "unknown-field", line_of(root, "regimes.yaml", "titel: Normal")),
        ("regimes.yaml", "bad-type", line_of(root, "regimes.yaml", "from: 1962-08-17")),
        ("regimes.yaml", "unknown-fact", line_of(root, "regimes.yaml", "restrictions.remved.PER")),
        ("programs.yaml", "bad-number", line_of(root, "programs.yaml", "1963x")),
        ("sources.yaml", "unknown-field", line_of(root, "sources.yaml", "urll: x")),
    ]), errors
    unknown_fact = next(e for e in errors if e["code"] == "unknown-fact")
    assert unknown_fact["message"].startswith("timeline `record`, entry 5:")  # counted as written, not as read
    assert all(e["help"] for e in errors)


def test_a_malformed_id_is_one_error_not_one_per_reference(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    """`id: limited!` (a character ids may not have): the regime is set aside with that one error; the timelines,
    the regime extending it and the tests that name `limited` (and its default, `default:limited`) are the id
    meant, not unknown names. A name that is not the id without its bad characters is still unknown."""
    tests = (PERU / "tests.yaml").read_text()
    assert "regime: limited" in tests and "default:limited" in tests
    root = peru_broken(tmp_path, ("  - id: limited\n", "  - id: limited!\n"))
    code, errors = check(capsys, root)
    assert code == 1
    assert [(e["code"], e["line"]) for e in errors] == [("bad-id", line_of(root, "regimes.yaml", "id: limited!"))]
    root = peru_broken(tmp_path / "other", ("  - id: limited\n", "  - id: limited regime\n"))
    code, errors = check(capsys, root)
    assert {"bad-id", "unknown-regime", "unknown-rule"} <= {e["code"] for e in errors}  # a rename, as it stands
