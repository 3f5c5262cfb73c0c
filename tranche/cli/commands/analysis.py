"""`tranche diff` and `tranche lint`: the policy analysed over every request, before any item is evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from typing import TYPE_CHECKING

from ...errors import Diagnostic, PolicyError, UsageError, error_document

if TYPE_CHECKING:
    from ...analysis import Diff
from .. import render
from .common import load, parse_date, split_list

FORMAT = typer.Option(render.Format.table, "--format", "-f", help="table, json or csv")
ASSUME = typer.Option(None, "--assume", "-a", help="assume a fact holds (FACT or FACT@YYYY-MM-DD); repeatable")


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
    app.command("lint")(lint)


def diff(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    a: Optional[str] = typer.Argument(None, help="the option before: a regime, or a timeline (needs --as-of)"),
    b: Optional[str] = typer.Argument(None, help="the option after: a regime, or a timeline (needs --as-of)"),
    options: Optional[List[str]] = typer.Option(None, "--options", "-o", help="the two options as A,B "
                                                "(as in compare), instead of the arguments"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="fix every fact's state at this date, YYYY-MM-DD "
                                        "(default: facts in any state, unless assumed)"),
    assume: Optional[List[str]] = ASSUME,
    with_law: bool = typer.Option(False, "--with-law", help="compare final decisions (law + regime) instead of "
                                  "what the two regimes say"),
    format: render.Format = FORMAT,
) -> int:
    """Every class of requests whose outcome differs between two options, as few exact statements."""
    from ...analysis import diff as diff_options

    names = [x for x in (a, b) if x] + split_list(options)
    if len(names) != 2:
        raise UsageError(f"diff compares two options; {len(names)} given",
                         help="pass them as arguments `diff SCENARIO A B` or as `--options A,B`")
    s = load(scenario)
    result = diff_options(s, names[0], names[1], as_of=parse_date(as_of) if as_of else None, assume=split_list(assume),
                          law=with_law)
    from ...service.exports import diff_header, diff_programs, diff_rows

    programs = diff_programs(result, list(s.programs))
    if format is render.Format.json:
        render.emit_json(result.to_dict())
    elif format is render.Format.csv:  # a row per statement of every kind: nothing the table shows is lost
        render.emit_csv(diff_header(programs), diff_rows(result, programs))
    else:
        print_diff(result, programs)
    return 0


def _names(result: Diff) -> tuple[str, str]:
    a = result.a if result.a == result.regime_a else f"{result.a} ({result.regime_a})"
    b = result.b if result.b == result.regime_b else f"{result.b} ({result.regime_b})"
    return a, b


def _facts_caption(result: Diff) -> str:
    relevant = list(result.relevant)
    if result.as_of is not None:
        held = [f for f in relevant if result.facts.get(f)]
        missing = [f for f in relevant if not result.facts.get(f)]
        parts = [f"facts as of {result.as_of}"]
        if held:
            parts.append("holding: " + ", ".join(held))
        if missing:
            parts.append("not holding: " + ", ".join(missing))
        return "; ".join(parts)
    if result.facts:
        rest = [f for f in relevant if f not in result.facts]
        return "assumed: " + ", ".join(sorted(result.facts)) + ("; in either state: " + ", ".join(rest) if rest else "")
    return "facts in either state (statements name the ones that matter)"


def print_diff(result: Diff, programs: list[str]) -> None:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text
    a, b = _names(result)
    what = "final decisions (the law and the regime)" if result.law else "the regimes' own outcomes (--with-law: final decisions)"
    caption = (f"{what}; {_facts_caption(result)}; "
               "amounts: the pipeline items in each statement")
    if not result.statements:
        render.console.print(Text(f"no change: `{a}` and `{b}` decide every request alike"))
        render.console.print(Text(caption, style="dim"))
        print_duties(result, programs)
        return
    n = len(result.statements)
    title = f"`{a}` → `{b}`: {n} statement{'s' if n != 1 else ''}"
    width = max((len(p) for p in [*programs, "total"]), default=5)
    rows = []
    for i, st in enumerate(result.statements, 1):
        change = render.styled_outcome(st.from_.value) + Text(" → ") + render.styled_outcome(st.to.value)
        if st.change == "criterion":  # both review: say on which criterion, before and after
            change = (render.styled_outcome(st.from_.value) + Text(f" ({st.from_criterion or 'no criterion'}) → ")
                      + render.styled_outcome(st.to.value) + Text(f" ({st.to_criterion or 'no criterion'})"))
        lines = [f"{p:<{width}} {st.impact[p]:>15,.2f}" for p in programs if p in st.impact]
        if len(lines) > 1:
            lines.append(f"{'total':<{width}} {st.amount:>15,.2f}")
        rows.append((str(i), change, st.requests, "\n".join(lines) or "no item"))
    amounts = max(render.cell_width(r[3]) for r in rows)
    number = max(len(r[0]) for r in rows)
    change_w = max(render.cell_width(r[1]) for r in rows)
    room = render.console.width - render.fits([number, 0, 0, amounts])  # for change + requests
    change_w = max(12, min(change_w, room - 30))  # requests keep 30 columns; `prohibited →` fits in 12
    if room - change_w < 24:  # narrow: one block per statement
        render.console.print(Text(title, style="bold"))
        for num, changed, requests, figures in rows:
            render.console.print(Text(f"{num}. ") + changed)
            render.console.print(Padding(Text(requests), (0, 0, 0, 3)))
            render.console.print(Padding(Text(figures), (0, 0, 0, 3)))
        render.console.print(Text(caption, style="dim"))
        print_duties(result, programs)
        return
    table = Table(title=render.escape(title), caption=render.escape(caption), title_justify="left",
                  caption_justify="left")
    table.add_column("#", justify="right", no_wrap=True, width=number)
    table.add_column("change", width=change_w)
    table.add_column("requests", width=room - change_w, overflow="fold")
    table.add_column("pipeline amounts", justify="right", no_wrap=True, width=amounts)
    for num, changed, requests, figures in rows:
        table.add_row(num, changed, Text(requests), Text(figures))
    render.console.print(table)
    print_duties(result, programs)


def print_duties(result: Diff, programs: list[str]) -> None:
    """The law's notifications and caps that differ between the options (``--with-law``), one block each."""
    from rich.padding import Padding
    from rich.text import Text
    if not result.duties and not result.caps:
        return
    render.console.print(Text("notifications and caps (the law, on final decisions):", style="bold"))
    width = max((len(p) for p in [*programs, "total"]), default=5)
    for st in result.duties:
        change = st.text[len(st.requests) + 2:]  # the text is "<requests>: <change>"
        render.console.print(Text(f"- {change}"))
        render.console.print(Padding(Text(st.requests), (0, 0, 0, 2)))
        lines = [f"{p:<{width}} {st.impact[p]:>15,.2f}" for p in programs if p in st.impact]
        if len(lines) > 1:
            lines.append(f"{'total':<{width}} {st.amount:>15,.2f}")
        render.console.print(Padding(Text("\n".join(lines) or "no item"), (0, 0, 0, 2)))
    for effect in result.caps:
        render.console.print(Text(f"- {effect.text}"))


