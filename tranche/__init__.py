"""tranche: decide, explain and plan conditional military assistance.

>>> import tranche
>>> s = tranche.load_scenario("scenarios/peru-1962")
>>> tranche.decide(s, "F62-MNT-01", "1962-10-03", regime="limited").outcome.value
'permitted'
"""

import typing as _typing

if _typing.TYPE_CHECKING:  # the names are imported on first use (PEP 562), so that `tranche --help` starts fast
    from .analysis import Diff, LawConflict, conflicts, diff, lint
    from .compiler import compile_policy
    from .engine import (
        Comparison,
        Decision,
        Evaluator,
        ReviewCase,
        compare,
        decide,
        evaluator,
        explain_lines,
        facts_at,
        periods,
        regime_in_force,
        run_tests,
    )
    from .errors import (
        ConflictError,
        Diagnostic,
        EvaluationError,
        NotFound,
        PermissionDenied,
        PolicyError,
        Span,
        StoreError,
        TrancheError,
        UnsupportedError,
        UsageError,
    )
    from .language import CheckResult, LineItem, Outcome, Regime, Rule, Scenario, check, load_scenario
    from .language.schema import schema

_EXPORTS = {
    ".analysis": ("Diff", "LawConflict", "conflicts", "diff", "lint"),
    ".compiler": ("compile_policy",),
    ".engine": ("Comparison", "Decision", "Evaluator", "ReviewCase", "compare", "decide", "evaluator",
                "explain_lines", "facts_at", "periods", "regime_in_force", "run_tests"),
    ".errors": ("ConflictError", "Diagnostic", "EvaluationError", "NotFound", "PermissionDenied", "PolicyError",
                "Span", "StoreError", "TrancheError", "UnsupportedError", "UsageError"),
    ".language": ("CheckResult", "LineItem", "Outcome", "Regime", "Rule", "Scenario", "check", "load_scenario"),
    ".language.schema": ("schema",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> _typing.Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'tranche' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "Comparison",
    "ConflictError",
    "Decision",
    "Diagnostic",
    "Diff",
    "EvaluationError",
    "Evaluator",
    "LawConflict",
    "LineItem",
    "NotFound",
    "Outcome",
    "PermissionDenied",
    "PolicyError",
    "Regime",
    "ReviewCase",
    "Rule",
    "Scenario",
    "Span",
    "StoreError",
    "TrancheError",
    "UnsupportedError",
    "UsageError",
    "check",
    "compare",
    "compile_policy",
    "conflicts",
    "decide",
    "diff",
    "evaluator",
    "explain_lines",
    "facts_at",
    "lint",
    "load_scenario",
    "periods",
    "regime_in_force",
    "run_tests",
    "schema",
]
