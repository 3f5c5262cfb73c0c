"""The canonical layout (`tranche fmt`): it never changes what a file says, keeps every comment, is idempotent, and
the shipped scenarios and packs are in it.

"What a file says" is what the reader (:func:`tranche.language.syntax.parse_yaml`, the one `check` uses) reads:
compared here value for value, with types (``True`` is not ``1``).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tranche.errors import PolicyError
from tranche.language.layout import WIDTH, _field_shape, key_order, layout, model_for, yaml_files
from tranche.language.model import FILE_MODELS, PACK_FILE_MODELS
from tranche.language.syntax import parse_yaml

ROOT = Path(__file__).parent.parent.parent
SHIPPED = [ROOT / "scenarios", ROOT / "packs"]
ALL_YAML = [p for root in (*SHIPPED, ROOT / "tests" / "fixtures") for p in yaml_files(root)]


def typed(value: Any) -> Any:
    """``value`` with the type of every leaf kept, so that equality is the reader's (``1 != True != 1.0``)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, repr(value))


def read(text: str) -> Any:
    data, _, diags = parse_yaml(text, "x.yaml")
    assert not diags, [str(d) for d in diags]
    return typed(data)


def comment_lines(text: str) -> list[str]:
    """Whole-line comments (a check independent of the layout's own reading; the shipped files hold no `#` at the
    start of a line inside a string)."""
    return sorted(line.strip() for line in text.splitlines() if line.strip().startswith("#"))


def end_comments(text: str) -> list[str]:
    """End-of-line comments, found as `  # ` after a value (the shipped files' strings hold no ` # `)."""
    return sorted(m.group(1) for line in text.splitlines() if not line.strip().startswith("#")
                  for m in [re.search(r"\s(# .*)$", line)] if m)


@pytest.mark.parametrize("path", ALL_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_layout_keeps_meaning_and_comments_and_is_idempotent(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    out = layout(text, str(path), model_for(path))
    assert read(out) == read(text)
    assert comment_lines(out) == comment_lines(text)
    assert end_comments(out) == end_comments(text)
    assert layout(out, str(path), model_for(path)) == out


def test_the_shipped_scenarios_and_packs_are_in_the_canonical_layout(tmp_path: Path) -> None:
    """`tranche fmt --check scenarios packs`, run on copies (other work may be editing the originals)."""
    from tranche.cli.main import main

    for root in SHIPPED:
        shutil.copytree(root, tmp_path / root.name)
    with pytest.raises(SystemExit) as exit:
        main(["fmt", "--check", str(tmp_path / "scenarios"), str(tmp_path / "packs")])
    assert exit.value.code == 0


def test_a_formatted_scenario_is_the_same_scenario(tmp_path: Path) -> None:
    """Formatting a scenario whose layout is not canonical leaves its content hashes (law and regime versions),
    decisions and tests as they were."""
    import tranche

    copy = tmp_path / "peru"
    shutil.copytree(ROOT / "scenarios" / "peru-1962", copy)
    for f in copy.glob("*.yaml"):  # undo the layout: every string quoted, keys reversed, flow everywhere
        data, _, _ = parse_yaml(f.read_text(encoding="utf-8"), str(f))
        f.write_text(yaml.dump(_reversed(data), Dumper=_Scrambler, default_flow_style=True, width=70,
                               allow_unicode=True, sort_keys=False), encoding="utf-8")
    scrambled = tranche.load_scenario(copy)
    for f in copy.glob("*.yaml"):
        f.write_text(layout(f.read_text(encoding="utf-8"), str(f), model_for(f)), encoding="utf-8")
    formatted = tranche.load_scenario(copy)
    original = tranche.load_scenario(ROOT / "scenarios" / "peru-1962")
    for s in (scrambled, formatted):
        assert s.law.version == original.law.version
        assert {k: r.version for k, r in s.regimes.items()} == {k: r.version for k, r in original.regimes.items()}
    assert list(formatted.regimes) == list(original.regimes)
    # the key order is the canonical one again, so the files are the shipped ones but for comments
    for f in copy.glob("*.yaml"):
        shipped = (ROOT / "scenarios" / "peru-1962" / f.name).read_text(encoding="utf-8")
        assert read(f.read_text(encoding="utf-8")) == read(shipped)


class _Scrambler(yaml.SafeDumper):
    """Every string double-quoted; amounts written with their digits."""


_Scrambler.add_representer(str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style='"'))
_Scrambler.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))


def _reversed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


# --- the layout's rules, one example each ---------------------------------------------------------------------

def fmt(text: str, model: Any = None) -> str:
    return layout(text, "x.yaml", model)


