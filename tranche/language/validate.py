"""Read a scenario folder, check everything, and build a :class:`Scenario`.

Passes, in order: read each file (syntax, with positions) -> check each
file's shape against its pydantic model -> resolve the vocabulary (recipients,
channels, flags, attributes, taxonomy, sources, facts, programs) -> read the
rules' conditions against that vocabulary -> read the pipeline CSV -> check
regimes and timelines (unknown names, overlaps, gaps) -> read the policy
tests.  Every pass adds to one list of diagnostics; a scenario with any error
is not built at all.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import os
import datetime as dt
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, NameIndex, PolicyError, Span, did_you_mean
from . import model as m
from .scenario import (
    BASES,
    MARKINGS,
    UNCLASSIFIED,
    BUILTIN_ATTRIBUTES,
    FACTS,
    MONEY_STAGES,
    PIPELINE_STAGES,
    STAGE_ATTRIBUTES,
    STAGES,
    AggregateTest,
    Anchor,
    AttributeSchema,
    Condition,
    Demo,
    Effect,
    Action,
    Cap,
    Fact,
    Law,
    Lift,
    Notification,
    LineItem,
    Outcome,
    Pipeline,
    PolicyTest,
    Predicate,
    Program,
    Regime,
    ReviewDate,
    Rule,
    Scenario,
    Source,
    Taxonomy,
    TaxonomyNode,
    Timeline,
    TimelineEntry,
)
from .operators import ALIASES, DEFAULT_OPERATOR, OPERATORS, operators_for
from .packs import MAX_PACKS, PACK_FILES, PackRef, pack_folder
from .pipeline import read_pipeline
from .progress import Progress
from .syntax import CsvFile, CsvRow, Positions, YamlPath, check_file, read_yaml
from .values import (ATTRIBUTE_MAX_DIGITS, ATTRIBUTE_PLACES, ValueProblem, is_member, parse_amount, parse_day,
                     parse_decimal, parse_set)

__all__ = ["CheckResult", "check", "load_scenario", "parse_item_row", "PIPELINE_FILE", "REQUIRED_FILES",
           "OPTIONAL_FILES", "parse_condition"]

PIPELINE_FILE = "pipeline.csv"
REQUIRED_FILES = ("scenario.yaml", "taxonomy.yaml", "programs.yaml", "law.yaml", "regimes.yaml", "sources.yaml")
OPTIONAL_FILES = ("facts.yaml", "tests.yaml")
ITEM_COLUMNS = ("id", "recipient", "program", "channel", "category", "amount")
ITEM_OPTIONAL_COLUMNS = ("flags", "description", "basis", "sources", "marking")
NODE_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_]*$")
MAX_LISTED = 50
OBLIGATION_ROWS = ("action", "notification")  # `compare` rows of aggregate tests: the lines carrying one obligation


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking a scenario: the scenario if it has no error, and every diagnostic."""

    scenario: Scenario | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def passed(self) -> bool:
        return not self.errors()

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def raise_for_errors(self) -> Scenario:
        if self.scenario is None or not self.passed:
            raise PolicyError(self.diagnostics)
        return self.scenario


def load_scenario(path: str | Path, *, progress: Progress | None = None) -> Scenario:
    """Load and validate a scenario folder; raise :class:`PolicyError` listing every error."""
    return check(path, progress=progress).raise_for_errors()


def check(path: str | Path, *, progress: Progress | None = None) -> CheckResult:
    """Check a scenario folder and return every diagnostic (errors and warnings).

    ``progress`` (:mod:`tranche.language.progress`) is told the lines of ``pipeline.csv`` read.
    """
    return _Checker(Path(path), progress=progress).run()


# --------------------------------------------------------------------------------------------
# pydantic errors -> diagnostics


_SINGULAR = {"regimes": "regime", "rules": "rule", "timelines": "timeline", "entries": "entry",
             "programs": "program", "facts": "fact", "sources": "source", "tests": "test",
             "recipients": "recipient", "reviews": "review", "unless": "exception"}


def _context(data: Any, loc: Sequence[Any]) -> str:
    """A human path to ``loc``: "regime `limited`, rule `r3`"."""
    parts: list[str] = []
    cur = data
    prev_key: Any = None
    for key in loc:
        try:
            cur = cur[key]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(key, int) and isinstance(prev_key, str):
            name = _SINGULAR.get(prev_key, prev_key)
            ident = cur.get("id") or cur.get("name") or cur.get("regime") if isinstance(cur, dict) else None
            parts.append(f"{name} `{ident}`" if ident else f"{name} {key + 1}")
        elif prev_key == "taxonomy" or prev_key == "children":
            parts.append(f"category `{key}`")
        prev_key = key
    return ", ".join(parts)


def _model_at(model_cls: type[BaseModel] | None, loc: Sequence[Any]) -> type[BaseModel] | None:
    cur: Any = model_cls
    for key in loc:
        if cur is None or not (isinstance(cur, type) and issubclass(cur, BaseModel)):
            if get_origin(cur) in (list, tuple) and isinstance(key, int):
                cur = get_args(cur)[0]
                continue
            if get_origin(cur) is dict and isinstance(key, str):
                cur = get_args(cur)[1]
                continue
            return None
        if not isinstance(key, str):
            return None
        fld = cur.model_fields.get(key)
        if fld is None:
            fld = next((f for f in cur.model_fields.values() if f.alias == key), None)
        if fld is None:
            return None
        cur = fld.annotation
        while get_origin(cur) is not None and type(None) in get_args(cur):
            cur = next(a for a in get_args(cur) if a is not type(None))
    while get_origin(cur) is not None and type(None) in get_args(cur):
        cur = next(a for a in get_args(cur) if a is not type(None))
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


def _field_names(model_cls: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model_cls.model_fields.items()]


def _pydantic_diagnostics(exc: ValidationError, model_cls: type[BaseModel], data: Any,
                          pos: Positions) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        ctx = _context(data, loc[:-1] if kind in ("extra_forbidden", "missing") else loc)
        prefix = f"{ctx}: " if ctx else ""
        help_: str | None = None
        if kind == "extra_forbidden":
            key = str(loc[-1])
            owner = _model_at(model_cls, loc[:-1])
            known = _field_names(owner) if owner else []
            span = pos.span(loc[:-1] + (key, "@key"))
            hint = did_you_mean(key, known)
            help_ = hint or (f"allowed fields: {', '.join(f'`{k}`' for k in known)}" if known else None)
            out.append(Diagnostic("unknown-field", f"{prefix}unknown field `{key}`", span, help_))
            continue
        if kind == "missing":
            key = str(loc[-1])
            owner = _model_at(model_cls, loc[:-1])
            desc = ""
            if owner is not None:
                fld = owner.model_fields.get(key)
                if fld is not None and fld.description:
                    desc = fld.description
            out.append(Diagnostic("missing-field", f"{prefix}missing field `{key}`", pos.span(loc[:-1]),
                                  help=desc or None))
            continue
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if msg.startswith("String should match pattern"):
            msg = f"`{err.get('input')}` is not a valid identifier here"
            if loc and loc[-1] in ("recipient", "code"):
                help_ = "use an ISO 3166 alpha-3 code in capitals, e.g. `PER`"
            else:
                help_ = "use letters, digits, `_`, `.` and `-`, starting with a letter or digit"
        elif kind in ("literal_error", "enum"):
            expected = err.get("ctx", {}).get("expected", "")
            choices = re.findall(r"'([^']+)'", expected)
            given = str(err.get("input"))
            synonym = _synonym(given, choices)
            hint = (f"did you mean `{synonym}`?" if synonym else None) or did_you_mean(given, choices)
            msg = f"`{given}` is not allowed; expected {expected}"
            help_ = hint or "one of " + ", ".join(f"`{c}`" for c in choices)
        elif kind.startswith(("date_", "datetime_")):
            msg = f"`{err.get('input')}` is not a date"
            help_ = "write dates as YYYY-MM-DD, e.g. 2001-12-31"
        elif kind in _WANTED:
            msg = f"must be {_WANTED[kind]}, not {_shape_of(err.get('input'))}"
        msg = msg[:1].lower() + msg[1:]
        msg = msg.rstrip(".")
        field_name = next((k for k in reversed(loc) if isinstance(k, str)), None)
        if field_name and kind not in ("literal_error",) and not msg.startswith("`"):
            msg = f"`{field_name}`: {msg}"
        if help_ is None:  # every diagnostic has a help line: the field's own description, else the schema
            owner = _model_at(model_cls, loc[:-1])
            fld = owner.model_fields.get(str(loc[-1])) if owner is not None and loc else None
            help_ = (fld.description if fld is not None and fld.description else None) or \
                "see `tranche schema` for what this field takes"
        out.append(Diagnostic(_code(kind), f"{prefix}{msg}", pos.span(loc), help_))
    return out


_WANTED = {"dict_type": "a mapping (`key: value` lines)", "model_type": "a mapping (`key: value` lines)",
           "model_attributes_type": "a mapping (`key: value` lines)", "list_type": "a list", "string_type": "text",
           "bool_type": "true or false", "bool_parsing": "true or false", "int_type": "a whole number",
           "int_parsing": "a whole number"}


