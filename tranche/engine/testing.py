"""Policy tests: run a scenario's expected decisions (like `opa test`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import TrancheError
from ..language.scenario import PolicyTest, Scenario
from .decide import Decision, Evaluator

__all__ = ["TestResult", "run_tests"]


@dataclass(frozen=True)
class TestResult:
    """One policy test: passed or not, and why not."""

    test: PolicyTest
    decision: Decision | None
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.test.name, "passed": self.passed, "failures": list(self.failures),
                "expected": self.test.expect.value,
                "got": self.decision.outcome.value if self.decision else None,
                "rules": list(self.decision.rules) if self.decision else None,
                "file": str(self.test.span) if self.test.span else None}


def run_tests(scenario: Scenario) -> list[TestResult]:
    """Run every policy test of the scenario."""
    results = []
    for t in scenario.tests:
        try:
            d = Evaluator(scenario, t.as_of, t.assume, t.regime).decide(t.item)
        except TrancheError as exc:
            results.append(TestResult(t, None, (f"error: {exc.message}",)))
            continue
        failures = []
        if d.outcome is not t.expect:
            failures.append(f"expected {t.expect.value}, got {d.outcome.value} (decided by {', '.join(d.rules)})")
        if t.missing is not None and sorted(t.missing) != sorted(d.missing_facts):
            failures.append(f"expected missing facts {sorted(t.missing)}, got {sorted(d.missing_facts)}")
        if t.rules is not None and sorted(t.rules) != sorted(d.rules):
            failures.append(f"expected deciding rules {sorted(t.rules)}, got {sorted(d.rules)}")
        if t.criterion is not None and (d.criterion is None or t.criterion not in d.criterion):
            failures.append(f"expected criterion `{t.criterion}`, got `{d.criterion}`")
        if t.actions is not None:
            got = sorted(dict.fromkeys(o.name for o in d.obligations() if o.kind == "action"))
            if sorted(set(t.actions)) != got:
                failures.append(f"expected actions {sorted(set(t.actions))}, got {got}")
        results.append(TestResult(t, d, tuple(failures)))
    return results
