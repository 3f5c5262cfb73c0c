"""The store's commands: a whole session, every evaluation command against the database, exit codes,
and bad input that gets a clear message, a non-zero exit and leaves the database unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Iterator

import pytest

import tranche.store as store
from ..helpers import run
from tranche.store import Database

from .conftest import MINI, PERU
from .helpers import raw, snapshot

Cli = Callable[..., tuple[int, str, str]]


TOKEN = re.compile(r"(?:token of `([^`]+)`.*?|added user `([^`]+)`.*\ntoken \(shown once\)): (tr_\S+)")


@pytest.fixture
def cli(url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`tranche --db URL ARGV`.  On PostgreSQL, a shared database, `--actor NAME` is not accepted: the call
    acts with NAME's token instead (TRANCHE_TOKEN), as printed by `init --admin` and `user add`."""
    monkeypatch.delenv("TRANCHE_ACTOR", raising=False)
    monkeypatch.delenv("TRANCHE_TOKEN", raising=False)
    tokens: dict[str, str] = {}
    shared = not url.startswith("sqlite")

    def call(*argv: str) -> tuple[int, str, str]:
        args = list(argv)
        if shared and "--actor" in args and args[0] != "init":
            i = args.index("--actor")
            name = args[i + 1]
            del args[i:i + 2]
            if name in tokens:
                monkeypatch.setenv("TRANCHE_TOKEN", tokens[name])
            else:  # someone without a token: an unknown user is refused as such
                monkeypatch.setenv("TRANCHE_TOKEN", "tr_000000000000_" + "x" * 43)
        code, out, err = run(capsys, "--db", url, *args)
        monkeypatch.delenv("TRANCHE_TOKEN", raising=False)
        for m in TOKEN.finditer(out):
            tokens[m.group(1) or m.group(2)] = m.group(3)
        return code, out, err

    return call


def test_a_bare_actor_is_refused_on_a_shared_database(cli: Cli, url: str, capsys: pytest.CaptureFixture[str]) -> None:
    if url.startswith("sqlite"):
        pytest.skip("a local SQLite file accepts --actor")
    assert cli("init", "--admin", "ada", "--actor", "ada")[0] == 0
    code, _, err = run(capsys, "--db", url, "user", "add", "eve", "--role", "viewer", "--actor", "ada")
    assert code == 1 and "acts only with a user's token" in " ".join(err.split())


def test_a_session(cli: Cli, url: str) -> None:
    code, out, _ = cli("init", "--admin", "ada", "--actor", "ada")
    assert code == 0 and "created database" in out and "admin: ada (added)" in out
    assert cli("user", "add", "abe", "--role", "approver", "--actor", "ada")[0] == 0
    assert cli("user", "add", "rita", "--role", "reviewer", "--actor", "ada")[0] == 0
    code, out, _ = cli("load", str(PERU), "--actor", "abe", "--as-of", "1962-10-03")
    assert code == 0 and "loaded `peru-1962` (revision 1)" in out and "8 opened" in out
    code, out, _ = cli("load", str(PERU), "--actor", "abe")
    assert code == 0 and "nothing changed" in out
    # every evaluation command works against the database, naming the scenario by its id
    code, out, _ = cli("decide", "peru-1962", "PUR-TRN-01", "--as-of", "1962-10-03", "--regime", "limited",
                       "--format", "json")
    d = json.loads(out)
    with store.open_db(url) as db:
        limited = store.read_scenario(db).regimes["limited"].version
    assert (d["outcome"], d["regime"]["id"], d["regime"]["version"]) == ("review", "limited", limited)
    code, out, _ = cli("compare", "peru-1962", "--as-of", "1962-10-03", "--options", "limited,recommended,full",
                       "--assume", "congress.appropriation.FY1963", "--format", "json")
    progs = {p["program"]: p for p in json.loads(out)["options"][0]["programs"]}
    assert (progs["FY1962"]["permitted"], progs["FY1963"]["permitted"]) == ("6100000.00", "1500000.00")
    assert cli("timeline", "peru-1962", "--format", "json")[0] == 0
    code, out, _ = cli("test", "peru-1962")
    assert code == 0 and out.strip().endswith("0 failed")
    # review
    code, out, _ = cli("review", "list", "--format", "json")
    cases = json.loads(out)
    first = next(c for c in cases if c["item"] == "PUR-TRN-01" and c["regime"] == "limited")
    assert first["criterion"].startswith("case by case") and first["regime_version"] == limited
    code, out, _ = cli("review", "approve", str(first["case"]), "--justification", "training needed now",
                       "--actor", "rita")
    assert code == 0 and f"case {first['case']} approved" in out and limited in out
    code, out, _ = cli("review", "show", str(first["case"]), "--as-of", "1962-10-03")
    assert code == 0 and "approved by rita" in out and "outcome: PERMITTED" in out
    code, out, _ = cli("versions", "--format", "json")
    assert {v["name"] for v in json.loads(out)} >= {"law", "limited"}
    code, out, _ = cli("fact", "list", "--format", "json")
    assert any(f["fact"] == "coup.PER" and f["date"] == "1962-07-18" for f in json.loads(out))
    # the audit log
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "audit log intact" in out
    code, out, _ = cli("audit", "show", "--format", "json", "--action", "case-approved")
    (entry,) = json.loads(out)
    assert entry["actor"] == "rita" and entry["payload"]["regime_version"] == limited
    code, out, _ = cli("audit", "show", "--since", "2000-01-01", "-n", "3")
    assert code == 0 and "case-approved" in out
    with store.open_db(url) as db:
        raw(db, f"UPDATE audit_log SET payload = replace(payload, 'training', 'nothing') WHERE seq = {entry['seq']}")
    code, out, _ = cli("audit", "verify")
    assert code == 2 and f"broken at entry #{entry['seq']}" in out
    code, out, _ = cli("audit", "verify", "--format", "json")
    assert code == 2 and json.loads(out)["first_bad"] == entry["seq"]


