"""The YAML reader has two loaders: libyaml's scanner and parser (fast; its composer too where a text cannot nest
deeply) and PyYAML's, all in Python (which words
the errors).  Where PyYAML reads a text, `parse_yaml` returns what it returns: the same values, at the same
positions (but for empty values inside broken-looking flow collections, `{a: ,b}`, which libyaml places
elsewhere); where PyYAML refuses it, `parse_yaml` reports PyYAML's diagnostics, unless libyaml, more lenient on
a few points of the syntax (`{a: n?ull}`), reads it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tranche.language import syntax

ROOT = Path(__file__).parent.parent.parent

pytestmark = pytest.mark.skipif(syntax._CParser is None, reason="PyYAML without libyaml: one loader only")


def by_python(text: str) -> tuple[Any, dict[Any, Any], list[str]]:
    data, pos, diags = syntax._parse_yaml(text, "f.yaml", syntax._Loader)
    return data, pos.spans, [str(d) for d in diags]


def by_reader(text: str) -> tuple[Any, dict[Any, Any], list[str]]:
    data, pos, diags = syntax.parse_yaml(text, "f.yaml")
    return data, pos.spans, [str(d) for d in diags]


def _value_at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        if key == "@key":
            return key
        data = data[key]
    return data


def same(text: str) -> None:
    got, want = by_reader(text), by_python(text)
    if want[2] and not got[2]:  # PyYAML refuses what libyaml reads
        return
    assert got[0] == want[0] and type(got[0]) is type(want[0]) and got[2] == want[2], text
    if got[1] != want[1]:  # only where the value is empty (or is the key of an empty key)
        differ = {k for k in set(got[1]) | set(want[1]) if got[1].get(k) != want[1].get(k)}
        assert all(_value_at(want[0], k) is None or (k[-1] == "@key" and k[-2] == "None") for k in differ), text


def test_positions_are_those_of_pyyaml_in_the_files_people_write() -> None:
    text = (ROOT / "tests" / "fixtures" / "mini" / "regimes.yaml").read_text(encoding="utf-8")
    text += "extra:\n  empty:\n  list: [a, {b: c}, []]\n  note: Belaúnde “x” ü\n"
    assert by_reader(text) == by_python(text)


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT) for p in ROOT.glob("[!.]*/**/*.yaml")), ids=str)
def test_every_yaml_file_of_the_repository_reads_alike(path: Path) -> None:
    same((ROOT / path).read_text(encoding="utf-8"))


def test_what_libyaml_reads_and_pyyaml_refuses_is_read() -> None:
    assert by_python("{a: n?ull}\n")[2] and by_reader("{a: n?ull}\n")[0] == {"a": "n?ull"}


def test_tabs_and_control_characters_go_to_pyyaml() -> None:
    """libyaml takes a tab inside a plain scalar, PyYAML does not: such texts are read by PyYAML alone."""
    assert by_reader("a: 1\tb\n") == by_python("a: 1\tb\n") and by_reader("a: 1\tb\n")[2]


def test_an_escape_naming_no_character_is_an_error_not_a_traceback() -> None:
    data, _, diags = by_reader('a: "x\\U99999999"\n')
    assert data is None and [d.split("\n")[0] for d in diags] == [
        "error[yaml-syntax]: invalid YAML: an escape sequence names no character"]


@pytest.mark.parametrize("text", [
    "a: [1, 2\n", "a: b: c\n", "- a\nb: c\n", "a: 'x\n", "a:\n\t- b\n", "a: &x [*x]\n", "a: \x07\n",
    "{a: 1, a: 2}\n", "? [a]\n: b\n", "a: 1\n---\nb: 2\n", "%YAML 1.2\n---\na: 1\n", "a: !!binary x\n",
    "a: 2001-13-01\n", "a: 1.5e3\n", "a: Belaúnde “x”\nb: c\n", "",
])
def test_awkward_and_broken_texts_read_alike(text: str) -> None:
    same(text)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)), max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.sampled_from([None, True, False]), st.integers(0, 40),
       st.text(alphabet=":-[]{}#&*!|>'\"%@`?,. \t\nab1", max_size=4))
def test_dumped_and_mangled_texts_read_alike(value: Any, flow: bool | None, cut: int, noise: str) -> None:
    """Any value as YAML writes it (block or flow style), and the same text with a few characters put in:
    often broken, sometimes still valid."""
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    same(text)
    at = min(cut, len(text))
    same(text[:at] + noise + text[at:])


@pytest.mark.parametrize("text, shallow", [
    ("a:" + "".join("\n" + "  " * (i + 1) + f"k{i}:" for i in range(70)) + " x\n", True),  # block mappings, 71 deep
    ("a: " + "[" * 70 + "x" + "]" * 70 + "\n", True),  # flow sequences, within libyaml's composer's reach
    ("a: " + "{b: " * 70 + "x" + "}" * 70 + "\n", True),
    ("a: " + "[" * 5000 + "x" + "]" * 5000 + "\n", False),  # beyond it: composed by the bounded Python composer
    ("- " * 80 + "x\n", True),  # compact nested sequences
])
def test_too_deep_is_the_same_diagnostic_whoever_composes(text: str, shallow: bool) -> None:
    """libyaml composes texts that cannot nest deeply enough to strain its recursion (`_shallow`); the depth
    bound is then kept while constructing, with the diagnostic the Python composer gives."""
    assert syntax._shallow(text) is shallow
    got, want = by_reader(text), by_python(text)
    assert got[2] == want[2] and len(got[2]) == 1 and "nested more than 64 levels deep" in got[2][0]
