"""Exports shared by the command line and the service: a comparison as CSV rows, as everyone or as one user
sees it (:func:`comparison_csv`); a diff as CSV rows, one per statement of every kind (:func:`diff_rows`)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal
from typing import Any, Mapping, Sequence

from ..analysis import Diff
from ..engine import Comparison
from ..language import OUTCOMES
from .clearance import View

__all__ = ["COMPARISON_HEADER", "comparison_rows", "comparison_csv", "csv_text", "diff_header", "diff_rows",
           "diff_programs"]

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


def diff_programs(result: Diff, programs: Sequence[str]) -> list[str]:
    """The programs (in ``programs``' order) some statement or duty of ``result`` has pipeline amounts in."""
    impacts = [st.impact for st in result.statements] + [d.impact for d in result.duties]
    return [p for p in programs if any(p in impact for impact in impacts)]


def diff_header(programs: Sequence[str]) -> list[str]:
    """The columns of :func:`diff_rows`: the kind of statement, the change, the requests, their amounts by
    program, then what only duties and caps' effects carry, and the statement's text."""
    return ["kind", "from", "to", "from_criterion", "to_criterion", "requests", *programs, "total", "name", "under",
            "not_under", "limit", "allocated_a", "allocated_b", "blocked_a", "blocked_b", "blocked_items_a",
            "blocked_items_b", "text"]


def diff_rows(result: Diff, programs: Sequence[str]) -> list[list[Any]]:
    """One row per statement of a diff, every kind of it: ``kind`` is ``outcome`` or ``criterion`` (a class whose
    decision changes), ``notification`` or ``cap`` (a class a notification is owed for, or that counts against a cap,
    under one option only: ``under``/``not_under``), or ``cap-allocation`` (a pool of a cap whose allocation over the
    pipeline differs: ``limit``, and under `a` and `b` the amount ``allocated``, the amount and lines ``blocked``).
    Cells a kind does not have are empty."""
    rows: list[list[Any]] = []

    def amounts(impact: Mapping[str, Decimal], total: Decimal) -> list[str]:
        return [*(f"{impact[p]:.2f}" if p in impact else "0.00" for p in programs), f"{total:.2f}"]

    empty_cap = [""] * 7
    for st in result.statements:
        rows.append([st.change, st.from_.value, st.to.value, st.from_criterion or "", st.to_criterion or "",
                     st.requests, *amounts(st.impact, st.amount), "", "", "", *empty_cap, st.text])
    for d in result.duties:
        rows.append([d.kind, "", "", "", "", d.requests, *amounts(d.impact, d.amount), d.name, d.under, d.not_under,
                     *empty_cap, d.text])
    for c in result.caps:
        pool = ", ".join(c.pool)
        rows.append(["cap-allocation", "", "", "", "", f"pool {pool}" if pool else "", *[""] * (len(programs) + 1),
                     c.cap, "", "", f"{c.limit:.2f}", *(f"{v:.2f}" for v in c.allocated),
                     *(f"{v:.2f}" for v in c.blocked_amount), *(" ".join(b) for b in c.blocked), c.text])
    return rows


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV with a header line, ``\\n`` line ends, None as empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue()
