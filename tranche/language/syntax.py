"""Reading YAML and CSV while keeping the position of every value.

``read_yaml`` returns plain Python data (dicts, lists, str, int, Decimal,
date, bool, None) and a ``Positions`` map from the path of each value (a
tuple of keys and indexes) to its :class:`~tranche.errors.Span`.  Floats are
read as exact ``Decimal`` from their source text, so amounts never pass
through binary floating point.  Syntax errors and duplicate keys become
diagnostics, never tracebacks.

Inputs are bounded, so that a hostile file cannot exhaust the machine: a
scenario file must be a regular file inside its folder (:func:`check_file`:
links out of the folder, devices, FIFOs and broken links are refused without
being opened); files are read up to a size limit; YAML nesting is limited in
depth and aliases may add at most a fixed number of values (a "billion
laughs" file is refused at once); CSV files are limited in rows.  Every limit
is a located diagnostic, and each can be changed in the environment:

====================================  ===========  ====================================
setting                               default      what
====================================  ===========  ====================================
``TRANCHE_MAX_YAML_BYTES``            16000000     size of one YAML file
``TRANCHE_MAX_CSV_BYTES``             2000000000   size of one CSV file
``TRANCHE_MAX_CSV_ROWS``              10000000     data rows of one CSV file
``TRANCHE_MAX_YAML_DEPTH``            64           nesting of YAML collections
``TRANCHE_MAX_YAML_ALIAS_VALUES``     100000       values that aliases may add to a YAML file
====================================  ===========  ====================================
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import operator
import os
import re
import stat
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import yaml

from ..errors import Diagnostic, Span

__all__ = ["Positions", "read_yaml", "read_yaml_text", "parse_yaml", "read_csv", "CsvRow", "YamlPath", "check_file", "limit", "LIMITS", "CsvFile"]

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


LIMITS: dict[str, int] = {
    "TRANCHE_MAX_YAML_BYTES": 16_000_000,
    "TRANCHE_MAX_CSV_BYTES": 2_000_000_000,
    "TRANCHE_MAX_CSV_ROWS": 10_000_000,
    "TRANCHE_MAX_YAML_DEPTH": 64,
    "TRANCHE_MAX_YAML_ALIAS_VALUES": 100_000,
}


def limit(name: str) -> int:
    """The limit ``name`` (see the module's docstring): the environment's value, else the default."""
    raw = os.environ.get(name, "")
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    return value if value > 0 else LIMITS[name]


class _Limit(Exception):
    """A bound on the input was hit: the diagnostic says which, and where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def check_file(root: Path, name: str, display: str | None = None) -> Diagnostic | None:
    """None when ``root/name`` is a regular file inside ``root`` (following links that stay inside it),
    else why not -- decided from metadata only: the file is never opened."""
    where = display or str(root / name)
    path = root / name
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Diagnostic("missing-file", f"missing file `{name}`", Span(where))
    except OSError as exc:
        return Diagnostic("io", f"cannot read file: {exc.strerror}", Span(where))
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except (FileNotFoundError, RuntimeError, OSError):
            return Diagnostic("file-link", f"`{name}` is a broken link", Span(where),
                              help="replace the link with the file itself")
        try:
            inside = target.is_relative_to(root.resolve())
        except OSError:
            inside = False
        if not inside:
            return Diagnostic("file-link", f"`{name}` is a link to a file outside the scenario folder; it was not read",
                              Span(where), help="copy the file into the scenario folder instead of linking to it")
        info = os.stat(target)
    if not stat.S_ISREG(info.st_mode):
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a socket"
                if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        return Diagnostic("file-kind", f"`{name}` is {kind}, not a regular file; it was not read", Span(where),
                          help="a scenario file is a plain text file in the scenario folder")
    return None


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """(line, column), 1-based, of byte ``offset`` in ``data``."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", errors="replace")) + 1


def _read_bytes(path: Path, name: str, size_limit: str, bom: bool = False) -> bytes:
    """The file's bytes, read up to a size limit and checked to be UTF-8 (a UTF-8 byte-order mark dropped
    when ``bom``); a located :class:`_Limit` otherwise."""
    most = limit(size_limit)
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise _Limit(Diagnostic("file-kind", "not a regular file; it was not read", Span(name)))
            data = f.read(most + 1)
    except OSError as exc:
        raise _Limit(Diagnostic("io", f"cannot read file: {exc.strerror}", Span(name))) from None
    if len(data) > most:
        raise _Limit(Diagnostic("file-too-large", f"file is larger than {most:,} bytes", Span(name),
                                help=f"split it, or raise the limit with {size_limit}"))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(data) > 1 and b"\x00" in data[:2]):
        raise _Limit(Diagnostic("encoding", "file is UTF-16 text, not UTF-8", Span(name, 1, 1),
                                help="save it as UTF-8"))
    if bom and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line, col = _position(data, offset)
        raise _Limit(Diagnostic("encoding", f"file is not UTF-8 text: byte 0x{data[offset]:02x} on line {line} "
                                f"is {exc.reason}", Span(name, line, col),
                                help="save the file as UTF-8")) from None
    return data


def _read_text(path: Path, name: str, size_limit: str, bom: bool = False) -> str:
    """The file's text (UTF-8), read up to a size limit; a located :class:`_Limit` otherwise."""
    return _read_bytes(path, name, size_limit, bom).decode("utf-8")


