"""Charts as standalone SVG: the posture timeline and the option comparison.

The same SVG is embedded in the web pages and written by `tranche timeline
--chart FILE.svg` and `tranche compare --chart FILE.svg`.  Each chart is an
accessible image (``role="img"``, a ``<title>`` and a ``<desc>``); every band,
mark and bar has a ``<title>`` that browsers show on hover (the sources of a
regime or fact, the amount of a bar).  Nothing is fetched from elsewhere.

>>> svg = compare_svg({"as_of": "1962-10-03", "assumed": [], "options": [{"name": "a", "programs": [
...     {"program": "P", "total": "10.00", "permitted": "6.00", "review": "0.00", "blocked": "0.00",
...      "prohibited": "4.00", "permitted_share": 0.6, "items": 2}], "totals": {}}]})
>>> svg.startswith("<svg") and "6.00 permitted" in svg
True
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["timeline_svg", "compare_svg", "OUTCOME_COLOURS"]

# colours with at least 3:1 contrast against white and told apart by lightness, not only hue
OUTCOME_COLOURS = {"permitted": "#1b7837", "review": "#b35806", "blocked": "#542788", "prohibited": "#b2182b"}
DEFAULT_COLOURS = {"permitted": "#5aae61", "review": "#f1a340", "prohibited": "#d6604d"}
FONT = "font-family=\"system-ui, sans-serif\" font-size=\"12\""


def _a(text: Any) -> str:
    return escape(str(text), {'"': "&quot;"})


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}"


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def timeline_svg(doc: dict[str, Any], width: int = 900) -> str:
    """The timelines of :func:`tranche.service.timeline` as bands (regimes) and marks (dated facts)."""
    tls = doc.get("timelines", [])
    facts = [f for f in doc.get("facts", []) if f.get("date")]
    days = [d for t in tls for p in t["periods"] for d in (_day(p["start"]), _day(p["end"])) if d]
    days += [d for f in facts for d in (_day(f["date"]),) if d]
    as_of = _day(doc.get("as_of"))
    if as_of:
        days.append(as_of)
    lo = min(days) if days else dt.date.today()
    hi = max(days) if days else lo
    span = max((hi - lo).days, 1)
    pad = max(span // 20, 7)
    lo, hi = lo - dt.timedelta(days=pad), hi + dt.timedelta(days=pad)
    span = (hi - lo).days
    left, right, row, top = 150, 20, 34, 30
    inner = width - left - right
    marks_h = 24 + 16 * min(len(facts), 12)
    height = top + row * max(len(tls), 1) + 30 + marks_h

    def x(day: dt.date) -> float:
        return left + inner * (day - lo).days / span

    title = f"Posture timeline of {doc.get('recipient', '')}"
    desc = "; ".join(f"{t['id']}: " + ", ".join(f"{p['regime']} from {p['start'] or 'pending'}" for p in t["periods"])
                     for t in tls) or "no timeline"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-labelledby="tl-title tl-desc" {FONT}>',
           f'<title id="tl-title">{_a(title)}</title>', f'<desc id="tl-desc">{_a(desc)}</desc>',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    for i, t in enumerate(tls):
        y = top + i * row
        out.append(f'<text x="{left - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end" fill="#1a1a1a">{_a(t["id"])}</text>')
        for p in t["periods"]:
            start = _day(p["start"])
            if start is None:
                continue
            end = _day(p["end"]) or hi
            x0, x1 = x(max(start, lo)), x(min(end, hi))
            colour = DEFAULT_COLOURS.get(p["default"], "#999999")
            tip = (f"{p['regime']}: {p['title']} — from {p['start']}" + (f" until {p['end']}" if p["end"] else "")
                   + f"; trigger {p['trigger']}; default {p['default']}"
                   + (f"; sources: {', '.join(p['sources'])}" if p["sources"] else ""))
            out.append(f'<g class="band"><title>{_a(tip)}</title>'
                       f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" height="{row - 8}" '
                       f'fill="{colour}" stroke="#1a1a1a" stroke-width="0.5"/>')
            if x1 - x0 > 7 * len(p["regime"]):
                out.append(f'<text x="{x0 + 4:.1f}" y="{y + row / 2 + 4:.1f}" fill="#000000">{_a(p["regime"])}</text>')
            out.append("</g>")
    axis_y = top + row * max(len(tls), 1) + 6
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + inner}" y2="{axis_y}" stroke="#1a1a1a"/>')
    for k in range(5):
        day = lo + dt.timedelta(days=span * k // 4)
        out.append(f'<text x="{x(day):.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#1a1a1a">{day}</text>')
    if as_of and lo <= as_of <= hi:
        out.append(f'<g><title>as of {as_of}</title><line x1="{x(as_of):.1f}" y1="{top}" x2="{x(as_of):.1f}" '
                   f'y2="{axis_y}" stroke="#000000" stroke-dasharray="4 3"/></g>')
    for j, f in enumerate(facts[:12]):
        mark = _day(f["date"])
        assert mark is not None
        day = mark
        fy = axis_y + 36 + 16 * j
        tip = f"{f['fact']} ({f['kind']}) from {f['date']}: {f['title']}" + (
            f"; sources: {', '.join(f['sources'])}" if f["sources"] else "") + (" (assumed)" if f["assumed"] else "")
        out.append(f'<g class="fact"><title>{_a(tip)}</title>'
                   f'<line x1="{x(day):.1f}" y1="{axis_y}" x2="{x(day):.1f}" y2="{fy - 4}" stroke="#555555" '
                   f'stroke-dasharray="2 2"/><circle cx="{x(day):.1f}" cy="{fy - 4}" r="4" fill="#1a1a1a"/>'
                   f'<text x="{x(day) + 8:.1f}" y="{fy}" fill="#1a1a1a">{_a(f["fact"])}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def compare_svg(doc: dict[str, Any], width: int = 900) -> str:
    """A comparison document (``Comparison.to_dict()``) as stacked bars: one per option and program."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for o in doc.get("options", []):
        for p in o.get("programs", []):
            rows.append((f"{o['name']} · {p['program']}", p))
    top, row, left, right = 40, 28, 200, 230
    inner = width - left - right
    height = top + row * max(len(rows), 1) + 30
    biggest = max((Decimal(str(p["total"])) for _, p in rows), default=Decimal(1)) or Decimal(1)
    title = f"Options on {doc.get('as_of', '')}: amounts by outcome"
    desc = "; ".join(f"{label}: {_money(p['permitted'])} permitted of {_money(p['total'])}" for label, p in rows)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-labelledby="cmp-title cmp-desc" {FONT}>',
           f'<title id="cmp-title">{_a(title)}</title>', f'<desc id="cmp-desc">{_a(desc or "no figures")}</desc>',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    lx = left
    for outcome, colour in OUTCOME_COLOURS.items():
        out.append(f'<rect x="{lx}" y="10" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{lx + 16}" y="20" fill="#1a1a1a">{outcome}</text>')
        lx += 110
    for i, (label, p) in enumerate(rows):
        y = top + i * row
        out.append(f'<text x="{left - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end" fill="#1a1a1a">{_a(label)}</text>')
        x0 = float(left)
        for outcome, colour in OUTCOME_COLOURS.items():
            amount = Decimal(str(p.get(outcome, "0")))
            if not amount:
                continue
            w = float(inner * amount / biggest)
            out.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row - 8}" fill="{colour}">'
                       f'<title>{_a(label)}: {_money(amount)} {outcome} of {_money(p["total"])}</title></rect>')
            x0 += w
        share = p.get("permitted_share", 0.0)
        out.append(f'<text x="{x0 + 6:.1f}" y="{y + row / 2 + 4:.1f}" fill="#1a1a1a">{_money(p["permitted"])} '
                   f'permitted ({share * 100:.1f}%)</text>')
    out.append("</svg>")
    return "\n".join(out)
