"""The decision contract: regime in force, layers, combination, explanations, comparison."""

from .compare import Comparison, Conflict, OptionResult, Summary, compare
from .decide import Decision, Evaluator, ReviewCase, decide, evaluator
from .explain import decision_dict, explain_lines
from .testing import TestResult, run_tests
from ..semantics import LayerResult, RuleState
from .timeline import FactState, InForce, Period, facts_at, periods, regime_in_force, resolve_option

__all__ = [
    "Comparison",
    "Conflict",
    "Decision",
    "Evaluator",
    "FactState",
    "InForce",
    "LayerResult",
    "OptionResult",
    "Period",
    "ReviewCase",
    "RuleState",
    "Summary",
    "TestResult",
    "compare",
    "decide",
    "decision_dict",
    "evaluator",
    "explain_lines",
    "facts_at",
    "periods",
    "regime_in_force",
    "resolve_option",
    "run_tests",
]
