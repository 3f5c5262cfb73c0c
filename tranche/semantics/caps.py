"""Aggregate ceilings (caps): the one definition of how a cap blocks lines.

A cap is allocated over a pipeline once every line is decided:

1. the lines that count are those *permitted* (after the layers and review
   cases), in the cap's scope (``when``, with facts fixed), and not already
   blocked by an earlier cap (caps apply in the order the law declares them);
2. they form one pool per value of the cap's ``per`` attributes;
3. in each pool, lines are taken in the declared ``order`` (attributes,
   descending where marked; missing values last), then by item id; the
   running total includes every line taken;
4. a line whose running total exceeds the limit is ``blocked``, naming the cap
   (a line without an amount counts nothing, but is blocked once the ceiling is passed)
   -- so from the first line that would exceed it, every later line of the
   pool is blocked too (the ceiling is reached there).

The SQL compiler writes the same rule as a window sum (``SUM(amount) OVER
(PARTITION BY per ORDER BY order, id)``); the differential suites check both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

from ..language.scenario import Cap, LineItem, Outcome
from ..language.values import ZERO
from .duties import counts_against
from .policy import Facts, fix_dates

__all__ = ["CapHit", "CapUse", "allocate", "order_key", "pool_of"]


@dataclass(frozen=True)
class CapHit:
    """A line a cap blocks: the cap, its limit, and the running total before the line in its pool."""

    cap: str
    limit: Decimal
    before: Decimal
    pool: tuple[str, ...]


@dataclass
class CapUse:
    """How much of one pool of a cap is allocated, and how much it blocks."""

    cap: str
    pool: tuple[str, ...]
    limit: Decimal
    allocated: Decimal = ZERO
    blocked: Decimal = ZERO
    blocked_items: int = 0

    @property
    def headroom(self) -> Decimal:
        return self.limit - self.allocated


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    return str(value)


def pool_of(cap: Cap, item: LineItem) -> tuple[str, ...]:
    """The pool of ``cap`` a line counts against (its values of ``per``)."""
    return tuple(_text(item.get(a)) for a in cap.per)


def order_key(cap: Cap, item: LineItem) -> tuple[Any, ...]:
    """The allocation order of a line in its pool: the declared attributes (missing last), then the id."""
    key: list[Any] = []
    for attribute, descending in cap.order:
        value = item.id if attribute == "id" else item.get(attribute)
        if value is None or value == "":
            key.append((1, _Rev(None) if descending else None))
            continue
        if isinstance(value, frozenset):
            value = ",".join(sorted(value))
        key.append((0, _Rev(value) if descending else value))
    key.append(item.id)
    return tuple(key)


class _Rev:
    """Reverses the order of a value (for descending keys)."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: "_Rev") -> bool:
        return bool(other.v < self.v) if self.v is not None and other.v is not None else False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rev) and self.v == other.v


def allocate(caps: Sequence[Cap], lines: Sequence[tuple[LineItem, Outcome]],
             facts: Facts) -> tuple[dict[int, CapHit], list[CapUse]]:
    """Allocate ``caps`` over ``lines`` (item, outcome before caps): the lines blocked (by index) and each pool's use.

    ``facts``: the facts holding and their dates (a cap's scope may test facts and compare stage dates with the
    decision's date or a fact's)."""
    hits: dict[int, CapHit] = {}
    uses: list[CapUse] = []
    for cap in caps:
        scope = cap.when.fix_facts(facts.holds)
        if scope is None:
            continue
        scope = fix_dates(scope, facts)
        pools: dict[tuple[str, ...], list[int]] = {}
        for i, (item, outcome) in enumerate(lines):
            if counts_against(cap, outcome) and i not in hits and scope.item_predicates_hold(item):
                pools.setdefault(pool_of(cap, item), []).append(i)
        for pool, members in sorted(pools.items()):
            use = CapUse(cap.id, pool, cap.limit)
            running = ZERO
            for i in sorted(members, key=lambda k: order_key(cap, lines[k][0])):
                amount = lines[i][0].amount or ZERO  # a line without an amount counts nothing
                if running + amount > cap.limit:
                    hits[i] = CapHit(cap.id, cap.limit, running, pool)
                    use.blocked += amount
                    use.blocked_items += 1
                else:
                    use.allocated += amount
                running += amount
            uses.append(use)
    return hits, uses
