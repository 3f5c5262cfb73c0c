"""Cubes of the request domain in words (for people) and as a ``match`` mapping (for machines).

A dimension that a cube leaves whole is not mentioned.  Categories are written the way
rules are: a node stands for its subtree, and a node listed under another one is an
exception to it, so ``training (except training.basic)`` is every training category but
basic training.  In the ``match`` mapping, a category belongs to the set when the *nearest*
of itself and its ancestors listed in ``under`` or ``except`` is in ``under``; a category
with no listed ancestor belongs to it when ``any`` is true (categories outside the taxonomy
have no ancestor).  Amounts are whole cents.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Sequence

from ..language.scenario import Cap, Notification
from .classes import Cube, Dim, Domain, Interval

__all__ = ["describe", "match_dict", "category_terms", "outcome_change", "criterion_change", "statement_words",
           "notification_terms", "cap_terms", "duty_change", "cap_effect"]

ARROW = "→"


def _bits(mask: int) -> list[int]:
    out = []
    i = 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return out


def _or(words: Sequence[str]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _and(words: Sequence[str]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# -- categories --------------------------------------------------------------------------------


def category_terms(domain: Domain, mask: int) -> tuple[bool, list[str], list[str]]:
    """(any, under, except): the shortest listing of a set of categories (see the module docstring)."""
    cache: dict[int, tuple[bool, list[str], list[str]]] = domain.__dict__.setdefault("_terms_cache", {})
    found = cache.get(mask)
    if found is None:
        found = cache[mask] = _category_terms(domain, mask)
    return found[0], list(found[1]), list(found[2])


def _category_terms(domain: Domain, mask: int) -> tuple[bool, list[str], list[str]]:
    nodes = domain.nodes
    parents = domain.parent_index
    any_ = bool((mask >> len(nodes)) & 1)
    under: list[str] = []
    except_: list[str] = []
    for i, n in enumerate(nodes):
        member = (mask >> i) & 1
        p = parents[i]
        parent_member = (mask >> p) & 1 if p >= 0 else any_
        if member != parent_member:
            (under if member else except_).append(n)
    return any_, under, except_


def _category_text(domain: Domain, mask: int) -> str:
    cache: dict[int, str] = domain.__dict__.setdefault("_text_cache", {})
    found = cache.get(mask)
    if found is None:
        found = cache[mask] = _category_words(domain, mask)
    return found


def _category_words(domain: Domain, mask: int) -> str:
    nodes = domain.nodes
    n = len(nodes)
    all_nodes = (1 << n) - 1
    outside = 1 << n
    if mask == all_nodes | outside:
        return "any category"
    if mask == outside:
        return "a category outside the taxonomy"
    if mask == all_nodes:
        return "any category of the taxonomy"
    any_, under, except_ = category_terms(domain, mask)
    listed = set(under) | set(except_)
    tax = domain.scenario.taxonomy
    children: dict[str | None, list[str]] = {}
    for node in nodes:
        if node not in listed:
            continue
        anc = tax.nodes[node].parent
        while anc is not None and anc not in listed:
            anc = tax.nodes[anc].parent
        children.setdefault(anc, []).append(node)

    def term(node: str, included: bool) -> str:
        kids = children.get(node, [])
        if not kids:
            return node
        inner = ", ".join(term(k, not included) for k in kids)
        return f"{node} ({'except' if included else 'but'} {inner})"

    top = children.get(None, [])
    if any_:
        return "any category except " + ", ".join(term(x, False) for x in top)
    return ", ".join(term(x, True) for x in top)


# -- the other dimensions ---------------------------------------------------------------------


def _fmt_number(dim: Dim, v: Decimal) -> str:
    if dim.attribute == "amount":
        return f"{v:,.2f}"
    return str(v)


def _runs(dim: Dim, mask: int) -> tuple[list[tuple[Interval, Interval]], bool]:
    """Consecutive intervals in ``mask`` as (first, last) pairs, and whether `missing` is in it."""
    runs: list[tuple[Interval, Interval]] = []
    missing = False
    start: int | None = None
    prev: int | None = None
    for i in _bits(mask):
        iv = dim.values[i]
        if iv is None:
            missing = True
            continue
        if start is not None and prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None and prev is not None:
            runs.append((dim.values[start], dim.values[prev]))
        start = prev = i
    if start is not None and prev is not None:
        runs.append((dim.values[start], dim.values[prev]))
    return runs, missing


def _run_text(dim: Dim, first: Interval, last: Interval) -> str:
    name = dim.attribute
    lo, hi = first.lo, last.hi
    if lo is not None and hi is not None and lo == hi:
        return f"{name} = {_fmt_number(dim, lo)}"
    if lo is None and hi is None:
        return f"any {name}"
    if lo is None:
        assert hi is not None
        return f"{name} {'≤' if last.hi_closed else '<'} {_fmt_number(dim, hi)}"
    if hi is None:
        return f"{name} {'≥' if first.lo_closed else '>'} {_fmt_number(dim, lo)}"
    return (f"{_fmt_number(dim, lo)} {'≤' if first.lo_closed else '<'} {name} "
            f"{'≤' if last.hi_closed else '<'} {_fmt_number(dim, hi)}")


def _date_run_text(dim: Dim, first: Interval, last: Interval) -> str:
    name = f"`{dim.attribute}`"
    lo, hi = first.lo, last.hi
    if lo is not None and hi is not None and lo == hi:
        return f"{name} on {lo}"
    if lo is None and hi is None:
        return f"any {name} date"
    low = f"{'on or after' if first.lo_closed else 'after'} {lo}"
    high = f"{'on or before' if last.hi_closed else 'before'} {hi}"
    if lo is None:
        return f"{name} {high}"
    if hi is None:
        return f"{name} {low}"
    return f"{name} {low} and {high}"


def _date_run_dict(first: Interval, last: Interval) -> dict[str, str]:
    lo, hi = first.lo, last.hi
    if lo is not None and hi is not None and lo == hi:
        return {"on": lo.isoformat()}
    out: dict[str, str] = {}
    if lo is not None:
        out["since" if first.lo_closed else "after"] = lo.isoformat()
    if hi is not None:
        out["by" if last.hi_closed else "before"] = hi.isoformat()
    return out


_RELATIONS = {("before",): "before", ("on",): "on", ("after",): "after", ("before", "on"): "on or before",
              ("on", "after"): "on or after", ("before", "after"): "not on", ("before", "on", "after"): "any date"}


def anchor_words(key: str) -> str:
    """The date an anchor dimension compares with, in words."""
    if key == "as_of":
        return "the decision date"
    if key.startswith("fact:"):
        return f"the date `{key[len('fact:'):]}` holds from"
    kind, _, name = key[len("effective:"):].partition(":")
    return f"the date {'regime' if kind == 'layer' else 'rule'} `{name}` took effect"


def _anchor_text(dim: Dim, mask: int) -> str:
    kept = tuple(str(dim.values[i]) for i in _bits(mask) if dim.values[i] is not None)
    missing = bool((mask >> (len(dim.values) - 1)) & 1)
    words = []
    if kept:
        words.append(f"`{dim.attribute}` is {_RELATIONS[kept]} {anchor_words(str(dim.member))}")
    if missing:
        words.append(f"there is no `{dim.attribute}` date")
    return " or ".join(words)


def _run_dict(first: Interval, last: Interval) -> dict[str, str]:
    lo, hi = first.lo, last.hi
    if lo is not None and hi is not None and lo == hi:
        return {"eq": str(lo)}
    out: dict[str, str] = {}
    if lo is not None:
        out["gte" if first.lo_closed else "gt"] = str(lo)
    if hi is not None:
        out["lte" if last.hi_closed else "lt"] = str(hi)
    return out


def _members(domain: Domain, cube: Cube, kind: str, rel: Cube | None) -> dict[str, tuple[list[str], list[str]]]:
    """Per attribute: (members required present, members required absent)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for d in domain.dims:
        if d.kind != kind or cube[d.index] == d.full or (rel is not None and cube[d.index] == rel[d.index]):
            continue
        present, absent = out.setdefault(d.attribute, ([], []))
        assert d.member is not None
        (present if cube[d.index] == 0b10 else absent).append(d.member)
    return out


