"""Progress that moves, on every long command: check and load (lines read, items written) and bulk (decisions).

The work reports through one callback signature (tranche.language.progress); the command line shows it
as a bar on stderr (tranche.cli.progress), only on a terminal and never with --quiet.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from rich.console import Console

import tranche.cli.progress as progress_module
from tranche.cli import render
from tranche.language import check
from tranche.language.progress import Meter, count_lines

from ..helpers import run

ROOT = Path(__file__).parent.parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
PERU = ROOT / "scenarios" / "peru-1962"

Seen = list[tuple[str, int, "int | None"]]


def _big_mini(folder: Path, lines: int) -> Path:
    """The mini fixture with ``lines`` generated items (its program total follows)."""
    shutil.copytree(MINI, folder)
    with (folder / "pipeline.csv").open("w") as f:
        f.write("id,recipient,program,channel,category,amount,flags,description,account\n")
        for i in range(lines):
            f.write(f"G{i:06d},AAA,P1,grant,spares,100.00,,generated item {i},FMF\n")
    programs = folder / "programs.yaml"
    programs.write_text(programs.read_text().replace("total: 300.00", f"total: {lines * 100}.00"))
    (folder / "tests.yaml").write_text("tests: []\n")  # the fixture's tests name its own three items
    return folder


def _moves(seen: Seen, what: str, total: int, first: int = 0) -> None:
    """Reports of ``what`` go from ``first`` to ``total`` of ``total``, never back."""
    done = [d for w, d, _ in seen if w == what]
    assert done and done[0] == first and done[-1] == total, done[-3:]
    assert done == sorted(done)
    assert {t for w, _, t in seen if w == what} == {total}


def test_check_reports_the_pipeline_lines_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tranche.language.progress as language_progress

    monkeypatch.setattr(language_progress, "INTERVAL", 0.0)  # every check of the clock reports
    folder = _big_mini(tmp_path / "big", 5000)
    seen: Seen = []
    result = check(folder, progress=lambda *a: seen.append(a))
    assert result.passed and result.scenario is not None and len(result.scenario.items) == 5000
    _moves(seen, "lines", count_lines(folder / "pipeline.csv"))
    assert len(seen) > 3  # it moved on the way, not only at the start and the end


def test_meter_throttles_by_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import tranche.language.progress as language_progress

    monkeypatch.setattr(language_progress, "INTERVAL", 3600.0)
    seen: Seen = []
    m = Meter(lambda *a: seen.append(a), "rows", 1_000_000)
    for _ in range(1_000_000):
        m.add()
    m.finish()
    assert seen == [("rows", 0, 1_000_000), ("rows", 1_000_000, 1_000_000)]


def test_count_lines(tmp_path: Path) -> None:
    for text, n in (("", 0), ("a", 1), ("a\n", 1), ("a\nb", 2), ("a\r\nb\r\n", 2)):
        (tmp_path / "f").write_bytes(text.encode())
        assert count_lines(tmp_path / "f") == n


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, Seen]]:
    """Every bar a command opens: whether it is shown, and what it was told (stderr taken for a terminal)."""
    import tranche.language.progress as language_progress

    store: list[tuple[bool, Seen]] = []

    @contextlib.contextmanager
    def bar(show: bool) -> Iterator[Any]:
        seen: Seen = []
        store.append((show, seen))
        yield (lambda *a: seen.append(a)) if show else None

    monkeypatch.setattr(progress_module, "bar", bar)
    monkeypatch.setattr(progress_module, "shown", lambda quiet: not quiet)  # as on a terminal
    monkeypatch.setattr(language_progress, "INTERVAL", 0.0)
    return store


def test_cli_check_and_load_show_lines_then_items(bars: list[tuple[bool, Seen]], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRANCHE_ACTOR", raising=False)
    folder = _big_mini(tmp_path / "big", 3000)
    code, out, _ = run(capsys, "check", str(folder))
    assert code == 0 and "3000 line items" in out
    shown, seen = bars[-1]
    assert shown
    _moves(seen, "lines", 3001)
    db = tmp_path / "t.db"
    assert run(capsys, "--db", str(db), "init", "--admin", "ada")[0] == 0
    code, out, err = run(capsys, "--db", str(db), "load", str(folder), "--actor", "ada", "--as-of", "2001-06-01")
    assert code == 0, err
    shown, seen = bars[-1]
    assert shown and [w for w, _, _ in seen if w != seen[0][0]][:1] == ["items"]  # lines read, then items written
    _moves(seen, "lines", 3001)
    _moves(seen, "items", 3000, first=1000)  # the store reports each chunk of items written
    code, _, _ = run(capsys, "check", str(folder), "--quiet")
    assert code == 0 and bars[-1] == (False, [])


def test_cli_bulk_shows_decisions(bars: list[tuple[bool, Seen]], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "bulk", str(PERU), "--items", str(PERU / "pipeline.csv"), "--as-of", "1962-10-03",
                     "-o", "limited,full", "--out", str(tmp_path / "d.parquet"))
    assert code == 0
    shown, seen = bars[-1]
    assert shown and seen[-1] == ("decisions", 102, 102)
    run(capsys, "bulk", str(PERU), "--items", str(PERU / "pipeline.csv"), "--as-of", "1962-10-03", "-q",
        "--out", str(tmp_path / "e.parquet"))
    assert bars[-1] == (False, [])


def test_the_bar_draws_phases_on_a_terminal_and_nothing_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setenv("FORCE_COLOR", "1")  # (stderr is pytest's: a terminal as Rich sees it only so)
    monkeypatch.setattr(render, "err_console", Console(file=screen, force_terminal=True, width=120))
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    assert progress_module.shown(False) and not progress_module.shown(True)
    with progress_module.bar(True) as report:
        report("lines", 0, 2000)
        report("lines", 1000, 2000)
        report("lines", 2000, 2000)
        report("items", 10, 20)
    text = screen.getvalue()
    assert "reading" in text and "lines" in text and "writing" in text and "items" in text
    monkeypatch.setattr(render, "err_console", Console(file=io.StringIO(), force_terminal=False))
    assert not progress_module.shown(False)
    with progress_module.bar(False) as report:
        assert report is None


def test_a_short_job_draws_no_bar_and_a_long_one_draws_its_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bar appears after DELAY seconds of work, with the phase then under way and its rate since it began."""
    screen = io.StringIO()
    monkeypatch.setattr(render, "err_console", Console(file=screen, force_terminal=True, width=120))
    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: clock[0])
    with progress_module.bar(True) as report:
        report("lines", 0, 10)
        report("lines", 10, 10)
        clock[0] += progress_module.DELAY / 2
        report("items", 5, 10)
    assert screen.getvalue() == ""  # all done within the delay: nothing drawn
    with progress_module.bar(True) as report:
        report("lines", 0, 4000)
        clock[0] += progress_module.DELAY + 1
        report("lines", 3000, 4000)
    text = screen.getvalue()
    assert "reading" in text and "3000/4000" in text
