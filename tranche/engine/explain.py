"""Explanations: a decision as data (for JSON and the API) and as text (for people)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Collection, Iterable

from ..language.scenario import STAGES, LineItem, Scenario
from ..semantics import LayerResult

if TYPE_CHECKING:
    from .decide import Decision, StageNote

__all__ = ["decision_dict", "layer_dict", "explain_lines", "money", "item_basis", "stage_text"]


def money(value: Any) -> str:
    """``$1,234,567.00``."""
    return f"${value:,.2f}"


def layer_dict(layer: LayerResult, scenario: Scenario | None = None) -> dict[str, Any]:
    """A layer's result as data; layer results are shared by many decisions, so this is built once each."""
    cached: dict[str, Any] | None = layer.__dict__.get("_as_dict")
    if cached is None:
        cached = _layer_dict(layer)
        object.__setattr__(layer, "_as_dict", cached)
    return cached


def _layer_dict(layer: LayerResult) -> dict[str, Any]:
    return {
        "layer": layer.layer,
        "version": layer.version,
        "outcome": layer.outcome.value,
        "default_used": layer.default is not None,
        "criterion": layer.criterion,
        "matched": [
            {
                "rule": m.rule.id,
                "effect": m.rule.effect.value,
                "outcome": m.outcome.value,
                "missing_facts": list(m.missing),
                "criterion": m.rule.criterion,
                "lifted_by": list(m.rule.lifted_by),
                "description": m.rule.description,
                "sources": list(m.rule.sources),
                "basis": m.rule.basis,
                "deciding": m.outcome is layer.outcome,
            }
            for m in layer.matches
        ],
    }


def item_basis(item: LineItem, scenario: Scenario | None) -> dict[str, Any]:
    """What the item rests on: its own basis and sources (the pipeline's `basis` and `sources` columns) and its
    program's (a record total may be split into illustrative items)."""
    if scenario is None:
        return {"item": item.basis, "sources": list(item.sources), "program": None, "program_sources": []}
    program = scenario.programs.get(item.program)
    return {"item": item.basis, "sources": list(item.sources),
            "program": program.basis if program is not None else None,
            "program_sources": list(program.sources) if program is not None else []}


def _regime_dict(d: Decision) -> dict[str, Any]:
    inf = d.in_force
    regime: dict[str, Any] | None = inf.__dict__.get("_as_dict")
    if regime is None:
        regime = {
            "id": inf.regime.id,
            "title": inf.regime.title,
            "version": inf.regime.version,
            "timeline": inf.timeline.id if inf.timeline else None,
            "since": inf.since.isoformat() if inf.since else None,
            "trigger": inf.entry.trigger if inf.entry else "named",
            "sources": list(dict.fromkeys((inf.entry.sources if inf.entry else ()) + inf.regime.sources)),
            "basis": inf.regime.basis,
            "entry_basis": inf.entry.basis if inf.entry else None,
        }
        object.__setattr__(inf, "_as_dict", regime)
    return regime


def _cap_dict(d: Decision) -> dict[str, Any] | None:
    cap = d.cap
    return None if cap is None else {"cap": cap.cap, "limit": f"{cap.limit:.2f}", "before": f"{cap.before:.2f}",
                                     "pool": list(cap.pool)}


def _case_dict(d: Decision) -> dict[str, Any] | None:
    case = d.review_case
    return None if case is None else {"case": case.case_id, "status": case.status,
                                      "regime_version": case.regime_version, "justification": case.justification}


def decision_dict(d: Decision, scenario: Scenario | None = None) -> dict[str, Any]:
    """The decision and its full explanation as JSON-ready data (shared parts are cached: do not mutate).

    ``scenario`` adds the basis of the item's program to ``basis``.  What does not depend on the item itself
    is made once per request class (:class:`tranche.engine.decide.ClassDecision`); the item's fields, its stage
    dates, review case and cap are added per call."""
    item, c = d  # (item, ClassDecision): unpacked, not read through properties
    base = c.shared or c
    if not base.keyed:
        return _decision_dict(d, scenario)
    parts: tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]] | None = base.__dict__.get("_as_dict")
    if parts is None:
        parts = _class_parts(d)
        object.__setattr__(base, "_as_dict", parts)
    shared, stages = parts
    out = shared.copy()  # the class's parts, in their places; then the item's own
    out["item"] = item.id
    out["basis"] = item_basis(item, scenario)
    if stages:
        out["stages"] = [_stage_dict(item, stage, note) for stage, note in stages]
    if c.cap is not None:
        out["cap"] = _cap_dict(d)
    if c.review_case is not None:
        out["review_case"] = _case_dict(d)
    out["request"] = item.to_dict()
    return out


