"""The canonical layout of scenario files: what `tranche fmt` writes.

:func:`layout` takes the text of one YAML file and returns it in the canonical
layout, keeping every comment; it never changes what the file means (the
output is parsed again and compared with the input, value for value and
comment for comment, before anything is returned) and it is idempotent
(``layout(layout(x)) == layout(x)``).  The layout:

- **key order**: the keys of every mapping the format defines in the order of
  its JSON Schema (``tranche schema``: the order of the fields in
  ``tranche/language/model.py``); keys the format does not define follow, in the order written;
  the keys of free mappings (``when:`` conditions, ``channels:``, taxonomy
  nodes) keep the order written;
- **indentation** of two spaces for nested mappings, and sequence items
  indented two spaces under their key (``key:`` / ``  - item``);
- **block style**; a list or mapping written in flow style (``[a, b]``,
  ``{any: [x]}``) stays so while its line fits in 120 columns and it holds no
  comment, else it is written in block style;
- **quoting only where needed**: a quoted string that reads the same unquoted
  loses its quotes; one that needs them gets double quotes, or single quotes
  where those need fewer escapes; unquoted values (numbers, dates, ids) are
  kept exactly as written;
- **long text as written**: text is never re-flowed; a folded (``>-``) or
  literal (``|``) block keeps its lines, re-indented; a long one-line string
  stays on its line;
- **comments** kept: a comment line is indented like the entry below it (or, at
  the end of a block, like the block's entries); an end-of-line comment moves
  with its entry's indentation, so that comments aligned in a column stay
  aligned (at least one space after the value); a comment block at the top of
  the file, ending in a blank line, stays at the top;
- **blank lines**: runs of blank lines become one; none at the start or the
  end of the file, which ends with one line break.

It may import :mod:`.model` (the schema's key order) and :mod:`.syntax` (the
reader whose meaning it keeps).
"""

from __future__ import annotations

import bisect
import io
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml
from pydantic import BaseModel

from ..errors import Diagnostic, PolicyError, Span
from .model import FILE_MODELS, PACK_FILE_MODELS
from .syntax import _Loader, parse_yaml, read_yaml_text

__all__ = ["layout", "layout_file", "model_for", "WIDTH", "key_order"]

WIDTH = 120
"""The widest line a flow-style list or mapping may take before it is written in block style."""

INDENT = 2

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_RESOLVER = yaml.resolver.Resolver()


def _implied_tag(value: str) -> str:
    """The tag the reader gives ``value`` written plain (YAML 1.1, as PyYAML reads it)."""
    return str(_RESOLVER.resolve(yaml.ScalarNode, value, (True, False)))  # type: ignore[no-untyped-call]


# --- the shape of a file: which model each mapping is --------------------------------------------------------

@dataclass(frozen=True)
class _Shape:
    """What a node is in the format: a model's mapping, a list or mapping of a shape, or free (``None``)."""

    kind: str  # "model", "list", "dict"
    model: type[BaseModel] | None = None
    inner: "_Shape | None" = None


