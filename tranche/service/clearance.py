"""What a user may see of a scenario: markings against their clearance.

Line items, regimes, facts and sources carry a classification marking
(UNCLASSIFIED < CONFIDENTIAL < SECRET); a user has a clearance.  A
:class:`View` is a scenario as seen at one clearance:

- items above it are left out of every list, decision and total, and every
  total says how many items were withheld (``withheld_items``; their amounts
  are themselves above the clearance, so they are not added up for the user);
- a regime above it, and a timeline or rule that is part of one, is unknown
  to the user (an option naming it is refused as unknown);
- a fact or source above it is left out of lists and explanations.

Decisions themselves are not changed: an item is decided on every fact, as
for everyone (the contract says the same item, date and facts give the same
outcome); what the user cannot see is withheld from what is shown, by
:meth:`View.redact`, which every response of the service passes through.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any, Iterable

from ..errors import NotFound, UsageError, did_you_mean
from ..language import MARKINGS, LineItem, Scenario, marking_rank

__all__ = ["View", "WITHHELD"]

WITHHELD = "[withheld]"
_IDENTIFYING = ("id", "item", "fact", "regime", "source", "rule", "timeline")


class View:
    """A scenario at one clearance (see the module's docstring)."""

    def __init__(self, scenario: Scenario, clearance: str) -> None:
        self.scenario = scenario
        self.clearance = clearance
        self.rank = marking_rank(clearance) if clearance in MARKINGS else -1
        s = scenario
        self.items: tuple[LineItem, ...] = tuple(i for i in s.items if self.sees(i.marking))
        hidden_items = [i for i in s.items if not self.sees(i.marking)]
        self.hidden_items: tuple[LineItem, ...] = tuple(hidden_items)
        self.withheld_by_program: Counter[str] = Counter(i.program for i in hidden_items)
        self.withheld_by_channel: Counter[str] = Counter(i.channel for i in hidden_items)
        self.hidden_regimes = {r.id for r in s.regimes.values() if not self.sees(r.marking)}
        self.hidden_timelines = {t.id for t in s.timelines.values()
                                 if any(e.regime in self.hidden_regimes for e in t.entries)}
        self.hidden_facts = {f.id for f in s.facts.values() if not self.sees(f.marking)}
        self.hidden_sources = {x.id for x in s.sources.values() if not self.sees(x.marking)}
        hidden_rules = {r.id for rid in self.hidden_regimes for r in s.regimes[rid].rules}
        self.hidden: frozenset[str] = frozenset(
            {i.id for i in hidden_items} | self.hidden_regimes | self.hidden_timelines | self.hidden_facts
            | self.hidden_sources | hidden_rules)
        self._quoted = re.compile("`(" + "|".join(re.escape(h) for h in sorted(self.hidden, key=len, reverse=True))
                                  + ")`") if self.hidden else None

    def sees(self, marking: str) -> bool:
        """Whether something marked ``marking`` is within the clearance."""
        return marking_rank(marking) <= self.rank

    @property
    def withheld_items(self) -> int:
        return sum(self.withheld_by_program.values())

    @property
    def complete(self) -> bool:
        """Whether nothing of the scenario is withheld."""
        return not self.hidden

    # -- refusing what the user cannot name ------------------------------------------------------------
    def item(self, item_id: str) -> LineItem:
        """A visible item; an item above the clearance is as unknown as one that does not exist."""
        if not self.scenario.has_item(item_id) or item_id in self.hidden:
            raise NotFound(f"unknown item `{item_id}`", help=did_you_mean(item_id, [i.id for i in self.items]))
        return self.scenario.item(item_id)

    def option(self, name: str) -> str:
        """A regime or timeline name the user may use."""
        if name in self.hidden:
            known = [x for x in (*self.scenario.regimes, *self.scenario.timelines) if x not in self.hidden]
            raise NotFound(f"unknown regime `{name}`", help=did_you_mean(name, known)
                             or "one of " + ", ".join(f"`{k}`" for k in known))
        return name

    def options(self, names: Iterable[str]) -> list[str]:
        return [self.option(n) for n in names]

    def assume(self, facts: Iterable[str]) -> list[str]:
        """Assumed facts (``FACT`` or ``FACT@DATE``) the user may name."""
        out = []
        for f in facts:
            if f.split("@", 1)[0] in self.hidden:
                known = [x for x in self.scenario.facts if x not in self.hidden]
                raise UsageError(f"unknown fact `{f.split('@', 1)[0]}`", help=did_you_mean(f, known))
            out.append(f)
        return out

    def scenario_for_totals(self) -> Scenario:
        """The scenario with only the visible items (what comparisons sum)."""
        if len(self.items) == len(self.scenario.items):
            return self.scenario
        return dataclasses.replace(self.scenario, items=self.items)

    # -- what is shown -----------------------------------------------------------------------------------
    def redact(self, value: Any) -> Any:
        """``value`` (JSON-ready data) without anything above the clearance: a mapping naming a hidden thing is
        dropped from a list (replaced by ``[withheld]`` elsewhere), a hidden id in a list is dropped, a hidden id
        as a value or quoted in a text becomes ``[withheld]``."""
        if not self.hidden:
            return value
        return self._redact(value)

    def redact_doc(self, doc: dict[str, Any]) -> dict[str, Any]:
        """:meth:`redact` of a mapping, which stays a mapping (``{"withheld": true}`` if it names a hidden thing)."""
        out = self.redact(doc)
        return out if isinstance(out, dict) else {"withheld": True}

    def _names_hidden(self, d: dict[str, Any]) -> bool:
        return any(isinstance(d.get(k), str) and d[k] in self.hidden for k in _IDENTIFYING)

    def _redact(self, value: Any) -> Any:
        if isinstance(value, dict):
            if self._names_hidden(value):
                return WITHHELD
            return {k: self._redact(v) for k, v in value.items() if k not in self.hidden}
        if isinstance(value, (list, tuple)):
            out = []
            for v in value:
                if isinstance(v, str) and v in self.hidden:
                    continue
                if isinstance(v, dict) and self._names_hidden(v):
                    continue
                out.append(self._redact(v))
            return out
        if isinstance(value, str):
            if value in self.hidden:
                return WITHHELD
            if self._quoted is not None and "`" in value:
                return self._quoted.sub(WITHHELD, value)
        return value

    def totals(self, comparison: dict[str, Any]) -> dict[str, Any]:
        """A comparison's document with ``withheld_items`` on every total (per program, channel and option)."""
        doc = self.redact_doc(comparison)
        total = self.withheld_items
        for option in doc.get("options", []):
            for p in option.get("programs", []):
                p["withheld_items"] = self.withheld_by_program.get(p["program"], 0)
            for c in option.get("channels", []):
                c["withheld_items"] = self.withheld_by_channel.get(c["channel"], 0)
            option["totals"]["withheld_items"] = total
        doc["withheld"] = self.withheld()
        return doc

    def withheld(self) -> dict[str, Any]:
        """How much is withheld from this user, by kind (counts only)."""
        return {"clearance": self.clearance, "items": self.withheld_items,
                "regimes": len(self.hidden_regimes), "facts": len(self.hidden_facts),
                "sources": len(self.hidden_sources)}