def _stage_dict(item: LineItem, stage: str, note: dict[str, Any]) -> dict[str, Any]:
    out = note.copy()
    value = item.get(stage)
    out["date"] = value.isoformat() if isinstance(value, dt.date) else None
    return out


def _class_parts(d: Decision) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """What every item of ``d``'s request class shares in :func:`decision_dict`, with the item's own parts left
    empty, and its stage notes (each the stage whose date the item fills in, and the note)."""
    shared = _decision_dict(d)
    shared.update(item=None, basis=None, stages=[], cap=None, review_case=None, request=None)
    return shared, [(n.stage, n.to_dict()) for n in d.stages()]


def _decision_dict(d: Decision, scenario: Scenario | None = None) -> dict[str, Any]:
    """:func:`decision_dict` made for this decision alone."""
    return {
        "item": d.item.id,
        "as_of": d.as_of.isoformat(),
        "basis": item_basis(d.item, scenario),
        "outcome": d.outcome.value,
        "rules": list(d.rules),
        "missing_facts": list(d.missing_facts),
        "criterion": d.criterion,
        "lifted_by": list(d.lifted_by),
        "waivers": [{"rule": r, "waiver": w} for r, w in d.waivers()],
        "stages": [n.to_dict() for n in d.stages()],
        "obligations": [o.to_dict() for o in d.obligations()],
        "cap": _cap_dict(d),
        "regime": _regime_dict(d),
        "law": layer_dict(d.law),
        "regime_layer": layer_dict(d.regime),
        "facts": [{"fact": f, "holds": h, "assumed": a, "from": _since(d, f)} for f, h, a in d.facts_checked()],
        "assumed": sorted(d.facts.assumed),
        "review_case": _case_dict(d),
        "request": d.item.to_dict(),
    }


def _layer_lines(layer: LayerResult, title: str, scenario: Scenario, hidden: Collection[str] = ()) -> list[str]:
    out = [f"{title}: {layer.outcome.value}"]
    if not layer.matches:
        out.append(f"  no rule matched; default {layer.default.value if layer.default else '?'}")
        return out
    for m in layer.matches:
        if m.rule.id in hidden:
            continue
        mark = "→" if m.outcome is layer.outcome else " "
        detail = m.rule.effect.value
        if m.missing:
            detail += f", blocked: missing {_names(m.missing, hidden)}"
        elif m.rule.require:
            detail += f", requires {_names(m.rule.require, hidden)} (hold)"
        if m.rule.criterion:
            detail += f", criterion: {m.rule.criterion}"
        if m.rule.lifted_by:
            detail += f", held until {_names(m.rule.lifted_by, hidden, ' and ')} hold{'s' if len(m.rule.lifted_by) == 1 else ''}"
        out.append(f"  {mark} rule `{m.rule.id}` ({detail}) gives {m.outcome.value}")
        if m.rule.description:
            out.append(f"      {m.rule.description}")
        sources = [s for s in m.rule.sources if s not in hidden]
        if sources or m.rule.basis:
            cited = f"sources: {', '.join(sources)}" if sources else "no source"
            out.append(f"      {cited}" + (f" ({m.rule.basis})" if m.rule.basis else ""))
    if len(out) == 1:
        out.append("  the matching rules are above your clearance")
    return out


def _names(names: Iterable[str], hidden: Collection[str], sep: str = ", ") -> str:
    """Names quoted, those in ``hidden`` as one `[withheld]`."""
    shown = [f"`{n}`" for n in names if n not in hidden]
    if any(n in hidden for n in names):
        shown.append("[withheld]")
    return sep.join(shown)