def lint(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    regime: Optional[List[str]] = typer.Option(None, "--regime", "-r",
                                               help="lint only these regimes (the law, facts and timelines always)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="facts holding on this date count as holding "
                                        "(conflicts with the law), YYYY-MM-DD (default: today)"),
    format: render.Format = FORMAT,
) -> int:
    """Report what a valid scenario probably did not mean; exit 1 on errors, 0 with warnings only."""
    from rich.padding import Padding
    from rich.text import Text
    from ...analysis import lint as lint_scenario
    from ...language import check as check_scenario

    result = check_scenario(Path(scenario))
    if not result.passed or result.scenario is None:
        message = f"{len(result.errors())} error(s): `{scenario}` was not linted"
        if format is render.Format.json:  # the report itself, on stdout
            render.emit_json({**error_document(list(result.diagnostics), 1, message), "scenario": scenario})
            return 1
        raise PolicyError(result.diagnostics, message)
    s = result.scenario
    findings = result.warnings() + lint_scenario(s, split_list(regime) or None,
                                                 as_of=parse_date(as_of) if as_of else None)
    if format is render.Format.json:
        render.emit_json({**error_document(findings, 0), "scenario": scenario})
    elif format is render.Format.csv:
        render.emit_csv(["severity", "code", "file", "line", "column", "message", "help"],
                        [[d.severity, d.code, d.span.file if d.span else "", d.span.line if d.span else "",
                          d.span.col if d.span else "", d.message, d.help or ""] for d in findings])
    else:
        for d in findings:
            head = Text(f"warning[{d.code}]", style="bold yellow") + Text(f" {_where(d, s.root)}", style="dim")
            render.console.print(head)
            render.console.print(Padding(Text(d.message), (0, 0, 0, 2), expand=False))
            if d.help:
                render.console.print(Padding(Text(f"= help: {d.help}", style="dim"), (0, 0, 0, 2), expand=False))
        render.console.print(f"{len(findings)} warning{'s' if len(findings) != 1 else ''}, 0 errors: "
                             f"`{s.id}` ({scenario})")
    return 0


def _where(d: Diagnostic, root: Path) -> str:
    """The finding's location, relative to the scenario folder."""
    if d.span is None:
        return ""
    path = Path(d.span.file)
    try:
        name = str(path.relative_to(root))
    except ValueError:
        name = path.name if path.parent == root else str(path)
    return f"{name}:{d.span.line}:{d.span.col}" if d.span.line > 0 else name
