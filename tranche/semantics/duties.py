"""Duties a decision creates (notifications), and what counts against a cap: the one definition of both.

* A notification (law.yaml ``notifications``) **covers** a request where its ``when`` holds,
  with the facts fixed (:func:`covers`).
* It is **owed** for a request it covers whose decision may still release it: any outcome but
  ``prohibited`` (:func:`owed_for`).  A permitted or reviewed request is, or may be, released
  after notice; a blocked one once the facts it misses hold (a notification with a wait blocks
  its own requests until the period has run); a prohibited request goes nowhere, so nothing is
  notified for it.
* A request **counts against** a cap where it is in the cap's scope and *permitted*
  (:func:`counts_against`, the first step of :mod:`tranche.semantics.caps`).

The engine's obligations, ``compare``'s totals, the allocation of caps and ``diff``'s duty
statements all read these definitions.
"""

from __future__ import annotations

from ..language.scenario import Cap, LineItem, Notification, Outcome
from .policy import Facts, fix_dates

__all__ = ["counts_against", "covers", "owed", "owed_for"]


def owed_for(outcome: Outcome) -> bool:
    """Whether a notification covering a request is owed when the request's decision is ``outcome``."""
    return outcome is not Outcome.PROHIBITED


def covers(notification: Notification, item: LineItem, facts: Facts) -> bool:
    """Whether ``notification`` covers ``item`` under ``facts`` (its tests of facts decided, its stage anchors
    fixed to dates)."""
    when = notification.when.fix_facts(facts.holds)
    return when is not None and fix_dates(when, facts).item_predicates_hold(item)


def owed(notification: Notification, item: LineItem, outcome: Outcome, facts: Facts) -> bool:
    """Whether ``notification`` is owed for ``item`` decided ``outcome`` (see the module docstring)."""
    return owed_for(outcome) and covers(notification, item, facts)


def counts_against(cap: Cap, outcome: Outcome) -> bool:
    """Whether a request in ``cap``'s scope decided ``outcome`` counts against it: only permitted requests do."""
    return outcome is Outcome.PERMITTED
