"""The public API is curated: `__all__` lists exactly what `tranche` exports (after httpx)."""

import tranche


def test_all_matches_exports() -> None:
    public = {name for name in dir(tranche) if not name.startswith("_")}
    modules = {"engine", "errors", "language", "cli", "store", "compiler", "analysis", "semantics", "service"}
    assert set(tranche.__all__) == public - modules


def test_every_export_has_a_docstring() -> None:
    for name in tranche.__all__:
        obj = getattr(tranche, name)
        assert obj.__doc__, name
