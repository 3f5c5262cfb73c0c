"""Burkina Faso 2022: a modern real case in the documented format, its figures the record's.

Record: on 18 February 2022 the State Department assessed that a military coup
had taken place and that "approximately $158.6 million in foreign assistance
that benefits the Government of Burkina Faso is restricted" (Reuters); the MCC
paused its $450 million compact on 31 January.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import tranche
from tranche.analysis.testing import run_aggregates

FOLDER = Path(__file__).parent.parent / "scenarios" / "burkina-faso-2022"
RESTRICTED = Decimal("158600000.00")  # the State Department's figure
COMPACT = Decimal("450000000.00")  # the MCC compact


def test_policy_tests_pass() -> None:
    s = tranche.load_scenario(FOLDER)
    assert all(r.passed for r in tranche.run_tests(s)) and all(a.passed for a in run_aggregates(s))


def test_the_law_restricts_the_record_total_from_the_determination_only() -> None:
    s = tranche.load_scenario(FOLDER)

    def restricted(day: dt.date) -> Decimal:
        opt = tranche.compare(s, day, ["programmed"]).options[0]
        return sum((d.item.amount for d in opt.decisions if "law.7008" in d.rules), Decimal(0))

    assert restricted(dt.date(2022, 2, 17)) == 0
    assert restricted(dt.date(2022, 2, 18)) == RESTRICTED
    assert restricted(dt.date(2022, 10, 1)) == RESTRICTED  # the second coup changes nothing


def test_the_compact_is_held_by_the_mcc_pause_and_its_action_totalled() -> None:
    s = tranche.load_scenario(FOLDER)
    opt = tranche.compare(s, dt.date(2022, 2, 18), ["record"]).options[0]
    suspend = next(o for o in opt.obligations if o.name == "suspend_compact_activity")
    assert suspend.amount == COMPACT
    d = tranche.decide(s, "M22-MCC-01", "2022-02-18")
    assert d.outcome.value == "prohibited" and d.lifted_by == ("mcc.resume.BFA",)


def test_bulk_agrees_with_decide_across_the_episode(tmp_path: Path) -> None:
    import duckdb

    from tranche.compiler import bulk
    from tranche.language.values import format_set

    s = tranche.load_scenario(FOLDER)
    items = tmp_path / "items.csv"
    items.write_text("id,recipient,program,channel,category,amount,flags,implementer,account\n" + "".join(
        f'{i.id},{i.recipient},{i.program},{i.channel},{i.category},{i.amount},"{format_set(i.flags)}",'
        f'{i.attrs["implementer"]},{i.attrs["account"]}\n' for i in s.items))
    days = [dt.date(2022, 1, 20), dt.date(2022, 2, 1), dt.date(2022, 2, 18), dt.date(2022, 10, 1)]
    for assume in ([], ["waiver.health.BFA"]):
        out = tmp_path / f"out{len(assume)}.parquet"
        bulk(s, items, out, days, [None, "programmed"], assume)
        got = {(r[0], r[1], r[2]): r[3] for r in
               duckdb.sql(f"SELECT id, option, as_of, outcome FROM read_parquet('{out}')").fetchall()}
        for day in days:
            for option in (None, "programmed"):
                ev = tranche.evaluator(s, day, assume, option)
                for item in s.items:
                    assert got[(item.id, option, day)] == ev.decide(item).outcome.value, (item.id, option, day)
