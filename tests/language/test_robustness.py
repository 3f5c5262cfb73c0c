"""No input makes `check` raise: library errors (YAML, CSV, pydantic) become diagnostics.

Hypothesis mutates the files of the mini fixture -- truncations, random insertions, swapped lines,
random bytes; YAML aliases (repeated, nested, recursive, undefined, merged) and deep nesting; files
replaced by links (out of the folder, to devices, dangling, in a loop, through another link), FIFOs and
folders; texts re-encoded (UTF-16 with and without a byte-order mark, UTF-8 with one, Latin-1, stray
bytes, NULs, CR line ends) -- and `check` must always return a result, never a traceback, with every
error located and nothing of a file outside the folder in any message.

The hostile cases that could exhaust the machine (tests/fixtures/hostile.yaml: a "billion laughs"
file, deep nesting, a recursive alias, links to /dev/zero and /etc/passwd, a FIFO) also run as
`tranche check` in a child process, whose peak memory must stay under a bound.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tranche.errors import Diagnostic
from tranche.language import check
from tests.language.test_hostile import CASES, build

ROOT = Path(__file__).parent.parent.parent
MINI = Path(__file__).parent.parent / "fixtures" / "mini"
FILES = sorted(p.name for p in MINI.iterdir())
YAML_FILES = [f for f in FILES if f.endswith(".yaml")]
OUTSIDE = "root:x:0:0"  # the first line of /etc/passwd: never in a message

NOISE = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["{", "[", ":", "- ", "\t", "\n  x: 1\n", "!!python/object:os.system", "&a *a", "'", '"',
                     "1e400", "-5", "2001-02-30", "~", "? ", "%TAG", "\ufeff", ",,,,", "\"a,b\"", "\x00"]),
)

ALIASES = st.one_of(
    st.just("x: &a [1, 2]\ny: *a\n"),
    st.just("r: &r [*r]\n"),  # recursive
    st.just("m: &m {k: *m}\n"),  # recursive mapping
    st.just("u: *nowhere\n"),  # undefined
    st.just("base: &b {title: t}\nmerged:\n  <<: *b\n"),
    st.just("? &k key\n: v\nagain: *k\n"),
    st.integers(1, 9).map(lambda n: "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, n + 1))),  # billion laughs, n levels
)


def _nesting(depth: int, flow: bool) -> str:
    if flow:
        return "n: " + "[" * depth + "]" * depth + "\n"
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"


DEPTH = st.builds(_nesting, st.integers(1, 400), st.booleans())
LINKS = st.sampled_from(["/etc/passwd", "/dev/zero", "/dev/null", "/dev/urandom", "/", "./nowhere.yaml",
                         "../outside.yaml", "../../../../../../../etc/passwd", ".", "SELF", "CHAIN", "SIBLING"])
ENCODINGS = st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "latin-1", "stray", "lone-lead",
                             "surrogate", "nul", "crlf", "cr"])


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str, Any]:
    """(file, kind, payload): the file's new bytes, or a link target, a FIFO, a folder."""
    kind = draw(st.sampled_from(["insert", "truncate", "swap", "bytes", "empty", "alias", "depth", "link",
                                 "fifo", "folder", "encoding"]))
    name = draw(st.sampled_from(YAML_FILES if kind in ("alias", "depth") else FILES))
    text = (MINI / name).read_text()
    lines = text.splitlines(keepends=True)
    if kind == "insert":
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(NOISE) + text[pos:]
    elif kind == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "swap":
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        text = "".join(lines)
    elif kind == "bytes":
        return name, "bytes", draw(st.binary(max_size=64))
    elif kind == "empty":
        text = ""
    elif kind in ("alias", "depth"):
        snippet = draw(ALIASES if kind == "alias" else DEPTH)
        at = draw(st.integers(0, len(lines)))
        if draw(st.booleans()):  # at the top level, or under a key of the file's own
            text = "".join(lines[:at]) + snippet + "".join(lines[at:])
        else:
            indented = "".join("    " + line for line in snippet.splitlines(keepends=True))
            text = "".join(lines[:at]) + "  extra:\n" + indented + "".join(lines[at:])
    elif kind == "link":
        return name, "link", draw(LINKS)
    elif kind in ("fifo", "folder"):
        return name, kind, None
    elif kind == "encoding":
        encoding = draw(ENCODINGS)
        pos = draw(st.integers(0, len(text.encode())))
        if encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"):
            return name, "bytes", text.encode(encoding)
        if encoding == "latin-1":
            return name, "bytes", (text[: pos // 2] + "é ñ ©" + text[pos // 2:]).encode("latin-1")
        data = text.encode()
        insert = {"stray": b"\xff", "lone-lead": b"\xc3", "surrogate": b"\xed\xa0\x80", "nul": b"\x00",
                  "crlf": b"", "cr": b""}[encoding]
        if encoding == "crlf":
            return name, "bytes", data.replace(b"\n", b"\r\n")
        if encoding == "cr":
            return name, "bytes", data.replace(b"\n", b"\r")
        return name, "bytes", data[:pos] + insert + data[pos:]
    return name, "bytes", text.encode("utf-8", "surrogatepass") if "\ud800" not in text else b"\xff"


def apply(root: Path, name: str, kind: str, payload: Any) -> None:
    target = root / name
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    elif target.exists():  # a FIFO
        target.unlink()
    if kind == "bytes":
        target.write_bytes(payload)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif payload == "SELF":
        target.symlink_to(name)  # a loop
    elif payload == "CHAIN":  # a link inside the folder to a link out of it
        (root / "hop").symlink_to("/dev/zero")
        target.symlink_to("hop")
    elif payload == "SIBLING":  # a link to another file of the folder: followed
        target.symlink_to(next(f for f in FILES if f != name))
    else:
        target.symlink_to(payload)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutations(), min_size=1, max_size=3))