def _shape_of(value: Any) -> str:
    """What a YAML value is, in the words of the format: 'a list', 'a mapping', '`abc`'."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    return f"`{value}`"


_SYNONYMS = (  # words for one meaning: an effect (`permit`), an outcome (`permitted`) and what people write
    {"permit", "permitted", "allow", "allowed", "accept", "accepted", "release", "released"},
    {"blocked", "block", "hold", "held"},  # before `forbid`: `expect: block` means blocked, `effect: block` forbid
    {"forbid", "prohibited", "prohibit", "forbidden", "deny", "denied", "reject", "rejected", "block"},
    {"review", "reviewed", "case-by-case", "case_by_case"},
)


_DECLARED_IN = {"fact": "facts.yaml", "source": "sources.yaml", "category": "taxonomy.yaml",
                "program": "programs.yaml", "regime": "regimes.yaml", "rule": "law.yaml and regimes.yaml",
                "item": "pipeline.csv", "flag": "scenario.yaml (`flags:`)",
                "channel": "scenario.yaml (`channels:`)", "recipient": "scenario.yaml (`recipients:`)",
                "attribute": "scenario.yaml (`attributes:`)", "exemption class": "law.yaml (`exemptions:`)",
                "option": "regimes.yaml (regimes and timelines)"}

_SET_ASIDE = ("title", "description", "default", "criterion", "basis", "marking", "announced", "reviews",
              "resumption_criteria", "sources", "notes")  # a regime's fields whose mistakes nothing else hangs on


def _is_rule(model_cls: type[BaseModel], loc: YamlPath) -> bool:
    return ((model_cls is m.RegimesFile and len(loc) == 4 and loc[0] == "regimes" and isinstance(loc[1], int)
             and loc[2] in ("rules", "otherwise") and isinstance(loc[3], int))
            or (model_cls is m.LawFile and len(loc) == 2 and loc[0] == "rules" and isinstance(loc[1], int)))


def _is_entry(model_cls: type[BaseModel], loc: YamlPath) -> bool:
    """Whether ``loc`` is an entry of a collection: an element of a list of mappings, or a value of a mapping
    of them (a regime, a timeline's entry, a fact, a source, a test, a declared attribute, ...)."""
    return len(loc) > 1 and _model_at(model_cls, loc) is not None and _model_at(model_cls, loc[:-1]) is None


def _slots(exc: ValidationError, model_cls: type[BaseModel],
           removed: Mapping[YamlPath, Sequence[int]] | None = None) -> list[YamlPath] | None:
    """Where each error of ``exc`` is set aside, so that the rest of the file is still read and checked:

    - an unknown key: the key (``("regimes", 2, "extend")``), dropped;
    - a malformed rule: the rule (``("regimes", 2, "rules", 1)``), kept as a placeholder whose conditions,
      facts and sources are still checked as written;
    - a regime's field that nothing else hangs on (one of ``_SET_ASIDE``): the field, dropped;
    - anything else inside an entry of a collection: the innermost such entry (``("timelines", 0, "entries",
      3)``, ``("facts", 5)``), left out;

    or None when an error lies outside every entry (a file's own top-level field): the file is set aside.
    With ``removed``, ``exc`` is of the file with those entries left out (the slots are of the file as written)."""
    slots: list[YamlPath] = []
    for err in exc.errors():
        loc = _unmap(tuple(err["loc"]), removed or {})
        slot: YamlPath | None = None
        if err["type"] == "extra_forbidden":
            slot = loc
        else:
            for k in range(len(loc), 0, -1):
                if _is_rule(model_cls, loc[:k]):
                    slot = loc[:k]
                    break
            if slot is None and model_cls is m.RegimesFile and len(loc) >= 3 and loc[0] == "regimes" \
                    and isinstance(loc[1], int) and loc[2] in _SET_ASIDE:
                slot = loc[:3]
            if slot is None:
                slot = next((loc[:k] for k in range(len(loc), 0, -1) if _is_entry(model_cls, loc[:k])), None)
        if slot is None:
            return None
        if slot not in slots:
            slots.append(slot)
    return _outermost(slots)


def _outermost(slots: list[YamlPath]) -> list[YamlPath]:
    """A slot inside another goes with it (an unknown key of a rule set aside, a field of an entry left out)."""
    slots = list(dict.fromkeys(slots))
    return [s for s in slots if not any(len(o) < len(s) and s[:len(o)] == o for o in slots)]


def _remap(path: YamlPath, removed: Mapping[YamlPath, Sequence[int]]) -> YamlPath | None:
    """``path`` of the file as written, in the file with the entries ``removed`` (list path -> the indexes
    left out, sorted) taken out: later indexes move up; None for a path inside an entry left out."""
    out: list[str | int] = []
    for k, key in enumerate(path):
        gone = removed.get(path[:k]) if isinstance(key, int) else None
        if gone and isinstance(key, int):
            if key in gone:
                return None
            key -= bisect.bisect_left(gone, key)
        out.append(key)
    return tuple(out)


_PLACEHOLDER_RULE = {"id": "malformed"}  # what stands in for a malformed rule (never built: see is_malformed)


def _at(data: Any, path: YamlPath) -> Any:
    for key in path:
        data = data[key]
    return data


def _unmap(path: YamlPath, removed: Mapping[YamlPath, Sequence[int]]) -> YamlPath:
    """The inverse of :func:`_remap`: ``path`` of the file with entries left out, in the file as written."""
    out: list[str | int] = []
    for key in path:
        gone = removed.get(tuple(out)) if isinstance(key, int) else None
        if gone and isinstance(key, int):
            for i in gone:  # sorted: each index left out at or before this one moves it down
                if i <= key:
                    key += 1
        out.append(key)
    return tuple(out)


def _names_in(written: Any) -> set[str]:
    """The names an entry as written declares: its ``id`` (``name``, ``code``), those of the entries in it (a
    regime's rules), the actions its rules order and the facts it derives (a notice's `wait: {fact: F, days:
    30}` makes `F.after-30d`)."""
    out: set[str] = set()
    if isinstance(written, dict):
        out.update(v for k, v in written.items() if k in ("id", "name", "code") and isinstance(v, str))
        if isinstance(written.get("fact"), str) and isinstance(written.get("days"), int):
            out.add(f"{written['fact']}.after-{written['days']}d")
        actions = written.get("actions")  # a rule's: `stop_release` or `{do: hold_in_transit, when: ...}`
        for action in actions if isinstance(actions, list) else []:
            name = action.get("do") if isinstance(action, dict) else action
            if isinstance(name, str):
                out.add(name)
        for v in written.values():
            out |= _names_in(v)
    elif isinstance(written, list):
        for v in written:
            out |= _names_in(v)
    return out


def _set_aside(data: Any, slots: Sequence[YamlPath], model_cls: type[BaseModel]) -> tuple[Any, dict[YamlPath, list[int]]]:
    """A copy of ``data`` with each slot set aside (see :func:`_slots`): a rule replaced by a placeholder
    (its index, and so the positions, kept), a key or an entry of a mapping deleted, an entry of a list left
    out.  Also the indexes left out of each list (by the list's path), for :func:`_remap`."""
    out = copy.deepcopy(data)
    removed: dict[YamlPath, list[int]] = {}
    for slot in slots:
        parent = _at(out, slot[:-1])
        if _is_rule(model_cls, slot):
            parent[slot[-1]] = dict(_PLACEHOLDER_RULE)
        elif isinstance(parent, list) and isinstance(slot[-1], int):
            removed.setdefault(slot[:-1], []).append(slot[-1])
        else:
            del parent[slot[-1]]
    for path, indexes in removed.items():
        indexes.sort()
        items = _at(out, path)
        for i in reversed(indexes):
            del items[i]
    return out, removed


def _synonym(given: str, choices: Sequence[str]) -> str | None:
    """The choice that means what ``given`` means (`default: forbid` -> `prohibited`), if one does."""
    word = given.strip().lower()
    for words in _SYNONYMS:
        if word in words:
            match = next((c for c in choices if c in words and c != given), None)
            if match is not None:
                return match
    return None


def _code(kind: str) -> str:
    """A tranche diagnostic code for a pydantic error type (no library codes reach users)."""
    if kind in ("literal_error", "enum"):
        return "bad-value"
    if kind.startswith(("date_", "datetime_")):
        return "bad-date"
    if kind == "string_pattern_mismatch":
        return "bad-id"
    if kind.startswith(("int_", "float_", "decimal_")) or kind in ("finite_number", "greater_than_equal",
                                                                     "greater_than", "less_than", "less_than_equal"):
        return "bad-number"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "bad-type"
    return kind.replace("_", "-")


# --------------------------------------------------------------------------------------------


@dataclass
class _Checker:
    root: Path
    diags: list[Diagnostic] = field(default_factory=list)
    pos: dict[str, Positions] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    source_ids: list[str] = field(default_factory=list)
    sources_ok: bool = False
    current_pack: str | None = None  # the law pack being read (its rules name only its own sources, classes)
    packs_ok: bool = True  # every included pack was found and read
    progress: Progress | None = None  # told the pipeline's lines read (tranche.language.progress)
    malformed_rules: dict[tuple[str, YamlPath], Any] = field(default_factory=dict)  # (file, path) -> the rule as written
    malformed_rule_ids: set[str] = field(default_factory=set)  # their ids: not "unknown" where named
    malformed_fields: set[tuple[str, YamlPath]] = field(default_factory=set)  # regime fields left out (reported)
    aside_names: set[str] = field(default_factory=set)  # ids of entries left out: not "unknown" where named
    removed: dict[str, dict[YamlPath, list[int]]] = field(default_factory=dict)  # file -> entries left out

    # -- helpers -----------------------------------------------------------------------------
    def err(self, code: str, message: str, span: Span | None, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help, "error"))

    def warn(self, code: str, message: str, span: Span | None, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help, "warning"))

    def display(self, name: str) -> str:
        return str(self.root / name)

    def span(self, file: str, path: YamlPath) -> Span:
        p = self.pos.get(file)
        return p.span(path) if p else Span(self.display(file))

    def unknown(self, what: str, name: str, known: Iterable[str], span: Span, context: str = "") -> None:
        if what == "fact" and not getattr(self, "facts_ok", True):
            return  # facts.yaml is broken: its own errors are reported, not a cascade of unknown facts
        if what in ("fact", "exemption class", "rule") and not self.packs_ok:
            return  # an included pack could not be read: its facts, classes and rules are unknown, not missing
        if what in ("rule", "inherited rule") and name in self.malformed_rule_ids:
            return  # the rule is there but malformed: its own errors are reported, not a cascade where it is named
        if self.is_aside(name):
            return  # likewise an entry left out (a regime, a fact, a source, ...)
        known = known if isinstance(known, NameIndex) else list(known)
        hint = did_you_mean(name, known)
        if hint is None and known and len(known) <= 12:
            hint = "known: " + ", ".join(f"`{k}`" for k in sorted(known))
        if hint is None and what in _DECLARED_IN:  # no close name and too many to list: where they are declared
            hint = f"none of the {len(known)} declared in {_DECLARED_IN[what]} is close; check the spelling there"
        if self.current_pack is not None and what not in ("fact", "exemption class", "source"):
            hint = (f"the law pack `{self.current_pack}` needs the scenario to declare the {what} `{name}` (see the "
                    "pack's pack.yaml)" + (f"; {hint}" if hint and hint.startswith("did you mean") else ""))
        prefix = f"{context}: " if context else ""
        self.err(f"unknown-{what.replace(' ', '-')}", f"{prefix}unknown {what} `{name}`", span, hint)

    def read_model(self, name: str, model_cls: type[BaseModel], required: bool, root: Path | None = None,
                   key: str | None = None) -> BaseModel | None:
        """Read one YAML file of the scenario (or, with ``root`` and ``key``, of a law pack: ``key`` is the
        file's displayed path, under which its positions are kept)."""
        folder = root if root is not None else self.root
        shown = key if key is not None else self.display(name)
        path = folder / name
        refused = check_file(folder, name, shown)
        if refused is not None and refused.code == "missing-file":
            if required:
                self.err("missing-file", f"missing file `{name}`", Span(shown),
                         help=f"a scenario folder holds {', '.join(REQUIRED_FILES)} and {PIPELINE_FILE}; "
                              "see `tranche schema` and docs/format.md" if root is None else
                              "a law pack folder holds pack.yaml, law.yaml and sources.yaml (facts.yaml is "
                              "optional); see docs/format.md")
            return None
        if refused is not None:
            self.diags.append(refused)
            return None
        data, pos, diags = read_yaml(path, shown)
        self.pos[key if key is not None else name] = pos
        self.raw[key if key is not None else name] = data
        self.diags.extend(diags)
        if diags and any(d.severity == "error" for d in diags) and data is None:
            return None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.err("yaml-shape", f"`{name}` must be a mapping at the top level", pos.span(()),
                     help=f"expected keys: {', '.join(_field_names(model_cls))}")
            return None
        try:
            return model_cls.model_validate(data)
        except ValidationError as exc:
            self.diags.extend(_pydantic_diagnostics(exc, model_cls, data, pos))
            slots = _slots(exc, model_cls)
        # The mistakes are reported and set aside (see _slots), and the rest of the file is read, so that its
        # other problems come out in the same run and nothing that names what was set aside cascades.
        for _ in range(8):
            if slots is None:  # a problem outside every entry: the file is not read (its errors are reported)
                return None
            pruned, removed = _set_aside(data, slots, model_cls)
            try:
                result = model_cls.model_validate(pruned)
                break
            except ValidationError as again:  # what is left breaks a rule (a timeline left without entries):
                more = _slots(again, model_cls, removed)  # what holds it goes too, unreported: a consequence
                slots = None if more is None else _outermost(slots + more)
        else:  # pragma: no cover - each round sets aside an entry holding the last
            return None
        file_key = key if key is not None else name
        if removed:  # the positions follow the entries left out (the errors above were placed before)
            self.removed[file_key] = removed
            pos.spans = {moved: span for path, span in pos.spans.items()
                         if (moved := _remap(path, removed)) is not None}
        self.raw[file_key] = pruned
        for slot in slots:
            written = _at(data, slot)
            if _is_rule(model_cls, slot):
                self.malformed_rules[(file_key, _remap(slot, removed) or slot)] = written
                if isinstance(written, dict) and isinstance(written.get("id"), str):
                    self.malformed_rule_ids.add(written["id"])
                self.aside_names.update(_names_in(written) - {written.get("id") if isinstance(written, dict) else None})
            elif _is_entry(model_cls, slot):  # its names are known to be taken: no "unknown" where they are named
                self.aside_names.update(_names_in(written))
                written_id = written.get("id") if isinstance(written, dict) else None
                idents: list[str] = [written_id] if isinstance(written_id, str) else []
                if idents and not re.fullmatch(m.ID_PATTERN, idents[0]):
                    # an id with a character ids may not have (`limited!`): the references to the id meant
                    # (`limited`) are not a cascade of unknown names; its own error says what to fix
                    idents.append(re.sub(r"[^A-Za-z0-9_.\-]", "", idents[0]).lstrip("_.-"))
                    self.aside_names.add(idents[-1])
                if isinstance(slot[-1], str):  # a mapping's key (a declared attribute)
                    self.aside_names.add(slot[-1])
                if _model_at(model_cls, slot) is m.RegimeFile:
                    self.aside_names.update(f"default:{i}" for i in idents)  # the regime's default, as tests name it
            elif model_cls is m.RegimesFile and slot[-1] in _SET_ASIDE:
                self.malformed_fields.add((file_key, _remap(slot, removed) or slot))
        return result

    def written(self, file: str, path: YamlPath) -> YamlPath:
        """``path`` of the file as read (entries left out) in the file as written: its indexes as people count."""
        return _unmap(path, self.removed.get(file, {}))

    def is_aside(self, name: str) -> bool:
        """Whether ``name`` is that of an entry left out, or of a fact derived from one (`F.after-30d`)."""
        return name in self.aside_names or name.split(".after-", 1)[0] in self.aside_names

    def number(self, file: str, path: YamlPath) -> int:
        """The number (from 1) of the entry at ``path`` among its list's entries as written."""
        index = self.written(file, path)[-1]
        assert isinstance(index, int)
        return index + 1

    def is_malformed(self, file: str, path: YamlPath) -> bool:
        """Whether the rule at ``path`` of ``file`` failed its shape check (reported, then set aside)."""
        return (file, tuple(path)) in self.malformed_rules

    def check_malformed_rule(self, file: str, path: YamlPath, taxonomy: Taxonomy, context: str) -> None:
        """The problems of a malformed rule that its shape errors do not cover: its conditions, facts and
        sources, read from the YAML as written (each part only where it has the right shape)."""
        raw = self.malformed_rules.get((file, tuple(path)))
        if not isinstance(raw, dict):
            return
        ctx = f"{context}, rule `{raw['id']}`" if isinstance(raw.get("id"), str) else context
        if isinstance(raw.get("when"), dict):
            parse_condition(raw["when"], self.attributes, taxonomy, self.fact_ids, file, path + ("when",), self, ctx)
        unless = raw.get("unless")
        if isinstance(unless, dict):
            parse_condition(unless, self.attributes, taxonomy, self.fact_ids, file, path + ("unless",), self, ctx)
        elif isinstance(unless, list):
            for i, u in enumerate(unless):
                if isinstance(u, dict):
                    parse_condition(u, self.attributes, taxonomy, self.fact_ids, file, path + ("unless", i), self, ctx)
        for key in ("require", "lifted_by"):
            names = raw.get(key)
            for i, fact in enumerate(names if isinstance(names, list) else []):
                if isinstance(fact, str) and fact not in self.fact_ids:
                    self.unknown("fact", fact, self.fact_ids, self.span(file, path + (key, i)), ctx)
        sources = raw.get("sources")
        if isinstance(sources, list) and all(isinstance(s, str) for s in sources):
            self.check_sources(sources, file, path, ctx)

    def check_sources(self, refs: Sequence[str], file: str, path: YamlPath, context: str) -> tuple[str, ...]:
        if not self.sources_ok:  # sources.yaml itself is broken: its errors are reported already
            return tuple(refs)
        for i, ref in enumerate(refs):
            if ref not in self.source_ids:
                self.unknown("source", ref, self.source_ids, self.span(file, path + ("sources", i)), context)
        return tuple(refs)

    def duplicate_ids(self, file: str, key: str, ids: Sequence[str], what: str) -> None:
        seen: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in seen:
                self.err("duplicate-id", f"duplicate {what} id `{ident}`",
                         self.span(file, (key, i, "id")),
                         help=f"first defined at {self.span(file, (key, seen[ident], 'id'))}")
            else:
                seen[ident] = i

    # -- the passes ---------------------------------------------------------------------------
    def run(self) -> CheckResult:
        if not self.root.is_dir():
            self.err("missing-scenario", f"scenario folder `{self.root}` does not exist", Span(str(self.root)),
                     help="pass the path of a folder holding scenario.yaml, taxonomy.yaml, ...")
            return CheckResult(None, tuple(self.diags))
        files = {name: self.read_model(name, m.FILE_MODELS[name], name in REQUIRED_FILES)
                 for name in (*REQUIRED_FILES, *OPTIONAL_FILES)}
        manifest = files["scenario.yaml"]
        sources_f = files["sources.yaml"]
        sources: dict[str, Source] = {}
        self.sources_ok = isinstance(sources_f, m.SourcesFile)
        if isinstance(sources_f, m.SourcesFile):
            self.source_ids = [s.id for s in sources_f.sources]
            sources = self.build_sources(sources_f)
        self.packs = self.read_packs(files["law.yaml"], sources)
        if not isinstance(manifest, m.ScenarioFile):
            return CheckResult(None, tuple(self.diags))
        self.manifest = manifest
        self.check_sources(manifest.sources, "scenario.yaml", (), "scenario")
        self.recipients = {r.code: r.name for r in manifest.recipients}
        taxonomy = self.build_taxonomy(files["taxonomy.yaml"]) if files["taxonomy.yaml"] else None
        facts_f = files["facts.yaml"]
        facts = self.build_facts(facts_f) if isinstance(facts_f, m.FactsFile) else {}
        facts = self.merge_pack_facts(facts, facts_f)
        self.facts_ok = isinstance(facts_f, m.FactsFile) or not (self.root / "facts.yaml").exists()
        self.fact_ids = list(facts)
        self.fact_map = facts
        programs = self.build_programs(files["programs.yaml"]) if files["programs.yaml"] else None
        attributes = self.build_attributes(manifest, taxonomy, programs or {})
        self.attributes = attributes
        law = self.build_law(files["law.yaml"], taxonomy) if files["law.yaml"] and taxonomy else None
        regimes_f = files["regimes.yaml"]
        regimes: dict[str, Regime] = {}
        timelines: dict[str, Timeline] = {}
        if isinstance(regimes_f, m.RegimesFile) and taxonomy is not None:
            regimes, timelines = self.build_regimes(regimes_f, taxonomy, facts, law)
            if isinstance(facts_f, m.FactsFile) and law is not None:
                law, regimes = self.apply_waivers(facts_f, facts, law, regimes, taxonomy)
        else:  # the regimes could not be built: still report their unknown facts, and no cascade in tests
            self.policy_complete = False
            if isinstance(facts_f, m.FactsFile) or not (self.root / "facts.yaml").exists():
                self.raw_fact_refs(facts)
        if law is not None and taxonomy is not None and isinstance(files["law.yaml"], m.LawFile):
            law = self.apply_notifications(files["law.yaml"], facts, law, taxonomy)
            law = self.build_caps(files["law.yaml"], law, taxonomy)
        if law is not None:  # what aggregate tests may total (`action:NAME`, `notification:ID` rows)
            self.law_rules = law.rules
            self.notification_ids = [n.id for n in law.notifications]
        self.policy_complete = getattr(self, "policy_complete", True) and law is not None and self.packs_ok
        items = Pipeline.of(())
        if taxonomy is not None and programs is not None:
            items = self.build_items(taxonomy, programs)
        tests: tuple[PolicyTest, ...] = ()
        aggregates: tuple[AggregateTest, ...] = ()
        tests_f = files["tests.yaml"]
        if isinstance(tests_f, m.TestsFile) and taxonomy is not None and programs is not None:
            tests = self.build_tests(tests_f, items, taxonomy, programs, regimes, timelines)
            aggregates = self.build_aggregates(tests_f, programs, regimes, timelines)
        demo = self.build_demo(manifest.demo, regimes, timelines, facts, isinstance(regimes_f, m.RegimesFile),
                               isinstance(facts_f, m.FactsFile) or not (self.root / "facts.yaml").exists())
        if any(d.severity == "error" for d in self.diags) or taxonomy is None or programs is None or law is None:
            return CheckResult(None, tuple(self.diags))
        scenario = Scenario(
            id=manifest.id, title=manifest.title, root=self.root, description=manifest.description,
            donor=manifest.donor, currency=manifest.currency, recipients=self.recipients,
            channels=dict(manifest.channels), flags=dict(manifest.flags), attributes=attributes,
            taxonomy=taxonomy, programs=programs, items=items, facts=facts, law=law, regimes=regimes,
            timelines=timelines, sources=sources, tests=tests, notes=tuple(manifest.notes),
            scenario_sources=tuple(manifest.sources), demo=demo, aggregates=aggregates)
        return CheckResult(scenario, tuple(self.diags))

    def build_sources(self, f: m.SourcesFile) -> dict[str, Source]:
        self.duplicate_ids("sources.yaml", "sources", [s.id for s in f.sources], "source")
        out: dict[str, Source] = {}
        for i, s in enumerate(f.sources):
            if s.file and not _inside(self.root, s.file):
                self.warn("source-file-outside", f"source `{s.id}`: file `{s.file}` is not inside the scenario "
                          "folder; it was not looked at", self.span("sources.yaml", ("sources", i, "file")),
                          help="copy the document into the scenario folder and give its relative path")
            elif s.file and not (self.root / s.file).exists():
                self.warn("missing-source-file", f"source `{s.id}`: file `{s.file}` does not exist",
                          self.span("sources.yaml", ("sources", i, "file")),
                          help="paths are relative to the scenario folder")
            out.setdefault(s.id, Source(s.id, s.title, s.kind, s.citation, s.date, s.file, tuple(s.notes), s.marking))
        return out

    def build_taxonomy(self, f: BaseModel) -> Taxonomy:
        assert isinstance(f, m.TaxonomyFile)
        nodes: dict[str, TaxonomyNode] = {}

        def walk(children: dict[str, m.TaxonomyNodeFile], parent: str | None, path: YamlPath) -> tuple[str, ...]:
            ids = []
            for key, node in children.items():
                here = path + (key,)
                if not NODE_SEGMENT.match(key):
                    self.err("bad-category-name", f"category name `{key}` is not allowed",
                             self.span("taxonomy.yaml", here + ("@key",)),
                             help="use lower-case letters, digits and `_`; nesting makes the dotted path")
                ident = f"{parent}.{key}" if parent else key
                self.check_sources(node.sources, "taxonomy.yaml", here, f"category `{ident}`")
                kids = walk(node.children, ident, here + ("children",))
                nodes[ident] = TaxonomyNode(ident, parent, kids, node.title, node.description, tuple(node.sources))
                ids.append(ident)
            return tuple(ids)

        walk(f.taxonomy, None, ("taxonomy",))
        return Taxonomy(nodes)

    def build_facts(self, f: m.FactsFile) -> dict[str, Fact]:
        self.duplicate_ids("facts.yaml", "facts", [x.id for x in f.facts], "fact")
        out: dict[str, Fact] = {}
        for i, x in enumerate(f.facts):
            ctx = f"fact `{x.id}`"
            self.check_sources(x.sources, "facts.yaml", ("facts", i), ctx)
            if x.recipient and x.recipient not in self.recipients:
                self.unknown("recipient", x.recipient, self.recipients, self.span("facts.yaml", ("facts", i, "recipient")), ctx)
            after = (x.after.fact, x.after.days) if x.after is not None else None
            if x.after is not None and x.date is not None:
                self.err("derived-fact-date", f"{ctx}: a derived fact (`after`) takes its date from `{x.after.fact}`",
                         self.span("facts.yaml", ("facts", i, "date")), help="drop `date`, or drop `after`")
            out.setdefault(x.id, Fact(x.id, x.title, x.kind, x.date, x.until, x.recipient, tuple(x.sources),
                                      tuple(x.notes), self.span("facts.yaml", ("facts", i)), x.role, after,
                                      basis=x.basis, marking=x.marking))
        ids = list(out)
        for i, x in enumerate(f.facts):
            if x.after is None:
                continue
            where = self.span("facts.yaml", ("facts", i, "after", "fact"))
            if x.after.fact not in out and x.after.fact not in self.pack_fact_ids:
                self.unknown("fact", x.after.fact, ids + sorted(self.pack_fact_ids), where, f"fact `{x.id}`")
                continue
            seen, cur = {x.id}, x.after.fact  # no derived fact may run from itself
            while cur in out and out[cur].after is not None:
                if cur in seen:
                    self.err("derived-fact-cycle", f"fact `{x.id}`: `after` runs in a circle through `{cur}`", where)
                    break
                seen.add(cur)
                cur = out[cur].after[0]  # type: ignore[index]
        return out

    def build_programs(self, f: BaseModel) -> dict[str, Program]:
        assert isinstance(f, m.ProgramsFile)
        self.duplicate_ids("programs.yaml", "programs", [p.id for p in f.programs], "program")
        out: dict[str, Program] = {}
        for i, p in enumerate(f.programs):
            ctx = f"program `{p.id}`"
            here = ("programs", i)
            if p.recipient not in self.recipients:
                self.unknown("recipient", p.recipient, self.recipients, self.span("programs.yaml", here + ("recipient",)), ctx)
            if p.status not in self.manifest.program_statuses:
                self.unknown("program status", p.status, self.manifest.program_statuses,
                             self.span("programs.yaml", here + ("status",)), ctx)
            self.check_sources(p.sources, "programs.yaml", here, ctx)
            out.setdefault(p.id, Program(p.id, p.recipient, p.title, p.fiscal_year, p.total, p.status,
                                         tuple(p.sources), tuple(p.notes), p.basis))
        return out

    def build_attributes(self, manifest: m.ScenarioFile, taxonomy: Taxonomy | None,
                         programs: dict[str, Program]) -> dict[str, AttributeSchema]:
        values = {
            "recipient": tuple(self.recipients),
            "program": tuple(programs),
            "program_status": tuple(manifest.program_statuses),
            "channel": tuple(manifest.channels),
            "category": tuple(taxonomy or ()),
            "amount": (),
            "flags": tuple(manifest.flags),
        }
        out = {name: AttributeSchema(name, typ, values[name], True, desc) for name, typ, desc in BUILTIN_ATTRIBUTES}
        member_help = ("a member of a set is letters, digits and `_`, starting with a letter or `_`; "
                       "members are written separated by `,` in the pipeline")
        for flag in manifest.flags:
            if not is_member(flag):
                self.err("bad-flag-name", f"flag id `{flag}` is not allowed",
                         self.span("scenario.yaml", ("flags", flag, "@key")), help=member_help)
        for name, desc in STAGE_ATTRIBUTES:  # every scenario has the stage dates: optional columns, as if declared
            out[name] = AttributeSchema(name, "date", (), False, desc)
        reserved = set(out) | {"id", "description", "facts", "marking"}
        for name, a in manifest.attributes.items():
            span = self.span("scenario.yaml", ("attributes", name, "@key"))
            if name in STAGES:  # a stage may be declared again, as a date, to describe it or require it
                if a.type != "date":
                    self.err("reserved-attribute", f"attribute `{name}` is a stage: its type is `date`",
                             self.span("scenario.yaml", ("attributes", name, "type")),
                             help=f"write `type: date`, or give the attribute another name (e.g. `{name}_status`)")
                    continue
                out[name] = AttributeSchema(name, "date", (), False, a.description or out[name].description,
                                            bool(a.required))
                continue
            if name in reserved:
                self.err("reserved-attribute", f"attribute `{name}` is built in and cannot be redeclared", span)
                continue
            if not re.match(r"^[a-z][a-z0-9_]*$", name):
                self.err("bad-attribute-name", f"attribute name `{name}` is not allowed", span,
                         help="use lower-case letters, digits and `_`, starting with a letter")
                continue
            if a.type in ("enum", "set") and not a.values:
                self.err("attribute-values", f"attribute `{name}` of type `{a.type}` needs `values`", span)
            if a.type == "set":
                for i, v in enumerate(a.values):
                    if not is_member(v):
                        self.err("bad-value", f"attribute `{name}`: set member `{v}` is not allowed",
                                 self.span("scenario.yaml", ("attributes", name, "values", i)), help=member_help)
            out[name] = AttributeSchema(name, a.type, tuple(a.values), False, a.description, bool(a.required))
        return out

    # -- rules --------------------------------------------------------------------------------
    def build_rule(self, r: m.RuleFile, layer: str, file: str, path: YamlPath, taxonomy: Taxonomy,
                   context: str) -> Rule:
        ctx = f"{context}, rule `{r.id}`"
        when = parse_condition(r.when, self.attributes, taxonomy, self.fact_ids, file, path + ("when",), self, ctx)
        unless = tuple(parse_condition(u, self.attributes, taxonomy, self.fact_ids, file,
                                       self.one_of_many(file, path + ("unless",), i), self, ctx)
                       for i, u in enumerate(r.unless))
        for key in ("require", "lifted_by"):
            for i, fact in enumerate(getattr(r, key)):
                if fact not in self.fact_ids:
                    self.unknown("fact", fact, self.fact_ids, self.span(file, path + (key, i)), ctx)
        unless += self.exempt_conditions(r, file, path, ctx)
        if layer != "law":
            for key in ("effective", "sunset"):
                if getattr(r, key) is not None:
                    self.err("dated-regime-rule", f"{ctx}: `{key}` dates a law rule; a regime's rules are in force "
                             "while the regime is", self.span(file, path + (key, "@key")),
                             help="date the regime instead (`effective:` on the regime, or a timeline entry), or "
                                  "move the rule to law.yaml")
        self.check_sources(r.sources, file, path, ctx)
        actions: list[Action] = []
        for i, a in enumerate(r.actions):
            spec = m.ActionFile(do=a) if isinstance(a, str) else a
            cond = parse_condition(spec.when, self.attributes, taxonomy, self.fact_ids, file,
                                   path + ("actions", i, "when"), self, ctx)
            if cond.facts:
                self.err("bad-condition", f"{ctx}: an action's `when` tests the line, not facts",
                         self.span(file, path + ("actions", i, "when")), help="test the line's attributes (e.g. its stage)")
            actions.append(Action(spec.do, cond, spec.note))
        rule = Rule(r.id, layer, Effect(r.effect), when, unless, r.criterion, tuple(r.require), tuple(r.sources),
                    r.description, tuple(r.notes), self.span(file, path), tuple(r.lifted_by), actions=tuple(actions),
                    effective=r.effective, sunset=r.sunset, exempt=tuple(r.exempt), basis=r.basis)
        uses_effective = any(a.kind == "effective" for c in (when, *unless, *(a.when for a in actions))
                             for a in c.anchors)
        triggered = any(p.attribute == FACTS and not p.operator.negated for p in when.predicates)
        if uses_effective and layer == "law" and r.effective is None and not triggered:
            self.warn("effective-always", f"{ctx}: compares a stage with `effective`, but the rule has always been "
                      "in force: nothing was reached before it", self.span(file, path + ("id",)),
                      help="give the rule `effective: YYYY-MM-DD` (the day the act took effect), test its trigger in "
                           "`when` (`facts: [...]`), or compare with a date")
        return rule

    def check_fact_roles(self, rule: Rule, default: Outcome, file: str, path: YamlPath, context: str) -> None:
        """Contract 6: a trigger may only tighten, a precondition, waiver or certification only relax.

        A fact *enables* a rule where its holding can make the rule match (tested in ``when``,
        or under ``none`` in ``unless``) and *disables* it where its holding can stop it
        matching (under ``none`` in ``when``, tested in ``unless``, ``lifted_by``).  Enabling
        facts must be triggers, disabling ones must not; and either kind may act only on a
        rule at least as restrictive as its layer's default, or the change would go the
        other way where the default decides.
        """
        facts = getattr(self, "fact_map", {})
        ctx = f"{context}, rule `{rule.id}`"
        uses: list[tuple[str, bool, YamlPath]] = []  # (fact, enables, where)
        # the facts `effective` moves with: under `any` in `when`, another one holding may bring it earlier
        earlier = [str(v) for p in rule.when.predicates if p.attribute == FACTS and p.op == "any" for v in p.values]
        for k, cond in enumerate((rule.when, *rule.unless)):
            where = path + ("when",) if k == 0 else self.one_of_many(file, path + ("unless",), k - 1)
            for pred in cond.predicates:
                if pred.attribute == FACTS:
                    enables = (not pred.operator.negated) if k == 0 else pred.operator.negated
                    uses += [(str(v), enables, where + (FACTS,)) for v in pred.values]
                    continue
                for anchor in pred.values:
                    if not isinstance(anchor, Anchor) or anchor.kind == "as_of":
                        continue
                    # a fact's holding brings its date (or `effective`) earlier: `before`/`by` then hold for fewer
                    # dates, the other tests for more
                    grows = pred.op not in ("before", "by")
                    enables = grows if k == 0 else not grows
                    named = [anchor.fact] if anchor.fact is not None else earlier
                    uses += [(f, enables, where + (pred.attribute,)) for f in named if f is not None]
        uses += [(f, False, path + ("lifted_by", i)) for i, f in enumerate(rule.lifted_by)]
        for i, f in enumerate(rule.require):
            fact = facts.get(f)
            if fact is not None and fact.tightens:
                self.err("fact-role", f"{ctx}: `require` names the trigger `{f}`, whose holding would relax the rule",
                         self.span(file, path + ("require", i)),
                         help="a required fact relaxes (blocked until it holds): give it `role: precondition`, or test "
                              f"the trigger in `when: {{facts: [{f}]}}`")
        # a `permit` rule without `require` gives the least restrictive outcome: bringing it into force can only
        # relax a decision, stopping it only tighten (whatever the default and the other rules)
        bottom = rule.effect is Effect.PERMIT and not rule.require
        for f, enables, where in uses:
            fact = facts.get(f)
            if fact is None:
                continue
            if bottom and enables and fact.tightens and rule.effect.outcome.rank < default.rank:
                self.err("fact-role", f"{ctx}: `{f}` would bring into force a `{rule.effect}` rule under a `{default}` "
                         "default, which relaxes the decision where no other rule matches", self.span(file, where),
                         help=f"a trigger may only tighten: test `{f}` where its holding stops the rule (`unless`, or "
                              "`none` in `when`), or give it another role")
            elif bottom and enables and fact.tightens:
                self.err("fact-role", f"{ctx}: the trigger `{f}` would bring a `permit` rule into force, which relaxes "
                         "a decision: a trigger may only tighten", self.span(file, where),
                         help=f"test `{f}` where its holding stops the rule (`unless`, or `none` in `when`), or give "
                              "it another role")
            elif bottom and not enables and not fact.tightens:
                self.err("fact-role", f"{ctx}: the {fact.role} `{f}` would stop a `permit` rule from applying, which "
                         "tightens a decision: only a trigger may", self.span(file, where),
                         help=f"give `{f}` `role: trigger` in facts.yaml, or test it where its holding brings the rule "
                              "into force")
            elif bottom:
                continue
            elif enables and not fact.tightens:
                self.err("fact-role", f"{ctx}: the {fact.role} `{f}` would bring the rule into force: only a "
                         "trigger may tighten a decision", self.span(file, where),
                         help=f"give `{f}` `role: trigger` in facts.yaml, or test it where its holding lifts the "
                              "rule (`unless`, `lifted_by`)")
            elif not enables and fact.tightens:
                self.err("fact-role", f"{ctx}: the trigger `{f}` would lift the rule: a trigger may only tighten",
                         self.span(file, where),
                         help=f"test `{f}` in `when` (the rule applies once it holds), or give it another role")
            elif rule.effect.outcome.rank < default.rank:
                verb = "bring into force" if enables else "lift"
                self.err("fact-role", f"{ctx}: `{f}` would {verb} a `{rule.effect}` rule under a `{default}` "
                         f"default, which {'relaxes' if enables else 'tightens'} the decision where no other rule "
                         "matches", self.span(file, where),
                         help="facts may bring into force or lift only rules at least as restrictive as the layer's "
                              "default; write the opposite rule, or change the default")

    def apply_waivers(self, f: m.FactsFile, facts: dict[str, Fact], law: Law, regimes: dict[str, Regime],
                      taxonomy: Taxonomy) -> tuple[Law, dict[str, Regime]]:
        """Waivers and certifications (facts with `lifts`) become exceptions of the rules they lift.

        Each lift adds to each named rule, wherever the rule is (the law, every regime that has
        it), the exception "the waiver holds (and its waiting period has run) and the item is in
        the scope", marked with the waiver so that explanations name it.  Several waivers compose:
        any of them lifts the rule for its items.  Contract 6 holds: a trigger cannot lift, and a
        waiver may lift only rules at least as restrictive as their layer's default.
        """
        layers: dict[str, list[tuple[str, Outcome]]] = {}
        for rule in law.rules:
            layers.setdefault(rule.id, []).append(("law", law.default))
        for reg in regimes.values():
            for rule in reg.rules:
                layers.setdefault(rule.id, []).append((reg.id, self.floor_of(rule, reg.rules, reg.default)))
        by_layer_rule = {(r.layer, r.id): r for r in law.rules} | {(g.id, r.id): r for g in regimes.values()
                                                                    for r in g.rules}
        added: dict[tuple[str, str], list[Condition]] = {}
        for i, x in enumerate(f.facts):
            if not x.lifts:
                continue
            fact = facts[x.id]
            ctx = f"fact `{x.id}`"
            lifts: list[Lift] = []
            for k, lift in enumerate(x.lifts):
                path: YamlPath = ("facts", i, "lifts", k) if self.has_path("facts.yaml", ("facts", i, "lifts", k)) \
                    else ("facts", i, "lifts")
                if fact.tightens:
                    self.err("fact-role", f"{ctx}: a trigger cannot lift rules: a trigger may only tighten",
                             self.span("facts.yaml", path), help=f"give `{x.id}` `role: waiver` or `certification`")
                    continue
                scope = parse_condition(lift.scope, self.attributes, taxonomy, self.fact_ids, "facts.yaml",
                                        path + ("scope",), self, ctx)
                needs = [x.id]
                if lift.after is not None:
                    report = lift.after.fact
                    if report not in facts:
                        self.unknown("fact", report, list(facts), self.span("facts.yaml", path + ("after", "fact")), ctx)
                        continue
                    needs.append(self.derived_fact(facts, report, lift.after.days, fact.role))
                test = Predicate(FACTS, "all", tuple(sorted(needs)))
                exception = Condition(tuple(sorted(scope.predicates + (test,),
                                                   key=lambda p: (p.attribute, p.op, p.values))), waiver=x.id)
                for j, rid in enumerate(lift.rules):
                    where = self.span("facts.yaml", path + ("rules", j))
                    if rid not in layers:
                        self.unknown("rule", rid, list(layers), where, ctx)
                        continue
                    for layer, floor in layers[rid]:
                        rule = by_layer_rule[(layer, rid)]
                        if rule.effect.outcome.rank < floor.rank:
                            self.err("fact-role", f"{ctx}: lifting the `{rule.effect}` rule `{rid}` under a "
                                     f"`{floor}` default would tighten the decision where no other rule matches",
                                     where, help="a waiver lifts a restriction: name a rule at least as restrictive "
                                                 "as its layer's default")
                            continue
                        added.setdefault((layer, rid), []).append(exception)
                lifts.append(Lift(tuple(lift.rules), scope, tuple(needs), lift.note))
            facts[x.id] = dataclasses.replace(fact, lifts=tuple(lifts))

        def lifted(rule: Rule, layer: str) -> Rule:
            extra = added.get((layer, rule.id))
            return dataclasses.replace(rule, unless=rule.unless + tuple(extra)) if extra else rule

        law = dataclasses.replace(law, rules=tuple(lifted(r, "law") for r in law.rules))
        regimes = {k: dataclasses.replace(g, rules=tuple(lifted(r, g.id) for r in g.rules)) for k, g in regimes.items()}
        return law, regimes

    def derived_fact(self, facts: dict[str, Fact], report: str, days: int, role: str) -> str:
        """The derived fact `days` days after `report` (created once, shared by every waiver or notice using it)."""
        derived = f"{report}.after-{days}d"
        facts.setdefault(derived, Fact(derived, f"{days} days after `{report}`", "derived", role=role,
                                       after=(report, days)))
        if derived not in self.fact_ids:
            self.fact_ids.append(derived)
        return derived

    def apply_notifications(self, f: m.LawFile, facts: dict[str, Fact], law: Law, taxonomy: Taxonomy) -> Law:
        """Notifications: duties decisions carry; a `wait` also becomes a law rule blocking until the period runs."""
        notices: list[Notification] = []
        rules: list[Rule] = []
        taken = {r.id for r in law.rules}
        for i, n in enumerate(f.notifications):
            path: YamlPath = ("notifications", i)
            ctx = f"notification `{n.id}`"
            if n.id in taken:
                self.err("duplicate-id", f"{ctx}: a rule has the same id", self.span("law.yaml", path + ("id",)),
                         help="notification ids name the rule that holds requests during the wait: make it unique")
                continue
            when = parse_condition(n.when, self.attributes, taxonomy, self.fact_ids, "law.yaml", path + ("when",),
                                   self, ctx, effective=False)
            self.check_sources(n.sources, "law.yaml", path, ctx)
            report = days = fact = None
            if n.wait is not None:
                report, days = n.wait.fact, n.wait.days
                if report not in facts:
                    self.unknown("fact", report, list(facts), self.span("law.yaml", path + ("wait", "fact")), ctx)
                    if self.is_aside(report):  # the notice waits on a fact left out: it is left out with it
                        self.aside_names.add(n.id)
                    continue
                fact = self.derived_fact(facts, report, days, facts[report].role)
                rules.append(Rule(n.id, "law", Effect.PERMIT, when, (), None, (fact,), tuple(n.sources),
                                  f"{n.title or 'notification'}: proceeds {days} days after `{report}` unless objected to",
                                  tuple(n.notes), self.span("law.yaml", path)))
            notices.append(Notification(n.id, n.title, n.to, when, report, days, fact, tuple(n.sources),
                                        self.span("law.yaml", path)))
        if not notices:
            return law
        self._rule_ids = list(getattr(self, "_rule_ids", [])) + [
            ("law.yaml", ("notifications", i, "id"), r.id) for i, r in enumerate(rules)]
        return dataclasses.replace(law, rules=law.rules + tuple(rules), notifications=tuple(notices))

    def build_caps(self, f: m.LawFile, law: Law, taxonomy: Taxonomy) -> Law:
        """Aggregate ceilings: a limit, the lines that count, the pools (`per`) and the allocation order."""
        caps: list[Cap] = []
        taken = {r.id for r in law.rules} | {n.id for n in law.notifications}
        for i, c in enumerate(f.caps):
            path: YamlPath = ("caps", i)
            ctx = f"cap `{c.id}`"
            if c.id in taken:
                self.err("duplicate-id", f"{ctx}: a rule or notification has the same id",
                         self.span("law.yaml", path + ("id",)), help="decisions name the cap by its id: make it unique")
                continue
            taken.add(c.id)
            try:
                limit = parse_amount(c.limit)
            except ValueProblem as problem:
                self.err("bad-value", f"{ctx}: limit {problem.message}", self.span("law.yaml", path + ("limit",)),
                         help=problem.help)
                continue
            when = parse_condition(c.when, self.attributes, taxonomy, self.fact_ids, "law.yaml", path + ("when",),
                                   self, ctx, effective=False)
            attrs = [a for a in self.attributes if a not in (FACTS,)]
            for key in ("per", "order"):
                for j, raw in enumerate(getattr(c, key)):
                    name = raw[1:] if key == "order" and raw.startswith("-") else raw
                    if name not in self.attributes and name != "id":
                        self.unknown("attribute", name, attrs + ["id"], self.span("law.yaml", path + (key, j)), ctx)
                    elif name in self.attributes and self.attributes[name].type == "set":
                        self.err("bad-value", f"{ctx}: `{key}` cannot use the set `{name}`",
                                 self.span("law.yaml", path + (key, j)),
                                 help="pools and allocation order take one value per line: an enum, string, decimal "
                                      "or category attribute, or `id`")
            self.check_sources(c.sources, "law.yaml", path, ctx)
            order = tuple((o[1:], True) if o.startswith("-") else (o, False) for o in c.order)
            caps.append(Cap(c.id, c.title, limit, when, tuple(c.per), order, tuple(c.sources),
                            self.span("law.yaml", path)))
        if not caps:
            return law
        self._rule_ids = list(getattr(self, "_rule_ids", [])) + [
            ("law.yaml", ("caps", i, "id"), c.id) for i, c in enumerate(caps)]
        return dataclasses.replace(law, caps=tuple(caps))

    def one_of_many(self, file: str, path: YamlPath, i: int) -> YamlPath:
        """The path of item ``i`` of a field that takes one value or a list (`unless:`): ``path + (i,)`` where
        the file has a list, ``path`` where it has the one value."""
        raw = self.raw.get(file)
        try:
            value = _at(raw, path)
        except (KeyError, IndexError, TypeError):
            return path + (i,)
        return path if isinstance(value, dict) else path + (i,)

    def has_path(self, file: str, path: YamlPath) -> bool:
        """Whether ``file`` has a node at ``path`` (a list where one item was also accepted)."""
        positions = self.pos.get(file)
        return positions is not None and tuple(path) in positions.spans

    @staticmethod
    def floor_of(rule: Rule, rules: Sequence[Rule], default: Outcome) -> Outcome:
        """What a fact acting on ``rule`` must not go below: the default, and for a conditional default
        (`otherwise`) also the others it can take the place of."""
        if not rule.otherwise:
            return default
        return Outcome.most_restrictive((x.effect.outcome for x in rules if x.otherwise and x is not rule), default)

    def inheritance_order(self, f: m.RegimesFile, file: str) -> list[tuple[int, m.RegimeFile]]:
        """The regimes, each after the regime it extends; unknown bases and circles are errors."""
        by_id = {r.id: (i, r) for i, r in enumerate(f.regimes)}
        order: list[tuple[int, m.RegimeFile]] = []
        state: dict[str, str] = {}

        def visit(rid: str, chain: list[str]) -> None:
            if state.get(rid) == "done":
                return
            i, r = by_id[rid]
            if state.get(rid) == "visiting":
                self.err("extends-cycle", f"regime `{rid}`: `extends` runs in a circle: " + " → ".join(chain + [rid]),
                         self.span(file, ("regimes", i, "extends")), help="one of these regimes must not extend another")
                return
            state[rid] = "visiting"
            if r.extends is not None:
                if r.extends not in by_id:
                    self.unknown("regime", r.extends, list(by_id), self.span(file, ("regimes", i, "extends")),
                                 f"regime `{rid}`")
                else:
                    visit(r.extends, chain + [rid])
            if state.get(rid) == "visiting":
                state[rid] = "done"
                order.append((i, r))

        for r in f.regimes:
            visit(r.id, [])
        return order

    def inherit(self, base: Regime, own: tuple[Rule, ...], r: m.RegimeFile, file: str, here: YamlPath,
                ctx: str) -> tuple[Rule, ...]:
        """The base's rules, minus `remove`, with own rules replacing inherited ones of the same id, then added."""
        known = [x.id for x in base.rules]
        for j, rid in enumerate(r.remove):
            if rid not in known:
                self.unknown("inherited rule", rid, known, self.span(file, here + ("remove", j)), ctx)
        mine = {x.id: x for x in own}
        for j, rule in enumerate(own):
            if rule.id in r.remove:
                self.err("remove-and-replace", f"{ctx}: rule `{rule.id}` is both removed and given",
                         self.span(file, here + ("rules", j, "id")), help="drop it from `remove` to replace it")
        out = [mine.get(x.id, x) for x in base.rules if x.id not in r.remove]
        out += [x for x in own if x.id not in known]
        return tuple(out)

    def build_law(self, f: BaseModel, taxonomy: Taxonomy) -> Law:
        assert isinstance(f, m.LawFile)
        self.check_sources(f.sources, "law.yaml", (), "law")
        self.build_exemptions(f, taxonomy)
        included, pack_ids, pack_sources = self.build_pack_rules(taxonomy)
        built: list[tuple[int, Rule]] = []
        for i, r in enumerate(f.rules):
            if self.is_malformed("law.yaml", ("rules", i)):
                self.check_malformed_rule("law.yaml", ("rules", i), taxonomy, "law")
            else:
                built.append((i, self.build_rule(r, "law", "law.yaml", ("rules", i), taxonomy, "law")))
        rules = tuple(rule for _, rule in built)
        for i, rule in built:
            self.check_fact_roles(rule, Outcome.PERMITTED, "law.yaml", ("rules", i), "law")
        self._rule_ids = pack_ids + [("law.yaml", ("rules", i, "id"), r.id) for i, r in built]
        return Law(f.title, included + rules, tuple(dict.fromkeys((*f.sources, *pack_sources))))

    # -- law packs and exemption classes ------------------------------------------------------------
    def read_packs(self, law_f: BaseModel | None, sources: dict[str, Source]) -> list[PackRef]:
        """The packs `law.yaml` includes, read (paths checked first, see :mod:`.packs`); their sources join
        the scenario's (an id defined twice must say the same)."""
        self.pack_fact_ids: set[str] = set()
        includes: Any = law_f.include if isinstance(law_f, m.LawFile) else None
        if includes is None:  # law.yaml has errors of its own: still read the packs it names, so no cascade
            raw = self.raw.get("law.yaml")
            includes = raw.get("include") if isinstance(raw, dict) else None
            if not isinstance(includes, list) or not all(isinstance(x, str) for x in includes):
                self.packs_ok = not (isinstance(raw, dict) and "include" in raw) and raw is not None
                return []
        out: list[PackRef] = []
        seen: dict[Path, int] = {}
        for i, written in enumerate(includes):
            span = self.span("law.yaml", ("include", i))
            if i >= MAX_PACKS:
                self.err("bad-include", f"`include`: more than {MAX_PACKS} law packs", span,
                         help="merge packs, or include only the ones this scenario needs")
                break
            found = pack_folder(self.root, written, span)
            if isinstance(found, Diagnostic):
                self.diags.append(found)
                self.packs_ok = False
                continue
            folder, shown = found
            if folder in seen:
                self.err("bad-include", f"`include`: `{written}` is included twice", span,
                         help=f"drop one; it is first included as entry {seen[folder] + 1}")
                continue
            seen[folder] = i
            ref = PackRef(written, folder, shown, i)
            for name in PACK_FILES:
                ref.files[name] = self.read_model(name, m.PACK_FILE_MODELS[name], name != "facts.yaml", folder,
                                                  ref.key(name))
                if ref.files[name] is None and (name != "facts.yaml" or os.path.lexists(folder / name)):
                    self.packs_ok = False
            out.append(ref)
            ff = ref.files.get("facts.yaml")
            if isinstance(ff, m.FactsFile):
                self.pack_fact_ids.update(x.id for x in ff.facts)
        for ref in out:
            sf = ref.files.get("sources.yaml")
            if not isinstance(sf, m.SourcesFile):
                continue
            key = ref.key("sources.yaml")
            self.duplicate_ids(key, "sources", [x.id for x in sf.sources], "source")
            for j, x in enumerate(sf.sources):
                new = Source(x.id, x.title, x.kind, x.citation, x.date, x.file, tuple(x.notes))
                old = sources.get(x.id)
                if old is not None and old != new:
                    self.err("duplicate-id", f"law pack `{self.pack_id(ref)}`: source `{x.id}` is also defined, "
                             "differently, by the scenario or another pack", self.span(key, ("sources", j, "id")),
                             help="give one of them another id, or make the two entries the same")
                    continue
                sources.setdefault(x.id, new)
                if x.id not in self.source_ids:
                    self.source_ids.append(x.id)
        return out

    def pack_id(self, ref: PackRef) -> str:
        manifest = ref.files.get("pack.yaml")
        return manifest.id if isinstance(manifest, m.PackFile) else ref.written

    def pack_scope(self, ref: PackRef | None) -> tuple[list[str], str | None]:
        """Check what follows as part of ``ref`` (its own sources only; None: the scenario); returns the
        scope to restore."""
        before = (self.source_ids, self.current_pack)
        if ref is not None:
            sf = ref.files.get("sources.yaml")
            self.source_ids = [x.id for x in sf.sources] if isinstance(sf, m.SourcesFile) else []
            self.current_pack = self.pack_id(ref)
        return before

    def end_scope(self, before: tuple[list[str], str | None]) -> None:
        self.source_ids, self.current_pack = before

    def merge_pack_facts(self, facts: dict[str, Fact], facts_f: BaseModel | None) -> dict[str, Fact]:
        """The facts the packs declare, completed by the scenario's entries of the same id (which date them);
        the pack's role stands: a scenario may repeat it, not change it."""
        declared: dict[str, Fact] = {}
        owner: dict[str, str] = {}
        for ref in getattr(self, "packs", []):
            ff = ref.files.get("facts.yaml")
            if not isinstance(ff, m.FactsFile):
                continue
            key, pid = ref.key("facts.yaml"), self.pack_id(ref)
            own = {x.id for x in ff.facts}
            before = self.pack_scope(ref)
            self.duplicate_ids(key, "facts", [x.id for x in ff.facts], "fact")
            for i, x in enumerate(ff.facts):
                ctx = f"law pack `{pid}`, fact `{x.id}`"
                self.check_sources(x.sources, key, ("facts", i), ctx)
                if x.recipient and x.recipient not in self.recipients:
                    self.unknown("recipient", x.recipient, self.recipients, self.span(key, ("facts", i, "recipient")),
                                 ctx)
                if x.after is not None and x.after.fact not in own:
                    self.unknown("fact", x.after.fact, sorted(own), self.span(key, ("facts", i, "after", "fact")), ctx)
                fact = Fact(x.id, x.title, x.kind, x.date, x.until, x.recipient, tuple(x.sources), tuple(x.notes),
                            self.span(key, ("facts", i)), x.role,
                            (x.after.fact, x.after.days) if x.after is not None else None, marking=x.marking)
                prev = declared.get(x.id)
                if prev is not None and prev.role != fact.role:
                    self.err("fact-role", f"{ctx}: law pack `{owner[x.id]}` declares it a {prev.role}, this pack a "
                             f"{fact.role}", self.span(key, ("facts", i, "role")),
                             help="a fact has one role; rename one of them")
                declared.setdefault(x.id, fact)
                owner.setdefault(x.id, pid)
            self.end_scope(before)
        if not declared:
            return facts
        entries = {x.id: (i, x) for i, x in enumerate(facts_f.facts)} if isinstance(facts_f, m.FactsFile) else {}
        out = dict(facts)
        for fid, pf in declared.items():
            mine = facts.get(fid)
            if mine is None:
                out[fid] = pf
                continue
            i, x = entries[fid]
            given = x.model_fields_set
            if "role" in given and x.role != pf.role:
                self.err("fact-role", f"fact `{fid}`: law pack `{owner[fid]}` declares it a {pf.role}, not a {x.role}",
                         self.span("facts.yaml", ("facts", i, "role")),
                         help="drop `role` here: the pack's rules rely on its role")
            out[fid] = dataclasses.replace(
                mine, role=pf.role, title=mine.title or pf.title, kind=mine.kind if "kind" in given else pf.kind,
                sources=tuple(dict.fromkeys((*mine.sources, *pf.sources))),
                notes=tuple(dict.fromkeys((*mine.notes, *pf.notes))),
                after=mine.after if mine.after is not None else pf.after)
        return out

    def build_exemptions(self, law_f: m.LawFile, taxonomy: Taxonomy) -> None:
        """Exemption classes of the packs and of law.yaml, read against the scenario's vocabulary, by name."""
        self.exemptions: dict[str, tuple[tuple[Condition, ...], str | None, Span]] = {}
        for ref in getattr(self, "packs", []):
            lf = ref.files.get("law.yaml")
            if isinstance(lf, m.LawFile):
                before = self.pack_scope(ref)
                self.exemptions_of(lf, ref.key("law.yaml"), self.pack_id(ref), taxonomy)
                self.end_scope(before)
        self.exemptions_of(law_f, "law.yaml", None, taxonomy)

    def exemptions_of(self, lf: m.LawFile, file: str, pack: str | None, taxonomy: Taxonomy) -> None:
        where = f"law pack `{pack}`" if pack else "law"
        for name, ex in lf.exemptions.items():
            here: YamlPath = ("exemptions", name)
            ctx = f"{where}, exemption class `{name}`"
            if not re.match(m.ID_PATTERN, name):
                self.err("bad-id", f"{ctx}: `{name}` is not a valid name", self.span(file, here + ("@key",)),
                         help="use letters, digits, `_`, `.` and `-`, starting with a letter or digit")
            conds = tuple(parse_condition(c, self.attributes, taxonomy, self.fact_ids, file,
                                          self.one_of_many(file, here + ("when",), i), self, ctx)
                          for i, c in enumerate(ex.when))
            self.check_sources(ex.sources, file, here, ctx)
            first = self.exemptions.get(name)
            if first is not None:
                self.err("duplicate-id", f"{ctx}: an exemption class `{name}` is already defined",
                         self.span(file, here + ("@key",)), help=f"first defined at {first[2]}; rename one")
                continue
            self.exemptions[name] = (conds, pack, self.span(file, here + ("@key",)))

    def exempt_conditions(self, r: m.RuleFile, file: str, path: YamlPath, ctx: str) -> tuple[Condition, ...]:
        """The conditions of the exemption classes ``r`` names (`exempt:`), which join its `unless`.

        A pack's rules may name only that pack's classes; the scenario's rules name any."""
        known = getattr(self, "exemptions", None)
        if known is None:  # law.yaml could not be read: its classes are unknown, not missing
            return ()
        pack = self.current_pack
        visible = [n for n, (_, owner, _) in known.items() if pack is None or owner == pack]
        out: list[Condition] = []
        for k, name in enumerate(r.exempt):
            if name not in visible:
                self.unknown("exemption class", name, visible, self.span(file, path + ("exempt", k)), ctx)
                continue
            out += known[name][0]
        return tuple(out)

    def build_pack_rules(self, taxonomy: Taxonomy) -> tuple[tuple[Rule, ...], list[tuple[str, YamlPath, str]],
                                                           list[str]]:
        """The rules of every included pack (in `include` order), their id positions and the packs' sources."""
        rules: list[Rule] = []
        ids: list[tuple[str, YamlPath, str]] = []
        sources: list[str] = []
        for ref in getattr(self, "packs", []):
            manifest, lf = ref.files.get("pack.yaml"), ref.files.get("law.yaml")
            pid = self.pack_id(ref)
            before = self.pack_scope(ref)
            if isinstance(manifest, m.PackFile):
                self.check_sources(manifest.sources, ref.key("pack.yaml"), (), f"law pack `{pid}`")
                sources += manifest.sources
            if isinstance(lf, m.LawFile):
                key = ref.key("law.yaml")
                ctx = f"law pack `{pid}`"
                if lf.include:
                    self.err("bad-include", f"{ctx}: a law pack cannot include other packs",
                             self.span(key, ("include",)), help="include every pack from the scenario's law.yaml")
                self.check_sources(lf.sources, key, (), ctx)
                sources += lf.sources
                for i, r in enumerate(lf.rules):
                    if self.is_malformed(key, ("rules", i)):
                        self.check_malformed_rule(key, ("rules", i), taxonomy, ctx)
                        continue
                    rule = self.build_rule(r, "law", key, ("rules", i), taxonomy, ctx)
                    self.check_fact_roles(rule, Outcome.PERMITTED, key, ("rules", i), ctx)
                    rules.append(rule)
                    ids.append((key, ("rules", i, "id"), rule.id))
            self.end_scope(before)
        return tuple(rules), ids, sources

    def build_regimes(self, f: m.RegimesFile, taxonomy: Taxonomy, facts: dict[str, Fact],
                      law: Law | None) -> tuple[dict[str, Regime], dict[str, Timeline]]:
        file = "regimes.yaml"
        self.duplicate_ids(file, "regimes", [r.id for r in f.regimes], "regime")
        self.duplicate_ids(file, "timelines", [t.id for t in f.timelines], "timeline")
        rule_ids = list(getattr(self, "_rule_ids", []))
        regimes: dict[str, Regime] = {}
        unknown_default: set[str] = set()  # regimes whose default (own or inherited) was malformed
        for i, r in self.inheritance_order(f, file):
            ctx = f"regime `{r.id}`"
            here = ("regimes", i)
            for j, rec in enumerate(r.recipients):
                if rec not in self.recipients:
                    self.unknown("recipient", rec, self.recipients, self.span(file, here + ("recipients", j)), ctx)
            self.check_sources(r.sources, file, here, ctx)
            for j, rv in enumerate(r.reviews):
                self.check_sources(rv.sources, file, here + ("reviews", j), ctx)
            placed: list[tuple[YamlPath, Rule]] = []  # the regime's own rules, each with where it is written
            for section in ("rules", "otherwise"):
                for j, rule_f in enumerate(getattr(r, section)):
                    at: YamlPath = here + (section, j)
                    if self.is_malformed(file, at):
                        self.check_malformed_rule(file, at, taxonomy, ctx)
                        continue
                    rule = self.build_rule(rule_f, r.id, file, at, taxonomy, ctx)
                    placed.append((at, dataclasses.replace(rule, otherwise=True) if section == "otherwise" else rule))
            own = tuple(rule for _, rule in placed)
            base = regimes.get(r.extends) if r.extends else None
            default = Outcome(r.default) if r.default else (base.default if base else Outcome.PROHIBITED)
            criterion = r.criterion if r.criterion is not None or base is None else base.criterion
            bad_default = (file, here + ("default",)) in self.malformed_fields  # reported; its value unknown
            if r.default is None and r.extends is None and not bad_default:
                self.err("missing-field", f"{ctx}: missing field `default`", self.span(file, here + ("id",)),
                         help="give `default: permitted|review|prohibited`, or `extends: REGIME` to inherit it")
            if bad_default or (r.default is None and r.extends in unknown_default):
                unknown_default.add(r.id)  # contract 6 needs the default: not checked against a guess
            for where, own_rule in placed:
                if r.id not in unknown_default:
                    self.check_fact_roles(own_rule, self.floor_of(own_rule, own, default), file, where, ctx)
            inherited_ids = {x.id for x in base.rules} if base else set()
            rule_ids += [(file, where + ("id",), rule.id) for where, rule in placed if rule.id not in inherited_ids]
            rules = self.inherit(base, own, r, file, here, ctx) if base is not None else own
            rules = tuple(x for x in rules if not x.otherwise) + tuple(x for x in rules if x.otherwise)
            if base is not None:
                for kept in rules:  # an inherited rule must also keep contract 6 under this regime's default
                    if kept.layer != r.id and r.id not in unknown_default:
                        self.check_fact_roles(kept, self.floor_of(kept, rules, default), file, here + ("extends",), ctx)
                rules = tuple(dataclasses.replace(x, layer=r.id) for x in rules)
            regimes.setdefault(r.id, Regime(
                r.id, r.title or r.id, default, rules, tuple(r.recipients), criterion, r.description,
                tuple(ReviewDate(x.date, x.note, tuple(x.sources)) for x in r.reviews),
                tuple(r.resumption_criteria), tuple(r.sources), tuple(r.notes), self.span(file, here),
                basis=r.basis if r.basis is not None or base is None else base.basis, marking=r.marking))
        regimes = {r.id: regimes[r.id] for r in f.regimes if r.id in regimes}  # file order
        first: dict[str, tuple[str, YamlPath]] = {}
        for fname, p, rid in rule_ids:
            if rid in first:
                self.err("duplicate-id", f"duplicate rule id `{rid}`", self.span(fname, p),
                         help=f"rule ids are unique across law and regimes; first defined at "
                              f"{self.span(first[rid][0], first[rid][1])}")
            else:
                first[rid] = (fname, p)
        timelines: dict[str, Timeline] = {}
        record_for: dict[str, str] = {}
        for i, t in enumerate(f.timelines):
            ctx = f"timeline `{t.id}`"
            here = ("timelines", i)
            if t.id in regimes:
                self.err("name-clash", f"{ctx}: a regime has the same id; options are looked up by name",
                         self.span(file, here + ("id",)), help="rename the timeline, e.g. `" + t.id + "-plan`")
            if t.recipient not in self.recipients:
                self.unknown("recipient", t.recipient, self.recipients, self.span(file, here + ("recipient",)), ctx)
            if t.record:
                if t.recipient in record_for:
                    self.err("timeline-overlap",
                             f"{ctx}: `{t.recipient}` already has a timeline of record, `{record_for[t.recipient]}`",
                             self.span(file, here + ("record",)),
                             help="a recipient has one posture of record; set `record: false` on the other")
                record_for.setdefault(t.recipient, t.id)
            self.check_sources(t.sources, file, here, ctx)
            entries = []
            for j, e in enumerate(t.entries):
                ehere = here + ("entries", j)
                ectx = f"{ctx}, entry {self.number(file, ehere)}"
                if e.regime not in regimes:
                    self.unknown("regime", e.regime, regimes, self.span(file, ehere + ("regime",)), ectx)
                elif not regimes[e.regime].applies_to(t.recipient):
                    self.err("regime-recipient", f"{ectx}: regime `{e.regime}` does not apply to `{t.recipient}`",
                             self.span(file, ehere + ("regime",)),
                             help=f"add `{t.recipient}` to the regime's `recipients`")
                if e.start.fact is not None and e.start.fact not in facts:
                    self.unknown("fact", e.start.fact, facts, self.span(file, ehere + ("from", "fact")), ectx)
                self.check_start_facts(e.start, facts, file, ehere + ("from",), ectx)
                self.check_sources(e.sources, file, ehere, ectx)
                entries.append(TimelineEntry(e.regime, e.start.date, e.start.fact, e.until, tuple(e.sources),
                                             tuple(e.notes), self.span(file, ehere), tuple(e.start.all or ()),
                                             tuple(e.start.any or ()), e.announced, basis=e.basis))
            self.check_periods(t.id, entries, facts, file, here)
            timelines.setdefault(t.id, Timeline(t.id, t.recipient, tuple(entries), t.title, t.record,
                                                tuple(t.sources), tuple(t.notes), self.span(file, here), t.basis))
        self.effective_timelines(f, regimes, timelines, record_for, facts)
        return regimes, timelines

    def effective_timelines(self, f: m.RegimesFile, regimes: dict[str, Regime], timelines: dict[str, Timeline],
                            record_for: dict[str, str], facts: dict[str, Fact]) -> None:
        """The `effective:` shorthand: regimes that carry their own start form a timeline of record."""
        file = "regimes.yaml"
        by_recipient: dict[str, list[tuple[int, m.RegimeFile]]] = {}
        for i, r in enumerate(f.regimes):
            if r.effective is None:
                if r.until is not None:
                    self.err("until-without-effective", f"regime `{r.id}`: `until` needs `effective`",
                             self.span(file, ("regimes", i, "until")))
                continue
            if r.effective.fact is not None and r.effective.fact not in facts:
                self.unknown("fact", r.effective.fact, facts, self.span(file, ("regimes", i, "effective", "fact")),
                             f"regime `{r.id}`")
            self.check_start_facts(r.effective, facts, file, ("regimes", i, "effective"), f"regime `{r.id}`")
            for rec in (r.recipients or list(self.recipients)):
                by_recipient.setdefault(rec, []).append((i, r))
        for rec, regs in by_recipient.items():
            if rec not in self.recipients:
                continue
            if rec in record_for:
                i = regs[0][0]
                self.err("timeline-overlap", f"regime `{regs[0][1].id}`: `effective` makes a timeline of record for "
                         f"`{rec}`, which already has one, `{record_for[rec]}`",
                         self.span(file, ("regimes", i, "effective")),
                         help="use either `effective:` on regimes or a timeline with `record: true`, not both")
                continue
            tid = "record" if len(by_recipient) == 1 and "record" not in timelines and "record" not in regimes \
                else f"record.{rec}"
            entries = [TimelineEntry(r.id, r.effective.date if r.effective else None,
                                     r.effective.fact if r.effective else None, r.until, tuple(r.sources), (),
                                     self.span(file, ("regimes", i)),
                                     tuple((r.effective.all or ()) if r.effective else ()),
                                     tuple((r.effective.any or ()) if r.effective else ()), r.announced,
                                     basis=r.basis)
                       for i, r in regs]
            self.check_periods(tid, entries, facts, file, ("regimes",))
            timelines[tid] = Timeline(tid, rec, tuple(entries), f"{self.recipients.get(rec) or rec}: regimes by "
                                      "their `effective` start", True, (), (), None)

    def check_start_facts(self, start: m.StartFile, facts: dict[str, Fact], file: str, here: YamlPath,
                          ctx: str) -> None:
        """The facts of an `all:`/`any:` start: each known, each once."""
        for key in ("all", "any"):
            names = getattr(start, key) or []
            for k, name in enumerate(names):
                if name not in facts:
                    self.unknown("fact", name, facts, self.span(file, here + (key, k)), ctx)
                elif name in names[:k]:
                    self.err("duplicate-id", f"{ctx}: `{key}` names `{name}` twice", self.span(file, here + (key, k)),
                             help="name each fact once")

    def check_periods(self, tid: str, entries: list[TimelineEntry], facts: dict[str, Fact], file: str,
                      here: YamlPath) -> None:
        """Entries must start in order; a stated `until` must meet the next start (no gap, no overlap)."""

        def start_of(e: TimelineEntry) -> dt.date | None:  # with several facts: the last (`all`) or the first
            if e.start_date is not None:
                return e.start_date
            days = [facts[f].date if f in facts else None for f in e.start_facts]
            if not days or any(d is None for d in days):
                return None  # a fact without a date: when the entry starts is not known
            known = [d for d in days if d is not None]
            return min(known) if e.start_any else max(known)

        for j, e in enumerate(entries):
            number = self.number(file, here + ("entries", j))
            ctx = f"timeline `{tid}`, entry {number} (`{e.regime}`)"
            s = start_of(e)
            if e.until is not None and s is not None and e.until <= s:
                self.err("timeline-period", f"{ctx}: `until` {e.until} is not after its start {s}",
                         self.span(file, here + ("entries", j, "until")))
            if j == 0 or self.number(file, here + ("entries", j - 1)) != number - 1:
                continue  # the first, or the one after an entry left out (its own errors reported): no pair
            prev = entries[j - 1]
            ps = start_of(prev)
            if s is not None and ps is not None:
                if s == ps:
                    self.err("timeline-overlap", f"{ctx}: starts on {s}, the same day as the entry before it",
                             self.span(file, here + ("entries", j, "from")),
                             help="two regimes cannot both take effect on one day; merge them or change a date")
                elif s < ps:
                    self.err("timeline-order", f"{ctx}: starts on {s}, before the entry before it ({ps})",
                             self.span(file, here + ("entries", j, "from")),
                             help="list the entries of a timeline in the order they take effect")
            if prev.until is not None and s is not None:
                if prev.until < s:
                    self.err("timeline-gap", f"{ctx}: the entry before it ends on {prev.until} but this one starts "
                             f"on {s}: no regime is in force in between",
                             self.span(file, here + ("entries", j - 1, "until")),
                             help="make `until` equal the next start, or add a regime for the gap")
                elif prev.until > s:
                    self.err("timeline-overlap", f"{ctx}: starts on {s} but the entry before it runs until "
                             f"{prev.until}", self.span(file, here + ("entries", j - 1, "until")),
                             help="make `until` equal the next start, or drop it (an entry lasts until the next)")
        if entries and entries[-1].until is not None:
            self.warn("timeline-gap", f"timeline `{tid}`: the last entry ends on {entries[-1].until} and nothing "
                      "follows; after it the last entry before it whose start holds is in force again, if any",
                      self.span(file, here + ("entries", len(entries) - 1, "until")))

    # -- pipeline -----------------------------------------------------------------------------
    def build_items(self, taxonomy: Taxonomy, programs: dict[str, Program]) -> Pipeline:
        path = self.root / PIPELINE_FILE
        self.bad_item_ids: set[str] = set()
        refused = check_file(self.root, PIPELINE_FILE, self.display(PIPELINE_FILE))
        if refused is not None and refused.code == "missing-file":
            self.err("missing-file", f"missing file `{PIPELINE_FILE}`", Span(self.display(PIPELINE_FILE)),
                     help="the pipeline: a CSV with columns " + ", ".join(ITEM_COLUMNS + ITEM_OPTIONAL_COLUMNS))
            return Pipeline.of(())
        if refused is not None:
            self.diags.append(refused)
            return Pipeline.of(())
        csv_file = CsvFile(path, self.display(PIPELINE_FILE))
        header = csv_file.header
        self.diags.extend(csv_file.diagnostics)
        if not header:
            return Pipeline.of(())
        missing = [c for c in ITEM_COLUMNS if c not in header]
        required_attrs = [a for a, d in self.manifest.attributes.items() if d.required and a not in header]
        for c in missing + required_attrs:
            self.err("missing-column", f"`{PIPELINE_FILE}`: missing column `{c}`",
                     Span(self.display(PIPELINE_FILE), 1, 1), help=did_you_mean(c, header))
        if missing:
            return Pipeline.of(())
        known_cols = set(ITEM_COLUMNS) | set(ITEM_OPTIONAL_COLUMNS) | set(self.attributes)
        for i, h in enumerate(header):
            if h not in known_cols:
                self.warn("undeclared-column",
                          f"`{PIPELINE_FILE}`: column `{h}` is not a declared attribute; rules cannot match on it",
                          Span(self.display(PIPELINE_FILE), 1, 1),
                          help=did_you_mean(h, known_cols) or "declare it under `attributes` in scenario.yaml")
        seen: dict[str, int] = {}

        def replay(row: CsvRow) -> LineItem | None:  # the row path, for the rows the column pass doubts
            item = parse_item_row(row.values, row.spans, row.line, self.attributes, taxonomy, programs, self)
            if item is None:
                self.bad_item_ids.add(row.values.get("id", ""))
                return None
            if item.id in seen:
                self.err("duplicate-id", f"duplicate item id `{item.id}`", row.spans["id"],
                         help=f"first used on line {seen[item.id]}")
                return None
            seen[item.id] = row.line
            return item

        source_ids = self.source_ids if self.source_ids and self.sources_ok else None
        told = self.progress
        rows_read = None if told is None else (lambda done, total: told("lines", done, total))
        items, unlisted = read_pipeline(csv_file, self.attributes, taxonomy, programs, source_ids, replay,
                                        self.diags.append, rows_read)
        self.bad_item_ids |= unlisted
        if not self.bad_item_ids:  # a total is meaningless while rows are missing
            self.check_totals(items, programs)
        return items

    def check_totals(self, items: Pipeline, programs: dict[str, Program]) -> None:
        sums: dict[str, Decimal] = {p: Decimal(0) for p in programs}
        for program, amount in zip(items.column("program"), items.column("amount")):
            sums[program] += amount
        for i, (pid, p) in enumerate(programs.items()):
            if p.total is not None and sums[pid] != p.total:
                self.warn("program-total",
                          f"program `{pid}`: the pipeline sums to {sums[pid]:,.2f}, the program's total is {p.total:,.2f}",
                          self.span("programs.yaml", ("programs", i, "total")),
                          help="add or correct line items, or correct the total")

    # -- tests --------------------------------------------------------------------------------
    def build_aggregates(self, f: m.TestsFile, programs: dict[str, Program], regimes: dict[str, Regime],
                         timelines: dict[str, Timeline]) -> tuple[AggregateTest, ...]:
        """Expected `compare` figures and `diff` statements, with located errors."""
        file = "tests.yaml"
        out: list[AggregateTest] = []
        options = list(regimes) + list(timelines)
        for i, t in enumerate(f.aggregates):
            here: YamlPath = ("aggregates", i)
            ctx = f"aggregate test `{t.name}`"
            for j, a in enumerate(t.assume):
                name = a.split("@", 1)[0]
                if name not in self.fact_ids:
                    self.unknown("fact", name, self.fact_ids, self.span(file, here + ("assume", j)), ctx)
            if t.compare is not None:
                c = t.compare
                if c.option not in options:
                    self.unknown("regime", c.option, options, self.span(file, here + ("compare", "option")), ctx)
                prefix, _, value = c.row.partition(":")
                if c.row != "total" and not value and c.row not in programs:
                    self.unknown("program", c.row, list(programs) + ["total"], self.span(file, here + ("compare", "row")),
                                 ctx)
                elif prefix in OBLIGATION_ROWS and value:
                    known = sorted({a.name for rg in regimes.values() for r in rg.rules for a in r.actions} |
                                   {a.name for r in getattr(self, "law_rules", ()) for a in r.actions}
                                   if prefix == "action" else set(getattr(self, "notification_ids", ())))
                    if value not in known and self.policy_complete:
                        self.unknown(prefix, value, known, self.span(file, here + ("compare", "row")), ctx)
                elif value and prefix not in self.attributes:
                    self.unknown("attribute", prefix, list(self.attributes), self.span(file, here + ("compare", "row")),
                                 ctx)
                amounts: dict[str, Decimal] = {}
                share: float | None = None
                count: int | None = None
                for key, raw in c.expect.items():
                    where = self.span(file, here + ("compare", "expect", key))
                    if key == "share":
                        try:
                            fraction = parse_decimal(raw, places=6, what="share")
                        except ValueProblem:
                            fraction = Decimal(-1)
                        if not 0 <= fraction <= 1:
                            self.err("bad-value", f"{ctx}: `share` is a number from 0 to 1", where,
                                     help="the permitted share of the row's total, e.g. 0.678")
                        else:
                            share = float(fraction)
                    elif key == "items":
                        if isinstance(raw, bool) or not isinstance(raw, int):
                            self.err("bad-value", f"{ctx}: `items` is a whole number", where)
                        else:
                            count = raw
                    elif key in ("total", *(o.value for o in Outcome)):
                        try:
                            amounts[key] = parse_amount(raw)
                        except ValueProblem as problem:
                            self.err("bad-value", f"{ctx}: `{key}` {problem.message}", where, help=problem.help)
                    else:
                        self.err("unknown-field", f"{ctx}: unknown figure `{key}`", where,
                                 help=did_you_mean(key, ["total", *(o.value for o in Outcome), "share", "items"]))
                out.append(AggregateTest(t.name, "compare", t.as_of, tuple(t.assume), c.option, "", c.row, amounts,
                                         share, count, span=self.span(file, here)))
            elif t.diff is not None:
                d = t.diff
                for key in ("a", "b"):
                    if getattr(d, key) not in options:
                        self.unknown("regime", getattr(d, key), options, self.span(file, here + ("diff", key)), ctx)
                amounts = {}
                if d.amount is not None:
                    try:
                        amounts["total"] = parse_amount(d.amount)
                    except ValueProblem as problem:
                        self.err("bad-value", f"{ctx}: `amount` {problem.message}",
                                 self.span(file, here + ("diff", "amount")), help=problem.help)
                out.append(AggregateTest(t.name, "diff", t.as_of, tuple(t.assume), d.a, d.b, "total", amounts,
                                         with_law=d.with_law, statements=d.statements, includes=tuple(d.includes),
                                         span=self.span(file, here)))
        return tuple(out)

    def build_tests(self, f: m.TestsFile, items: Pipeline, taxonomy: Taxonomy,
                    programs: dict[str, Program], regimes: dict[str, Regime],
                    timelines: dict[str, Timeline]) -> tuple[PolicyTest, ...]:
        file = "tests.yaml"
        item_names: NameIndex | None = None
        out = []
        names = Counter(t.name for t in f.tests)
        for i, t in enumerate(f.tests):
            here = ("tests", i)
            ctx = f"test `{t.name}`"
            if names[t.name] > 1:
                self.err("duplicate-id", f"duplicate test name `{t.name}`", self.span(file, here + ("name",)))
            item: LineItem | None = None
            if t.item is not None:
                item = items.find(t.item)
                if item is None and t.item not in getattr(self, "bad_item_ids", ()):
                    if item_names is None:  # sorted once, searched near each unknown name
                        item_names = NameIndex(items.ids)
                    self.unknown("item", t.item, item_names, self.span(file, here + ("item",)), ctx)
            elif t.request is not None:
                req = {k: ("" if v is None else ",".join(v) if isinstance(v, list) else str(v)) for k, v in t.request.items()}
                req.setdefault("id", f"test-{i + 1}")
                spans = {k: self.span(file, here + ("request", k)) for k in req}
                for col in ITEM_COLUMNS:
                    if col not in req:
                        self.err("missing-field", f"{ctx}: the request lacks `{col}`", self.span(file, here + ("request",)))
                if all(c in req for c in ITEM_COLUMNS):
                    item = parse_item_row(req, spans, 0, self.attributes, taxonomy, programs, self)
            if t.regime is not None and t.regime not in regimes and t.regime not in timelines and self.policy_complete:
                self.unknown("regime", t.regime, list(regimes) + list(timelines), self.span(file, here + ("regime",)), ctx)
            for j, fact in enumerate(t.assume):
                name = fact.split("@", 1)[0]
                if name not in self.fact_ids:
                    self.unknown("fact", name, self.fact_ids, self.span(file, here + ("assume", j)), ctx)
            for j, fact in enumerate(t.missing or ()):
                if fact not in self.fact_ids:
                    self.unknown("fact", fact, self.fact_ids, self.span(file, here + ("missing", j)), ctx)
            if item is not None:
                out.append(PolicyTest(t.name, item, t.as_of, Outcome(t.expect), t.regime, tuple(t.assume),
                                      tuple(t.missing) if t.missing is not None else None,
                                      tuple(t.rules) if t.rules is not None else None, t.criterion,
                                      self.span(file, here), tuple(t.actions) if t.actions is not None else None))
        rule_ids = {rid for *_, rid in getattr(self, "_rule_ids", [])} | {
            r.id for reg in regimes.values() for r in reg.rules}
        for i, t in enumerate(f.tests if self.policy_complete else ()):  # else: reported where it broke
            for j, rid in enumerate(t.rules or ()):
                if rid.startswith("default:"):
                    layers = ["law", *regimes]
                    if rid[len("default:"):] not in layers:
                        self.unknown("rule", rid, [f"default:{x}" for x in layers],
                                     self.span(file, ("tests", i, "rules", j)), f"test `{t.name}`")
                elif rid not in rule_ids:
                    self.unknown("rule", rid, rule_ids, self.span(file, ("tests", i, "rules", j)), f"test `{t.name}`")
        return tuple(out)

    # -- facts named by regimes.yaml when the file could not be read as a whole ------------------------
    def raw_fact_refs(self, facts: dict[str, Fact]) -> None:
        """Unknown facts in `effective:`, timeline `from:` and rules' `require` of a regimes.yaml that failed
        its shape check, so that `check` reports them in the same run as the shape errors."""
        raw = self.raw.get("regimes.yaml")
        if not isinstance(raw, dict):
            return
        file = "regimes.yaml"

        def ref(value: Any, path: YamlPath, ctx: str) -> None:
            if isinstance(value, str) and value not in facts:
                self.unknown("fact", value, facts, self.span(file, path), ctx)

        for i, r in enumerate(raw.get("regimes") or []):
            if not isinstance(r, dict):
                continue
            ctx = f"regime `{r.get('id')}`"
            eff = r.get("effective")
            if isinstance(eff, dict):
                ref(eff.get("fact"), ("regimes", i, "effective", "fact"), ctx)
                for key in ("all", "any"):
                    many = eff.get(key)
                    for k, fact in enumerate(many if isinstance(many, list) else []):
                        ref(fact, ("regimes", i, "effective", key, k), ctx)
            for j, rule in enumerate(r.get("rules") or []):
                if isinstance(rule, dict) and isinstance(rule.get("require"), list):
                    for k, fact in enumerate(rule["require"]):
                        ref(fact, ("regimes", i, "rules", j, "require", k), f"{ctx}, rule `{rule.get('id')}`")
        for i, t in enumerate(raw.get("timelines") or []):
            if not isinstance(t, dict):
                continue
            for j, e in enumerate(t.get("entries") or []):
                if isinstance(e, dict) and isinstance(e.get("from"), dict):
                    ref(e["from"].get("fact"), ("timelines", i, "entries", j, "from", "fact"), f"timeline `{t.get('id')}`")
                    for key in ("all", "any"):
                        many = e["from"].get(key)
                        for k, fact in enumerate(many if isinstance(many, list) else []):
                            ref(fact, ("timelines", i, "entries", j, "from", key, k), f"timeline `{t.get('id')}`")

    # -- the demo block of scenario.yaml ---------------------------------------------------------------
    def build_demo(self, f: m.DemoFile | None, regimes: dict[str, Regime], timelines: dict[str, Timeline],
                   facts: dict[str, Fact], regimes_ok: bool, facts_ok: bool) -> Demo | None:
        """`demo:` as a value; its options, facts and recipient must exist (checked only where their files
        are valid, so that one broken file does not cascade)."""
        if f is None:
            return None
        file, ctx = "scenario.yaml", "demo"
        if regimes_ok:
            for i, name in enumerate(f.options):
                if name not in regimes and name not in timelines:
                    self.unknown("option", name, [*regimes, *timelines], self.span(file, ("demo", "options", i)), ctx)
        for i, text in enumerate(f.assume):
            name, _, when = text.partition("@")
            if facts_ok and name not in facts:
                self.unknown("fact", name, facts, self.span(file, ("demo", "assume", i)), ctx)
            if when:
                try:
                    dt.date.fromisoformat(when)
                except ValueError:
                    self.err("bad-date", f"{ctx}: `{when}` is not a date", self.span(file, ("demo", "assume", i)),
                             help="write FACT@YYYY-MM-DD, or FACT alone for the demo's date")
        if f.recipient is not None and f.recipient not in self.recipients:
            self.unknown("recipient", f.recipient, self.recipients, self.span(file, ("demo", "recipient")), ctx)
        return Demo(f.as_of, tuple(f.options), tuple(f.assume), f.recipient, f.note)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value]


