"""The semantic core: what a rule, a layer, an outcome and a decision mean, defined once.

Every evaluator path consumes these definitions: the in-memory evaluator
(:mod:`tranche.engine`), the SQL compiler (:mod:`tranche.compiler`), the
request-class analysis behind ``diff``, ``lint`` and conflicts
(:mod:`tranche.analysis`) and ``compare``.  None of them re-derives them.

* the outcome order is :class:`~tranche.language.scenario.Outcome`'s own
  (definition order, least restrictive first);
* an operator's meaning is its row in :mod:`tranche.language.operators`;
* a value's form is :mod:`tranche.language.values`;
* a rule's state once the facts are fixed, a layer, how a layer decides and
  how layers combine, and the conflict-with-the-law test are here.
"""

from .policy import (
    Facts,
    Layer,
    LayerResult,
    RuleState,
    Verdict,
    combine,
    default_marker,
    in_conflict,
    in_force,
    resolve_layer,
    rules_in_force,
    rule_outcome,
    rule_state,
    took_effect,
    entry_start,
    anchor_date,
    fix_dates,
    dated_rule,
)

__all__ = [
    "Facts",
    "Layer",
    "LayerResult",
    "RuleState",
    "Verdict",
    "combine",
    "default_marker",
    "in_conflict",
    "in_force",
    "resolve_layer",
    "rules_in_force",
    "rule_outcome",
    "rule_state",
    "took_effect",
    "entry_start",
    "anchor_date",
    "fix_dates",
    "dated_rule",
]