def _member_text(attr: str, present: list[str], absent: list[str]) -> str:
    what = "" if attr == "flags" else f"`{attr}` "
    parts = []
    if present:
        parts.append(f"with {what}{_and(present)}")
    if absent:
        if len(absent) == 1:
            parts.append(f"without {what}{absent[0]}")
        elif len(absent) == 2:
            parts.append(f"with neither {what}{absent[0]} nor {absent[1]}")
        else:
            parts.append(f"with none of {what}{', '.join(absent)}")
    return ", ".join(parts)


def describe(domain: Domain, cube: Cube, relative_to: Cube | None = None) -> str:
    """A cube in words, e.g. ``grant of end_items.civic_action in FY1963 when `x` holds``.

    With ``relative_to`` (a cube holding this one), only what narrows it is said.
    """
    rel = relative_to
    ch = domain.channel
    cat = domain.category
    parts: list[str] = []  # qualifiers after the channel and categories
    same_ch = rel is not None and cube[ch.index] == rel[ch.index]
    same_cat = rel is not None and cube[cat.index] == rel[cat.index]
    chan_full = cube[ch.index] == ch.full
    cat_full = cube[cat.index] == cat.full
    chans = [ch.values[i] for i in _bits(cube[ch.index])]
    others = [c for c in ch.values if c not in chans]
    if chan_full:
        chan = "any channel"
    elif len(others) < len(chans) and len(others) == 1:
        chan = f"any channel except {others[0]}"
    else:
        chan = _or(chans)
    head: list[str] = []
    if rel is None:
        if chan_full and cat_full:
            head.append("any request")
        else:
            head.append(f"{chan} of {_category_text(domain, cube[cat.index])}")
    else:
        if not same_ch:
            head.append(chan)
        if not same_cat:
            head.append(("of " if not same_ch else "") + _category_text(domain, cube[cat.index]))
    # program
    pr = domain.program
    if cube[pr.index] != pr.full and not (rel is not None and cube[pr.index] == rel[pr.index]):
        progs = [str(pr.values[i]) for i in _bits(cube[pr.index])]
        rest = [str(p) for p in pr.values if p not in progs]
        if len(rest) < len(progs):
            parts.append(f"in any program but {_or(rest)}")
        else:
            parts.append(f"in {_or(progs)}")
    # flags and set members
    for attr, (present, absent) in _members(domain, cube, "flag", rel).items():
        parts.append(_member_text(attr, present, absent))
    for attr, (present, absent) in _members(domain, cube, "member", rel).items():
        parts.append(_member_text(attr, present, absent))
    # enums and decimals
    for d in domain.dims:
        m = cube[d.index]
        if d.kind not in ("enum", "decimal", "date") or m == d.full or (rel is not None and m == rel[d.index]):
            continue
        if d.kind == "enum":
            vals = [str(d.values[i]) for i in _bits(m) if d.values[i] is not None]
            has_other = bool((m >> (len(d.values) - 1)) & 1)
            tested = [str(v) for v in d.values if v is not None]
            if has_other:
                excluded = [v for v in tested if v not in vals]
                parts.append(f"with `{d.attribute}` other than {_or(excluded)}")
            else:
                parts.append(f"with `{d.attribute}` {_or(vals)}")
        elif d.kind == "date":
            runs, missing = _runs(d, m)
            words = [_date_run_text(d, a, b) for a, b in runs]
            if missing:
                words.append(f"no `{d.attribute}` date")
            parts.append("with " + _or(words))
        else:
            runs, missing = _runs(d, m)
            words = [_run_text(d, a, b) for a, b in runs]
            if missing:
                words.append(f"{d.attribute} missing")
            parts.append("with " + _or(words))
    # facts
    holds: list[str] = []
    misses: list[str] = []
    for d in domain.dims:
        if d.kind != "fact" or cube[d.index] == d.full or (rel is not None and cube[d.index] == rel[d.index]):
            continue
        (holds if cube[d.index] == 0b10 else misses).append(f"`{d.attribute}`")
    if holds or misses:
        words = []
        if holds:
            words.append(f"{_and(holds)} {'holds' if len(holds) == 1 else 'hold'}")
        if misses:
            verb = "does not hold" if len(misses) == 1 else "do not hold"
            words.append(f"{_and(misses)} {verb}")
        parts.append("when " + " and ".join(words))
    for d in domain.dims:  # stages against a date not fixed (no --as-of)
        if d.kind == "anchor" and cube[d.index] != d.full and not (rel is not None and cube[d.index] == rel[d.index]):
            parts.append("when " + _anchor_text(d, cube[d.index]))
    if not head and not parts:
        return "any request"
    text = " ".join(head)
    sep = ", " if "," in text else " "
    return (text + sep + ", ".join(parts)).strip(", ") if parts else text