ANCHORS = ("effective", "as_of")
_ANCHOR_HELP = ("compare with a date (YYYY-MM-DD), `effective` (the date the rule took effect), `as_of` (the date "
                "of the decision) or `{fact: FACT}` (the date a fact holds from)")


def parse_anchor(value: Any, fact_ids: Sequence[str], *, effective: bool = True) -> dt.date | Anchor | ValueProblem:
    """The one value of a date test: a date, or an :class:`Anchor`; a :class:`ValueProblem` saying what is wrong
    (an unknown fact is the caller's to report: it is returned as an anchor)."""
    if isinstance(value, dt.date):
        return parse_day(value)
    if isinstance(value, dict) and set(value) == {"fact"} and isinstance(value["fact"], str):
        return Anchor("fact", value["fact"])
    if isinstance(value, str) and value.strip() in ANCHORS:
        if value.strip() == "effective" and not effective:
            return ValueProblem("`effective` is the date a rule took effect, and this condition belongs to no rule",
                                help="compare with a date (YYYY-MM-DD), `as_of` (the date of the decision) or "
                                     "`{fact: FACT}` (the date a fact holds from)")
        return Anchor(value.strip())
    if isinstance(value, str):
        try:
            return parse_day(value)
        except ValueProblem:
            return ValueProblem(f"`{value}` is not a date", help=did_you_mean(value.strip(), ANCHORS) or _ANCHOR_HELP)
    shown = value if not isinstance(value, (list, dict)) else "a " + ("list" if isinstance(value, list) else "mapping")
    return ValueProblem(f"`{shown}` is not a date", help=_ANCHOR_HELP)


