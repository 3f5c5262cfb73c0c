"""The Peru 1962 scenario against the record (FRUS 1961-63 XII doc. 427 and its footnotes).

Every expected figure below is the record's: $6.1M of $9M (FY 1962 and earlier), $1.5M of $13.8M
(FY 1963), $7.6M of grant aid in all, under the limited position of 3 October 1962.  Shares are
recomputed here from those figures, not read from tranche.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tranche import compare, decide, load_scenario, run_tests
from tranche.cli.main import main

PERU = Path(__file__).parent.parent / "scenarios" / "peru-1962"
MEMO = dt.date(1962, 10, 3)
CONGRESS = "congress.appropriation.FY1963"


@pytest.fixture(scope="module")
def peru():  # type: ignore[no-untyped-def]
    return load_scenario(PERU)


def test_scenario_checks_clean() -> None:
    from tranche import check

    result = check(PERU)
    assert result.passed and not result.warnings(), [str(d) for d in result.diagnostics]


def test_program_totals_match_the_record(peru) -> None:  # type: ignore[no-untyped-def]
    sums: dict[str, Decimal] = {}
    for item in peru.items:
        sums[item.program] = sums.get(item.program, Decimal(0)) + item.amount
    assert sums["FY1962"] == Decimal("9000000.00")
    assert sums["FY1963"] == Decimal("13800000.00")
    assert all(i.channel == "sale" for i in peru.items if i.program == "PURCHASES")
    assert all(i.channel == "grant" for i in peru.items if i.program in ("FY1962", "FY1963"))


def test_policy_tests_pass(peru) -> None:  # type: ignore[no-untyped-def]
    results = run_tests(peru)
    assert len(results) >= 25
    assert [r.test.name for r in results if not r.passed] == []


def test_compare_cli_json_gives_the_memo_figures(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(PERU), "--as-of", "1962-10-03", "--options", "limited,recommended,full",
              "--assume", CONGRESS, "--format", "json"])
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "1962-10-03" and data["assumed"] == [CONGRESS]
    opts = {o["name"]: o for o in data["options"]}
    assert list(opts) == ["limited", "recommended", "full"]
    limited = {p["program"]: p for p in opts["limited"]["programs"]}
    assert limited["FY1962"]["total"] == "9000000.00" and limited["FY1962"]["permitted"] == "6100000.00"
    assert limited["FY1963"]["total"] == "13800000.00" and limited["FY1963"]["permitted"] == "1500000.00"
    assert limited["FY1962"]["permitted_share"] == round(6.1 / 9.0, 4) == 0.6778
    assert limited["FY1963"]["permitted_share"] == round(1.5 / 13.8, 4) == 0.1087
    grant = next(c for c in opts["limited"]["channels"] if c["channel"] == "grant")
    assert grant["permitted"] == "7600000.00"  # "totaling $7.6 million"
    # recommended permits more and sends the other grant items to review
    rec = {p["program"]: p for p in opts["recommended"]["programs"]}
    for prog in ("FY1962", "FY1963"):
        assert Decimal(rec[prog]["permitted"]) > Decimal(limited[prog]["permitted"])
        assert Decimal(rec[prog]["review"]) > 0
    # full conflicts with the law: the Presidential determination and the agreement amendment
    missing = {f for c in opts["full"]["conflicts"] for f in c["missing_facts"]}
    assert missing == {"presidential_determination.internal_security.PER", "mdaa.amendment.PER"}
    assert opts["limited"]["conflicts"] == []


def test_recommended_reviews_on_urgent_necessity(peru) -> None:  # type: ignore[no-untyped-def]
    reviewed = [decide(peru, i, MEMO, regime="recommended", assume=[CONGRESS]) for i in peru.items]
    criteria = {d.criterion for d in reviewed if d.outcome.value == "review"}
    assert criteria == {"urgent necessity"}


def test_record_timeline_follows_the_footnotes(peru) -> None:  # type: ignore[no-untyped-def]
    item = next(i for i in peru.items if i.program == "FY1962" and i.category == "end_items.civic_action")
    # suspension from the announcement of 18 July (doc. 420), relations resumed on 17 August (doc. 426), a limited
    # resumption from 8 October (telegram 281, doc. 427 footnote 6), the remaining special restrictions removed on
    # 23 October (telegram 313), constitutional government from 28 July 1963 (doc. 431 footnote 7)
    assert decide(peru, item, "1962-07-01").in_force.regime.id == "normal"
    assert decide(peru, item, "1962-07-18").in_force.regime.id == "suspension"
    assert decide(peru, item, "1962-08-17").in_force.regime.id == "interim"
    assert decide(peru, item, "1962-10-07").in_force.regime.id == "interim"
    assert decide(peru, item, "1962-10-08").in_force.regime.id == "limited"
    assert decide(peru, item, "1962-10-22").outcome.value == "prohibited"
    assert decide(peru, item, "1962-10-23").in_force.regime.id == "resumed"
    assert decide(peru, item, "1962-10-23").outcome.value == "permitted"
    assert decide(peru, item, "1963-07-28").in_force.regime.id == "constitutional"


def test_what_telegram_281_carried_is_marked_as_inference(peru) -> None:  # type: ignore[no-untyped-def]
    # doc. 427 footnote 6 records that a limited resumption began on 8 October, not which position telegram 281
    # carried: the record timeline's entry for it is an inference, and the other reading is a timeline of its own
    entry = next(e for e in peru.timelines["record"].entries if e.start_fact == "limited_resumption.PER")
    assert entry.regime == "limited" and entry.basis == "inference" and entry.notes
    other = peru.timelines["record-281-steps"]
    assert not other.record
    assert next(e for e in other.entries if e.start_fact == "limited_resumption.PER").regime == "recommended"
    item = peru.item("F62-TRN-03")  # additional training: step 2
    assert decide(peru, item, "1962-10-08").outcome.value == "prohibited"
    assert decide(peru, item, "1962-10-08", regime="record-281-steps").outcome.value == "permitted"


def test_ball_approved_plan_waits_for_congress(peru) -> None:  # type: ignore[no-untyped-def]
    result = compare(peru, MEMO, ["ball-approved"])
    assert result.options[0].regimes == ("interim",)  # the posture of 3 October
    result = compare(peru, MEMO, ["ball-approved"], [CONGRESS])
    assert result.options[0].regimes == ("recommended",)
    # Public Law 87-872 was approved on 23 October 1962: steps 1-3 from then, without assuming anything
    result = compare(peru, dt.date(1962, 10, 23), ["ball-approved"])
    assert result.options[0].regimes == ("recommended",)
    result = compare(peru, dt.date(1962, 11, 20), ["ball-approved"])
    assert result.options[0].regimes == ("full",)


# --- issue 10: the whole episode, faithful to the record -------------------------------------------------


def test_timeline_of_record_runs_from_march_1962_to_july_1963(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["timeline", str(PERU), "--as-of", "1963-08-01", "--format", "json"])
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    record = next(t for t in data["timelines"] if t["record"])
    periods = record["periods"]
    assert periods[0]["start"] == "1962-03-24"  # the warning authorized (doc. 415)
    assert periods[-1]["start"] == "1963-07-28" and periods[-1]["end"] is None  # Belaúnde inaugurated (doc. 431)
    assert [p["regime"] for p in periods] == ["normal", "suspension", "interim", "limited", "resumed",
                                              "constitutional"]
    assert [p["start"] for p in periods] == ["1962-03-24", "1962-07-18", "1962-08-17", "1962-10-08", "1962-10-23",
                                             "1963-07-28"]
    assert all(p["basis"] in ("record", "inference") for p in periods)
    facts = {f["fact"]: f for f in data["facts"]}
    assert facts["relations.resumed.PER"]["date"] == "1962-08-17"  # doc. 426
    assert facts["congress.appropriation.FY1963"]["date"] == "1962-10-23"  # Public Law 87-872, 76 Stat. 1163
    assert facts["elections.1963.PER"]["date"] == "1963-06-09"  # doc. 431, footnote 7
    assert all(f["basis"] for f in data["facts"])


def test_fy1963_no_longer_blocked_on_congressional_action_on_24_october(capsys: pytest.CaptureFixture[str]) -> None:
    def fy1963(day: str) -> dict:  # type: ignore[type-arg]
        with pytest.raises(SystemExit) as exc:
            main(["compare", str(PERU), "--as-of", day, "--options", "record", "--format", "json", "--by-item"])
        assert exc.value.code == 0
        option = json.loads(capsys.readouterr().out)["options"][0]
        program = next(p for p in option["programs"] if p["program"] == "FY1963")
        program["waiting_on_congress"] = [d["item"] for d in option["decisions"] if CONGRESS in d["missing_facts"]]
        return program  # type: ignore[no-any-return]

    before, after = fy1963("1962-10-22"), fy1963("1962-10-24")
    # under the limited position, what waits on Congress is the memo's "$1.5 million ... if approved"
    assert before["blocked"] == "1500000.00" and before["waiting_on_congress"]
    assert after["waiting_on_congress"] == []
    # what stays blocked is the internal-security component, for want of the determination and the amendment
    internal_security = sum((i.amount for i in load_scenario(PERU).items
                             if i.program == "FY1963" and "internal_security" in i.flags), Decimal(0))
    assert Decimal(after["blocked"]) == internal_security
    assert Decimal(after["permitted"]) == Decimal("13800000.00") - internal_security


def test_economic_aid_on_1_september_1962_no_new_commitments(peru) -> None:  # type: ignore[no-untyped-def]
    # doc. 421: "resume most economic aid programs, but not to undertake new commitments"
    new = decide(peru, peru.item("ECO-NEW-01"), "1962-09-01")
    existing = decide(peru, peru.item("ECO-PRG-01"), "1962-09-01")
    assert new.item.attrs["commitment"] == "new" and existing.item.attrs["commitment"] == "existing"
    assert new.outcome.value == "prohibited" and new.rules == ("interim.economic.no_new_commitments",)
    assert existing.outcome.value == "permitted" and existing.rules == ("interim.economic.existing_programs",)
    for d in (new, existing):
        rule = next(r for r in peru.regimes["interim"].rules if r.id == d.rules[0])
        assert rule.sources == ("frus-421",) and rule.basis == "record"
    # the suspension of 18 July stopped economic aid too ("all but humanitarian assistance", doc. 420)
    assert decide(peru, peru.item("ECO-PRG-01"), "1962-08-01").outcome.value == "prohibited"


def test_purchases_on_3_october_are_the_memos_present_basis(peru) -> None:  # type: ignore[no-untyped-def]
    # "the present basis (maintenance and spares only, with certain other items on a “case by case” basis)"
    day = "1962-10-03"
    assert decide(peru, peru.item("PUR-SPR-01"), day).outcome.value == "permitted"
    assert decide(peru, peru.item("PUR-SEN-01"), day).outcome.value == "review"
    assert decide(peru, peru.item("F62-MNT-01"), day).outcome.value == "prohibited"  # grant aid had not resumed


def test_decide_json_shows_the_basis_of_every_item(capsys: pytest.CaptureFixture[str], peru) -> None:  # type: ignore[no-untyped-def]
    for item in peru.items:
        with pytest.raises(SystemExit) as exc:
            main(["decide", str(PERU), item.id, "--as-of", "1962-10-03", "--format", "json"])
        assert exc.value.code == 0
        data = json.loads(capsys.readouterr().out)
        assert data["basis"]["item"] == item.basis == "illustrative", item.id
        assert data["basis"]["program"] == peru.programs[item.program].basis
        assert data["request"]["basis"] == "illustrative"
    # the memo's grant programs are record figures; purchases and economic aid are illustrative
    assert {p: peru.programs[p].basis for p in peru.programs} == {
        "FY1962": "record", "FY1963": "record", "PURCHASES": "illustrative", "ECONOMIC": "illustrative"}


def test_no_illustrative_claim_cites_a_source_as_its_own(peru) -> None:  # type: ignore[no-untyped-def]
    from tranche import lint

    claims = [*peru.items, *peru.programs.values(), *peru.facts.values(), *peru.law.rules,
              *(r for reg in peru.regimes.values() for r in reg.rules), *peru.regimes.values(),
              *(e for t in peru.timelines.values() for e in t.entries)]
    assert all(c.basis in ("record", "inference", "illustrative") for c in claims)
    assert [c for c in claims if c.basis == "illustrative" and c.sources] == []
    assert [c for c in claims if c.basis == "record" and not c.sources] == []
    found = {d.code for d in lint(peru)}
    assert not found & {"illustrative-cites-source", "record-without-source", "inference-without-reasoning"}


def test_compare_keeps_record_figures_apart_from_illustrative_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(PERU), "--as-of", "1962-10-03", "--options", "limited", "--assume", CONGRESS,
              "--format", "json"])
    assert exc.value.code == 0
    option = json.loads(capsys.readouterr().out)["options"][0]
    bases = {b["basis"]: b for b in option["bases"]}
    assert set(bases) == {"record", "illustrative"}
    assert bases["record"]["total"] == "22800000.00"  # $9M + $13.8M (doc. 427)
    assert bases["record"]["permitted"] == "7600000.00"  # "totaling $7.6 million"
    assert {p["program"]: p["basis"] for p in option["programs"]} == {
        "FY1962": "record", "FY1963": "record", "PURCHASES": "illustrative", "ECONOMIC": "illustrative"}


def test_the_submarine_request_is_a_review_case(peru) -> None:  # type: ignore[no-untyped-def]
    test = next(t for t in peru.tests if t.item.id == "REQ-SUB-01")
    d = decide(peru, test.item, test.as_of)
    assert test.as_of == dt.date(1963, 1, 25)  # doc. 428
    assert d.outcome.value == "review" and "U.S. suppliers" in (d.criterion or "")
    assert test.item.sources == ("frus-428",) and test.item.amount == Decimal("20000000.00")  # "$20 million"


def test_every_dated_event_has_a_policy_test(peru) -> None:  # type: ignore[no-untyped-def]
    tested = {t.as_of for t in peru.tests}
    dated = {f.id: f.date for f in peru.facts.values() if f.date is not None}
    assert [f for f, day in dated.items() if day not in tested] == []


def test_511a_ceiling(peru) -> None:  # type: ignore[no-untyped-def]
    """FAA 1961 §511(a) (75 Stat. 438): grant defense articles for the American Republics "shall not exceed
    $57,500,000" a fiscal year, sales under §507 excepted. With every precondition assumed, `full` permits all of
    Peru's FY 1963 grant articles: the cap blocks none, and the headroom is the ceiling less their sum (computed
    here from the pipeline, training excluded as defense services)."""
    ceiling = Decimal("57500000.00")
    facts = [f for f in ("congress.appropriation.FY1963", "presidential_determination.internal_security.PER",
                         "mdaa.amendment.PER") if f in peru.facts]
    result = compare(peru, dt.date(1962, 10, 3), ["full"], facts).options[0]
    fy63 = next(c for c in result.caps if c.pool == ("FY1963",))
    articles = sum((i.amount for i in peru.items if i.program == "FY1963" and i.channel == "grant"
                    and not (i.category == "training" or i.category.startswith("training."))), Decimal(0))
    assert fy63.limit == ceiling and fy63.blocked == 0 and fy63.allocated == articles
    assert fy63.headroom == ceiling - articles


def test_the_record_s_markings_are_carried_for_clearances(peru) -> None:  # type: ignore[no-untyped-def]
    """The FRUS source notes: doc. 427 is Secret, doc. 421 Confidential; the service withholds by them."""
    assert peru.sources["frus-427"].marking == "SECRET"
    assert peru.sources["frus-421"].marking == "CONFIDENTIAL"
    assert all(s.notes and s.notes[0].startswith("marking:") for s in peru.sources.values() if s.id.startswith("frus-"))