def _lines(data: bytes) -> io.TextIOWrapper:
    """The physical lines of checked UTF-8 ``data``, decoded as they are read (a text copy of a big file in
    memory is four bytes a character), ends kept and untranslated, as :mod:`csv` wants them."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")


class _Bounded:
    """The nesting depth bounded while composing (no RecursionError)."""

    depth = 0
    max_depth = 64
    file = ""

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                event = self.peek_event()  # type: ignore[attr-defined]  # the parser's (PyYAML's or libyaml's)
                raise _Limit(Diagnostic(
                    "yaml-depth", f"values are nested more than {self.max_depth} levels deep",
                    Span(self.file, event.start_mark.line + 1, event.start_mark.column + 1),
                    help="flatten the structure, or raise the limit with TRANCHE_MAX_YAML_DEPTH"))
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.depth -= 1


class _Loader(_Bounded, yaml.SafeLoader):
    """PyYAML's safe loader, all in Python: it words the syntax errors."""


_CParser: Any
try:  # libyaml's scanner and parser, when PyYAML was built with it
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover
    _CParser = None

if _CParser is not None:
    class _FastLoader(_Bounded, yaml.composer.Composer, _CParser,  # type: ignore[misc]
                      yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """The same loader with libyaml's scanner and parser (about five times faster); its nodes are composed,
        bounded and constructed by the same Python code.  A file it refuses is read again by :class:`_Loader`,
        whose errors are the ones reported."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


    class _CLoader(_CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):  # type: ignore[misc]
        """The same loader with libyaml's composer as well (twice as fast again), for texts whose nesting cannot
        be deep enough to strain its recursion (see :func:`_shallow`); the depth bound is then kept by
        :func:`_construct` (with the bound and the file name :func:`_parse_yaml` gives every loader)."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


def _shallow(text: str) -> bool:
    """Whether the nesting of ``text`` is surely shallow enough for libyaml's recursive composer: a block
    collection nests deeper only by indenting further (a sequence under a key at most at the same column, so two
    levels a column), a flow collection only by opening a bracket."""
    widest = max(map(len, text.split("\n")), default=0)
    return 2 * widest + text.count("[") + text.count("{") + 2 <= _SHALLOW


_SHALLOW = 4000  # levels libyaml's composer may recurse through (a few hundred bytes of C stack each)


@dataclass
class _Budget:
    """How many values are left for aliases to add, and the collections on the way down (cycles)."""

    aliases: int
    seen: set[int] = field(default_factory=set)
    path: set[int] = field(default_factory=set)


def _construct(loader: Any, node: yaml.Node, path: YamlPath, pos: Positions, diags: list[Diagnostic],
               budget: _Budget | None = None) -> Any:
    if budget is None:
        budget = _Budget(limit("TRANCHE_MAX_YAML_ALIAS_VALUES"))
    key = id(node)
    mark = node.start_mark
    if key in budget.seen:  # a node met again: an alias
        if key in budget.path:
            raise _Limit(Diagnostic("yaml-alias", "a recursive alias: this value contains itself",
                                    Span(pos.file, mark.line + 1, mark.column + 1),
                                    help="aliases may only refer to values defined before them, outside them"))
        budget.aliases -= 1
        if budget.aliases < 0:
            raise _Limit(Diagnostic("yaml-alias", "aliases expand to too many values (a \"billion laughs\" file?)",
                                    Span(pos.file, mark.line + 1, mark.column + 1),
                                    help="write the values out, or raise the limit with "
                                         "TRANCHE_MAX_YAML_ALIAS_VALUES"))
    else:
        budget.seen.add(key)
    if len(path) > loader.max_depth:
        raise _Limit(Diagnostic("yaml-depth", f"values are nested more than {loader.max_depth} levels deep",
                                Span(pos.file, mark.line + 1, mark.column + 1),
                                help="flatten the structure, or raise the limit with TRANCHE_MAX_YAML_DEPTH"))
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        budget.path.add(key)
        try:
            return _construct_collection(loader, node, path, pos, diags, budget)
        finally:
            budget.path.discard(key)
    return _construct_scalar(loader, node, path, pos)


def _construct_collection(loader: Any, node: yaml.Node, path: YamlPath, pos: Positions, diags: list[Diagnostic],
                          budget: _Budget) -> Any:
    mark = node.start_mark
    length = max(1, node.end_mark.column - mark.column) if node.end_mark.line == mark.line else 1
    pos.spans[path] = Span(pos.file, mark.line + 1, mark.column + 1, length)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _key(loader, key_node) if isinstance(key_node, yaml.ScalarNode) else []
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
            out[key] = _construct(loader, value_node, path + (key,), pos, diags, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, child, path + (i,), pos, diags, budget) for i, child in enumerate(node.value)]
    raise AssertionError(node)  # pragma: no cover


