"""Policy analysis over the finite request domain: request classes, semantic diff, conflicts with the law, lint.

Everything here is exact: derived from the rules over every request the scenario's
vocabulary allows (channels, taxonomy, programs, the flags, values and thresholds rules
test, and the facts they require), never from sampling items.
"""

from .classes import Domain
from .requests import RequestClass, request_classes
from .conflicts import LawConflict, conflicts
from .diff import Diff, Statement, diff
from .lint import lint

__all__ = ["Diff", "Domain", "LawConflict", "RequestClass", "Statement", "conflicts", "diff", "lint",
           "request_classes"]
