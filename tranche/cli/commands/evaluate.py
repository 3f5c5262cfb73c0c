"""`tranche decide`, `tranche timeline`, `tranche compare`, `tranche demo`: evaluating the pipeline."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Any, List, Optional

import typer
from rich.text import Text

from typing import TYPE_CHECKING

from ...errors import UsageError
from .. import render

if TYPE_CHECKING:
    from ...engine import Comparison
    from ...language import Scenario
from .common import load, parse_date, split_list, stored_reviews, workspace

FORMAT = typer.Option(render.Format.table, "--format", "-f", help="table, json or csv")
ASSUME = typer.Option(None, "--assume", "-a", help="assume a fact holds (FACT or FACT@YYYY-MM-DD); repeatable")


def register(app: typer.Typer) -> None:
    app.command("decide")(decide)
    app.command("timeline")(timeline)
    app.command("compare")(compare)
    app.command("demo")(demo)


def decide(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    item: Optional[str] = typer.Argument(None, help="line item id (or --request)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="date of the decision, YYYY-MM-DD (default: today)"),
    regime: Optional[str] = typer.Option(None, "--regime", "-r", help="a regime or timeline; default: the recipient's record"),
    assume: Optional[List[str]] = ASSUME,
    request: Optional[str] = typer.Option(None, "--request", help="decide a request that is not in the pipeline: a "
                                          "JSON object with its columns (recipient, program, channel, category, "
                                          "amount, flags, ...), an array, JSON lines, or - to read them from stdin"),
    format: render.Format = FORMAT,
) -> int:
    """Decide one line item (or ad-hoc requests) at a date, with the full explanation."""
    from ...engine import decision_dict, explain_lines

    if (item is None) == (request is None):
        raise UsageError("give a line item id or --request, not both" if item else "give a line item id or --request",
                         help="e.g. `tranche decide SCENARIO ITEM` or `tranche decide SCENARIO --request '{...}'`")
    s = load(scenario)
    day = parse_date(as_of) if as_of else dt.date.today()
    ev = workspace().evaluator(s, day, split_list(assume), regime)
    if request is not None:
        from ... import service

        text = sys.stdin.read() if request == "-" else request
        decisions = [ev.decide(i) for i in service.requests_from_json(s, text)]
    else:
        decisions = [ev.decide_id(item or "")]
    if format is render.Format.json:
        docs = [decision_dict(d) for d in decisions]
        render.emit_json(docs[0] if item is not None else docs if len(docs) > 1 else docs[0])
    elif format is render.Format.csv:
        render.emit_csv(["item", "as_of", "outcome", "rules", "missing_facts", "criterion", "regime", "version"],
                        [[d.item.id, d.as_of, d.outcome.value, " ".join(d.rules), " ".join(d.missing_facts),
                          d.criterion, d.regime_id, d.regime_version] for d in decisions])
    else:
        for n, d in enumerate(decisions):
            if n:
                render.console.print()
            for line in explain_lines(d, s):
                if line.startswith("outcome: "):
                    render.console.print(Text("outcome: ") + render.styled_outcome(d.outcome.value.upper())
                                         + Text(line[len("outcome: ") + len(d.outcome.value):]))
                else:
                    render.console.print(Text(line))
    return 0


def timeline(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    recipient: Optional[str] = typer.Option(None, "--recipient", help="alpha-3 code; default: the scenario's first"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="resolve assumed facts at this date (default: today)"),
    assume: Optional[List[str]] = ASSUME,
    format: render.Format = FORMAT,
) -> int:
    """The posture timeline: each regime with start, end, trigger and sources, and the dated facts."""
    from ... import service

    s = load(scenario)
    day = parse_date(as_of) if as_of else dt.date.today()
    data = service.timeline(s, recipient, day, split_list(assume))
    if format is render.Format.json:
        render.emit_json(data)
        return 0
    if format is render.Format.csv:  # periods, then the facts: nothing the table shows is lost
        rows = [["period", t["id"], p["regime"], "", p["title"], p["start"], p["end"], p["trigger"], p["default"],
                 "", " ".join(p["sources"]), p["announced"]] for t in data["timelines"] for p in t["periods"]]
        rows += [["fact", "", "", f["fact"], f["title"], f["date"], f["until"], "", "", f["assumed"],
                  " ".join(f["sources"]), None] for f in data["facts"]]
        render.emit_csv(["kind", "timeline", "regime", "fact", "title", "start", "end", "trigger", "default",
                         "assumed", "sources", "announced"], rows)
        return 0
    print_timeline(s, data)
    return 0


def print_timeline(s: Scenario, data: dict[str, Any]) -> None:
    for t in data["timelines"]:
        title = f"{'Posture of record' if t['record'] else 'Timeline'} `{t['id']}` — {s.recipients[data['recipient']] or data['recipient']}"
        if t["title"]:
            title += f": {t['title']}"
        announced = any(p["announced"] for p in t["periods"])  # a column only where some entry says
        rows = [[p["regime"], p["start"] or ("pending" if p["pending"] else "not in force"), p["end"] or "—",
                 *([p["announced"] or "—"] if announced else []),
                 p["trigger"] + (f" ({p['note']})" if p["note"] else ""), p["default"], ", ".join(p["sources"])]
                for p in t["periods"]]
        render.console.print(render.table(title, ["Regime", "From", "Until", *(["Announced"] if announced else []),
                                                  "Trigger", "Default", "Sources"], rows))
    rows = [[f["date"] or "not established", f["fact"], f["kind"], f["title"] + (" (assumed)" if f["assumed"] else ""),
             ", ".join(f["sources"])] for f in data["facts"]]
    render.console.print(render.table("Facts", ["Date", "Fact", "Kind", "What", "Sources"], rows,
                                      caption="facts without a date are not established by the record; "
                                              "they can be assumed with --assume"))


def compare(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="date, YYYY-MM-DD (default: today)"),
    options: List[str] = typer.Option(..., "--options", "-o", help="regimes or timelines to compare: A,B,C"),
    assume: Optional[List[str]] = ASSUME,
    recipient: Optional[str] = typer.Option(None, "--recipient", help="only this recipient's items"),
    items: bool = typer.Option(False, "--by-item", "--items", help="also list every item's decision (what each figure "
                               "is made of); --items is the old spelling"),
    by: Optional[str] = typer.Option(None, "--by", help="also total by this attribute (e.g. account, channel)"),
    format: render.Format = FORMAT,
) -> int:
    """Per option and program: totals and amounts permitted, review, blocked, prohibited; conflicts with the law."""
    from ...engine import compare as compare_options

    s = load(scenario)
    result = compare_options(s, parse_date(as_of) if as_of else dt.date.today(), split_list(options), split_list(assume), recipient,
                             reviews=lambda ev: stored_reviews(s, ev), by=by)
    if format is render.Format.json:
        render.emit_json(result.to_dict(items))
    elif format is render.Format.csv and items:
        render.emit_csv(["option", "item", "program", "channel", "category", "amount", "outcome", "rules",
                         "missing_facts", "criterion"],
                        [[opt.name, r["item"], r["program"], r["channel"], r["category"], r["amount"], r["outcome"],
                          " ".join(r["rules"]), " ".join(r["missing_facts"]), r["criterion"]]
                         for opt in result.options for r in opt.item_rows()])
    elif format is render.Format.csv:
        _comparison_csv(result)
    else:
        print_comparison(s, result)
        if items:
            for opt in result.options:
                rows = [[r["item"], r["program"], r["channel"], r["category"], f"{Decimal(r['amount']):,.2f}",
                         render.styled_outcome(r["outcome"]), ", ".join(r["rules"]),
                         ", ".join(r["missing_facts"]) or (r["criterion"] or "")] for r in opt.item_rows()]
                render.console.print(render.table(f"items under `{opt.name}`", ["Item", "Program", "Channel", "Category",
                                                  "Amount", "Outcome", "Deciding rules", "Missing / criterion"],
                                                  rows, right=["Amount"]))
    return 0


def _comparison_csv(result: Comparison) -> None:
    from ...language.scenario import OUTCOMES

    header = ["option", "program", "total", *(o.value for o in OUTCOMES), "permitted_share", "conflict_amount",
              "conflicts"]
    rows = []
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
        for p in opt.groups:
            d = p.to_dict()
            rows.append([opt.name, f"{opt.by}:{p.program}", d["total"], *(d[o.value] for o in OUTCOMES),
                         d["permitted_share"], "", ""])
        d = opt.totals.to_dict()
        rows.append([opt.name, "total", d["total"], *(d[o.value] for o in OUTCOMES), d["permitted_share"],
                     *conflicts(None)])
    render.emit_csv(header, rows)


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def print_comparison(s: Scenario, result: Comparison) -> None:
    from ...language.scenario import OUTCOMES

    assumed = f"; assuming {', '.join(result.assumed)}" if result.assumed else ""
    render.console.print(Text(f"Options on {result.as_of}{assumed}", style="bold"))
    for opt in result.options:
        rows = []

        def row(label: Text | str, p: Any) -> list[Any]:
            return [label, f"{p.total:,.2f}", *(f"{p.amounts[o]:,.2f}" for o in OUTCOMES), _pct(p.permitted_share)]

        for p in opt.programs:
            rows.append(row(p.program, p))
        if len(opt.channels) > 1:
            rows += [row(Text(f"all {c.program}", style="italic"), c) for c in opt.channels]
        rows.append(row(Text("all programs", style="bold"), opt.totals))
        regimes = ", ".join(opt.regimes)
        title = f"option `{opt.name}`" + (f" (regime {regimes})" if regimes != opt.name else "")
        render.console.print(render.table(title, ["Program", "Total", "Permitted", "Review", "Blocked", "Prohibited", "Share"],
                                          rows, right=["Total", "Permitted", "Review", "Blocked", "Prohibited", "Share"]))
        if opt.groups:
            grows = [row(g.program, g) for g in opt.groups]
            render.console.print(render.table(f"option `{opt.name}` by {opt.by}",
                                              [str(opt.by).capitalize(), "Total", "Permitted", "Review", "Blocked",
                                               "Prohibited", "Share"], grows,
                                              right=["Total", "Permitted", "Review", "Blocked", "Prohibited", "Share"]))
        for c in opt.conflicts:
            render.console.print(Text("  conflict with the law: ", style="bold red") + Text(
                f"{c.describe()} — law rule(s) {', '.join(c.law_rules)}"))
        if not opt.conflicts:
            render.console.print(Text("  no conflict with the law", style="green"))
        for cu in opt.caps:
            pool = f" ({', '.join(cu.pool)})" if cu.pool else ""
            blocked = f"; blocks {cu.blocked:,.2f} ({cu.blocked_items} item{'s' if cu.blocked_items != 1 else ''})" \
                if cu.blocked_items else ""
            render.console.print(Text("  cap: ", style="bold") + Text(
                f"`{cu.cap}`{pool}: {cu.allocated:,.2f} of {cu.limit:,.2f} allocated, headroom {cu.headroom:,.2f}{blocked}"))
        for ob in opt.obligations:
            what = ob.name.replace("_", " ") if ob.kind == "action" else f"notification `{ob.name}`"
            states = "; ".join(f"{n} {k}" for k, n in sorted(ob.statuses.items()))
            render.console.print(Text(f"  {ob.kind}: ", style="bold") + Text(
                f"{what}: {ob.items} item{'s' if ob.items != 1 else ''}, {ob.amount:,.2f}" + (f" ({states})" if states else "")))
        render.console.print()


def demo(
    folder: Optional[str] = typer.Argument(None, help="a scenario folder with a `demo:` block "
                                           "(default: the first such folder under scenarios/)"),
    scenario: Optional[str] = typer.Option(None, "--scenario", "-s", help="the same as the argument (old spelling)"),
    format: render.Format = FORMAT,
) -> int:
    """Load a scenario into the embedded database, then show its timeline and the options its `demo:` names."""
    from ... import service

    run = service.demo(folder or scenario, render.state.db)  # evaluated from the database from here on
    s = run.scenario
    if format is render.Format.json:
        render.emit_json(run.to_dict())
        return 0
    if format is render.Format.csv:
        _comparison_csv(run.comparison)
        return 0
    render.console.print(Text(f"{s.title}", style="bold underline"))
    if s.description:
        render.console.print(s.description.strip())
    render.console.print()
    print_timeline(s, run.timeline)
    render.console.print()
    if run.demo.note:
        render.console.print(Text(run.demo.note, style="italic"))
    print_comparison(s, run.comparison)
    for note in s.notes:
        render.console.print(Text(f"note: {note}", style="dim"))
    render.console.print()
    render.console.print(Text(f"Stored as `{s.id}` ({run.state}) in the database"))
    render.console.print(Text(f"  {run.url}"))
    render.console.print(Text(f"law version {s.law.version}, {len(s.regimes)} regimes, {run.open_cases} open review "
                              "cases. Explore further, from the database:"))
    for command, what in run.next_steps:  # each works as printed (tests/cli/test_demo.py runs them)
        render.console.print(Text(f"  # {what}", style="dim"))
        render.console.print(Text(f"  {command}"), soft_wrap=True)
    render.console.print(Text("docs/store.md: roles, PostgreSQL (--db postgresql+psycopg://...), migrations"))
    return 0