def _key(loader: Any, node: yaml.ScalarNode) -> Any:
    """A mapping key as PyYAML's safe constructor makes it (a scalar: no bookkeeping of collections needed)."""
    construct = loader.yaml_constructors.get(node.tag)
    return construct(loader, node) if construct is not None else loader.construct_object(node, deep=True)


def _construct_scalar(loader: Any, node: yaml.Node, path: YamlPath, pos: Positions) -> Any:
    mark = node.start_mark
    length = max(1, node.end_mark.column - mark.column) if node.end_mark.line == mark.line else 1
    pos.spans[path] = Span(pos.file, mark.line + 1, mark.column + 1, length)
    assert isinstance(node, yaml.ScalarNode)
    if node.tag == "tag:yaml.org,2002:float":
        text = node.value.replace("_", "")
        try:
            return Decimal(text)
        except ArithmeticError:
            return loader.construct_object(node)
    try:
        construct = loader.yaml_constructors.get(node.tag)  # a scalar's constructor, without the bookkeeping
        return construct(loader, node) if construct is not None else loader.construct_object(node)
    except (ValueError, yaml.constructor.ConstructorError):
        # e.g. a timestamp-looking scalar that is not a real date (2001-13-01): keep the text and
        # let the model report it where it matters
        return node.value


def read_yaml(path: Path, display: str | None = None) -> tuple[Any, Positions, list[Diagnostic]]:
    """Parse one YAML file; return (data, positions, diagnostics)."""
    name = display or str(path)
    text, diags = read_yaml_text(path, name)
    if text is None:
        return None, Positions(name), diags
    return parse_yaml(text, name)


def read_yaml_text(path: Path, display: str | None = None) -> tuple[str | None, list[Diagnostic]]:
    """The text of one YAML file, within the size limit, or None and why not."""
    try:
        return _read_text(path, display or str(path), "TRANCHE_MAX_YAML_BYTES"), []
    except _Limit as exc:
        return None, [exc.diagnostic]


_TAG = re.compile(r"(?:^|[\s\[{,])!")  # a `!` that starts a token: a tag


