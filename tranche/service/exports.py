"""Exports shared by the command line and the service: a comparison as CSV rows."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Sequence

from ..engine import Comparison
from ..language import OUTCOMES

__all__ = ["COMPARISON_HEADER", "comparison_rows", "csv_text"]

COMPARISON_HEADER = ("option", "program", "total", *(o.value for o in OUTCOMES), "permitted_share", "conflict_amount",
                     "conflicts")


def comparison_rows(result: Comparison) -> list[list[Any]]:
    """Per option: a row per program, per channel (``channel:grant``), per value of the ``--by`` attribute
    (``account:FMF``) and the total, with the conflicts."""
    rows: list[list[Any]] = []
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
                         *conflicts(p.program)])
        for p in opt.channels:
            d = p.to_dict()
            rows.append([opt.name, f"channel:{p.program}", d["total"], *(d[o.value] for o in OUTCOMES),
                         d["permitted_share"], "", ""])
        for p in opt.groups:  # `compare --by ATTRIBUTE`
            d = p.to_dict()
            rows.append([opt.name, f"{opt.by}:{p.program}", d["total"], *(d[o.value] for o in OUTCOMES),
                         d["permitted_share"], "", ""])
        for p in opt.bases:  # record figures apart from illustrative ones
            d = p.to_dict()
            rows.append([opt.name, f"basis:{p.program}", d["total"], *(d[o.value] for o in OUTCOMES),
                         d["permitted_share"], "", ""])
        d = opt.totals.to_dict()
        rows.append([opt.name, "total", d["total"], *(d[o.value] for o in OUTCOMES), d["permitted_share"],
                     *conflicts(None)])
    return rows


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV with a header line, ``\\n`` line ends, None as empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()
