"""One broken entry breaks only itself: `check` reports its mistake where it is, sets the entry aside and reads
the rest of the file, and nothing that names the entry cascades (issue 13: "check reports every independent
problem in one run").

Each case copies a shipped scenario, gives one entry of one collection (a regime, a rule, a timeline or one of
its entries, a fact, a source, a program, a category, a test, ...) a field of the wrong type, and checks that
every error `check` reports lies inside that entry's lines, and that there is at least one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from tranche.language import check, model
from tranche.language.syntax import read_yaml

ROOT = Path(__file__).parent.parent.parent
SCENARIOS = [ROOT / "scenarios" / "peru-1962", ROOT / "scenarios" / "ruritania-7008",
             ROOT / "scenarios" / "burkina-faso-2022", ROOT / "tests" / "fixtures" / "stages",
             ROOT / "tests" / "fixtures" / "triggered"]
WRONG = [[1]]  # a list of lists: the wrong type for text, names, dates, amounts, mappings and entries alike
NAMES = ("id", "name", "code", "regime")  # fields that name the entry or what it refers to: left as they are


def _entry_model(annotation: Any) -> type[BaseModel] | None:
    while get_origin(annotation) is not None and type(None) in get_args(annotation):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is list:
        inner = get_args(annotation)[0]
        return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None
    return None


def _entries(data: Any, cls: type[BaseModel], path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...],
                                                                                             type[BaseModel]]]:
    """Every entry of a list of models in ``data`` (read as ``cls``): its path and model."""
    if not isinstance(data, dict):
        return
    for name, info in cls.model_fields.items():
        inner = _entry_model(info.annotation)
        values = data.get(info.alias or name)
        if inner is None or not isinstance(values, list):
            continue
        for i, value in enumerate(values):
            yield path + (name, i), inner
            yield from _entries(value, inner, path + (name, i))


def _cases() -> list[Any]:
    """For each scenario, file and kind of entry (the path with its indexes blanked): the first, a middle
    and the last entry."""
    out = []
    for scenario in SCENARIOS:
        for file, cls in model.FILE_MODELS.items():
            if not (scenario / file).exists():
                continue
            data = yaml.safe_load((scenario / file).read_text(encoding="utf-8"))
            kinds: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
            for path, inner in _entries(data, cls):
                if _field(_at(data, path), inner) is None:  # only its names: nothing to break but them
                    continue
                kinds.setdefault(tuple("#" if isinstance(k, int) else k for k in path), []).append(path)
            for kind, paths in kinds.items():
                for path in sorted({paths[0], paths[len(paths) // 2], paths[-1]}, key=paths.index):
                    out.append(pytest.param(scenario, file, path,
                                            id=f"{scenario.name}:{file}:{'.'.join(map(str, path))}"))
    return out


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _field(entry: Any, cls: type[BaseModel]) -> str | None:
    """The first field of the entry, as written, that is not one of its names (nor of any type)."""
    return next((f.alias or n for n, f in cls.model_fields.items() if (f.alias or n) in entry
                 and (f.alias or n) not in NAMES and f.annotation is not Any), None)


def _model_of(path: tuple[Any, ...], cls: type[BaseModel]) -> type[BaseModel]:
    for key in path:
        if isinstance(key, str):
            found = _entry_model(cls.model_fields[key].annotation)
            assert found is not None
            cls = found
    return cls


@pytest.mark.parametrize("scenario, file, path", _cases())
def test_a_broken_entry_reports_itself_and_nothing_else(tmp_path: Path, scenario: Path, file: str,
                                                        path: tuple[Any, ...]) -> None:
    root = tmp_path / "scenarios" / scenario.name  # beside a copy of the law packs it includes
    shutil.copytree(scenario, root)
    shutil.copytree(ROOT / "packs", tmp_path / "packs")
    data = yaml.safe_load((root / file).read_text(encoding="utf-8"))
    entry = _at(data, path)
    cls = _model_of(path, model.FILE_MODELS[file])
    field = _field(entry, cls)
    assert field is not None
    entry[field] = WRONG
    (root / file).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    _, positions, _ = read_yaml(root / file)
    lines = [span.line for p, span in positions.spans.items() if p[:len(path)] == path]
    first, last = min(lines), max(lines)

    result = check(root)
    errors = [d for d in result.errors()]
    assert errors, f"`{field}: {WRONG}` was not reported"
    assert [d for d in errors if d.code not in ("missing-field",)][:1], errors
    elsewhere = [str(d) for d in errors
                 if d.span is None or Path(d.span.file).name != file or not first <= d.span.line <= last]
    assert not elsewhere, f"`{field}` of {path} broken; errors outside it (lines {first}-{last}):\n" + "\n".join(elsewhere)
