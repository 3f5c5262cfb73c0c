"""Aggregate policy tests: expected `compare` figures and `diff` statements at a date (tests.yaml `aggregates`).

They run here, above the engine, because a `diff` expectation needs the analysis;
`tranche test` runs them after the item tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine import compare
from ..engine.compare import Summary
from ..errors import TrancheError
from ..language.scenario import AggregateTest, Outcome, Scenario
from ..language.values import ZERO
from .diff import diff

__all__ = ["AggregateResult", "run_aggregates"]

SHARE_TOLERANCE = 0.0005  # a share written with three decimals (0.678) matches the computed one (0.6778)


@dataclass(frozen=True)
class AggregateResult:
    """One aggregate test: passed or not, and why not."""

    test: AggregateTest
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.test.name, "kind": self.test.kind, "passed": self.passed, "failures": list(self.failures),
                "file": str(self.test.span) if self.test.span else None}


OBLIGATIONS = ("action", "notification")


def _row(t: AggregateTest, s: Scenario) -> Summary | str:
    prefix, _, value = t.row.partition(":")
    by = prefix if value and prefix not in ("channel", *OBLIGATIONS) else None
    result = compare(s, t.as_of, [t.option], t.assume, by=by).options[0]
    if t.row == "total":
        return result.totals
    if prefix in OBLIGATIONS and value:  # the lines that carry the obligation, by outcome
        row = Summary(t.row)
        for d in result.decisions:
            if any(o.kind == prefix and o.name == value for o in d.obligations()):
                row.add(d.item.amount, d.outcome)
        return row
    rows = result.channels if prefix == "channel" and value else result.groups if value else result.programs
    key = value or t.row
    found = next((r for r in rows if r.program == key), None)
    return found if found is not None else f"no row `{t.row}` under `{t.option}`"


def _compare(t: AggregateTest, s: Scenario) -> list[str]:
    row = _row(t, s)
    if isinstance(row, str):
        return [row]
    failures = []
    for key, want in t.amounts.items():
        got = row.total if key == "total" else row.amounts[Outcome(key)]
        if got != want:
            failures.append(f"`{t.row}` under `{t.option}`: expected {key} {want:,.2f}, got {got:,.2f}")
    if t.share is not None and abs(row.permitted_share - t.share) > SHARE_TOLERANCE:
        failures.append(f"`{t.row}` under `{t.option}`: expected a permitted share of {t.share}, got "
                        f"{row.permitted_share}")
    if t.items is not None and row.items != t.items:
        failures.append(f"`{t.row}` under `{t.option}`: expected {t.items} items, got {row.items}")
    return failures


def _diff(t: AggregateTest, s: Scenario) -> list[str]:
    d = diff(s, t.option, t.other, as_of=t.as_of, assume=t.assume, law=t.with_law)
    failures = []
    texts = [st.text for st in d.statements]
    if t.statements is not None and len(texts) != t.statements:
        failures.append(f"expected {t.statements} statements, got {len(texts)}: " + "; ".join(texts))
    every = d.texts()  # with the law: also the notifications owed and the caps' effects
    for want in t.includes:
        if not any(want in x for x in every):
            failures.append(f"no statement says `{want}`; the statements: " + "; ".join(every))
    if "total" in t.amounts:
        got = sum((st.amount for st in d.statements), ZERO)
        if got != t.amounts["total"]:
            failures.append(f"expected the statements to cover {t.amounts['total']:,.2f}, got {got:,.2f}")
    return failures


def run_aggregates(scenario: Scenario) -> list[AggregateResult]:
    """Run every aggregate test of the scenario."""
    out = []
    for t in scenario.aggregates:
        try:
            failures = _compare(t, scenario) if t.kind == "compare" else _diff(t, scenario)
        except TrancheError as exc:
            failures = [f"error: {exc.message}"]
        out.append(AggregateResult(t, tuple(failures)))
    return out