def parse_condition(raw: dict[str, Any], attributes: dict[str, AttributeSchema], taxonomy: Taxonomy,
                    fact_ids: Sequence[str], file: str, path: YamlPath, ck: Any, context: str, *,
                    effective: bool = True) -> Condition:
    """Read a `when`/`unless` mapping into a :class:`Condition`, reporting every problem to ``ck``.

    ``effective``: whether a date test may compare with `effective` (a rule's conditions; not a cap's
    or a notification's)."""
    preds: list[Predicate] = []
    for key, value in raw.items():
        kspan = ck.span(file, path + (key, "@key"))
        vspan = ck.span(file, path + (key,))
        attr = attributes.get(key) if key != FACTS else AttributeSchema(FACTS, "set", tuple(fact_ids), True)
        if attr is None:
            known = list(attributes) + [FACTS]
            hint = did_you_mean(key, known) or "conditions may use: " + ", ".join(f"`{k}`" for k in known)
            pack = getattr(ck, "current_pack", None)
            if pack is not None:  # a law pack's condition: the including scenario lacks the attribute
                declared = [k for k in known if k not in STAGES]  # every scenario has the stages: not the fix here
                hint = did_you_mean(key, declared) or "conditions may use: " + ", ".join(f"`{k}`" for k in declared)
                hint = f"the law pack `{pack}` needs the scenario to declare the attribute `{key}` (see the pack's " \
                       f"pack.yaml); {hint}"
            ck.err("unknown-attribute", f"{context}: unknown attribute `{key}` in condition", kspan, help=hint)
            continue
        default_op = DEFAULT_OPERATOR[attr.type]
        allowed = operators_for(attr.type)
        aliases = ALIASES[attr.type]
        ops: list[tuple[str, str | None, Any]] = []  # (operator, key as written, values)
        if isinstance(value, dict):
            seen_ops: dict[str, str] = {}
            for written_key, v in value.items():
                written = str(written_key)
                op = aliases.get(written, written)
                if op in seen_ops:
                    ck.err("duplicate-operator", f"{context}: `{key}` gives `{op}` twice (as `{seen_ops[op]}` and "
                           f"`{written}`)", ck.span(file, path + (key, written, "@key")),
                           help="merge the two lists into one")
                    continue
                seen_ops[op] = written
                ops.append((op, written, v))
        else:
            ops.append((default_op, None, value))
        for op, as_written, vals in ops:
            ospan = ck.span(file, path + (key, as_written, "@key")) if as_written is not None else kspan
            if op not in allowed:
                spellings = [*allowed, *(a for a, o in aliases.items() if o in allowed)]  # `not` for `not_under`
                ck.err("bad-operator", f"{context}: `{key}` ({attr.type}) does not take `{op}`", ospan,
                       help=did_you_mean(str(op), spellings) or "use one of " + ", ".join(f"`{a}`" for a in spellings))
                continue
            if attr.type == "date":
                where = path + (key,) + ((as_written,) if as_written is not None else ())
                anchor = parse_anchor(vals, fact_ids, effective=effective)
                if isinstance(anchor, ValueProblem):
                    ck.err("bad-date", f"{context}: `{key}`: {anchor.message}", ck.span(file, where), help=anchor.help)
                    continue
                if isinstance(anchor, Anchor) and anchor.fact is not None and anchor.fact not in fact_ids:
                    ck.unknown("fact", anchor.fact, fact_ids, ck.span(file, where + ("fact",)), context)
                    continue
                preds.append(Predicate(key, op, (anchor,)))
                continue
            if OPERATORS[op].arity == "one":
                if isinstance(vals, (list, dict, bool)) or vals is None:
                    ck.err("bad-value", f"{context}: `{key}.{op}` needs one number", ospan)
                    continue
                try:
                    num = (parse_decimal(vals, what="threshold") if key == "amount" else
                           parse_decimal(vals, places=ATTRIBUTE_PLACES, digits=ATTRIBUTE_MAX_DIGITS, what="threshold"))
                except ValueProblem as problem:
                    where = ck.span(file, path + (key,) + ((as_written,) if as_written is not None else ()))
                    ck.err("bad-value", f"{context}: {problem.message}", where, help=problem.help)
                    continue
                preds.append(Predicate(key, op, (num,)))
                continue
            vlist = [str(v) for v in _as_list(vals)]
            if not vlist:
                ck.err("bad-value", f"{context}: `{key}` has an empty list of values", vspan)
                continue
            if attr.type in ("enum", "set", "category"):
                for j, v in enumerate(vlist):
                    if v not in attr.values:
                        what = "category" if attr.type == "category" else "flag" if key == "flags" else (
                            "fact" if key == FACTS else key if attr.builtin else f"{key} value")
                        where = path + (key,) + ((as_written,) if as_written is not None else ())
                        sp = ck.span(file, where + (j,) if isinstance(vals, list) else where)
                        ck.unknown(what, v, attr.values, sp, context)
            preds.append(Predicate(key, op, tuple(sorted(set(vlist)))))
    return Condition(tuple(sorted(preds, key=lambda p: (p.attribute, p.op, p.values))))