def match_dict(domain: Domain, cube: Cube, relative_to: Cube | None = None) -> dict[str, Any]:
    """A cube as a mapping of the dimensions it narrows (see the module docstring)."""
    rel = relative_to
    out: dict[str, Any] = {}

    def narrowed(d: Dim) -> bool:
        return cube[d.index] != d.full and not (rel is not None and cube[d.index] == rel[d.index])

    for d in domain.dims:
        if not narrowed(d):
            continue
        m = cube[d.index]
        if d.kind == "channel":
            out["channel"] = [d.values[i] for i in _bits(m)]
        elif d.kind == "category":
            any_, under, except_ = category_terms(domain, m)
            cat: dict[str, Any] = {"any": any_}
            if under:
                cat["under"] = under
            if except_:
                cat["except"] = except_
            out["category"] = cat
        elif d.kind == "program":
            out["program"] = [str(d.values[i]) for i in _bits(m)]
        elif d.kind in ("flag", "member"):
            entry = out.setdefault(d.attribute, {})
            entry.setdefault("all" if m == 0b10 else "none", []).append(d.member)
        elif d.kind == "enum":
            vals = [str(d.values[i]) for i in _bits(m) if d.values[i] is not None]
            if (m >> (len(d.values) - 1)) & 1:
                out[d.attribute] = {"not_in": [str(v) for v in d.values if v is not None and str(v) not in vals]}
            else:
                out[d.attribute] = {"in": vals}
        elif d.kind == "decimal":
            runs, missing = _runs(d, m)
            items: list[dict[str, Any]] = [_run_dict(a, b) for a, b in runs]
            if missing:
                items.append({"missing": True})
            out[d.attribute] = items
        elif d.kind == "date":
            runs, missing = _runs(d, m)
            dates: list[dict[str, Any]] = [_date_run_dict(a, b) for a, b in runs]
            if missing:
                dates.append({"missing": True})
            out[d.attribute] = dates
        elif d.kind == "anchor":  # {"anchors": {stage: {anchor: [before, on, after, missing]}}}
            out.setdefault("anchors", {}).setdefault(d.attribute, {})[str(d.member)] = [
                str(d.values[i]) if d.values[i] else "missing" for i in _bits(m)]
        elif d.kind == "fact":
            facts = out.setdefault("facts", {})
            facts.setdefault("hold" if m == 0b10 else "missing", []).append(d.attribute)
    return out


