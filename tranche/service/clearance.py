"""What a user may see of a scenario: markings against their clearance.

Line items, regimes, facts and sources carry a classification marking
(UNCLASSIFIED < CONFIDENTIAL < SECRET); a user has a clearance.  A
:class:`View` is a scenario as seen at one clearance:

- items above it are left out of every list, decision and total, and every
  total says how many items were withheld (``withheld_items``; their amounts
  are themselves above the clearance, so they are not added up for the user);
- a regime above it, and a timeline or rule that is part of one, is unknown
  to the user (an option naming it is refused as unknown);
- a fact or source above it is left out of lists and explanations;
- a cap's figures for a pool that a withheld item belongs to (allocated,
  headroom, blocked, and a decision's running total before its line) are
  withheld too: they would add up the withheld amounts.

Decisions themselves are not changed: an item is decided on every fact, as
for everyone (the contract says the same item, date and facts give the same
outcome); what the user cannot see is withheld from what is shown, by
:meth:`View.redact`, which every response of the service passes through, and
which the command line applies to a stored scenario read with a user's token
(:meth:`tranche.service.Workspace.view`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..engine import Comparison, Evaluator, ReviewCase, compare
from ..engine.compare import basis_of, group_of
from ..errors import NotFound, UsageError, did_you_mean
from ..language import MARKINGS, LineItem, Scenario, marking_rank
from ..semantics.caps import pool_of

__all__ = ["View", "WITHHELD"]

WITHHELD = "[withheld]"
_IDENTIFYING = ("id", "item", "fact", "regime", "source", "rule", "timeline")
_CAP_FIGURES = ("before", "allocated", "headroom", "blocked", "blocked_items")


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
        self._options = frozenset(x for x in (*s.regimes, *s.timelines) if x not in self.hidden)
        # each cap pool a withheld item belongs to: its figures would add up withheld amounts
        self.hidden_pools: Counter[tuple[str, tuple[str, ...]]] = Counter(
            (cap.id, pool_of(cap, i)) for cap in s.law.caps for i in hidden_items)
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
        """A regime or timeline name the user may use; an unknown one is refused with suggestions among the names
        within the clearance only (the engine's own message would suggest any)."""
        if name not in self._options:
            known = [x for x in (*self.scenario.regimes, *self.scenario.timelines) if x not in self.hidden]
            raise NotFound(f"unknown regime `{name}`", help=did_you_mean(name, known)
                           or "known: " + ", ".join(f"`{k}`" for k in known))
        return name

    def options(self, names: Iterable[str]) -> list[str]:
        return [self.option(n) for n in names]

    def assume(self, facts: Iterable[str]) -> list[str]:
        """Assumed facts (``FACT`` or ``FACT@DATE``) the user may name; an unknown one is refused with suggestions
        among the facts within the clearance only."""
        out = []
        for f in facts:
            name = f.split("@", 1)[0].strip()
            if name not in self.scenario.facts or name in self.hidden:
                known = [x for x in self.scenario.facts if x not in self.hidden]
                raise UsageError(f"unknown fact `{name}`", help=did_you_mean(name, known)
                                 or "list the scenario's facts with `tranche timeline`")
            out.append(f)
        return out

    def compare(self, as_of: dt.date, options: Sequence[str], assume: Sequence[str] = (),
                recipient: str | None = None,
                reviews: Callable[[Evaluator], Mapping[str, ReviewCase]] | None = None,
                by: str | None = None) -> Comparison:
        """The options compared on the items within the clearance (options and facts the user may name); the
        figures the user may see, before :meth:`totals` says what was withheld."""
        return compare(self.scenario, as_of, self.options(options), self.assume(assume), recipient, items=self.items,
                       reviews=reviews, by=by)

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
            # a key that is a hidden name goes, whatever it stands for (a document's field named like a hidden
            # thing too: readers of a redacted document take a missing field as absent)
            out = {k: self._redact(v) for k, v in value.items() if k not in self.hidden}
            if isinstance(value.get("cap"), str) and isinstance(value.get("pool"), (list, tuple)):
                withheld = self.hidden_pools.get((value["cap"], tuple(value["pool"])), 0)
                if withheld:
                    out.update({k: None for k in _CAP_FIGURES if k in out}, withheld_items=withheld)
            return out
        if isinstance(value, (list, tuple)):
            out_list = []
            for v in value:
                if isinstance(v, str) and v in self.hidden:
                    continue
                if isinstance(v, dict) and self._names_hidden(v):
                    continue
                out_list.append(self._redact(v))
            return out_list
        if isinstance(value, str):
            if value in self.hidden:
                return WITHHELD
            if self._quoted is not None and "`" in value:
                return self._quoted.sub(WITHHELD, value)
        return value

    def cells(self, rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
        """Table rows (CSV) cell by cell: a hidden id as a cell, or quoted in one, is ``[withheld]`` (a row keeps
        its columns)."""
        return [[WITHHELD if isinstance(c, str) and c in self.hidden else self.redact(c) for c in row] for row in rows]

    def withheld_counts(self, recipient: str | None = None, by: str | None = None) -> dict[str, Counter[str]]:
        """How many withheld items (of ``recipient``) fall in each program, channel, group of ``by`` and basis."""
        hidden = [i for i in self.hidden_items if recipient is None or i.recipient == recipient]
        return {"program": Counter(i.program for i in hidden), "channel": Counter(i.channel for i in hidden),
                "group": Counter(group_of(i, by) for i in hidden) if by else Counter(),
                "basis": Counter(basis_of(self.scenario, i.program) for i in hidden), "total": Counter(
                    {"total": len(hidden)})}

    def totals(self, comparison: dict[str, Any], recipient: str | None = None) -> dict[str, Any]:
        """A comparison's document with ``withheld_items`` on every total (per program, channel, group, basis
        and option), counting the withheld items of ``recipient`` (None: all)."""
        doc = self.redact_doc(comparison)
        counts = self.withheld_counts(recipient, doc["options"][0].get("by") if doc.get("options") else None)
        for option in doc.get("options", []):
            for p in option.get("programs", []):
                p["withheld_items"] = counts["program"].get(p["program"], 0)
            for c in option.get("channels", []):
                c["withheld_items"] = counts["channel"].get(c["channel"], 0)
            by = option.get("by")
            for g in option.get("groups", []):
                g["withheld_items"] = counts["group"].get(g[by], 0) if by else 0
            for b in option.get("bases", []):
                b["withheld_items"] = counts["basis"].get(b["basis"], 0)
            option["totals"]["withheld_items"] = counts["total"]["total"]
        doc["withheld"] = {**self.withheld(), "items": counts["total"]["total"]}
        return doc

    def withheld(self) -> dict[str, Any]:
        """How much is withheld from this user, by kind (counts only)."""
        return {"clearance": self.clearance, "items": self.withheld_items,
                "regimes": len(self.hidden_regimes), "facts": len(self.hidden_facts),
                "sources": len(self.hidden_sources)}
