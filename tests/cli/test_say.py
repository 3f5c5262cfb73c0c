"""`render.say` writes a status line without Rich only where its bytes are Rich's: compared on random texts."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from tranche.cli import render

STYLES = ["", "green", "bold", "bold red", "yellow", "magenta bold"]
words = st.text(alphabet=st.sampled_from("abcdefghij-_.,;`0123456789"), min_size=1, max_size=30)
spaces = st.sampled_from([" ", "  ", "   ", ""])
parts = st.lists(st.tuples(st.lists(st.tuples(spaces, words, spaces)).map(lambda ws: "".join(a + b + c for a, b, c in ws)),
                           st.sampled_from(STYLES)), min_size=1, max_size=5)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _rich(texts: list[tuple[str, str]], width: int, tty: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, highlight=False, soft_wrap=False, force_terminal=tty,
                      color_system="standard" if tty else None)
    console.print(Text.assemble(*texts), markup=False)
    return out.getvalue()


def _ours(texts: list[tuple[str, str]], width: int, tty: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    out = _Terminal() if tty else io.StringIO()
    with monkeypatch.context() as m:
        for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "JUPYTER_COLUMNS"):
            m.delenv(name, raising=False)
        m.setenv("COLUMNS", str(width))
        m.setenv("TERM", "xterm-256color")
        m.setattr(sys, "stdout", out)
        m.setattr(render, "_consoles", {})
        render.say(*texts)
        assert "console" not in render._consoles, "went to Rich"
    return out.getvalue()


@settings(max_examples=400, deadline=None)
@given(texts=parts, width=st.integers(1, 130), tty=st.booleans())
def test_say_writes_what_rich_prints(texts: list[tuple[str, str]], width: int, tty: bool) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _ours(texts, width, tty, monkeypatch) == _rich(texts, width, tty)


@pytest.mark.parametrize("text", ["a :smile: b", "[bold]x[/]", "naïve", "tab\there"])
def test_what_say_cannot_write_exactly_goes_to_rich(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(render, "_consoles", {"console": Console(file=out, width=80, highlight=False,
                                                                  soft_wrap=False)})
    render.say(("ok", "green"), text)
    assert out.getvalue() == _rich([("ok", "green"), (text, "")], 80, False)