def parse_yaml(text: str, name: str) -> tuple[Any, Positions, list[Diagnostic]]:
    """Parse YAML text (of the file ``name``); return (data, positions, diagnostics)."""
    if _CParser is not None and "\t" not in text and not ("!" in text and _TAG.search(text)) \
            and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        # (libyaml takes tabs and control characters that PyYAML refuses, and reads tags in flow collections
        # otherwise: such texts go to PyYAML alone; the format uses no tags)
        try:
            fast = _parse_yaml(text, name, _CLoader if _shallow(text) else _FastLoader)
        except Exception:  # pragma: no cover - whatever libyaml trips on, the Python loader reads and words
            fast = (None, Positions(name), [Diagnostic("yaml-syntax", "invalid YAML", Span(name))])
        if not fast[2]:  # else the Python loader reads it again, and its diagnostics are reported
            return fast
    return _parse_yaml(text, name, _Loader)


def _parse_yaml(text: str, name: str, loader_cls: Any) -> tuple[Any, Positions, list[Diagnostic]]:
    pos = Positions(name)
    diags: list[Diagnostic] = []
    try:
        loader = loader_cls(text)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        span = Span(name, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        return None, pos, [Diagnostic("yaml-syntax", f"invalid YAML: character #x{exc.character:04x} is not allowed",
                                      span, help="remove the control character")]
    loader.file = name
    loader.max_depth = limit("TRANCHE_MAX_YAML_DEPTH")
    try:
        node = loader.get_single_node()
        if node is None:
            return None, pos, diags
        data = _construct(loader, node, (), pos, diags)
    except _Limit as exc:
        return None, Positions(name), [exc.diagnostic]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        return None, pos, [Diagnostic("yaml-syntax", f"invalid YAML: {problem}", span,
                                      help="check indentation, colons and quoting around this point")]
    except yaml.YAMLError as exc:
        return None, pos, [Diagnostic("yaml-syntax", f"invalid YAML: {exc}", Span(name))]
    except (ValueError, OverflowError):  # PyYAML's scanner on `"\U99999999"`: an escape naming no character
        mark = loader.get_mark() if isinstance(loader, _Loader) else None
        return None, pos, [Diagnostic("yaml-syntax", "invalid YAML: an escape sequence names no character",
                                      Span(name, mark.line + 1, mark.column + 1) if mark else Span(name),
                                      help="write the character itself, or a `\\U` escape up to `\\U0010FFFF`")]
    except RecursionError:  # a bound above should come first; never a traceback
        return None, Positions(name), [Diagnostic("yaml-depth", "values are nested too deeply", Span(name),
                                                  help="flatten the structure")]
    finally:
        loader.dispose()
    return data, pos, diags


class _RowSpans(Mapping[str, Span]):
    """The span of each field of one CSV row, computed from the raw line only when asked (errors are rare;
    a million rows of eager spans would take gigabytes)."""

    __slots__ = ("_file", "_line", "_raw", "_header", "_record", "_spans")

    def __init__(self, file: str, line: int, raw: str, header: Sequence[str], record: Sequence[str]) -> None:
        self._file, self._line, self._raw, self._header, self._record = file, line, raw, header, record
        self._spans: dict[str, Span] | None = None

    def _all(self) -> dict[str, Span]:
        if self._spans is None:
            offsets = _field_offsets(self._raw)
            self._spans = {h: Span(self._file, self._line, offsets[i] if i < len(offsets) else 1,
                                   max(1, len(self._record[i]))) for i, h in enumerate(self._header)}
        return self._spans

    def __getitem__(self, key: str) -> Span:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._header)

    def __len__(self) -> int:
        return len(self._header)


@dataclass(frozen=True)
class CsvRow:
    """One data row of a CSV file with the span of each field."""

    line: int
    values: dict[str, str]
    spans: Mapping[str, Span]


def _blanks(fields: list[str]) -> bool:
    """Whether one of these first fields leaves its row possibly blank (empty, or spaces)."""
    return "" in fields or any(map(str.isspace, fields))


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


