"""`tranche check`, `tranche test`, `tranche schema`: the policy files themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ...errors import PolicyError, UsageError, did_you_mean, error_document
from .. import progress, render
from .common import load


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("test")(test)
    app.command("schema")(schema_cmd)


def check(
    scenario: str = typer.Argument(..., help="scenario folder"),
    format: render.Format = typer.Option(render.Format.table, "--format", "-f", help="table, json or csv"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar (it shows on a terminal, once the work has run half a second)"),
) -> int:
    """Validate every file of a scenario; exit 1 on any error."""
    from ...language import check as check_scenario

    with progress.bar(progress.shown(quiet)) as report:  # the pipeline's lines read, of the lines in the file
        result = check_scenario(Path(scenario), progress=report)
    errors, warnings = len(result.errors()), len(result.warnings())
    failed = f"{_n(errors, 'error')}, {_n(warnings, 'warning')}: `{scenario}` was not loaded"
    if format is render.Format.json:  # the report itself, on stdout: the error shape plus the scenario
        render.emit_json({**error_document(list(result.diagnostics), 0 if result.passed else 1,
                                           None if result.passed else failed), "scenario": scenario})
        return 0 if result.passed else 1
    if format is render.Format.csv:
        render.emit_csv(["severity", "code", "file", "line", "column", "message", "help"],
                        [[d.severity, d.code, d.span.file if d.span else "", d.span.line if d.span else "",
                          d.span.col if d.span else "", d.message, d.help or ""] for d in result.diagnostics])
        return 0 if result.passed else 1
    if not result.passed or result.scenario is None:
        raise PolicyError(result.diagnostics, failed)
    render.print_diagnostics(result.diagnostics, render.state.error_format)
    if result.scenario is not None:
        s = result.scenario
        n_regime_rules = sum(len(r.rules) for r in s.regimes.values())
        parts = [_n(len(s.items), "line item") + " in " + _n(len(s.programs), "program"),
                 _n(len(s.taxonomy.nodes), "category", "categories"), _n(len(s.law.rules), "law rule"),
                 _n(n_regime_rules, "rule") + " in " + _n(len(s.regimes), "regime"),
                 _n(len(s.timelines), "timeline"), _n(len(s.facts), "fact"), _n(len(s.sources), "source"),
                 _n(len(s.tests), "policy test")]
        render.say(("ok", "green"), f": `{s.id}`: " + ", ".join(parts)
                   + (f"; {_n(warnings, 'warning')}" if warnings else ""))
    return 0


def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def test(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    format: render.Format = typer.Option(render.Format.table, "--format", "-f", help="table, json or csv"),
) -> int:
    """Run the scenario's policy tests (items, then aggregates); exit 2 if any fails."""
    from ...analysis.testing import run_aggregates
    from ...engine import run_tests

    s = load(scenario)
    results = run_tests(s)
    aggregates = run_aggregates(s)
    passed = sum(r.passed for r in results) + sum(a.passed for a in aggregates)
    failed = len(results) + len(aggregates) - passed
    if format is render.Format.json:
        render.emit_json({"passed": passed, "failed": failed, "tests": [r.to_dict() for r in results],
                          "aggregates": [a.to_dict() for a in aggregates]})
    elif format is render.Format.csv:
        render.emit_csv(["name", "passed", "expected", "got", "failures"],
                        [[r.test.name, r.passed, r.test.expect.value,
                          r.decision.outcome.value if r.decision else "", "; ".join(r.failures)] for r in results]
                        + [[a.test.name, a.passed, a.test.kind, "", "; ".join(a.failures)] for a in aggregates])
    else:
        for name, ok, span, failures in [(r.test.name, r.passed, r.test.span, r.failures) for r in results] + \
                [(a.test.name, a.passed, a.test.span, a.failures) for a in aggregates]:
            if ok:
                render.console.print(f"[green]PASS[/] {render.escape(name)}")
            else:
                render.console.print(f"[bold red]FAIL[/] {render.escape(name)}  ({span})")
                for f in failures:
                    render.console.print(f"     {render.escape(f)}")
        render.console.print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 2


def schema_cmd(
    file: Optional[str] = typer.Argument(None, help="one file, e.g. regimes.yaml; default: all files"),
    out: Optional[Path] = typer.Option(None, "--out", help="write one <file>.schema.json per file into this folder"),
) -> int:
    """Print the JSON Schema of the scenario files (for editors and validators)."""
    from ...language.schema import file_names, schema

    names = file_names()
    if file is not None and file not in names:
        raise UsageError(f"unknown scenario file `{file}`", help=did_you_mean(file, names) or "one of " + ", ".join(names))
    if out is not None:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out `{out}` is a file, not a folder", help="name a folder for the schema files")
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name in ([file] if file else names):
                (out / f"{name}.schema.json").write_text(json.dumps(schema(name), indent=2) + "\n")
        except OSError as exc:
            raise UsageError(f"--out `{out}`: cannot write there: {exc.strerror or exc}",
                             help="choose a folder you can write to") from None
        render.console.print(f"wrote {len([file] if file else names)} schema file(s) to {out}")
        return 0
    render.emit_json(schema(file))
    return 0
