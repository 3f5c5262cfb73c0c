"""`tranche decide`, `tranche timeline`, `tranche compare`, `tranche demo`: evaluating the pipeline."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from decimal import Decimal
from typing import Any, List, Optional

import typer

from typing import TYPE_CHECKING

from ...errors import UsageError
from .. import render

if TYPE_CHECKING:
    from ...engine import Comparison
    from ...language import Scenario
    from ...service.clearance import View
from .common import load, parse_date, split_list, stored_reviews, view_of, workspace

FORMAT = typer.Option(render.Format.table, "--format", "-f", help="table, json or csv")
CHART = typer.Option(None, "--chart", help="also write the chart (the web UI's) as SVG to this file")
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
    from rich.text import Text
    from ...engine import decision_dict, explain_lines

    if (item is None) == (request is None):
        raise UsageError("give a line item id or --request, not both" if item else "give a line item id or --request",
                         help="e.g. `tranche decide SCENARIO ITEM` or `tranche decide SCENARIO --request '{...}'`")
    s = load(scenario)
    v = view_of(s)  # a stored scenario read with a token: nothing above its user's clearance
    day = parse_date(as_of) if as_of else dt.date.today()
    facts = split_list(assume)
    if v is not None:
        facts, regime = v.assume(facts), v.option(regime) if regime else None
    ev = workspace().evaluator(s, day, facts, regime)
    if request is not None:
        from ... import service

        text = sys.stdin.read() if request == "-" else request
        decisions = [ev.decide(i) for i in service.requests_from_json(s, text)]
    elif v is not None:
        decisions = [ev.decide(v.item(item or ""))]
    else:
        decisions = [ev.decide_id(item or "")]
    if format is render.Format.json:
        docs = [decision_dict(d, s) if v is None else v.redact_doc(decision_dict(d, s)) for d in decisions]
        render.emit_json(docs[0] if item is not None else docs if len(docs) > 1 else docs[0])
    elif format is render.Format.csv:
        rows: list[list[Any]] = [[d.item.id, d.as_of, d.outcome.value, list(d.rules), list(d.missing_facts),
                                  d.criterion, d.regime_id, d.regime_version] for d in decisions]
        if v is not None:  # a withheld regime goes without its version
            rows = [[*r[:7], r[6] if d.regime_id in v.hidden else r[7]] for r, d in zip(v.cells(rows), decisions)]
        render.emit_csv(["item", "as_of", "outcome", "rules", "missing_facts", "criterion", "regime", "version"],
                        [[*r[:3], " ".join(r[3]), " ".join(r[4]), *r[5:]] for r in rows])
    else:
        for n, d in enumerate(decisions):
            if n:
                render.console.print()
            for line in explain_lines(d, s, v.hidden if v is not None else ()):
                if line.startswith("outcome: "):
                    render.console.print(Text("outcome: ") + render.styled_outcome(d.outcome.value.upper())
                                         + Text(line[len("outcome: ") + len(d.outcome.value):]))
                else:
                    render.console.print(Text(line))
        if v is not None:
            _print_withheld(v.withheld())
    return 0


def timeline(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    recipient: Optional[str] = typer.Option(None, "--recipient", help="alpha-3 code; default: the scenario's first"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="resolve assumed facts at this date (default: today)"),
    assume: Optional[List[str]] = ASSUME,
    chart: Optional[str] = CHART,
    format: render.Format = FORMAT,
) -> int:
    """The posture timeline: each regime with start, end, trigger and sources, and the dated facts."""
    from ... import service

    s = load(scenario)
    v = view_of(s)  # a stored scenario read with a token: nothing above its user's clearance
    day = parse_date(as_of) if as_of else dt.date.today()
    facts = split_list(assume) if v is None else v.assume(split_list(assume))
    data = service.timeline(s, recipient, day, facts)
    if v is not None:
        data = {**v.redact_doc(data), "withheld": v.withheld()}
    if chart:
        from ...service.charts import timeline_svg

        _write_chart(chart, timeline_svg(data))
    if format is render.Format.json:
        render.emit_json(data)
        return 0
    if format is render.Format.csv:  # periods, then the facts: nothing the table shows is lost
        rows = [["period", t["id"], p["regime"], "", p["title"], p["start"], p["end"], p["trigger"], p["default"],
                 "", " ".join(p["sources"]), p["announced"], p["basis"] or ""] for t in data["timelines"]
                for p in t["periods"]]
        rows += [["fact", "", "", f["fact"], f["title"], f["date"], f["until"], "", "", f["assumed"],
                  " ".join(f["sources"]), None, f["basis"] or ""] for f in data["facts"]]
        render.emit_csv(["kind", "timeline", "regime", "fact", "title", "start", "end", "trigger", "default",
                         "assumed", "sources", "announced", "basis"], rows)
        return 0
    print_timeline(s, data)
    if v is not None:
        _print_withheld(data["withheld"])
    return 0


def _print_withheld(withheld: dict[str, Any]) -> None:
    """What a reader's clearance left out, when it left out anything."""
    from rich.text import Text
    parts = [f"{withheld[k]} {what}" for k, what in (("items", "line item(s)"), ("regimes", "regime(s)"),
                                                    ("facts", "fact(s)"), ("sources", "source(s)")) if withheld[k]]
    if parts:
        render.console.print(Text(f"withheld above your clearance ({withheld['clearance']}): {', '.join(parts)}",
                                  style="bold"))