def test_check_never_raises(changes: list[tuple[str, str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "s"
        shutil.copytree(MINI, root)
        for name, kind, payload in changes:
            if kind == "link" and payload == "CHAIN" and (root / "hop").is_symlink():
                payload = "/dev/zero"
            apply(root, name, kind, payload)
        result = check(root)
        assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
        for d in result.diagnostics:
            assert OUTSIDE not in f"{d.message} {d.help or ''}"
        if not result.passed:
            assert result.scenario is None
            for d in result.errors():
                assert d.message and d.span is not None
                assert "Error" not in d.message.split(":")[0], d  # no exception class names


# -- peak memory of the hostile cases, in a child process -----------------------------------------------

MEMORY_CASES = ["billion laughs", "recursive alias", "deep nesting in flow style", "deep nesting in block style",
                "a link to /dev/zero", "a link to /etc/passwd", "a FIFO"]
PEAK_MB = 500

_MEASURE = """\
import json, resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "tranche", "--error-format", "plain", "check", sys.argv[1]],
                      capture_output=True, text=True, timeout=120)
print(json.dumps({"code": proc.returncode, "stderr": proc.stderr,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _peak(folder: Path) -> dict[str, Any]:
    """`tranche check FOLDER` in a child of a fresh process: its exit code, stderr and peak RSS (the only
    child that process waits for, so RUSAGE_CHILDREN is that child's alone)."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(folder)], capture_output=True, text=True,
                         timeout=180, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("name", MEMORY_CASES)
def test_hostile_input_stays_within_memory(name: str, tmp_path: Path) -> None:
    spec = next(c for c in CASES if c["name"] == name)
    folder = build(spec, tmp_path / "scenario")
    got = _peak(folder)
    assert got["code"] == 1, got
    assert "Traceback" not in got["stderr"] and spec["message"] in got["stderr"]
    assert f"{spec['file']}:" in got["stderr"]  # located: file:line:column
    assert OUTSIDE not in got["stderr"]
    assert got["peak_kb"] / 1024 < PEAK_MB, f"{name}: peak {got['peak_kb'] / 1024:.0f} MB"


def test_the_memory_bound_can_fail(tmp_path: Path) -> None:
    """The measure sees a child's memory: a check that holds 600 MB is over the bound."""
    code = "import sys; big = bytearray(600 * 1024 * 1024); big[::4096] = b'x' * len(big[::4096]); sys.exit(1)"
    out = subprocess.run([sys.executable, "-c", _MEASURE.replace('"-m", "tranche", "--error-format", "plain", '
                                                                 '"check", sys.argv[1]', '"-c", sys.argv[1]'),
                          code], capture_output=True, text=True, timeout=120)
    assert json.loads(out.stdout)["peak_kb"] / 1024 > PEAK_MB


def test_every_memory_case_is_in_the_corpus() -> None:
    names = {c["name"] for c in yaml.safe_load((ROOT / "tests" / "fixtures" / "hostile.yaml").read_text())}
    assert set(MEMORY_CASES) <= names
