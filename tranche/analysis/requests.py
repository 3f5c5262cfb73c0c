"""The classes of one regime: every request the vocabulary allows, grouped by final outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from ..engine.timeline import FactState
from ..language.scenario import OUTCOMES, LineItem, Outcome, Scenario
from .classes import Cube, Domain, Label, LayerSpec, LayerView, Partitioner, max_outcomes, single
from .describe import describe

__all__ = ["RequestClass", "request_classes"]


@dataclass(frozen=True)
class RequestClass:
    """A set of requests (a cube of the domain) that every item of gets the same decision."""

    cube: Cube
    outcome: Outcome
    domain: Domain = field(compare=False, repr=False)

    def contains(self, item: LineItem, facts: FactState | Iterable[str] | None = None) -> bool:
        point = self.domain.point(item, facts)
        return point is not None and self.domain.contains(self.cube, point)

    def describe(self) -> str:
        return describe(self.domain, self.cube)


def request_classes(scenario: Scenario, regime: str, facts: Mapping[str, bool] | None = None) -> list[RequestClass]:
    """The classes of requests under the law and ``regime`` (a regime id), each with its final outcome.

    Fact states not fixed by ``facts`` are dimensions.  Every request falls in exactly one class.
    """
    reg = scenario.regimes[regime]
    domain = Domain(scenario, scenario.law.rules + reg.rules, facts)
    layers = (LayerSpec("law", scenario.law.rules, scenario.law.default),
              LayerSpec(reg.id, reg.rules, reg.default))

    def label(views: Sequence[LayerView]) -> Label | None:
        both = max_outcomes(views[0].possible, views[1].possible)
        return both.bit_length() - 1 if single(both) else None

    diagram = Partitioner(domain, layers, label).run()
    return [RequestClass(c, OUTCOMES[lab], domain) for lab, cubes in diagram.pieces().items()
            if isinstance(lab, int) for c in cubes]
