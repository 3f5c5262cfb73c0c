"""JSON Schema of the scenario files, for editors (YAML language servers) and other tools."""

from __future__ import annotations

from typing import Any

from .model import FILE_MODELS, PackFile
from .scenario import STAGE_ATTRIBUTES

__all__ = ["schema", "PIPELINE_SCHEMA", "file_names"]

PIPELINE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pipeline.csv row",
    "description": "One line item of the pipeline; the CSV header names these columns. Extra columns are "
                   "attributes declared in scenario.yaml; the stage columns (offered, implemented, contracted, "
                   "shipped, delivered, obligated, disbursed) are dates every scenario may give.",
    "type": "object",
    "required": ["id", "recipient", "program", "channel", "category", "amount"],
    "properties": {
        "id": {"type": "string", "description": "unique item id"},
        "recipient": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 3166 alpha-3"},
        "program": {"type": "string", "description": "a program id of programs.yaml"},
        "channel": {"type": "string", "description": "a channel declared in scenario.yaml"},
        "category": {"type": "string", "description": "a dotted taxonomy node, e.g. end_items.civic_action"},
        "amount": {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "description": "exact decimal USD"},
        "flags": {"type": "string", "description": "comma-separated flags declared in scenario.yaml"},
        "description": {"type": "string"},
        "basis": {"enum": ["", "record", "inference", "illustrative"], "description": "what the line rests on"},
        "sources": {"type": "string", "description": "source ids, comma-separated"},
        "marking": {"enum": ["", "UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]},
        **{name: {"type": "string", "anyOf": [{"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, {"maxLength": 0}],
                  "description": f"stage: {desc} (YYYY-MM-DD; empty: not reached)"} for name, desc in STAGE_ATTRIBUTES},
    },
}


def file_names() -> list[str]:
    return [*FILE_MODELS, "pipeline.csv", "pack.yaml"]


def schema(file: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one scenario file, or of all of them keyed by file name."""
    if file is not None:
        if file == "pipeline.csv":
            return PIPELINE_SCHEMA
        model = PackFile if file == "pack.yaml" else FILE_MODELS[file]
        out = model.model_json_schema(by_alias=True)
        out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out["title"] = f"tranche {file}"
        return out
    return {name: schema(name) for name in file_names()}