def print_timeline(s: Scenario, data: dict[str, Any]) -> None:
    for t in data["timelines"]:
        title = f"{'Posture of record' if t.get('record') else 'Timeline'} `{t['id']}` — {s.recipients[data['recipient']] or data['recipient']}"
        if t["title"]:
            title += f": {t['title']}"
        if t.get("basis"):
            title += f" [{t['basis']}]"
        announced = any(p["announced"] for p in t["periods"])  # a column only where some entry says
        with_basis = any(p["basis"] for p in t["periods"])
        rows = [[p["regime"], p["start"] or ("pending" if p["pending"] else "not in force"), p["end"] or "—",
                 *([p["announced"] or "—"] if announced else []),
                 p["trigger"] + (f" ({p['note']})" if p["note"] else ""), p["default"], ", ".join(p["sources"]),
                 *([p["basis"] or ""] if with_basis else [])]
                for p in t["periods"]]
        render.console.print(render.table(title, ["Regime", "From", "Until", *(["Announced"] if announced else []),
                                                  "Trigger", "Default", "Sources",
                                                  *(["Basis"] if with_basis else [])], rows))
    with_basis = any(f["basis"] for f in data["facts"])
    rows = [[f["date"] or "not established", f["fact"], f["kind"], f["title"] + (" (assumed)" if f["assumed"] else ""),
             ", ".join(f["sources"]), *([f["basis"] or ""] if with_basis else [])] for f in data["facts"]]
    render.console.print(render.table("Facts", ["Date", "Fact", "Kind", "What", "Sources",
                                                *(["Basis"] if with_basis else [])], rows,
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
    chart: Optional[str] = CHART,
    by: Optional[str] = typer.Option(None, "--by", help="also total by this attribute (e.g. account, channel)"),
    format: render.Format = FORMAT,
) -> int:
    """Per option and program: totals and amounts permitted, review, blocked, prohibited; conflicts with the law."""
    from ...engine import compare as compare_options

    s = load(scenario)
    v = view_of(s)  # a stored scenario read with a token: the items within its user's clearance, the rest counted
    day = parse_date(as_of) if as_of else dt.date.today()
    if v is None:
        result = compare_options(s, day, split_list(options), split_list(assume), recipient,
                                 reviews=lambda ev: stored_reviews(s, ev), by=by)
        doc = result.to_dict(items)
    else:
        result = v.compare(day, split_list(options), split_list(assume), recipient,
                           reviews=lambda ev: stored_reviews(s, ev), by=by)
        doc = v.totals(result.to_dict(items), recipient)
    if chart:
        from ...service.charts import compare_svg

        _write_chart(chart, compare_svg(doc))
    if format is render.Format.json:
        render.emit_json(doc)
    elif format is render.Format.csv and items:
        rows = [[opt.name, r["item"], r["program"], r["channel"], r["category"], r["amount"], r["outcome"],
                 r["rules"], r["missing_facts"], r["criterion"]] for opt in result.options for r in opt.item_rows()]
        render.emit_csv(["option", "item", "program", "channel", "category", "amount", "outcome", "rules",
                         "missing_facts", "criterion"],
                        [[*r[:7], " ".join(r[7]), " ".join(r[8]), r[9]] for r in (v.cells(rows) if v else rows)])
    elif format is render.Format.csv:
        from ...service.exports import comparison_csv

        sys.stdout.write(comparison_csv(result, v, recipient))
    else:
        print_comparison(s, result, v, recipient)
        if items:
            for opt in result.options:
                rows = [[r["item"], r["program"], r["channel"], r["category"], f"{Decimal(r['amount']):,.2f}",
                         render.styled_outcome(r["outcome"]), r["rules"], r["missing_facts"], r["criterion"]]
                        for r in opt.item_rows()]
                rows = v.cells(rows) if v is not None else rows
                render.console.print(render.table(f"items under `{opt.name}`", ["Item", "Program", "Channel", "Category",
                                                  "Amount", "Outcome", "Deciding rules", "Missing / criterion"],
                                                  [[*r[:6], ", ".join(r[6]), ", ".join(r[7]) or (r[8] or "")]
                                                   for r in rows], right=["Amount"]))
        if v is not None:
            _print_withheld(doc["withheld"])
    return 0


def _write_chart(path: str, svg: str) -> None:
    """Write an SVG chart (the web UI's) to ``path``; a message on stderr says where."""
    try:
        Path(path).write_text(svg + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--chart: cannot write `{path}`: {exc.strerror}",
                         help="give a path in a folder you can write to, e.g. --chart chart.svg") from None
    render.err_console.print(f"chart written to {path}")


def _comparison_csv(result: Comparison) -> None:
    from ...service.exports import COMPARISON_HEADER, comparison_rows

    render.emit_csv(COMPARISON_HEADER, comparison_rows(result))


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _bases_caption(opt: Any) -> str | None:
    """Which programs' figures are the record's and which are illustrative (or inferred), where programs say."""
    if not opt.bases:
        return None
    groups: dict[str, list[str]] = {}
    for p in opt.programs:
        groups.setdefault(p.basis or "unstated", []).append(p.program)
    return "; ".join(f"{basis}: {', '.join(names)}" for basis, names in groups.items())


def print_comparison(s: Scenario, result: Comparison, v: View | None = None, recipient: str | None = None) -> None:
    """The comparison's tables; with a reader's view, a column of the items each total leaves out."""
    from rich.text import Text
    from ...language.scenario import OUTCOMES

    assumed = f"; assuming {', '.join(result.assumed)}" if result.assumed else ""
    render.console.print(Text(f"Options on {result.as_of}{assumed}", style="bold"))
    counts = v.withheld_counts(recipient, result.options[0].by if result.options else None) if v is not None else None
    withheld = counts is not None and counts["total"]["total"] > 0
    for opt in result.options:
        rows = []

        def row(label: Text | str, p: Any, kind: str, key: str) -> list[Any]:
            return [label, f"{p.total:,.2f}", *(f"{p.amounts[o]:,.2f}" for o in OUTCOMES), _pct(p.permitted_share),
                    *([str(counts[kind].get(key, 0))] if counts is not None and withheld else [])]

        for p in opt.programs:
            rows.append(row(p.program, p, "program", p.program))
        if len(opt.channels) > 1:
            rows += [row(Text(f"all {c.program}", style="italic"), c, "channel", c.program) for c in opt.channels]
        if len(opt.bases) > 1:  # never one sum of record and illustrative figures
            rows += [row(Text(f"all {b.program}", style="bold"), b, "basis", b.program) for b in opt.bases]
        else:
            rows.append(row(Text("all programs", style="bold"), opt.totals, "total", "total"))
        regimes = ", ".join(opt.regimes)
        title = f"option `{opt.name}`" + (f" (regime {regimes})" if regimes != opt.name else "")
        figures = ["Total", "Permitted", "Review", "Blocked", "Prohibited", "Share", *(["Withheld"] if withheld else [])]
        caption = _bases_caption(opt)
        if withheld and v is not None:
            caption = "; ".join(filter(None, [caption, f"Withheld: line items above your clearance ({v.clearance}), "
                                                       "not in these figures"]))
        render.console.print(render.table(title, ["Program", *figures], rows, caption=caption, right=figures))
        if opt.groups:
            grows = [row(g.program, g, "group", g.program) for g in opt.groups]
            render.console.print(render.table(f"option `{opt.name}` by {opt.by}",
                                              [str(opt.by).capitalize(), *figures], grows, right=figures))
        for c in opt.conflicts:
            text = f"{c.describe()} — law rule(s) {', '.join(c.law_rules)}"
            render.console.print(Text("  conflict with the law: ", style="bold red") + Text(
                v.redact(text) if v is not None else text))
        if not opt.conflicts:
            render.console.print(Text("  no conflict with the law", style="green"))
        for cu in opt.caps:
            pool = f" ({', '.join(cu.pool)})" if cu.pool else ""
            hidden = v.hidden_pools.get((cu.cap, cu.pool), 0) if v is not None else 0
            if hidden:  # its figures would add up the withheld amounts
                render.console.print(Text("  cap: ", style="bold") + Text(
                    f"`{cu.cap}`{pool}: ceiling {cu.limit:,.2f}; allocation withheld ({hidden} line "
                    f"item{'s' if hidden != 1 else ''} above your clearance count against it)"))
                continue
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
    serve: bool = typer.Option(False, "--serve", help="then add a demo user per role (tokens and passwords printed "
                               "once) and serve the web UI on 127.0.0.1"),
    port: int = typer.Option(8000, "--port", help="with --serve: the TCP port", min=0, max=65535),
    format: render.Format = FORMAT,
) -> int:
    """Load a scenario into the embedded database, then show its timeline and the options its `demo:` names."""
    from rich.text import Text
    from ... import service

    run = service.demo(folder or scenario, render.state.db)  # evaluated from the database from here on
    if serve:
        return _demo_serve(run, port)
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
    render.console.print(Text("the web UI: `tranche demo --serve` (docs/service.md)"))
    return 0


def _demo_serve(run: Any, port: int) -> int:
    """Demo users, their credentials once, and the UI on loopback until Ctrl-C."""
    from rich.text import Text
    from ...service.demo import demo_users
    from .serve import run as serve_run

    d = run.demo
    render.console.print(Text(f"{run.scenario.title}: {run.state}", style="bold"))
    render.console.print("demo users (tokens and passwords are shown once; sign in at /login or send "
                         "`Authorization: Bearer TOKEN`):")
    for u in demo_users(render.state.db):
        render.console.print(f"  {u.name:<14} {u.role:<9} password {u.password}  token {u.token}", soft_wrap=True)
    base = f"http://127.0.0.1:{port}"
    query = f"as_of={d.as_of}&options={','.join(d.options)}" + (f"&assume={','.join(d.assume)}" if d.assume else "")
    render.console.print(f"dashboard: {base}/scenarios/{run.scenario.id}", soft_wrap=True)
    render.console.print(f"compare:   {base}/scenarios/{run.scenario.id}/compare?{query}", soft_wrap=True)
    serve_run(render.state.db, "127.0.0.1", port)
    return 0