def _stage_lines(item: LineItem) -> list[str]:
    """The stages the line reached, with their dates, in pipeline order (then the money stages)."""
    reached = [f"{stage} {item.attrs[stage]}" for stage in STAGES if isinstance(item.attrs.get(stage), dt.date)]
    return [f"  stages: {', '.join(reached)}"] if reached else []


def _basis_lines(item: LineItem, scenario: Scenario, hidden: Collection[str] = ()) -> list[str]:
    """The item's basis, and its program's where that differs (a record total split into illustrative items)."""
    program = scenario.programs.get(item.program)
    pbasis = program.basis if program is not None else None
    if item.basis is None and pbasis is None:
        return []
    text = f"  basis: {item.basis or 'not stated'}"
    sources = [s for s in item.sources if s not in hidden]
    if sources:
        text += f" (named in {', '.join(sources)})"
    if pbasis is not None and pbasis != item.basis:
        text += f"; program `{item.program}`: {pbasis}"
        psources = [s for s in program.sources if s not in hidden] if program is not None else []
        if psources and pbasis != "illustrative":
            text += f" ({', '.join(psources)})"
    return [text]


_OPS = {"before": "before", "by": "on or before", "on": "on", "since": "on or after", "after": "after",
        "not_before": "not before", "not_by": "not by"}


def stage_text(note: StageNote) -> str:
    """A stage date that decided whether a rule applies, in words: ``exempt from rule `law.coup`: contracted
    1962-06-01, before the rule took effect on 1962-07-18``."""
    if note.anchor == "effective":
        than = f"the rule took effect on {note.day}" if note.day != dt.date.min else "the rule took effect (always)"
    elif note.anchor == "as_of":
        than = f"the decision date {note.day}"
    elif note.anchor.startswith("fact:"):
        fact = note.anchor[len("fact:"):]
        than = f"`{fact}` ({note.day})" if note.day != dt.date.max else f"`{fact}`, which has not happened"
    else:
        than = note.anchor
    head = f"exempt from rule `{note.rule}`" if note.exempt else f"rule `{note.rule}` applies"
    if note.date is None:  # only a negated test holds without a date: the stage was not reached
        return f"{head}: not {note.stage} {_OPS.get(note.op, note.op).removeprefix('not ')} {than}"
    return f"{head}: {note.stage} {note.date}, {_OPS.get(note.op, note.op)} {than}"


def _since(d: Decision, fact: str) -> str | None:
    """The date a fact holds from, or will hold from (a scheduled or derived fact), if known."""
    day = d.facts.holding.get(fact) or d.facts.scheduled.get(fact)
    return day.isoformat() if day else None


def _derivation(scenario: Scenario, fact: str, hidden: Collection[str] = ()) -> str:
    found = scenario.facts.get(fact)
    if found is None or found.after is None:
        return ""
    base, days = found.after
    return f": {days} days after {'[withheld]' if base in hidden else f'`{base}`'}"


def _cite(scenario: Scenario, source: str) -> str:
    src = scenario.sources.get(source)
    return f"{source}: {src.cite()}" if src else source


def _withhold(text: str, hidden: Collection[str]) -> str:
    """``text`` with every quoted name in ``hidden`` as `[withheld]` (the fact that started a visible regime)."""
    for name in hidden:
        if f"`{name}`" in text:
            text = text.replace(f"`{name}`", "[withheld]")
    return text


