"""A recipient's posture timelines and dated facts as one JSON-ready document (CLI and API alike)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from ..engine import facts_at, periods
from ..errors import UsageError, did_you_mean
from ..language import Scenario

__all__ = ["timeline", "recipient_of"]


def recipient_of(s: Scenario, recipient: str | None) -> str:
    """``recipient``, checked against the scenario, or the scenario's first recipient."""
    rec = recipient or next(iter(s.recipients))
    if rec not in s.recipients:
        raise UsageError(f"unknown recipient `{rec}`", help=did_you_mean(rec, s.recipients)
                         or "one of " + ", ".join(f"`{r}`" for r in s.recipients))
    return rec


def timeline(s: Scenario, recipient: str | None, as_of: dt.date, assume: Sequence[str] = ()) -> dict[str, Any]:
    """Each timeline of the recipient (record first) with its periods, and the facts that concern it."""
    rec = recipient_of(s, recipient)
    facts = facts_at(s, as_of, list(assume))
    tls = sorted((t for t in s.timelines.values() if t.recipient == rec), key=lambda t: (not t.record, t.id))
    out_t = []
    for t in tls:
        out_t.append({
            "id": t.id, "title": t.title, "record": t.record, "sources": list(t.sources),
            "periods": [{"regime": p.regime, "title": p.title, "start": p.start.isoformat() if p.start else None,
                         "end": p.end.isoformat() if p.end else None, "trigger": p.trigger,
                         "pending": p.pending, "note": p.note, "default": p.default, "sources": list(p.sources),
                         "announced": p.announced.isoformat() if p.announced else None}
                        for p in periods(s, t, facts)],
        })
    fact_rows = []
    for f in sorted(s.facts.values(), key=lambda f: (f.date is None, f.date or dt.date.max, f.id)):
        if f.recipient not in (None, rec):
            continue
        fact_rows.append({"fact": f.id, "title": f.title, "kind": f.kind,
                          "date": f.date.isoformat() if f.date else None,
                          "until": f.until.isoformat() if f.until else None,
                          "assumed": f.id in facts.assumed, "sources": list(f.sources)})
    return {"recipient": rec, "as_of": as_of.isoformat(), "assumed": sorted(facts.assumed),
            "timelines": out_t, "facts": fact_rows}