def test_keys_follow_the_schema_and_comments_follow_their_keys() -> None:
    text = ("rules:\n"
            "  - effect: forbid   # the hold\n"
            "    # where it applies\n"
            "    when: {channel: grant}\n"
            "    id: r1\n"
            "    extra: kept last\n"
            "    sources: [s1]\n")
    assert fmt(text, FILE_MODELS["law.yaml"]) == (
        "rules:\n"
        "  - id: r1\n"
        "    # where it applies\n"
        "    when: {channel: grant}\n"
        "    effect: forbid   # the hold\n"
        "    sources: [s1]\n"
        "    extra: kept last\n")


def test_the_first_key_of_a_list_item_moves_to_the_dash_with_its_comment_above() -> None:
    text = "tests:\n  - expect: permitted\n    # the item\n    name: t1\n"
    assert fmt(text, FILE_MODELS["tests.yaml"]) == "tests:\n  # the item\n  - name: t1\n    expect: permitted\n"


def test_free_mappings_keep_their_order() -> None:
    text = "when:\n  flags: [a]\n  channel: grant\n"
    assert fmt(text, None) == text
    rule = "rules:\n  - id: r\n    when:\n      flags: [a]\n      channel: grant\n"
    assert fmt(rule, FILE_MODELS["law.yaml"]) == rule


def test_quotes_only_where_needed() -> None:
    text = ('a: "plain text"\n'
            'b: "yes"\n'                # a boolean unquoted
            'c: "2001-01-01"\n'         # a date unquoted
            'd: "1250000.00"\n'         # a number unquoted
            'e: "a: b"\n'               # a mapping unquoted
            "f: 'say \"no\"'\n"
            'g: "it\'s \\"x\\""\n'
            'k: "a #b \\"c\\" \\\\"\n'
            'h: ""\n'
            'i: "- x"\n'
            "j: 'x'\n")
    assert fmt(text) == ('a: plain text\n'
                         'b: "yes"\n'
                         'c: "2001-01-01"\n'
                         'd: "1250000.00"\n'
                         'e: "a: b"\n'
                         'f: say "no"\n'
                         'g: it\'s "x"\n'
                         "k: 'a #b \"c\" \\'\n"
                         'h: ""\n'
                         'i: "- x"\n'
                         "j: x\n")


def test_unquoted_values_are_kept_as_written() -> None:
    text = "a: 0x1F\nb: 1_000\nc: yes\nd: ~\ne:\nf: 1.50\ng: 1962-10-03\nh: .inf\n"
    assert fmt(text) == text


def test_block_style_text_keeps_its_lines_reindented() -> None:
    text = ("d:\n"
            "    x: >-\n"
            "        a folded text\n"
            "        on lines\n"
            "\n"
            "          kept more indented\n"
            "    y: |\n"
            "        literal\n"
            "          text\n")
    assert fmt(text) == ("d:\n"
                         "  x: >-\n"
                         "    a folded text\n"
                         "    on lines\n"
                         "\n"
                         "      kept more indented\n"
                         "  y: |\n"
                         "    literal\n"
                         "      text\n")


def test_flow_lists_stay_while_they_fit() -> None:
    short = "sources: [a, b]\n"
    assert fmt(short) == short
    items = [f"item{i:03d}" for i in range(30)]
    long = "sources: [" + ", ".join(items) + "]\n"
    assert len(long) > WIDTH
    assert fmt(long) == "sources:\n" + "".join(f"  - {i}\n" for i in items)


def test_a_flow_list_with_comments_becomes_a_block() -> None:
    text = "category: [a,   # first\n           b]\n"
    assert fmt(text) == "category:\n  - a  # first\n  - b\n"  # the comment moves with its item


def test_blank_lines_and_indentation() -> None:
    text = ("# a header\n\n\n\nregimes:\n    -   id: a\n\n\n        title: x   \n    - id: b\n\n\n\n")
    assert fmt(text) == "# a header\n\nregimes:\n  - id: a\n\n    title: x\n  - id: b\n"


def test_anchors_and_aliases_are_kept() -> None:
    text = "a: &common [x, y]\nb: *common\n"
    assert fmt(text) == text
    # an alias written before its anchor once the keys are ordered: the anchor moves to the first place
    text = "timelines: &r [{id: a, default: permitted}]\nregimes: *r\n"
    out = fmt(text, FILE_MODELS["regimes.yaml"])
    assert out == "regimes: &r [{id: a, default: permitted}]\ntimelines: *r\n"


def test_a_file_that_does_not_parse_is_refused_with_its_location() -> None:
    with pytest.raises(PolicyError) as err:
        fmt("a: [b\nc: d\n")
    d = err.value.diagnostics[0]
    assert d.code == "yaml-syntax" and d.span is not None and d.span.line is not None
    with pytest.raises(PolicyError) as err:
        fmt("a: 1\na: 2\n")
    assert err.value.diagnostics[0].code == "yaml-duplicate-key"