@pytest.fixture
def loaded(cli: Cli, url: str) -> Iterator[Database]:
    cli("init", "--admin", "ada", "--actor", "ada")
    for name, role in (("abe", "approver"), ("rita", "reviewer"), ("ann", "analyst")):
        cli("user", "add", name, "--role", role, "--actor", "ada")
    cli("load", str(MINI), "--actor", "abe")
    db = store.open_db(url)
    yield db
    db.dispose()


BAD = [
    (["review", "approve", "999", "-j", "ok", "--actor", "rita"], "unknown case `999`"),
    (["review", "approve", "abc", "-j", "ok", "--actor", "rita"], "unknown case `abc`"),
    (["review", "approve", "1", "-j", "ok", "--actor", "ann"], "`ann` is an analyst; deciding a review case needs"),
    (["review", "approve", "1", "-j", "ok", "--actor", "nobody"], "`nobody` is not a user of this database"),
    (["review", "approve", "1", "-j", "ok", "--actor", "abe"], "`abe` requested case 1 and may not approve it"),
    (["review", "approve", "1", "-j", " ", "--actor", "rita"], "a decision needs a justification"),
    (["review", "approve", "1", "-j", "ok", "--revision", "7", "--actor", "rita"], "changed while you were"),
    (["review", "list", "--status", "opn"], "unknown status `opn`"),
    (["fact", "assert", "waiver.AAA", "--on", "2001-02-30", "--source", "s1", "--actor", "rita"],
     "`2001-02-30` is not a date"),
    (["fact", "assert", "waiver.AA", "--on", "2001-02-03", "--source", "s1", "--actor", "rita"],
     "unknown fact `waiver.AA`"),
    (["fact", "assert", "waiver.AAA", "--on", "2001-02-03", "--source", "s2", "--actor", "rita"],
     "unknown source `s2`"),
    (["fact", "assert", "waiver.AAA", "--on", "2001-02-03", "--until", "2001-01-01", "--actor", "rita"],
     "is not after --on"),
    (["fact", "assert", "waiver.AAA", "--on", "2001-02-03", "--actor", "ann"], "needs the reviewer role"),
    (["fact", "retract", "waiver.AAA", "--actor", "rita"], "fact `waiver.AAA` is not asserted"),
    (["fact", "list", "--scenario", "mni"], "no scenario `mni`"),
    (["load", str(MINI.parent / "mini-broken"), "--actor", "abe"], "nothing was loaded"),
    (["load", "/no/such/folder", "--actor", "abe"], "does not exist"),
    (["user", "add", "eve", "--role", "auditor", "--actor", "ada"], "unknown role `auditor`"),
    (["user", "add", "eve", "--role", "admin", "--actor", "rita"], "managing users needs the admin role"),
    (["user", "role", "ada", "analyst", "--actor", "ada"], "`ada` is the last admin"),
    (["audit", "show", "--since", "yesterday"], "`yesterday` is not a date"),
    (["audit", "verify", "--anchor", "3:zz"], "is not an anchor"),
    (["decide", "mni", "I1", "--as-of", "2001-01-01"], "no scenario `mni`"),
    (["decide", "mini", "I9", "--as-of", "2001-01-01"], "unknown item `I9`"),
]


