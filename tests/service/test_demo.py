"""The service layer: the demo comes from the scenario's own `demo:` block, and stored scenarios keep it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import tranche.store as store
from tranche.errors import UsageError
from tranche.language import Demo, load_scenario
from tranche.service import demo, find_demo

ROOT = Path(__file__).parent.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
MINI = ROOT / "tests" / "fixtures" / "mini"


def test_the_peru_demo_is_declared_in_its_files() -> None:
    d = load_scenario(PERU).demo
    # what the memo of 3 October 1962 compares (FRUS 1961-63 XII doc. 427), the FY1963 program "if approved"
    assert d == Demo(dt.date(1962, 10, 3), ("limited", "recommended", "full"), ("congress.appropriation.FY1963",),
                     "PER", d.note if d else "")
    assert d is not None and "doc. 427" in d.note


def test_ruritania_declares_a_demo_too() -> None:
    d = load_scenario(ROOT / "scenarios" / "ruritania-7008").demo
    assert d is not None and d.options == ("record", "restored") and d.recipient == "RUR"


def test_a_scenario_without_a_demo_block_has_none() -> None:
    assert load_scenario(MINI).demo is None


def test_find_demo_takes_the_first_folder_with_a_block(tmp_path: Path) -> None:
    for name in ("a-without", "b-with", "c-with"):
        shutil.copytree(MINI, tmp_path / name)
    for name in ("b-with", "c-with"):
        f = tmp_path / name / "scenario.yaml"
        f.write_text(f.read_text() + "demo: {as_of: 2001-06-01, options: [open, closed]}\n")
    assert find_demo([tmp_path]) == tmp_path / "b-with"
    with pytest.raises(UsageError, match="no scenario with a `demo:` block"):
        find_demo([tmp_path / "a-without"])


def test_the_demo_of_a_scenario_without_a_block_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="scenario `mini` declares no demo"):
        demo(MINI, str(tmp_path / "t.db"))


def test_the_demo_runs_from_the_store_and_the_block_survives_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANCHE_ACTOR", "ada")
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    f = root / "scenario.yaml"
    f.write_text(f.read_text() + "demo: {as_of: 2001-06-01, options: [open, closed], assume: [waiver.AAA], "
                                 "note: both regimes}\n")
    url = str(tmp_path / "t.db")
    run = demo(root, url)
    assert run.state == "loaded, revision 1"
    assert [o.name for o in run.comparison.options] == ["open", "closed"]
    assert list(run.comparison.assumed) == ["waiver.AAA"]
    assert run.next_steps[0][0] == f"tranche decide mini I1 --as-of 2001-06-01 --regime open --db {url}"
    with store.open_db(url) as db:
        stored = store.read_scenario(db, "mini")
    assert stored.demo == load_scenario(root).demo
    assert demo(root, url).state == "already there, unchanged"


def test_the_schema_describes_the_demo_block_and_accepts_both_scenarios() -> None:
    import json

    import yaml

    jsonschema = pytest.importorskip("jsonschema")
    from tranche.language.schema import schema

    sch = schema("scenario.yaml")
    assert "demo" in sch["properties"] and "DemoFile" in sch["$defs"]
    assert set(sch["$defs"]["DemoFile"]["properties"]) == {"as_of", "options", "assume", "recipient", "note"}
    for name in ("peru-1962", "ruritania-7008"):
        data = yaml.safe_load((ROOT / "scenarios" / name / "scenario.yaml").read_text())
        jsonschema.validate(json.loads(json.dumps(data, default=str)), sch)
    bad = {**yaml.safe_load((PERU / "scenario.yaml").read_text()), "demo": {"as_of": "1962-10-03", "option": []}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(json.dumps(bad, default=str)), sch)
