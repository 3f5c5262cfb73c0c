"""Exports shared by the command line and the service: a comparison as CSV rows, as everyone or as one user
sees it (:func:`comparison_csv`)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal
from typing import Any, Mapping, Sequence

from ..engine import Comparison
from ..language import OUTCOMES
from .clearance import View

__all__ = ["COMPARISON_HEADER", "comparison_rows", "comparison_csv", "csv_text"]

COMPARISON_HEADER = ("option", "program", "total", *(o.value for o in OUTCOMES), "permitted_share", "conflict_amount",
                     "conflicts")


def comparison_rows(result: Comparison, withheld: Mapping[str, Counter[str]] | None = None) -> list[list[Any]]:
    """Per option: a row per program, per channel (``channel:grant``), per value of the ``--by`` attribute
    (``account:FMF``) and the total, with the conflicts; with ``withheld`` (:meth:`View.withheld_counts`), each
    row ends with how many items of its total were withheld."""
    rows: list[list[Any]] = []

    def count(kind: str, key: str) -> list[Any]:
        return [] if withheld is None else [withheld[kind].get(key, 0)]

    for opt in result.options:
        def conflicts(program: str | None) -> list[Any]:
            """The option's conflicts with the law touching ``program`` (None: all): amount and descriptions."""
            hits = [c for c in opt.conflicts if program is None or program in c.by_program]
            amount = sum((c.amount if program is None else c.by_program[program] for c in hits), Decimal(0))
            text = "; ".join(f"{c.describe()} (law rule(s) {', '.join(c.law_rules)})" for c in hits)
            return [f"{amount:.2f}", text]

        for p in opt.programs:
            d = p.to_dict()
            rows.append([opt.name, d["program"], d["total"], *(d[o.value] for o in OUTCOMES), d["permitted_share"],
                         *conflicts(p.program), *count("program", p.program)])
        for p in opt.channels:
            d = p.to_dict()
            rows.append([opt.name, f"channel:{p.program}", d["total"], *(d[o.value] for o in OUTCOMES),
                         d["permitted_share"], "", "", *count("channel", p.program)])
        for p in opt.groups:  # `compare --by ATTRIBUTE`
            d = p.to_dict()
            rows.append([opt.name, f"{opt.by}:{p.program}", d["total"], *(d[o.value] for o in OUTCOMES),
                         d["permitted_share"], "", "", *count("group", p.program)])
        for p in opt.bases:  # record figures apart from illustrative ones
            d = p.to_dict()
            rows.append([opt.name, f"basis:{p.program}", d["total"], *(d[o.value] for o in OUTCOMES),
                         d["permitted_share"], "", "", *count("basis", p.program)])
        d = opt.totals.to_dict()
        rows.append([opt.name, "total", d["total"], *(d[o.value] for o in OUTCOMES), d["permitted_share"],
                     *conflicts(None), *count("total", "total")])
    return rows


def comparison_csv(result: Comparison, view: View | None = None, recipient: str | None = None) -> str:
    """The comparison as CSV (:data:`COMPARISON_HEADER`, a row per total); as the user of ``view`` sees it
    (the API's, and the command line's with a token): names above the clearance withheld, a ``withheld_items``
    column saying how many items each total leaves out, and, when any is, a last row saying so."""
    if view is None:
        return csv_text(COMPARISON_HEADER, comparison_rows(result))
    by = result.options[0].by if result.options else None
    counts = view.withheld_counts(recipient, by)
    rows = view.cells(comparison_rows(result, counts))
    withheld = counts["total"]["total"]
    if withheld:
        rows.append(["", f"withheld: {withheld} item(s) above your clearance ({view.clearance})",
                     *([""] * (len(COMPARISON_HEADER) - 2)), withheld])
    return csv_text((*COMPARISON_HEADER, "withheld_items"), rows)


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV with a header line, ``\\n`` line ends, None as empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()
