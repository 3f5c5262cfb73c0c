"""No input makes `check` raise: library errors (YAML, CSV, pydantic) become diagnostics.

Hypothesis mutates the files of the mini fixture -- truncations, random insertions, swapped
lines, random bytes -- and `check` must always return a result, never a traceback.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tranche.errors import Diagnostic
from tranche.language import check

MINI = Path(__file__).parent.parent / "fixtures" / "mini"
FILES = sorted(p.name for p in MINI.iterdir())

NOISE = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["{", "[", ":", "- ", "\t", "\n  x: 1\n", "!!python/object:os.system", "&a *a", "'", '"',
                     "1e400", "-5", "2001-02-30", "~", "? ", "%TAG", "\ufeff", ",,,,", "\"a,b\"", "\x00"]),
)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(FILES))
    text = (MINI / name).read_text()
    kind = draw(st.sampled_from(["insert", "truncate", "swap", "bytes", "empty"]))
    if kind == "insert":
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(NOISE) + text[pos:]
    elif kind == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "swap":
        lines = text.splitlines()
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        text = "\n".join(lines)
    elif kind == "bytes":
        return name, draw(st.binary(max_size=64))
    else:
        text = ""
    return name, text.encode("utf-8", "surrogatepass") if "\ud800" not in text else b"\xff"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutations(), min_size=1, max_size=3))
def test_check_never_raises(changes: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "s"
        shutil.copytree(MINI, root)
        for name, data in changes:
            (root / name).write_bytes(data)
        result = check(root)
        assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
        if not result.passed:
            assert result.scenario is None
            for d in result.errors():
                assert d.message and d.span is not None
