"""A validated :class:`~tranche.language.Scenario` as JSON documents, and back.

The store keeps rules, regimes, the law, timelines and policy tests as JSON
documents (and everything that is queried as columns).  Decoding gives back
values equal to the ones loaded: the same rules, hence the same regime and
law versions (content hashes), which :func:`regime_from_doc` and
:func:`law_from_doc` check.

>>> from tranche.language.scenario import Condition, Effect, Predicate, Rule
>>> r = Rule("r1", "law", Effect.FORBID, Condition((Predicate("amount", "gte", (Decimal("5.00"),)),)))
>>> rule_from_doc(rule_doc(r), {"amount": "decimal"}) == r
True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any, Mapping

from ..errors import Span, StoreError
from ..language.scenario import (
    STAGES,
    Action,
    AggregateTest,
    Anchor,
    AttributeSchema,
    Cap,
    Condition,
    Demo,
    Effect,
    Fact,
    Law,
    Lift,
    LineItem,
    Notification,
    Outcome,
    PolicyTest,
    Predicate,
    Program,
    Regime,
    ReviewDate,
    Rule,
    Scenario,
    Source,
    Timeline,
    TimelineEntry,
    UNCLASSIFIED,
    canonical_json,
)


def _marking(marking: str) -> dict[str, str]:
    """``{"marking": ...}`` for a marked value, ``{}`` for an unclassified one (documents hash as before markings)."""
    return {} if marking == UNCLASSIFIED else {"marking": marking}

__all__ = [
    "dumps", "loads", "rule_doc", "rule_from_doc", "regime_doc", "regime_from_doc", "law_doc", "law_from_doc",
    "timeline_doc", "timeline_from_doc", "item_doc", "item_from_doc", "attrs_doc", "attrs_from_doc",
    "test_doc", "test_from_doc", "manifest_doc", "attributes_from_manifest", "scenario_doc", "content_hash",
    "provenance_doc", "with_provenance",
]


def dumps(value: Any) -> str:
    """Compact JSON that keeps the order of mappings (recipients, channels, ... are ordered)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def _d(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _span(span: Span | None) -> list[Any] | None:
    return None if span is None else [span.file, span.line, span.col, span.length]


def _span_from(doc: Any) -> Span | None:
    return None if not doc else Span(str(doc[0]), int(doc[1]), int(doc[2]), int(doc[3]))


# -- rules ---------------------------------------------------------------------------------------------

def rule_doc(rule: Rule) -> dict[str, Any]:
    doc = {**rule.to_dict(), "notes": list(rule.notes)}
    if any(c.waiver for c in rule.unless):  # which exception each waiver added (explanations name it)
        doc["unless_waivers"] = [c.waiver for c in rule.unless]
    return doc


def _action(doc: Mapping[str, Any], types: Mapping[str, str]) -> Action:
    return Action(str(doc["do"]), _condition(doc["when"], types), str(doc.get("note") or ""))


def _predicate(doc: Mapping[str, Any], types: Mapping[str, str]) -> Predicate:
    attr = str(doc["attribute"])
    values = doc["values"]
    if types.get(attr) == "decimal":
        return Predicate(attr, str(doc["op"]), tuple(Decimal(str(v)) for v in values))
    if types.get(attr) == "date" or (attr in STAGES and attr not in types):  # a date, or an anchor
        return Predicate(attr, str(doc["op"]), tuple(_day_or_anchor(str(v)) for v in values))
    return Predicate(attr, str(doc["op"]), tuple(str(v) for v in values))


def _day_or_anchor(text: str) -> dt.date | Anchor:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return Anchor.parse(text)


def _condition(doc: list[Any], types: Mapping[str, str]) -> Condition:
    return Condition(tuple(_predicate(p, types) for p in doc))


def rule_from_doc(doc: Mapping[str, Any], types: Mapping[str, str]) -> Rule:
    waivers = doc.get("unless_waivers") or [None] * len(doc["unless"])
    unless = tuple(dataclasses.replace(_condition(c, types), waiver=w) for c, w in zip(doc["unless"], waivers))
    return Rule(
        id=str(doc["id"]), layer=str(doc["layer"]), effect=Effect(doc["effect"]),
        when=_condition(doc["when"], types), unless=unless,
        criterion=doc.get("criterion"), require=tuple(doc["require"]), sources=tuple(doc["sources"]),
        description=str(doc.get("description") or ""), notes=tuple(doc.get("notes") or ()),
        lifted_by=tuple(doc.get("lifted_by") or ()), otherwise=bool(doc.get("otherwise", False)),
        actions=tuple(_action(a, types) for a in doc.get("actions") or ()),
        effective=_date(doc.get("effective")), sunset=_date(doc.get("sunset")), exempt=tuple(doc.get("exempt") or ()),
        basis=doc.get("basis"))


# -- law and regimes -----------------------------------------------------------------------------------

def law_doc(law: Law) -> dict[str, Any]:
    doc: dict[str, Any] = {"title": law.title, "default": law.default.value, "sources": list(law.sources),
                           "rules": [rule_doc(r) for r in law.rules]}
    if law.notifications:
        doc["notifications"] = [{**n.to_dict(), "fact": n.fact} for n in law.notifications]
    if law.caps:
        doc["caps"] = [c.to_dict() for c in law.caps]
    return doc


def _notification(doc: Mapping[str, Any], types: Mapping[str, str]) -> Notification:
    return Notification(str(doc["id"]), str(doc["title"]), str(doc["to"]), _condition(doc["when"], types),
                        doc.get("report"), doc.get("days"), doc.get("fact"), tuple(doc.get("sources") or ()))


def _cap(doc: Mapping[str, Any], types: Mapping[str, str]) -> Cap:
    order = tuple((o[1:], True) if o.startswith("-") else (o, False) for o in doc.get("order") or ())
    return Cap(str(doc["id"]), str(doc["title"]), Decimal(str(doc["limit"])), _condition(doc["when"], types),
               tuple(doc.get("per") or ()), order, tuple(doc.get("sources") or ()))


def law_from_doc(doc: Mapping[str, Any], types: Mapping[str, str], version: str | None = None) -> Law:
    law = Law(str(doc["title"]), tuple(rule_from_doc(r, types) for r in doc["rules"]), tuple(doc["sources"]),
              Outcome(doc["default"]), tuple(_notification(n, types) for n in doc.get("notifications") or ()),
              tuple(_cap(c, types) for c in doc.get("caps") or ()))
    if version is not None and law.version != version:
        raise StoreError(f"law version `{version}` was altered in the database: its rules hash to `{law.version}`",
                         help="law versions are immutable; restore the database from a backup")
    return law


def regime_doc(regime: Regime) -> dict[str, Any]:
    return {
        "id": regime.id, "title": regime.title, "default": regime.default.value,
        "rules": [rule_doc(r) for r in regime.rules], "recipients": list(regime.recipients),
        "criterion": regime.criterion, "description": regime.description,
        "reviews": [{"date": _d(r.date), "note": r.note, "sources": list(r.sources)} for r in regime.reviews],
        "resumption_criteria": list(regime.resumption_criteria), "sources": list(regime.sources),
        "notes": list(regime.notes), **_basis(regime.basis), **_marking(regime.marking),
    }


def regime_from_doc(doc: Mapping[str, Any], types: Mapping[str, str], version: str | None = None) -> Regime:
    regime = Regime(
        id=str(doc["id"]), title=str(doc["title"]), default=Outcome(doc["default"]),
        rules=tuple(rule_from_doc(r, types) for r in doc["rules"]), recipients=tuple(doc["recipients"]),
        criterion=doc.get("criterion"), description=str(doc.get("description") or ""),
        reviews=tuple(ReviewDate(dt.date.fromisoformat(r["date"]), str(r.get("note") or ""), tuple(r["sources"]))
                      for r in doc["reviews"]),
        resumption_criteria=tuple(doc["resumption_criteria"]), sources=tuple(doc["sources"]),
        notes=tuple(doc["notes"]), basis=doc.get("basis"), marking=str(doc.get("marking") or UNCLASSIFIED))
    if version is not None and regime.version != version:
        raise StoreError(f"regime `{regime.id}` version `{version}` was altered in the database: its rules hash to "
                         f"`{regime.version}`", help="regime versions are immutable; restore the database from a backup")
    return regime


def timeline_doc(t: Timeline) -> dict[str, Any]:
    return {
        "id": t.id, "recipient": t.recipient, "title": t.title, "record": t.record, "sources": list(t.sources),
        "notes": list(t.notes), **_basis(t.basis),
        "entries": [{"regime": e.regime, "start_date": _d(e.start_date), "start_fact": e.start_fact,
                     "until": _d(e.until), "sources": list(e.sources), "notes": list(e.notes),
                     **({"start_all": list(e.start_all)} if e.start_all else {}),  # absent: hashes as before
                     **({"start_any": list(e.start_any)} if e.start_any else {}),
                     **({"announced": _d(e.announced)} if e.announced else {}), **_basis(e.basis)} for e in t.entries],
    }


def timeline_from_doc(doc: Mapping[str, Any]) -> Timeline:
    entries = tuple(TimelineEntry(str(e["regime"]), _date(e["start_date"]), e["start_fact"], _date(e["until"]),
                                  tuple(e["sources"]), tuple(e["notes"]), None, tuple(e.get("start_all") or ()),
                                  tuple(e.get("start_any") or ()), _date(e.get("announced")), basis=e.get("basis"))
                    for e in doc["entries"])
    return Timeline(str(doc["id"]), str(doc["recipient"]), entries, str(doc["title"]), bool(doc["record"]),
                    tuple(doc["sources"]), tuple(doc["notes"]), basis=doc.get("basis"))


# -- line items --------------------------------------------------------------------------------------

def attrs_doc(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if isinstance(v, (set, frozenset)):
            out[k] = sorted(v)
        elif isinstance(v, Decimal):
            out[k] = str(v)
        elif isinstance(v, dt.date):
            out[k] = v.isoformat()
        else:
            out[k] = v
    return out


def attrs_from_doc(doc: Mapping[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in doc.items():
        kind = types.get(k)
        if v is None:
            out[k] = None
        elif kind == "set":
            out[k] = frozenset(v)
        elif kind == "decimal":
            out[k] = Decimal(str(v))
        elif kind == "date":
            out[k] = dt.date.fromisoformat(str(v))
        else:
            out[k] = v
    return out


def item_doc(item: LineItem) -> dict[str, Any]:
    return {"id": item.id, "recipient": item.recipient, "program": item.program, "channel": item.channel,
            "category": item.category, "amount": str(item.amount), "flags": sorted(item.flags),
            "description": item.description, "program_status": item.program_status,
            "attrs": attrs_doc(item.attrs), "line": item.line, **_basis(item.basis),
            **({"sources": list(item.sources)} if item.sources else {}), **_marking(item.marking)}


def item_from_doc(doc: Mapping[str, Any], types: Mapping[str, str]) -> LineItem:
    return LineItem(str(doc["id"]), str(doc["recipient"]), str(doc["program"]), str(doc["channel"]),
                    str(doc["category"]), Decimal(str(doc["amount"])), frozenset(doc["flags"]),
                    str(doc["description"]), str(doc["program_status"]), attrs_from_doc(doc["attrs"], types),
                    int(doc["line"]), basis=doc.get("basis"), sources=tuple(doc.get("sources") or ()),
                    marking=str(doc.get("marking") or UNCLASSIFIED))


# -- policy tests --------------------------------------------------------------------------------------

def test_doc(t: PolicyTest) -> dict[str, Any]:
    return {"name": t.name, "item": item_doc(t.item), "as_of": t.as_of.isoformat(), "expect": t.expect.value,
            "regime": t.regime, "assume": list(t.assume),
            "missing": list(t.missing) if t.missing is not None else None,
            "rules": list(t.rules) if t.rules is not None else None, "criterion": t.criterion, "span": _span(t.span),
            **({"actions": list(t.actions)} if t.actions is not None else {})}  # absent: hashes as before


def test_from_doc(doc: Mapping[str, Any], types: Mapping[str, str]) -> PolicyTest:
    return PolicyTest(
        name=str(doc["name"]), item=item_from_doc(doc["item"], types), as_of=dt.date.fromisoformat(doc["as_of"]),
        expect=Outcome(doc["expect"]), regime=doc["regime"], assume=tuple(doc["assume"]),
        missing=tuple(doc["missing"]) if doc["missing"] is not None else None,
        rules=tuple(doc["rules"]) if doc["rules"] is not None else None, criterion=doc["criterion"],
        span=_span_from(doc["span"]), actions=tuple(doc["actions"]) if doc.get("actions") is not None else None)


# -- the scenario as a whole -----------------------------------------------------------------------------

def manifest_doc(s: Scenario) -> dict[str, Any]:
    return {
        "description": s.description, "donor": s.donor, "currency": s.currency,
        "recipients": [[k, v] for k, v in s.recipients.items()],
        "channels": [[k, v] for k, v in s.channels.items()],
        "flags": [[k, v] for k, v in s.flags.items()],
        "attributes": [{"name": a.name, "type": a.type, "values": list(a.values), "builtin": a.builtin,
                        "description": a.description, **({"required": True} if a.required else {})}
                       for a in s.attributes.values()],
        "notes": list(s.notes), "sources": list(s.scenario_sources),
        **({"demo": s.demo.to_dict()} if s.demo is not None else {}),  # absent: hashes as before demos existed
        **({"fact_semantics": fact_semantics} if (fact_semantics := _fact_semantics(s)) else {}),
        **({"aggregates": [_aggregate_doc(a) for a in s.aggregates]} if s.aggregates else {}),
        **({"provenance": p} if (p := provenance_doc(s)) else {}),  # likewise absent without bases
    }


def _fact_semantics(s: Scenario) -> dict[str, Any]:
    """What neither the fact rows nor the provenance (roles, derivations) hold: what each waiver lifts."""
    return {f.id: {"lifts": [lift.to_dict() for lift in f.lifts]} for f in s.facts.values() if f.lifts}


def with_fact_semantics(facts: Mapping[str, Fact], manifest: Mapping[str, Any],
                        types: Mapping[str, str]) -> dict[str, Fact]:
    """The facts read from their rows, with the lifts the manifest keeps (roles: :func:`with_provenance`)."""
    extra = manifest.get("fact_semantics") or {}
    return {k: dataclasses.replace(f, lifts=tuple(
        Lift(tuple(x["rules"]), _condition(x["scope"], types), tuple(x["facts"]), str(x["note"]))
        for x in extra[k]["lifts"])) if k in extra else f for k, f in facts.items()}


def _aggregate_doc(a: AggregateTest) -> dict[str, Any]:
    return {"name": a.name, "kind": a.kind, "as_of": a.as_of.isoformat(), "assume": list(a.assume),
            "option": a.option, "other": a.other, "row": a.row, "amounts": {k: str(v) for k, v in a.amounts.items()},
            "share": a.share, "items": a.items, "with_law": a.with_law, "statements": a.statements,
            "includes": list(a.includes)}


def aggregates_from_manifest(doc: Mapping[str, Any]) -> tuple[AggregateTest, ...]:
    return tuple(AggregateTest(str(a["name"]), str(a["kind"]), dt.date.fromisoformat(a["as_of"]), tuple(a["assume"]),
                               str(a["option"]), str(a["other"]), str(a["row"]),
                               {k: Decimal(v) for k, v in a["amounts"].items()}, a["share"], a["items"],
                               bool(a["with_law"]), a["statements"], tuple(a["includes"]))
                 for a in doc.get("aggregates") or ())



def _basis(basis: str | None) -> dict[str, Any]:
    """``{"basis": ...}`` where a basis is stated; nothing otherwise, so documents without bases hash as before."""
    return {} if basis is None else {"basis": basis}


def provenance_doc(s: Scenario) -> dict[str, Any]:
    """What the store's rows of facts, programs and line items have no columns for: bases, item sources, and a
    fact's role and derivation (`after`). Kept in the manifest (absent when there is none, so hashes are as
    before) and put back by :func:`with_provenance`."""
    out: dict[str, Any] = {}
    facts = {f.id: {**_basis(f.basis), **({"role": f.role} if f.role != "precondition" else {}),
                    **({"after": [f.after[0], f.after[1]]} if f.after is not None else {})}
             for f in s.facts.values() if f.basis is not None or f.role != "precondition" or f.after is not None}
    programs = {p.id: p.basis for p in s.programs.values() if p.basis is not None}
    items = {i.id: {**_basis(i.basis), **({"sources": list(i.sources)} if i.sources else {})}
             for i in s.items if i.basis is not None or i.sources}
    for key, value in (("facts", facts), ("programs", programs), ("items", items)):
        if value:
            out[key] = value
    return out


def with_provenance(manifest: Mapping[str, Any], facts: dict[str, Fact], programs: dict[str, Program],
                    items: tuple[LineItem, ...]) -> tuple[dict[str, Fact], dict[str, Program], tuple[LineItem, ...]]:
    """Facts, programs and items read from their rows, with the bases (and item sources) the manifest keeps."""
    prov = manifest.get("provenance") or {}
    if not prov:
        return facts, programs, items
    fb, pb, ib = prov.get("facts", {}), prov.get("programs", {}), prov.get("items", {})
    facts = {k: dataclasses.replace(v, basis=fb[k].get("basis"), role=fb[k].get("role", "precondition"),
                                    after=(str(fb[k]["after"][0]), int(fb[k]["after"][1])) if "after" in fb[k] else None)
             if k in fb else v for k, v in facts.items()}
    programs = {k: dataclasses.replace(v, basis=pb[k]) if k in pb else v for k, v in programs.items()}
    items = tuple(dataclasses.replace(i, basis=ib[i.id].get("basis"), sources=tuple(ib[i.id].get("sources", ())))
                  if i.id in ib else i for i in items)
    return facts, programs, items


def demo_from_manifest(doc: Mapping[str, Any]) -> Demo | None:
    d = doc.get("demo")
    if not d:
        return None
    return Demo(dt.date.fromisoformat(d["as_of"]), tuple(d["options"]), tuple(d["assume"]), d["recipient"],
                str(d["note"]))


def attributes_from_manifest(doc: Mapping[str, Any]) -> dict[str, AttributeSchema]:
    return {a["name"]: AttributeSchema(a["name"], a["type"], tuple(a["values"]), bool(a["builtin"]),
                                       str(a["description"]), bool(a.get("required", False)))
            for a in doc["attributes"]}


def types_of(attributes: Mapping[str, AttributeSchema]) -> dict[str, str]:
    """attribute -> type, for decoding rule values and item attributes."""
    return {name: a.type for name, a in attributes.items()}


def fact_doc(f: Fact) -> dict[str, Any]:
    return {"id": f.id, "title": f.title, "kind": f.kind, "date": _d(f.date), "until": _d(f.until),
            "recipient": f.recipient, "sources": list(f.sources), "notes": list(f.notes), **_basis(f.basis),
            **_marking(f.marking)}


def program_doc(p: Program) -> dict[str, Any]:
    return {"id": p.id, "recipient": p.recipient, "title": p.title, "fiscal_year": p.fiscal_year,
            "total": None if p.total is None else str(p.total), "status": p.status, "sources": list(p.sources),
            "notes": list(p.notes), **_basis(p.basis)}


def source_doc(s: Source) -> dict[str, Any]:
    return {"id": s.id, "title": s.title, "kind": s.kind, "citation": s.citation, "date": _d(s.date),
            "file": s.file, "notes": list(s.notes), **_marking(s.marking)}


def scenario_doc(s: Scenario) -> dict[str, Any]:
    """Everything the scenario says, as one JSON-ready document (what :func:`content_hash` hashes)."""
    return {
        "id": s.id, "title": s.title, "manifest": manifest_doc(s),
        "taxonomy": [{"id": n.id, "parent": n.parent, "title": n.title, "description": n.description,
                      "sources": list(n.sources)} for n in s.taxonomy.nodes.values()],
        "sources": [source_doc(x) for x in s.sources.values()],
        "programs": [program_doc(p) for p in s.programs.values()],
        "items": [item_doc(i) for i in s.items],
        "facts": [fact_doc(f) for f in s.facts.values()],
        "law": law_doc(s.law),
        "regimes": [regime_doc(r) for r in s.regimes.values()],
        "timelines": [timeline_doc(t) for t in s.timelines.values()],
        "tests": [test_doc(t) for t in s.tests],
    }


def content_hash(s: Scenario) -> str:
    """The SHA-256 of :func:`scenario_doc`: loading the same content twice changes nothing."""
    doc = scenario_doc(s)
    doc["tests"] = [{k: v for k, v in t.items() if k != "span"} for t in doc["tests"]]  # where, not what
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def parts_hash(s: Scenario) -> str:
    """The SHA-256 of :func:`scenario_doc` without the facts (whose dates `tranche fact` changes): what
    `tranche audit verify` recomputes from the stored rows to prove they are what was loaded."""
    doc = scenario_doc(s)
    doc["tests"] = [{k: v for k, v in t.items() if k != "span"} for t in doc["tests"]]
    doc["facts"] = sorted(f["id"] for f in doc["facts"])
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()