@pytest.mark.parametrize("argv, needle", BAD, ids=[" ".join(a[:3]) for a, _ in BAD])
def test_bad_input_exits_1_and_changes_nothing(cli: Cli, loaded: Database, argv: list[str], needle: str) -> None:
    if loaded.dialect != "sqlite" and "is not a user of this database" in needle:
        needle = "the token is not valid"  # on a shared database nobody acts without a token of their own
    before = snapshot(loaded)
    code, out, err = cli(*argv)
    assert code == 1, out + err
    assert needle in err
    assert snapshot(loaded) == before


def test_errors_as_json(cli: Cli, loaded: Database) -> None:
    code, _, err = cli("--error-format", "json", "review", "approve", "1", "-j", "ok", "--actor", "ann")
    data = json.loads(err)
    assert code == 1 and data["ok"] is False and data["code"] == "permission"


def test_conflict_is_reported(cli: Cli, loaded: Database) -> None:
    assert cli("review", "deny", "1", "-j", "no", "--actor", "rita")[0] == 0
    code, _, err = cli("review", "approve", "1", "-j", "yes", "--actor", "ada")
    assert code == 1 and "case 1 is denied already by `rita`" in err


def test_commands_need_an_initialized_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--db", str(tmp_path / "none.db"), "review", "list")
    assert code == 1 and "no database at" in err and "tranche init" in err
    assert not (tmp_path / "none.db").exists()


def test_a_folder_is_still_read_from_its_files(cli: Cli, loaded: Database) -> None:
    assert cli("decide", str(MINI), "I1", "--as-of", "2001-06-01")[0] == 0


def test_demo_loads_into_the_embedded_database_and_reruns(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRANCHE_DB", raising=False)
    monkeypatch.setenv("TRANCHE_ACTOR", "demo-user")
    code, out, _ = run(capsys, "demo")
    assert code == 0 and (tmp_path / "tranche.db").exists()
    assert "6,100,000.00" in out and "loaded, revision 1" in out
    assert "tranche review list" in out and "tranche audit verify" in out and "8 open review cases" in out
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "already there, unchanged" in out
    # the scenario is now explored from the database by its id
    code, out, _ = run(capsys, "decide", "peru-1962", "F62-MNT-01", "--as-of", "1962-10-03", "--regime", "limited")
    assert code == 0 and "PERMITTED" in out
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0
    with store.open_db(str(tmp_path / "tranche.db")) as db:
        # the acting user became the admin; the demo added a reviewer for its printed next steps
        assert sorted((u.name, u.role) for u in store.list_users(db)) == [("demo-reviewer", "reviewer"),
                                                                          ("demo-user", "admin")]


def test_stored_reviews_apply_to_evaluations_of_stored_scenarios(cli: Cli, loaded: Database) -> None:
    import datetime as dt

    from tranche.engine import Evaluator
    from tranche.service import Workspace

    assert cli("review", "approve", "1", "-j", "urgent", "--actor", "rita")[0] == 0
    ws = Workspace(loaded.url)
    s = ws.scenario("mini")
    ev = Evaluator(s, dt.date(2001, 6, 1))
    assert ev.decide_id("I2").outcome.value == "review"
    ev.reviews = ws.reviews(s, ev)
    assert ev.decide_id("I2").outcome.value == "permitted"
    assert ws.evaluator(s, dt.date(2001, 6, 1)).decide_id("I2").outcome.value == "permitted"
    assert ws.reviews(ws.scenario(str(MINI)), ev) == {}  # a folder is read from its files: no stored case