def test_the_key_order_is_the_json_schema_order() -> None:
    from tranche.language.schema import schema

    for name, model in {**FILE_MODELS, **PACK_FILE_MODELS}.items():
        properties = list(schema(name)["properties"])
        assert [k for k in key_order(model) if k in properties] == properties


# --- generated documents of the format's shape ------------------------------------------------------------------

TEXT = st.text(alphabet=st.sampled_from(list(string.ascii_letters + string.digits + " _-.,:#'\"[]{}&*!|>%@`?\\/")
                                        + ["é", "“", "\t", "\n"]), max_size=30)
WORDS = st.sampled_from(["yes", "no", "on", "null", "~", "1962-10-03", "0.5", "010", "1_000", "0x1F", ".inf",
                         "true", "- a", "a: b", "#x", "a #b", "", " lead", "trail ", "=", "<<"])
SCALARS = st.one_of(TEXT, WORDS, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
                    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6,
                                max_value=10**6).map(float))


def shaped(model: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A mapping of ``model``'s keys (some of them, in any order, now and then an unknown one) with values of
    their shape where they have one, and scalars or lists of scalars otherwise."""
    keys = key_order(model)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(keys), max_size=min(6, len(keys)), unique=True))
        if draw(st.booleans()):
            chosen.append(draw(st.sampled_from(["zz_unknown", "notes_x"])))
        out: dict[str, Any] = {}
        for key in chosen:
            shape = _field_shape(model, key)
            if shape is not None and depth < 3:
                inner = shape.inner if shape.kind != "model" else shape
                strategy = shaped(inner.model, depth + 1) if inner is not None and inner.model is not None else SCALARS
                out[key] = draw(strategy if shape.kind == "model" else
                                st.lists(strategy, max_size=3) if shape.kind == "list" else
                                st.dictionaries(st.sampled_from(["a", "b", "c"]), strategy, max_size=3))
            else:
                out[key] = draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=4),
                                          st.dictionaries(st.sampled_from(["channel", "flags", "x"]), SCALARS,
                                                          max_size=3)))
        return out

    return build()


MODELS = sorted({*FILE_MODELS.items(), *PACK_FILE_MODELS.items()}, key=lambda kv: kv[0] + kv[1].__name__)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, Any]:
    name, model = draw(st.sampled_from(MODELS))
    data = draw(shaped(model))
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans()),
                          default_flow_style=draw(st.sampled_from([False, True, None])),
                          default_style=draw(st.sampled_from([None, '"', "'"])),
                          width=draw(st.sampled_from([40, 80, 1000])), indent=draw(st.sampled_from([2, 4])))
    lines = text.splitlines()
    n = 0
    for _ in range(draw(st.integers(0, 6))):  # comments: whole lines and ends of lines, anywhere
        at = draw(st.integers(0, len(lines)))
        n += 1
        if draw(st.booleans()) and at < len(lines):
            lines[at] += f"  # c{n} end"
        else:
            lines.insert(at, " " * draw(st.integers(0, 6)) + f"# c{n} line")
    return "\n".join(lines) + "\n", model


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_keep_meaning_and_comments_and_are_idempotent(doc: tuple[str, Any]) -> None:
    text, model = doc
    data, _, diags = parse_yaml(text, "x.yaml")
    assume(not diags)  # a comment put inside a multi-line value may break the document
    before = typed(data)
    comments = re.findall(r"# c\d+ (?:end|line)", text)
    out = layout(text, "x.yaml", model)
    assert read(out) == before
    kept = re.findall(r"# c\d+ (?:end|line)", out)
    # comments that landed inside a value (a folded text) are text, not comments: they stay where they are
    assert sorted(kept) == sorted(comments)
    assert layout(out, "x.yaml", model) == out


@settings(max_examples=100, deadline=None)
@given(st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=4)), max_leaves=20),
       st.sampled_from([False, True, None]), st.sampled_from([None, '"', "'", "|", ">"]))
def test_generated_yaml_of_any_shape(data: Any, flow: bool | None, style: str | None) -> None:
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=flow, default_style=style, allow_unicode=True)
    parsed, _, diags = parse_yaml(text, "x.yaml")
    assume(not diags)
    out = layout(text, "x.yaml")
    assert read(out) == typed(parsed)
    assert layout(out, "x.yaml") == out


def test_decimal_amounts_keep_their_digits() -> None:
    out = fmt('programs:\n  - {id: P1, recipient: AAA, total: 9000000.00}\n', FILE_MODELS["programs.yaml"])
    data, _, _ = parse_yaml(out, "x.yaml")
    assert data["programs"][0]["total"] == Decimal("9000000.00") and "9000000.00" in out