def outcome_change(a: str, b: str) -> str:
    return f"{a} {ARROW} {b}"


def criterion_change(a: str | None, b: str | None) -> str:
    """A change of review criterion: ``review (urgent necessity) → review (other)``."""
    return f"review ({a or 'no criterion'}) {ARROW} review ({b or 'no criterion'})"


def statement_words(domain: Domain, cube: Cube, unless: Sequence[Cube]) -> tuple[str, tuple[Cube, ...]]:
    """A cube minus exceptions in words, and the exceptions in the order they are said.

    Exceptions are ordered by the first dimension they narrow (categories before flags before
    facts), then alphabetically.
    """

    def key(e: Cube) -> tuple[int, str]:
        first = next((d for d, (x, y) in enumerate(zip(e, cube)) if x != y), len(cube))
        return first, describe(domain, e, cube)

    ordered = tuple(sorted(unless, key=key))
    words = describe(domain, cube)
    if ordered:
        words += ", unless " + " or ".join(f"({describe(domain, e, cube)})" for e in ordered)
    return words, ordered


# -- notifications and caps ---------------------------------------------------------------------------


def notification_terms(n: Notification) -> str:
    """A notification named for a statement: ``notification `id` (to WHOM; each waits N days after `FACT`)``."""
    parts = [f"to {n.to}"] if n.to else []
    if n.report is not None and n.days is not None:
        parts.append(f"each waits {n.days} days after `{n.report}`")
    return f"notification `{n.id}`" + (f" ({'; '.join(parts)})" if parts else "")


def cap_terms(c: Cap) -> str:
    """A cap named for a statement: ``cap `id` (limit L, one per PER)``."""
    per = f", one per {_and([f'`{a}`' for a in c.per])}" if c.per else ""
    return f"cap `{c.id}` (limit {c.limit:,.2f}{per})"


def duty_change(kind: str, terms: str, under: str, not_under: str) -> str:
    """What differs for a class between two options: a notification owed, or counting against a cap."""
    if kind == "notification":
        return f"{terms} owed under `{under}`, not under `{not_under}`"
    return f"count against {terms} under `{under}`, not under `{not_under}`"


def cap_effect(cap: Cap, pool: Sequence[str], names: tuple[str, str], allocated: tuple[Decimal, Decimal],
               blocked: tuple[Sequence[str], Sequence[str]], amounts: tuple[Decimal, Decimal]) -> str:
    """One pool of a cap over the pipeline under two options: what it allocates and blocks under each."""
    head = f"cap `{cap.id}`" + (f", pool {', '.join(f'`{v}`' for v in pool)}" if cap.per else "")
    parts = []
    for name, alloc, lines, amount in zip(names, allocated, blocked, amounts):
        what = (f"blocks {_and(list(lines))} ({amount:,.2f})" if lines else "blocks nothing")
        parts.append(f"under `{name}` {alloc:,.2f} allocated, {what}")
    return f"{head} (limit {cap.limit:,.2f}): " + "; ".join(parts)
