"""Reading YAML and CSV while keeping the position of every value.

``read_yaml`` returns plain Python data (dicts, lists, str, int, Decimal,
date, bool, None) and a ``Positions`` map from the path of each value (a
tuple of keys and indexes) to its :class:`~tranche.errors.Span`.  Floats are
read as exact ``Decimal`` from their source text, so amounts never pass
through binary floating point.  Syntax errors and duplicate keys become
diagnostics, never tracebacks.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..errors import Diagnostic, Span

__all__ = ["Positions", "read_yaml", "read_csv", "CsvRow", "YamlPath"]

YamlPath = tuple[str | int, ...]


@dataclass
class Positions:
    """Spans of values in one file, by the path of keys and indexes that leads to them."""

    file: str
    spans: dict[YamlPath, Span] = field(default_factory=dict)

    def span(self, path: YamlPath) -> Span:
        """The span of ``path``, or of its nearest located ancestor."""
        p = tuple(path)
        while p:
            if p in self.spans:
                return self.spans[p]
            p = p[:-1]
        return self.spans.get((), Span(self.file, 1, 1))


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader: _Loader, node: yaml.Node, path: YamlPath, pos: Positions, diags: list[Diagnostic]) -> Any:
    mark = node.start_mark
    length = max(1, node.end_mark.index - node.start_mark.index) if node.end_mark.line == mark.line else 1
    pos.spans[path] = Span(pos.file, mark.line + 1, mark.column + 1, length)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                diags.append(Diagnostic("yaml-key", "a mapping key must be a plain value",
                                        Span(pos.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)))
                continue
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in out:
                km = key_node.start_mark
                diags.append(Diagnostic("yaml-duplicate-key", f"duplicate key `{key}`",
                                        Span(pos.file, km.line + 1, km.column + 1, len(key)),
                                        help="each key may appear once in a mapping; remove or rename one"))
                continue
            # the key's own position (for "unknown field" errors) is recorded under (path, key, "@key")
            km = key_node.start_mark
            pos.spans[path + (key, "@key")] = Span(pos.file, km.line + 1, km.column + 1, len(key))
            out[key] = _construct(loader, value_node, path + (key,), pos, diags)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, child, path + (i,), pos, diags) for i, child in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    if node.tag == "tag:yaml.org,2002:float":
        text = node.value.replace("_", "")
        try:
            return Decimal(text)
        except ArithmeticError:
            return loader.construct_object(node)
    try:
        return loader.construct_object(node)
    except (ValueError, yaml.constructor.ConstructorError):
        # e.g. a timestamp-looking scalar that is not a real date (2001-13-01): keep the text and
        # let the model report it where it matters
        return node.value


def read_yaml(path: Path, display: str | None = None) -> tuple[Any, Positions, list[Diagnostic]]:
    """Parse one YAML file; return (data, positions, diagnostics)."""
    name = display or str(path)
    pos = Positions(name)
    diags: list[Diagnostic] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, pos, [Diagnostic("encoding", f"file is not UTF-8 text: {exc.reason}", Span(name))]
    except OSError as exc:
        return None, pos, [Diagnostic("io", f"cannot read file: {exc.strerror}", Span(name))]
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        span = Span(name, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        return None, pos, [Diagnostic("yaml-syntax", f"invalid YAML: character #x{exc.character:04x} is not allowed",
                                      span, help="remove the control character")]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, pos, diags
        data = _construct(loader, node, (), pos, diags)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        return None, pos, [Diagnostic("yaml-syntax", f"invalid YAML: {problem}", span,
                                      help="check indentation, colons and quoting around this point")]
    except yaml.YAMLError as exc:
        return None, pos, [Diagnostic("yaml-syntax", f"invalid YAML: {exc}", Span(name))]
    finally:
        loader.dispose()
    return data, pos, diags


@dataclass(frozen=True)
class CsvRow:
    """One data row of a CSV file with the span of each field."""

    line: int
    values: dict[str, str]
    spans: dict[str, Span]


def _field_offsets(line: str) -> list[int]:
    """1-based start columns of each comma-separated field, honouring double quotes."""
    starts = [1]
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            starts.append(i + 2)
    return starts


def read_csv(path: Path, display: str | None = None) -> tuple[list[str], list[CsvRow], list[Diagnostic]]:
    """Read a CSV file with a header row; return (header, rows, diagnostics)."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [], [Diagnostic("encoding", f"file is not UTF-8 text: {exc.reason}", Span(name))]
    except OSError as exc:
        return [], [], [Diagnostic("io", f"cannot read file: {exc.strerror}", Span(name))]
    lines = text.splitlines()
    diags: list[Diagnostic] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [], [Diagnostic("csv-empty", "file is empty; expected a header row", Span(name, 1, 1))]
    except csv.Error as exc:
        return [], [], [Diagnostic("csv-syntax", f"invalid CSV: {exc}", Span(name, 1, 1))]
    seen: set[str] = set()
    for i, h in enumerate(header):
        if h in seen:
            diags.append(Diagnostic("csv-duplicate-column", f"duplicate column `{h}`",
                                    Span(name, 1, _field_offsets(lines[0])[i] if lines else 1, len(h))))
        seen.add(h)
    rows: list[CsvRow] = []
    try:
        for record in reader:
            lineno = reader.line_num
            if not record or all(not v.strip() for v in record):
                continue
            raw = lines[lineno - 1] if lineno - 1 < len(lines) else ""
            offsets = _field_offsets(raw)
            if len(record) != len(header):
                diags.append(Diagnostic(
                    "csv-field-count",
                    f"row has {len(record)} field{'s' if len(record) != 1 else ''}, the header has {len(header)}",
                    Span(name, lineno, 1, max(1, len(raw))),
                    help=("quote values that contain commas, e.g. `\"a,b\"`" if len(record) > len(header) else
                          "give every column of the header, empty ones too: end the row with a comma per missing "
                          "column (`" + ",".join(header[len(record):]) + "` missing)")))
                continue
            values = {h: v.strip() for h, v in zip(header, record)}
            spans = {h: Span(name, lineno, offsets[i] if i < len(offsets) else 1, max(1, len(record[i])))
                     for i, h in enumerate(header)}
            rows.append(CsvRow(lineno, values, spans))
    except csv.Error as exc:
        diags.append(Diagnostic("csv-syntax", f"invalid CSV: {exc}", Span(name, reader.line_num, 1)))
    return header, rows, diags