class CsvFile:
    """A CSV file with a header row, read as a stream of :class:`CsvRow` (one pass, bounded memory).

    ``header`` and the header's diagnostics are known once it is opened; iterating yields the data rows
    and appends the rows' problems (wrong field count, bad quoting, too many rows) to ``diagnostics``.
    :meth:`chunks` reads the same rows, with the same problems, as lists of fields (no spans, no dicts: a
    column-wise pass over a million rows), and :meth:`rows_at` reads chosen rows again as :class:`CsvRow`.
    """

    def __init__(self, path: Path, display: str | None = None) -> None:
        self.name = display or str(path)
        self.header: list[str] = []
        self.diagnostics: list[Diagnostic] = []
        self._data = b""
        self._offset = 1  # physical lines of the header
        try:
            self._data = _read_bytes(path, self.name, "TRANCHE_MAX_CSV_BYTES", bom=True)
        except _Limit as exc:
            self.diagnostics.append(exc.diagnostic)
            return
        self._stream = _lines(self._data)
        first = self._stream.readline()
        self._stream.seek(0)
        reader = csv.reader(self._stream)
        try:
            self.header = [h.strip() for h in next(reader)]
        except StopIteration:
            self.diagnostics.append(Diagnostic("csv-empty", "file is empty; expected a header row", Span(self.name, 1, 1)))
            return
        except csv.Error as exc:
            self.diagnostics.append(Diagnostic("csv-syntax", f"invalid CSV: {exc}", Span(self.name, 1, 1)))
            return
        self._offset = reader.line_num
        first = first.rstrip("\r\n")
        seen: set[str] = set()
        for i, h in enumerate(self.header):
            if h in seen:
                self.diagnostics.append(Diagnostic("csv-duplicate-column", f"duplicate column `{h}`",
                                                   Span(self.name, 1, _field_offsets(first)[i], len(h))))
            seen.add(h)

    @property
    def physical_lines(self) -> int:
        """How many physical lines the file has (a bound on its rows, for progress reports)."""
        return self._data.count(b"\n") + (not self._data.endswith(b"\n"))

    def __iter__(self) -> Iterator[CsvRow]:
        if not self.header:
            return
        try:
            yield from self._rows(self._stream, self.diagnostics)
        finally:
            self._data = b""

    def _rows(self, stream: Iterator[str], diagnostics: list[Diagnostic]) -> Iterator[CsvRow]:
        """The data rows after the header of ``stream`` (positioned there), problems to ``diagnostics``."""
        header, name, offset = self.header, self.name, self._offset
        lines: list[str] = []

        def physical() -> Iterator[str]:
            for line in stream:
                lines.append(line.rstrip("\r\n"))
                yield line

        reader = csv.reader(physical())
        most = limit("TRANCHE_MAX_CSV_ROWS")
        count = 0
        try:
            for record in reader:
                lineno = offset + reader.line_num - len(lines) + 1
                raw = lines[0] if lines else ""
                lines.clear()
                if not record or not "".join(record).strip():
                    continue
                count += 1
                if count > most:
                    diagnostics.append(self._too_many(lineno, most))
                    break
                if len(record) != len(header):
                    diagnostics.append(self._field_count(record, lineno, raw))
                    continue
                values = {h: v.strip() for h, v in zip(header, record)}
                yield CsvRow(lineno, values, _RowSpans(name, lineno, raw, header, record))
        except csv.Error as exc:
            diagnostics.append(Diagnostic("csv-syntax", f"invalid CSV: {exc}", Span(name, offset + reader.line_num, 1)))

    def _too_many(self, lineno: int, most: int) -> Diagnostic:
        return Diagnostic("csv-too-many-rows", f"file has more than {most:,} rows; the rest was not read",
                          Span(self.name, lineno, 1), help="split it, or raise the limit with TRANCHE_MAX_CSV_ROWS")

    def _field_count(self, record: Sequence[str], lineno: int, raw: str) -> Diagnostic:
        header = self.header
        return Diagnostic(
            "csv-field-count",
            f"row has {len(record)} field{'s' if len(record) != 1 else ''}, the header has {len(header)}",
            Span(self.name, lineno, 1, max(1, len(raw))),
            help=("quote values that contain commas, e.g. `\"a,b\"`" if len(record) > len(header) else
                  "give every column of the header, empty ones too: end the row with a comma per "
                  "missing column (`" + ",".join(header[len(record):]) + "` missing)"))

    def chunks(self, size: int = 50_000) -> Iterator[tuple[list[list[str]], list[int]]]:
        """The data rows in chunks of at most ``size``: (the rows' fields, unstripped; each row's first line).

        The rows and the problems added to ``diagnostics`` are those of iterating (blank rows skipped, rows
        with the wrong number of fields reported and skipped, the row limit, bad quoting), found at a
        fraction of the cost per row: a chunk is read by :mod:`csv` at once and looked at row by row only
        where it holds a row of another width, a row that may be blank, or a row over several lines.
        """
        if not self.header:
            return
        width, offset = len(self.header), self._offset
        reader = csv.reader(self._stream)
        most = limit("TRANCHE_MAX_CSV_ROWS")
        count = 0
        last = offset  # the last physical line read
        miscounted: list[tuple[list[str], int]] = []
        ending: Diagnostic | None = None
        first = operator.itemgetter(0)
        base = last
        while ending is None:
            records_read: Iterable[list[str]]
            again: Any = None
            try:
                chunk: list[list[str]] | None = list(itertools.islice(reader, size))
            except csv.Error:  # the rows before the error went with it: read them again, one at a time
                chunk = None
                stream = _lines(self._data)
                for _ in itertools.islice(stream, last):
                    pass
                records_read = again = csv.reader(stream)
                base = last
            if chunk is not None:
                if not chunk:
                    break
                used = offset + reader.line_num - last
                if (used == len(chunk) and count + len(chunk) <= most
                        and list(map(len, chunk)).count(width) == len(chunk) and not _blanks(list(map(first, chunk)))):
                    count += len(chunk)
                    yield chunk, list(range(last + 1, last + 1 + len(chunk)))
                    last += used
                    continue
                records_read = chunk
            records: list[list[str]] = []
            starts: list[int] = []
            try:
                for record in records_read:  # look closer
                    start = last + 1
                    last += 1 + sum(f.count("\n") + f.count("\r") - f.count("\r\n") for f in record)
                    if not record or not "".join(record).strip():
                        continue
                    count += 1
                    if count > most:
                        ending = self._too_many(start, most)
                        break
                    if len(record) != width:
                        miscounted.append((record, start))
                        continue
                    records.append(record)
                    starts.append(start)
            except csv.Error as exc:
                ending = Diagnostic("csv-syntax", f"invalid CSV: {exc}", Span(self.name, base + again.line_num, 1))
            if records:
                yield records, starts
            if chunk is None:
                break
        if miscounted:  # the message gives the length of the row's first line: read those lines again
            raw = self.physical({line for _, line in miscounted})
            self.diagnostics.extend(self._field_count(record, line, raw.get(line, "")) for record, line in miscounted)
        if ending is not None:
            self.diagnostics.append(ending)

    def physical(self, numbers: set[int]) -> dict[int, str]:
        """The physical lines numbered ``numbers`` (1-based), without their line ends."""
        out: dict[int, str] = {}
        if not numbers:
            return out
        last = max(numbers)
        for n, line in enumerate(_lines(self._data), 1):
            if n in numbers:
                out[n] = line.rstrip("\r\n")
                if n >= last:
                    break
        return out

    def rows_at(self, indexes: Sequence[int]) -> Iterator[tuple[int, CsvRow]]:
        """The data rows numbered ``indexes`` (0-based, ascending, as :meth:`chunks` counts them) read again
        as :class:`CsvRow`, with their spans; the file's problems are not reported a second time."""
        if not indexes or not self.header:
            return
        stream = _lines(self._data)
        next(csv.reader(stream), None)  # the header (one record, perhaps over several lines)
        wanted = iter(indexes)
        target = next(wanted, None)
        for i, row in enumerate(self._rows(stream, [])):
            if target is None:
                return
            if i == target:
                yield i, row
                target = next(wanted, None)

    def close(self) -> None:
        """Let go of the file's bytes."""
        self._data = b""


def read_csv(path: Path, display: str | None = None) -> tuple[list[str], list[CsvRow], list[Diagnostic]]:
    """Read a CSV file with a header row; return (header, rows, diagnostics)."""
    f = CsvFile(path, display)
    rows = list(f)
    return f.header, rows, f.diagnostics
