"""The store as the service reads it: one database, stored scenarios and their review cases, cached.

Every change to the store appends an audit entry, so the audit log's head is
the store's version: what was read at one head (a scenario, its cases, an
evaluator with the cases applied, a comparison) is reused until the head
moves.  The head itself is read at most every :data:`STAMP_SECONDS`, and at
once after a change made through this service (:meth:`Desk.invalidate`): a
change made by another process (the command line) shows within that time.

The cache is bounded by weight, not by count: an evaluator or a comparison
weighs the line items it decides (about 2 KiB each once decided), anything
else one unit, and the least recently used entries go beyond
:data:`CACHE_WEIGHT` units -- a few hundred dates and options of a scenario of
the founding memo's size, a handful of a pipeline of ten thousand lines.

A :class:`Desk` holds no web code; the API and the pages call it, and so could
a command.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Sequence, TypeVar

from sqlalchemy import select

from .. import store
from ..engine import Comparison, Evaluator
from ..language import Scenario
from ..store.tables import audit_head
from .clearance import View

__all__ = ["Desk"]

T = TypeVar("T")
CACHE_WEIGHT = 60_000
STAMP_SECONDS = 1.0


class Desk:
    """Stored scenarios, cases and evaluations of the database at ``url``, cached per store version."""

    def __init__(self, url: str | None = None) -> None:
        self.db = store.open_db(url)
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._cache: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self._weight = 0
        self._stamp_read = 0.0

    def close(self) -> None:
        self.db.dispose()

    def stamp(self) -> int:
        """The store's version: the sequence number of the audit log's last entry (read again after
        :data:`STAMP_SECONDS`, or after :meth:`invalidate`); what was cached at another version is dropped."""
        now = time.monotonic()
        with self._lock:
            if self._stamp is not None and now - self._stamp_read < STAMP_SECONDS:
                return self._stamp
        with self.db.read() as conn:
            seq = int(conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar_one_or_none() or 0)
        with self._lock:
            self._stamp_read = now
            if seq != self._stamp:
                self._cache.clear()
                self._weight = 0
                self._stamp = seq
        return seq

    def invalidate(self) -> None:
        """Read the store's version again on the next request (after a change made through the service)."""
        with self._lock:
            self._stamp_read = 0.0

    def _cached(self, key: tuple[Any, ...], make: Callable[[], T], weight: int = 1) -> T:
        stamp = self.stamp()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                found: T = self._cache[key][0]
                return found
        value = make()
        with self._lock:
            if self._stamp == stamp and key not in self._cache:
                self._cache[key] = (value, weight)
                self._weight += weight
                while self._weight > CACHE_WEIGHT and len(self._cache) > 1:
                    self._weight -= self._cache.popitem(last=False)[1][1]
        return value

    def _peek(self, key: tuple[Any, ...]) -> Any:
        """What is cached under ``key`` at the store's current version, or None (nothing is made)."""
        self.stamp()
        with self._lock:
            found = self._cache.get(key)
            if found is None:
                return None
            self._cache.move_to_end(key)
            return found[0]

    # -- reading ------------------------------------------------------------------------------------------
    def scenarios(self) -> list[store.ScenarioInfo]:
        return store.list_scenarios(self.db)

    def scenario(self, sid: str) -> Scenario:
        """The stored scenario ``sid`` (current law and regime versions, facts as asserted)."""
        return self._cached(("scenario", sid), lambda: store.read_scenario(self.db, sid))

    def cases(self, sid: str) -> list[store.Case]:
        """Every review case of ``sid``, by id."""
        self.scenario(sid)  # unknown scenario: NotFound, with did-you-mean
        return self._cached(("cases", sid), lambda: store.list_cases(self.db, sid, "all"))

    def view(self, sid: str, clearance: str) -> View:
        """Scenario ``sid`` as seen at ``clearance``."""
        return self._cached(("view", sid, clearance), lambda: View(self.scenario(sid), clearance))

    def view_if_cached(self, sid: str, clearance: str) -> View | None:
        """:meth:`view` if it is cached (no reading, no work), else None."""
        found: View | None = self._peek(("view", sid, clearance))
        return found

    def evaluator(self, sid: str, as_of: dt.date, assume: Sequence[str] = (), regime: str | None = None) -> Evaluator:
        """An evaluator of ``sid`` with the store's review cases applied (shared: do not change it).

        Made ready to decide any item at once: the law's caps are allocated over the pipeline when it is made,
        so that deciding with a cached evaluator is only the item's own work."""
        def make() -> Evaluator:
            s = self.scenario(sid)
            ev = Evaluator(s, as_of, list(assume), regime)
            ev.reviews = store.review_map(ev, self.cases(sid))
            if s.law.caps:
                ev.cap_uses()
            return ev
        return self._cached(("evaluator", sid, as_of, tuple(assume), regime), make,
                            weight=len(self.scenario(sid).items))

    def evaluator_if_cached(self, sid: str, as_of: dt.date, assume: Sequence[str] = (),
                            regime: str | None = None) -> Evaluator | None:
        """:meth:`evaluator` if it is cached (no reading, no work), else None."""
        found: Evaluator | None = self._peek(("evaluator", sid, as_of, tuple(assume), regime))
        return found

    def compare(self, sid: str, clearance: str, as_of: dt.date, options: Sequence[str],
                assume: Sequence[str] = (), recipient: str | None = None) -> Comparison:
        """The options compared on the items visible at ``clearance``, with the store's review cases applied."""
        def make() -> Comparison:
            cases = self.cases(sid)
            return self.view(sid, clearance).compare(as_of, options, assume, recipient,
                                                     reviews=lambda ev: store.review_map(ev, cases))
        return self._cached(("compare", sid, clearance, as_of, tuple(options), tuple(assume), recipient), make,
                            weight=len(self.scenario(sid).items) * max(1, len(options)))

    def compare_if_cached(self, sid: str, clearance: str, as_of: dt.date, options: Sequence[str],
                          assume: Sequence[str] = (), recipient: str | None = None) -> Comparison | None:
        """:meth:`compare` if it is cached (no reading, no work), else None."""
        found: Comparison | None = self._peek(("compare", sid, clearance, as_of, tuple(options), tuple(assume),
                                               recipient))
        return found