def explain_lines(d: Decision, scenario: Scenario, hidden: Collection[str] = ()) -> list[str]:
    """The explanation as lines of text.

    Names in ``hidden`` (what a reader's clearance does not reach) are left out: a matched rule, a fact checked,
    a source cited or a waiver among them is not shown, and a list that loses names says `[withheld]`; the
    regime in force, when hidden, is named `[withheld]` without its sources.  This is what
    :meth:`tranche.service.clearance.View.redact` does to :func:`decision_dict`'s data.
    """
    it = d.item
    flags = f" [{', '.join(sorted(it.flags))}]" if it.flags else ""
    regime_hidden = d.in_force.regime.id in hidden or (d.in_force.timeline is not None
                                                      and d.in_force.timeline.id in hidden)
    lines = [
        f"item `{it.id}`: {it.channel} · {it.category} · {it.program} · {money(it.amount)}{flags}",
        *([f"  {it.description}"] if it.description else []),
        *_stage_lines(it),
        *_basis_lines(it, scenario, hidden),
        f"as of {d.as_of}: regime [withheld]" if regime_hidden else
        f"as of {d.as_of}: {_withhold(d.in_force.describe(), hidden)}, version {d.in_force.regime.version}",
    ]
    entry = d.in_force.entry
    entry_sources = entry.sources if entry else ()
    regime_sources = tuple(s for s in dict.fromkeys(entry_sources + d.in_force.regime.sources) if s not in hidden)
    if regime_hidden:
        regime_sources = ()
    if regime_sources:
        lines.append(f"  sources: {', '.join(regime_sources)}")
    if entry is not None and entry.basis and not regime_hidden:
        lines.append(f"  in force on this date by {entry.basis}" + (" (see the timeline's notes)"
                                                                   if entry.basis != "record" else ""))
    lines.append("")
    lines += _layer_lines(d.law, "law", scenario, hidden)
    lines += _layer_lines(d.regime, "regime [withheld]" if regime_hidden else f"regime `{d.in_force.regime.id}`",
                          scenario, hidden)
    if d.cap is not None:
        pool = f" ({', '.join(d.cap.pool)})" if d.cap.pool else ""
        if d.cap.before > d.cap.limit:
            lines.append(f"cap `{d.cap.cap}`{pool}: the ceiling of {d.cap.limit:,.2f} was reached before this line in "
                         f"allocation order (running total {d.cap.before:,.2f})")
        else:
            lines.append(f"cap `{d.cap.cap}`{pool}: {d.cap.before:,.2f} counted before this line in allocation order; "
                         f"{d.item.amount:,.2f} more would bring it to {d.cap.before + d.item.amount:,.2f}, over the "
                         f"ceiling of {d.cap.limit:,.2f}")
    for o in d.obligations():
        if o.kind == "action":
            lines.append(f"action: {o.name.replace('_', ' ')} (ordered by {'[withheld]' if o.by in hidden else f'`{o.by}`'})")
        else:
            lines.append(f"notification `{o.name}` to {o.by}: {o.status}")
    for note in d.stages():
        if note.rule not in hidden:
            lines.append(stage_text(note))
    for rule, waiver in d.waivers():
        if rule in hidden or waiver in hidden:
            continue
        fact = scenario.facts.get(waiver)
        title = f" ({fact.title})" if fact is not None and fact.title else ""
        lines.append(f"rule `{rule}` lifted for this item by `{waiver}`{title}")
    checked = [c for c in d.facts_checked() if c[0] not in hidden]
    if checked:
        lines.append("facts checked:")
        for f, holds, assumed in checked:
            state = "assumed" if assumed else ("holds since " + str(d.facts.holding[f]) if holds else "does not hold")
            if not holds and f in d.facts.scheduled:
                state += f" (holds from {d.facts.scheduled[f]}{_derivation(scenario, f, hidden)})"
            lines.append(f"  {'✓' if holds else '✗'} `{f}`: {state}")
    if d.review_case is not None:
        lines.append(f"review case `{d.review_case.case_id}`: {d.review_case.status} — {d.review_case.justification}")
    cited = [s for s in dict.fromkeys([*it.sources, *regime_sources, *(s for layer in (d.law, d.regime)
                                                                     for m in layer.matches if m.rule.id not in hidden
                                                                     for s in m.rule.sources)])
             if s not in hidden]
    if cited:
        lines.append("sources:")
        lines += [f"  {_cite(scenario, s)}" for s in cited]
    lines.append("")
    verdict = f"outcome: {d.outcome.value.upper()}"
    if d.missing_facts:
        verdict += f" — missing {_names(d.missing_facts, hidden)}"
    if d.criterion:
        verdict += f" — criterion: {d.criterion}"
    if d.lifted_by:
        verdict += f" — held until {_names(d.lifted_by, hidden, ' and ')} hold{'s' if len(d.lifted_by) == 1 else ''}"
    verdict += f" (decided by {_names(d.rules, hidden)})"
    lines.append(verdict)
    return lines