def _inside(root: Path, relative: str) -> bool:
    """True when ``relative`` names a path inside ``root`` (decided on the names alone: nothing outside is
    looked at, so a warning cannot tell whether some path on the machine exists)."""
    p = Path(relative)
    if p.is_absolute() or ".." in p.parts:
        return False
    try:
        return (root / p).resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):
        return False



def parse_item_row(values: dict[str, str], spans: Mapping[str, Span], line: int,
                   attributes: dict[str, AttributeSchema], taxonomy: Taxonomy, programs: dict[str, Program],
                   ck: Any) -> LineItem | None:
    """One pipeline row (CSV or inline request) -> a :class:`LineItem`, or None with errors reported."""
    ok = True
    ident = values.get("id", "")
    ctx = f"item `{ident}`" if ident else "item"

    def bad(code: str, col: str, message: str, help: str | None = None) -> None:
        nonlocal ok
        ok = False
        ck.err(code, f"{ctx}: {message}", spans.get(col), help)

    if not ident:
        bad("bad-value", "id", "empty `id`")
    recipient = values.get("recipient", "")
    if recipient not in attributes["recipient"].values:
        ok = False
        ck.unknown("recipient", recipient, attributes["recipient"].values, spans.get("recipient"), ctx)
    program = values.get("program", "")
    prog = programs.get(program)
    if prog is None:
        ok = False
        ck.unknown("program", program, programs, spans.get("program"), ctx)
    elif prog.recipient != recipient and recipient in attributes["recipient"].values:
        bad("program-recipient", "program", f"program `{program}` belongs to `{prog.recipient}`, not `{recipient}`")
    channel = values.get("channel", "")
    if channel not in attributes["channel"].values:
        ok = False
        ck.unknown("channel", channel, attributes["channel"].values, spans.get("channel"), ctx)
    category = values.get("category", "")
    if category not in taxonomy:
        ok = False
        ck.unknown("category", category, taxonomy, spans.get("category"), ctx)
    raw_amount = values.get("amount", "")
    amount = Decimal(0)
    try:
        amount = parse_amount(raw_amount)
    except ValueProblem as problem:
        bad("bad-amount", "amount", f"amount {problem.message}", problem.help)
    flags: frozenset[str] = frozenset()
    try:
        flags = parse_set(values.get("flags", ""))
    except ValueProblem as problem:
        bad("bad-value", "flags", f"flags: {problem.message}", problem.help)
    for f in sorted(flags):
        if f not in attributes["flags"].values:
            ok = False
            ck.unknown("flag", f, attributes["flags"].values, spans.get("flags"), ctx)
    basis = values.get("basis", "").strip() or None
    if basis is not None and basis not in BASES:
        bad("bad-value", "basis", f"unknown basis `{basis}`",
            did_you_mean(basis, BASES) or "one of " + ", ".join(f"`{b}`" for b in BASES) + ", or empty (not stated)")
    item_sources = tuple(x for x in re.split(r"[,\s]+", values.get("sources", "")) if x)
    known_sources = getattr(ck, "source_ids", None)
    if known_sources and getattr(ck, "sources_ok", True):
        for src in item_sources:
            if src not in known_sources:
                ok = False
                ck.unknown("source", src, known_sources, spans.get("sources"), ctx)
    attrs: dict[str, Any] = {}
    for name, a in attributes.items():
        if a.builtin or name not in values:
            continue
        v = values[name]
        if a.type == "enum" and v and v not in a.values:
            ok = False
            ck.unknown(f"{name} value", v, a.values, spans.get(name), ctx)
        elif a.type == "set":
            try:
                members = parse_set(v)
            except ValueProblem as problem:
                bad("bad-value", name, f"`{name}`: {problem.message}", problem.help)
                continue
            for x in sorted(members):
                if x not in a.values:
                    ok = False
                    ck.unknown(f"{name} value", x, a.values, spans.get(name), ctx)
            attrs[name] = members
            continue
        elif a.type == "decimal":
            if v == "":
                attrs[name] = None
                continue
            try:
                attrs[name] = parse_decimal(v, places=ATTRIBUTE_PLACES, digits=ATTRIBUTE_MAX_DIGITS)
            except ValueProblem as problem:
                bad("bad-value", name, f"`{name}` value {problem.message}", problem.help)
            continue
        elif a.type == "date":
            if not v.strip():
                attrs[name] = None  # empty: the stage was not reached (or the date is not known)
                continue
            try:
                attrs[name] = parse_day(v)
            except ValueProblem as problem:
                bad("bad-date", name, f"`{name}`: {problem.message}",
                    f"{problem.help}; leave the cell empty where the stage was not reached")
            continue
        attrs[name] = sys.intern(v) if v else None
    if ok:
        _stage_order(attrs, spans, ctx, ck)
    marking = values.get("marking") or UNCLASSIFIED
    if marking not in MARKINGS:
        ok = False
        ck.unknown("marking", marking, MARKINGS, spans.get("marking"), ctx)
    for name in values:
        if name not in attributes and name not in ("id", "description", "basis", "sources", "marking"):
            attrs[name] = values[name]
    if not ok:
        return None
    intern = sys.intern  # the same few recipients, programs, channels and categories on a million rows
    return LineItem(ident, intern(recipient), intern(program), intern(channel), intern(category), amount, flags,
                    values.get("description", ""), prog.status if prog else "approved", attrs, line,
                    basis=basis, sources=item_sources, marking=sys.intern(marking))