def _shape_of(annotation: Any) -> _Shape | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _Shape("model", annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list:
        inner = _shape_of(args[0]) if args else None
        return _Shape("list", inner=inner) if inner else None
    if origin is dict:
        inner = _shape_of(args[1]) if len(args) == 2 else None
        return _Shape("dict", inner=inner) if inner else None
    if origin is typing.Annotated:
        return _shape_of(args[0])
    for arg in args:  # a union: the first alternative that is a model or holds one
        shape = _shape_of(arg)
        if shape is not None:
            return shape
    return None


def key_order(model: type[BaseModel]) -> list[str]:
    """The keys of ``model`` in canonical order (the JSON Schema's): each field's alias, then its name."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        out += [info.alias, name] if info.alias and info.alias != name else [name]
    return out


def _field_shape(model: type[BaseModel], key: str) -> _Shape | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return _shape_of(info.annotation)
    return None


def model_for(path: Path) -> type[BaseModel] | None:
    """The model of a scenario or pack file by its name (a folder with a ``pack.yaml`` is a pack), or None."""
    models = PACK_FILE_MODELS if (path.parent / "pack.yaml").is_file() else FILE_MODELS
    return models.get(path.name)


# --- reading: nodes, their comments ---------------------------------------------------------------------------

class _Composer(_Loader):
    """The reader's loader, remembering anchor names and where each alias was written."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.anchor_names: dict[int, str] = {}
        self.alias_marks: list[Any] = []  # yaml Marks

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        node = super().compose_node(parent, index)
        if isinstance(event, yaml.AliasEvent) and event.start_mark is not None:
            self.alias_marks.append(event.start_mark)
        elif getattr(event, "anchor", None):
            self.anchor_names.setdefault(id(node), event.anchor)
        return node


@dataclass(eq=False)
class _Entry:
    """One entry of a collection: a mapping's key and value, or a sequence's item."""

    coll: "_Coll"
    key: yaml.ScalarNode | None
    value: yaml.Node
    line: int
    col: int
    alias: bool = False  # the value is written as an alias here
    before: list[str] = field(default_factory=list)  # comment lines ("# ...") and blank lines ("")
    eol: tuple[str, int] | None = None  # an end-of-line comment and its column
    last: int = 0  # the last source line of the entry


@dataclass(eq=False)
class _Coll:
    node: yaml.Node
    col: int
    flow: bool
    multiline: bool
    depth: int
    parent: _Entry | None
    shape: _Shape | None
    entries: list[_Entry] = field(default_factory=list)
    trailing: list[str] = field(default_factory=list)


@dataclass
class _Document:
    text: str
    lines: list[str]
    root: yaml.Node | None
    anchors: dict[int, str]
    colls: dict[int, _Coll] = field(default_factory=dict)  # by id of the node, first occurrence
    entries: list[_Entry] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    scalar_spans: list[tuple[int, int, int, int]] = field(default_factory=list)  # (line, col, end line, end col)
    block_lines: dict[int, tuple[int, int]] = field(default_factory=dict)  # block scalar: (first, last) line
    comments: list[tuple[int, int, str, bool]] = field(default_factory=list)  # (line, col, text, end of line)


def _block_scalar_lines(doc: _Document, node: yaml.ScalarNode) -> tuple[int, int]:
    """The first and last source line of a block scalar's content (trailing empty lines are the scalar's only
    when it keeps them)."""
    first = node.start_mark.line + 1
    end = node.end_mark
    if end.line >= len(doc.lines):
        last = len(doc.lines) - 1
    elif doc.lines[end.line][: end.column].strip():
        last = end.line
    else:
        last = end.line - 1
    header = re.match(r"[|>]([0-9+-]*)", doc.lines[node.start_mark.line][node.start_mark.column:])
    if header is None or "+" not in header.group(1):
        while last >= first and not doc.lines[last].strip():
            last -= 1
    return first, last


def _read(text: str, name: str, shape: _Shape | None) -> _Document:
    loader = _Composer(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    lines = _BREAKS.split(text)
    doc = _Document(text, lines, root, loader.anchor_names)
    aliases = iter(loader.alias_marks)
    seen: set[int] = set()

    def visit(node: yaml.Node, shape: _Shape | None, depth: int, parent: _Entry | None) -> int:
        """Walk ``node`` (first occurrence) in source order; return its last source line."""
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.style in ("|", ">"):
                first, last = _block_scalar_lines(doc, node)
                doc.block_lines[id(node)] = (first, last)
                doc.scalar_spans.append((first, 0, last, len(lines[last]) if last >= first else 0))
                return max(last, node.start_mark.line)
            doc.scalar_spans.append((node.start_mark.line, node.start_mark.column, node.end_mark.line,
                                     node.end_mark.column))
            return node.end_mark.line
        flow = bool(getattr(node, "flow_style", False))
        multiline = flow and node.start_mark.line != node.end_mark.line
        coll = _Coll(node, node.start_mark.column, flow, multiline, depth, parent, shape)
        doc.colls[id(node)] = coll
        last = node.start_mark.line
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if id(key) in seen:
                    next(aliases, None)
                else:
                    visit(key, None, depth + 1, None)
                entry = _Entry(coll, key, value, key.start_mark.line, key.start_mark.column)
                coll.entries.append(entry)
                doc.entries.append(entry)
                child = None
                if shape is not None and shape.kind == "model" and shape.model is not None and \
                        isinstance(key.value, str):
                    child = _field_shape(shape.model, key.value)
                elif shape is not None and shape.kind == "dict":
                    child = shape.inner
                if id(value) in seen:
                    mark = next(aliases, None)
                    entry.alias = True
                    entry.last = mark.line if mark is not None else key.end_mark.line
                else:
                    entry.last = max(key.end_mark.line, visit(value, child, depth + 1, entry))
                last = max(last, entry.last)
        else:
            for item in node.value:
                child = shape.inner if shape is not None and shape.kind == "list" else None
                if id(item) in seen:
                    mark = next(aliases, None)
                    line = mark.line if mark is not None else item.start_mark.line
                    entry = _Entry(coll, None, item, line, node.start_mark.column if not flow else
                                   (mark.column if mark is not None else 0), alias=True, last=line)
                else:
                    entry = _Entry(coll, None, item, item.start_mark.line,
                                   node.start_mark.column if not flow else item.start_mark.column)
                coll.entries.append(entry)
                doc.entries.append(entry)
                if not entry.alias:
                    entry.last = visit(item, child, depth + 1, entry)
                last = max(last, entry.last)
        if flow:
            last = max(last, node.end_mark.line)
        return last

    if root is not None:
        visit(root, shape, 0, None)
    _find_comments(doc)
    _attach_comments(doc)
    return doc


def _find_comments(doc: _Document) -> None:
    """Every comment (outside scalars) and blank line (outside block scalars), with its position."""
    covered: dict[int, list[tuple[int, int]]] = {}
    for line, col, end_line, end_col in doc.scalar_spans:
        for n in range(line, end_line + 1):
            covered.setdefault(n, []).append((col if n == line else 0, end_col if n == end_line else 1 << 30))
    for n, text in enumerate(doc.lines):
        spans = covered.get(n, [])
        if not text.strip():
            if not spans:
                doc.comments.append((n, 0, "", False))
            continue
        i = -1
        while True:
            i = text.find("#", i + 1)
            if i < 0:
                break
            if any(a <= i < b for a, b in spans):
                continue
            if i == 0 or text[i - 1] in " \t":
                content = bool(text[:i].strip())
                doc.comments.append((n, i, text[i:].rstrip(), content))
                break


def _commentable(entry: _Entry) -> bool:
    return not entry.coll.flow or _in_multiline_flow(entry.coll)


def _in_multiline_flow(coll: _Coll) -> bool:
    while coll is not None:
        if coll.multiline:
            return True
        coll = coll.parent.coll if coll.parent is not None else None  # type: ignore[assignment]
    return False


def _attach_comments(doc: _Document) -> None:
    entries = sorted((e for e in doc.entries if _commentable(e)), key=lambda e: (e.line, e.coll.depth))
    lines_of = [e.line for e in entries]
    by_line: dict[int, list[_Entry]] = {}
    for e in entries:
        by_line.setdefault(e.line, []).append(e)

    for line, col, text, end_of_line in doc.comments:
        if end_of_line:
            on_line = by_line.get(line, [])
            target = max(on_line, key=lambda e: e.coll.depth) if on_line else None
            if target is None:
                around = [e for e in entries if e.line <= line <= e.last]
                target = max(around, key=lambda e: e.coll.depth) if around else None
            if target is None:
                (doc.head if not entries or line < entries[0].line else doc.tail).append(text)
            elif target.eol is not None:  # a second comment for the entry (the end of a flow list): after it
                (doc.colls.get(id(target.value)) or target.coll).trailing.append(text)
            else:
                target.eol = (text, col)
            continue
        k = bisect.bisect_right(lines_of, line)
        after = entries[k] if k < len(entries) else None  # outermost entry of the next line with one
        prev = entries[k - 1] if k > 0 else None
        if prev is not None:
            prev = max(by_line[prev.line], key=lambda e: e.coll.depth)
        if text and prev is not None and (after is None or col > after.col):
            coll: _Coll | None = prev.coll
            placed = False
            while coll is not None:
                if coll.col <= col:
                    if after is not None and after.coll is coll:
                        break
                    coll.trailing.append(text)
                    placed = True
                    break
                coll = coll.parent.coll if coll.parent is not None else None
            if placed:
                continue
        if after is not None:
            after.before.append(text)
        elif prev is None:
            doc.head.append(text)
        else:
            doc.tail.append(text)
    # a comment block at the top of the file that ends in a blank line is the file's, not the first entry's
    if entries and entries[0].before and "" in entries[0].before:
        cut = len(entries[0].before) - entries[0].before[::-1].index("")
        doc.head += entries[0].before[:cut]
        del entries[0].before[:cut]


# --- writing ------------------------------------------------------------------------------------------------

_EMITTER = yaml.emitter.Emitter(io.StringIO(), allow_unicode=True)


def _analysis(value: str) -> Any:
    return _EMITTER.analyze_scalar(value)


def _quoted(value: str) -> str:
    """``value`` in double quotes, or single quotes where they need fewer escapes."""
    doubles = value.count('"') + value.count("\\")
    analysis = _analysis(value)
    single = value.count("'") < doubles and analysis.allow_single_quoted and not analysis.multiline
    out = yaml.safe_dump(value, default_style="'" if single else '"', width=1 << 30, allow_unicode=True)
    out = out[:-5] if out.endswith("\n...\n") else out
    return out.rstrip("\n")


@dataclass
class _Line:
    text: str
    verbatim: bool = False  # a line of a block scalar: kept as it is (blank lines included)


class _Writer:
    def __init__(self, doc: _Document) -> None:
        self.doc = doc
        self.written: set[int] = set()
        self.anchors: dict[int, str] = {}
        self.used_names: set[str] = set(doc.anchors.values())
        self.multi = self._repeated()

    def _repeated(self) -> set[int]:
        count: dict[int, int] = {}
        seen: set[int] = set()

        def walk(node: yaml.Node) -> None:
            count[id(node)] = count.get(id(node), 0) + 1
            if id(node) in seen:
                return
            seen.add(id(node))
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    walk(k)
                    walk(v)
            elif isinstance(node, yaml.SequenceNode):
                for item in node.value:
                    walk(item)

        if self.doc.root is not None:
            walk(self.doc.root)
        return {k for k, n in count.items() if n > 1}

    # properties: anchor, alias, tag
    def _alias(self, node: yaml.Node) -> str | None:
        return f"*{self.anchors[id(node)]}" if id(node) in self.written and id(node) in self.anchors else None

    def _props(self, node: yaml.Node, plain_text: str | None = None) -> str:
        parts = []
        if id(node) in self.multi and id(node) not in self.anchors:
            name = self.doc.anchors.get(id(node))
            if name is None:
                n = 1
                while f"a{n}" in self.used_names:
                    n += 1
                name = f"a{n}"
                self.used_names.add(name)
            self.anchors[id(node)] = name
            parts.append(f"&{name}")
        self.written.add(id(node))
        tag = self._explicit_tag(node, plain_text)
        if tag:
            parts.append(tag)
        return " ".join(parts)

    @staticmethod
    def _explicit_tag(node: yaml.Node, plain_text: str | None) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            implied = _implied_tag(node.value) if plain_text is not None else _STR
        else:
            implied = _MAP if isinstance(node, yaml.MappingNode) else _SEQ
        if node.tag == implied:
            return None
        if node.tag.startswith("tag:yaml.org,2002:"):
            return "!!" + node.tag[len("tag:yaml.org,2002:"):]
        return f"!<{node.tag}>"

    # scalars
    def _plain(self, node: yaml.ScalarNode, flow: bool, key: bool) -> str | None:
        """The scalar's plain text, or None when it must be quoted."""
        value = node.value
        if node.style is None and "\n" not in value:
            if value == "" and (flow or key):
                return None if node.tag == _STR else "null" if not key else None
            return str(value)  # as written
        if node.style is None and "\n" in value:
            return None
        if _implied_tag(value) != _STR:
            return None
        a = _analysis(value)
        if a.empty or a.multiline or not (a.allow_flow_plain if flow else a.allow_block_plain):
            return None
        if key and len(value) > 120:
            return None
        return str(value)

    def scalar(self, node: yaml.ScalarNode, flow: bool, key: bool = False) -> str:
        plain = self._plain(node, flow, key)
        props = self._props(node, plain)
        text = plain if plain is not None else _quoted(node.value)
        return f"{props} {text}".strip() if props else text

    def block_scalar(self, node: yaml.ScalarNode, indent: int) -> tuple[str, list[_Line]] | None:
        """A folded or literal scalar as ``(header, lines)`` at ``indent``, or None to write it quoted."""
        span = self.doc.block_lines.get(id(node))
        if node.style not in ("|", ">") or span is None:
            return None
        source_header = self.doc.lines[node.start_mark.line][node.start_mark.column:]
        match = re.match(r"([|>])([0-9+-]*)", source_header)
        if match is None or any(c.isdigit() for c in match.group(2)):
            return None  # an indentation indicator: written quoted, which is always exact
        chomp = "".join(c for c in match.group(2) if c in "+-")
        first, last = span
        content = self.doc.lines[first:last + 1]
        filled = [t for t in content if t.strip()]
        if not filled:
            return None
        own = len(filled[0]) - len(filled[0].lstrip(" "))
        if filled[0][own:own + 1] in ("\t",):
            return None
        lines = []
        for t in content:
            rest = t[own:] if len(t) > own else ""
            if t[:own].strip():
                return None  # a line less indented than the first: not this block's
            lines.append(_Line(" " * indent + rest if rest else "", verbatim=True))
        props = self._props(node, None)
        header = match.group(1) + chomp
        return (f"{props} {header}" if props else header), lines

    # collections
    def ordered(self, coll: _Coll) -> list[_Entry]:
        if coll.shape is None or coll.shape.kind != "model" or coll.shape.model is None or \
                not isinstance(coll.node, yaml.MappingNode):
            return list(coll.entries)
        order = {k: i for i, k in enumerate(key_order(coll.shape.model))}
        known = [e for e in coll.entries if e.key is not None and e.key.value in order]
        known.sort(key=lambda e: order[e.key.value])  # type: ignore[union-attr]
        return known + [e for e in coll.entries if e not in known]

    def has_comments(self, coll: _Coll) -> bool:
        if coll.trailing:
            return True
        for e in coll.entries:
            if e.eol or any(e.before):
                return True
            child = self.doc.colls.get(id(e.value))
            if child is not None and not e.alias and child.parent is e and self.has_comments(child):
                return True
        return False

    def flow(self, node: yaml.Node) -> str:
        alias = self._alias(node)
        if alias:
            return alias
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, flow=True)
        coll = self.doc.colls[id(node)]
        props = self._props(node)
        if isinstance(node, yaml.MappingNode):
            parts = []
            for e in self.ordered(coll):
                assert e.key is not None
                k = self._alias(e.key) or self.scalar(e.key, flow=True, key=True)
                v = self.flow(e.value)
                parts.append(f"{k}: {v}")
            body = "{" + ", ".join(parts) + "}"
        else:
            body = "[" + ", ".join(self.flow(e.value) for e in coll.entries) + "]"
        return f"{props} {body}" if props else body

    def fits_flow(self, node: yaml.Node, prefix: str) -> str | None:
        """The one-line flow text of a collection written in flow style, if it may stay so at ``prefix``."""
        coll = self.doc.colls.get(id(node))
        if coll is None:
            return None
        if not node.value:
            return self.flow(node)
        if not coll.flow or self.has_comments(coll):
            return None
        saved = (set(self.written), dict(self.anchors), set(self.used_names))
        text = self.flow(node)
        if len(prefix) + len(text) <= WIDTH:
            return text
        self.written, self.anchors, self.used_names = saved
        return None

    def before(self, entry: _Entry, indent: int, out: list[_Line]) -> None:
        out.extend(_Line(" " * indent + t if t else "") for t in entry.before)

    def end_comment(self, line: _Line, entry: _Entry, indent: int) -> None:
        """The entry's end-of-line comment, at its column moved as much as the entry moved (so that comments
        aligned in a block stay aligned), at least one space after the value."""
        if entry.eol is None:
            return
        text, col = entry.eol
        line.text = line.text + " " * max(1, col + indent - entry.col - len(line.text)) + text

    def block(self, coll: _Coll, indent: int, out: list[_Line]) -> None:
        if isinstance(coll.node, yaml.MappingNode):
            for e in self.ordered(coll):
                self.before(e, indent, out)
                assert e.key is not None
                key = self._alias(e.key) or self.scalar(e.key, flow=False, key=True)
                self.value(e, " " * indent + key + ":", indent, out)
        else:
            for e in coll.entries:
                self.before(e, indent, out)
                self.value(e, " " * indent + "-", indent, out, item=True)
        out.extend(_Line(" " * indent + t if t else "") for t in coll.trailing)

    def value(self, e: _Entry, head: str, indent: int, out: list[_Line], item: bool = False) -> None:
        node = e.value
        alias = self._alias(node) if e.alias or id(node) in self.written else None
        if alias:
            line = _Line(f"{head} {alias}")
            out.append(line)
            self.end_comment(line, e, indent)
            return
        if isinstance(node, yaml.ScalarNode):
            block = self.block_scalar(node, indent + INDENT)
            if block is not None:
                line = _Line(f"{head} {block[0]}")
                out.append(line)
                self.end_comment(line, e, indent)
                out.extend(block[1])
                return
            text = self.scalar(node, flow=False)
            line = _Line(f"{head} {text}" if text else head)
            out.append(line)
            self.end_comment(line, e, indent)
            return
        flow = self.fits_flow(node, head + " ")
        if flow is not None:
            line = _Line(f"{head} {flow}")
            out.append(line)
            self.end_comment(line, e, indent)
            out.extend(_Line(" " * (indent + INDENT) + t) for t in self.doc.colls[id(node)].trailing)
            return
        coll = self.doc.colls[id(node)]
        props = self._props(node)
        child: list[_Line] = []
        if item and not props and (e.eol is None):
            self.block(coll, indent + INDENT, child)
            # the first entry goes on the dash's line; comments above it go above the dash
            lead = 0
            while lead < len(child) and (not child[lead].text.strip() or child[lead].text.lstrip().startswith("#")) \
                    and not child[lead].verbatim:
                lead += 1
            out.extend(_Line(" " * indent + c.text.strip() if c.text.strip() else "") for c in child[:lead])
            first = child[lead]
            first.text = head + " " + first.text[indent + INDENT:]
            out.extend(child[lead:])
            return
        line = _Line(f"{head} {props}" if props else head)
        out.append(line)
        self.end_comment(line, e, indent)
        self.block(coll, indent + INDENT, out)

    def document(self) -> str:
        out: list[_Line] = [_Line(t) for t in self.doc.head]
        root = self.doc.root
        if root is not None:
            if isinstance(root, yaml.ScalarNode):
                block = self.block_scalar(root, INDENT)
                if block is not None:
                    out.append(_Line(block[0]))
                    out.extend(block[1])
                else:
                    out.append(_Line(self.scalar(root, flow=False)))
            else:
                flow = self.fits_flow(root, "")
                if flow is not None:
                    out.append(_Line(flow))
                else:
                    props = self._props(root)
                    if props:
                        out.append(_Line(props))
                    self.block(self.doc.colls[id(root)], 0, out)
        out.extend(_Line(t) for t in self.doc.tail)
        return _finish(out)


def _finish(lines: Sequence[_Line]) -> str:
    """Join the lines: trailing spaces dropped, runs of blank lines made one, none at the start or the end
    (the lines of block scalars kept as they are)."""
    out: list[_Line] = []
    for line in lines:
        if line.verbatim:
            out.append(line)
            continue
        text = line.text.rstrip()
        if not text and (not out or not out[-1].text):
            continue
        out.append(_Line(text))
    while out and not out[-1].text and not out[-1].verbatim:
        out.pop()
    return "".join(line.text + "\n" for line in out)


# --- checking that nothing changed ---------------------------------------------------------------------------

def _same(a: Any, b: Any) -> bool:
    """Equal as the reader reads them: same types, same values (NaN equal to itself), same order of keys."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return sorted(a) == sorted(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, (int, str, bool)) or a is None:
        return bool(a == b)
    return str(a) == str(b)


def _comments(text: str) -> list[str]:
    try:
        doc = _read(text, "", None)
    except yaml.YAMLError:
        return ["<unreadable>"]
    return sorted(t for _, _, t, _ in doc.comments if t)


def layout(text: str, name: str = "<text>", model: type[BaseModel] | None = None) -> str:
    """``text`` (one YAML file, ``name`` for locations) in the canonical layout; ``model`` orders the keys.

    Raises :class:`~tranche.errors.PolicyError` with the reader's located diagnostics when the text does not
    parse (nothing to write then), and when the layout would change what the file says (a bug: the file is
    left as it is).
    """
    data, _, diags = parse_yaml(text, name)
    if diags:
        raise PolicyError(diags, f"`{name}` was not formatted: it does not parse")
    doc = _read(text, name, _Shape("model", model) if model is not None else None)
    out = _Writer(doc).document()
    if out == text:  # already canonical: nothing to check
        return out
    again, _, problems = parse_yaml(out, name)
    if problems or not _same(data, again) or _comments(out) != sorted(t for _, _, t, _ in doc.comments if t):
        where = problems[0].span if problems else Span(name)
        raise PolicyError([Diagnostic(
            "fmt-meaning", "the canonical layout of this file would change what it says; it was left as it is",
            where, help="this is a bug in `tranche fmt`: please report it with the file")],
            f"`{name}` was not formatted")
    return out


def layout_file(path: Path, display: str | None = None) -> tuple[str, str]:
    """``(text, canonical text)`` of one file (its model from its name); PolicyError when it cannot be read."""
    name = display or str(path)
    text, diags = read_yaml_text(path, name)
    if text is None:
        raise PolicyError(diags, f"`{name}` was not formatted")
    return text, layout(text, name, model_for(path))


def yaml_files(path: Path) -> Iterator[Path]:
    """The YAML files of ``path``: the file itself, or every ``*.yaml`` / ``*.yml`` file under the folder."""
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    else:
        yield path
