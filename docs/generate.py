"""Generate docs/cli.md from the command line itself: `python docs/generate.py`.

tests/test_docs.py fails when docs/cli.md is out of date, so every command and option
is documented with its real --help text.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def _walk(cmd: Any, path: list[str]) -> list[tuple[str, Any]]:
    out = [(" ".join(path), cmd)]
    for name in sorted(getattr(cmd, "commands", {}) or {}):
        out += _walk(cmd.commands[name], path + [name])
    return out


VOCABULARY = """## One vocabulary of flags

A flag means the same thing in every command that takes it, and a short flag always stands for the
same long one (tests/cli/test_flags.py holds this).

| flag | meaning | commands |
| --- | --- | --- |
| `--db URL` | the store (default `tranche.db` here; env `TRANCHE_DB`); before or after the command | all |
| `--error-format human\\|plain\\|json` | how errors are printed on stderr (env `TRANCHE_ERROR_FORMAT`); before or after the command | all |
| `-f`, `--format table\\|json\\|csv` | what the command prints; before or after the command | every command that prints data |
| `--as-of DATE` | the date, YYYY-MM-DD; default: today (in `diff`: facts in any state; `bulk` needs a date) | decide, compare, timeline, diff, bulk, load, fact assert, review show/open |
| `-a`, `--assume FACT[@DATE]` | assume a fact holds (from the as-of date, or DATE); repeatable | decide, compare, timeline, diff, bulk, sql, review show/open |
| `-o`, `--options A,B` | regimes or timelines to compare | compare, diff (or two arguments), bulk, sql |
| `-r`, `--regime NAME` | one regime or timeline (repeatable in lint) | decide, lint, review list/open |
| `--recipient CODE` | one recipient (alpha-3) | timeline, compare |
| `-s`, `--scenario ID` | a stored scenario's id (the only one by default); for `demo`, a folder | fact, review, demo |
| `--actor NAME` | who acts, on a local SQLite file only (env `TRANCHE_ACTOR`, default: the operating-system user); with `TRANCHE_TOKEN` set, or on PostgreSQL, the token says who acts | store commands |
| `--clearance LEVEL` | the highest marking a user may see: UNCLASSIFIED, CONFIDENTIAL, SECRET | user add, init |
| `--password-stdin` | read the password from standard input instead of asking | user password |
| `--user NAME` | every token and browser session of a user, instead of one token | user revoke |
| `--chart FILE.svg` | also write the chart (the web UI's) as SVG | timeline, compare |
| `--serve` | then serve the web UI with a demo user per role | demo |
| `--host ADDRESS`, `--port N` | where the web UI and API listen (default 127.0.0.1:8000) | serve (`--port`: demo --serve) |
| `-i`, `--items FILE` | a file of line items | bulk |
| `--out PATH` | where to write | bulk, schema, audit anchor |
| `--by-item` | also list every item's decision | compare |
| `-j`, `--justification TEXT` | why a case was decided | review approve/deny |
| `-n`, `--limit N` | only the last N entries | audit show |
| `-q`, `--quiet` | no progress bar (one shows on a terminal once the work has run half a second) | bulk, check, load |
| `--wide`, `--narrow` | the layout of the decisions: one wide Parquet file, or a narrow folder (default: what `--out` names) | bulk |
| `--master URL` | where Spark runs: `local[N]`, `spark://HOST:PORT`, `yarn`, `k8s://...`, or `sc://HOST:PORT` (Spark Connect) | bulk |
| `--request JSON\\|-` | decide requests that are not in the pipeline (an object, an array, JSON lines; `-`: stdin) | decide |
| `--dialect NAME` | the SQL dialect: duckdb, sqlite, postgres, spark | sql |
| `--summary` | the summary query instead of one row per item | sql |
| `--check` | write nothing; exit 1 naming each file not in the canonical layout | fmt |
| `--diff` | write nothing; print the change as a unified diff | fmt |
| `-h`, `--help` | the help | all |

Renamed (the old spelling still works where noted): `bulk -o` and `audit anchor -o` were `--out`;
`-o` is now `--options` (write `--out FILE`); `compare --items` is now `--by-item` (`--items` still works); `diff` takes
`--options A,B` as well as two arguments; `demo` takes its folder as an argument (`--scenario` still
works); `decide` and `compare` default `--as-of` to today like the other commands.
"""


LAYOUT_INTRO = """## The canonical layout (`tranche fmt`)

`tranche fmt SCENARIO...` writes every YAML file of a scenario (or a law pack) in one layout, as `black`
or `opa fmt` do for code; `tranche fmt --check` writes nothing and exits 1 naming each file that is not in
it and its first line that would change (in CI: `tranche fmt --check scenarios packs`), `--diff` prints
the change. Before anything is written the result is read back and compared with the file: the layout
never changes what a file says (its values with their types, and its comments), and `fmt` twice is `fmt`
once. A file that does not parse is not written (its error is shown, located); a file is replaced whole
(written beside it, then renamed over it), never half-written. The layout (from
`tranche/language/layout.py`):

"""


def layout_section() -> str:
    from tranche.language import layout

    doc = layout.__doc__ or ""
    rules = doc[doc.index("- **key order**"):doc.index("It may import")].strip()
    return LAYOUT_INTRO + rules.replace("``", "`") + "\n"


def reference() -> str:
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return _reference()
    finally:  # leave the environment as it was (the test suite calls this in-process)
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def _reference() -> str:
    import typer.main

    from tranche.cli.main import app

    root = typer.main.get_command(app)
    lines = ["# Command-line reference", "",
             "Generated by `python docs/generate.py` from the commands' own `--help` and the table below; "
             "do not edit.", "", VOCABULARY, layout_section()]
    for name, cmd in _walk(root, ["tranche"]):
        ctx = cmd.make_context(name, [], resilient_parsing=True, terminal_width=100, max_content_width=100)
        lines += [f"## `{name}`", "", "```", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    (HERE / "cli.md").write_text(reference())
    sys.stdout.write(f"wrote {HERE / 'cli.md'}\n")