def _stage_order(attrs: Mapping[str, Any], spans: Mapping[str, Span], ctx: str, ck: Any) -> None:
    """A warning where a line reached a stage before the one it follows (delivered before shipped, ...)."""
    for stages in (PIPELINE_STAGES, MONEY_STAGES):
        prev: tuple[str, dt.date] | None = None
        for stage in stages:
            day = attrs.get(stage)
            if not isinstance(day, dt.date):
                continue
            if prev is not None and day < prev[1]:
                ck.warn("stage-order", f"{ctx}: `{stage}` {day} is before `{prev[0]}` {prev[1]}", spans.get(stage),
                        help="a line reaches its stages in order (" + ", ".join(stages) + "): correct one of the dates")
            prev = (stage, day)


def parse_request(scenario: Scenario, values: dict[str, Any], where: str = "request") -> tuple[LineItem | None,
                                                                                                list[Diagnostic]]:
    """An ad-hoc request (the pipeline's columns as a mapping, lists for flags) read as a pipeline row is:
    the line item, or None and every problem found (unknown category, program, flag, ... with did-you-mean)."""
    ck = _Checker(scenario.root, source_ids=list(scenario.sources), sources_ok=True)
    row = {k: ("" if v is None else ",".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in values.items()}
    row.setdefault("id", where)
    for col in ITEM_COLUMNS:
        if col not in row:
            ck.err("missing-field", f"{where}: the request lacks `{col}`", None,
                   help="give " + ", ".join(f"`{c}`" for c in ITEM_COLUMNS[1:]) + " (and `flags`, attributes)")
    known = set(ITEM_COLUMNS) | set(ITEM_OPTIONAL_COLUMNS) | set(scenario.attributes)
    for col in row:
        if col not in known:
            ck.unknown("column", col, sorted(known), None, where)  # type: ignore[arg-type]
    if ck.diags:
        return None, ck.diags
    item = parse_item_row(row, {}, 0, dict(scenario.attributes), scenario.taxonomy, dict(scenario.programs), ck)
    return (item if not ck.diags else None), ck.diags
