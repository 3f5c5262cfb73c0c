"""Ad-hoc requests: a line item that is not in the pipeline, given as JSON (what `opa eval -i` decides)."""

from __future__ import annotations

import json
from typing import Any

from ..errors import PolicyError, UsageError
from ..language import LineItem, Scenario
from ..language.validate import parse_request

__all__ = ["requests_from_json", "request_item"]


def request_item(s: Scenario, values: dict[str, Any], where: str = "request") -> LineItem:
    """``values`` (id, recipient, program, channel, category, amount, flags, attributes) as a line item of ``s``;
    raise :class:`PolicyError` listing every problem."""
    item, diags = parse_request(s, values, where)
    if item is None:
        raise PolicyError(diags, f"{where} cannot be decided: {len(diags)} problem(s)")
    return item


def requests_from_json(s: Scenario, text: str) -> list[LineItem]:
    """One JSON object, a JSON array of objects, or JSON lines (one object per line) as line items."""
    text = text.strip()
    try:
        docs: Any = json.loads(text)
        docs = docs if isinstance(docs, list) else [docs]
    except json.JSONDecodeError as exc:
        try:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            raise UsageError(f"--request: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
                             help='give one object, e.g. \'{"recipient": "...", "program": "...", "channel": '
                                  '"...", "category": "...", "amount": "100.00"}\', an array, or one object per '
                                  "line") from None
    if not docs:
        raise UsageError("--request: no request given", help="give one JSON object, an array, or JSON lines")
    items = []
    for n, doc in enumerate(docs, 1):
        where = "request" if len(docs) == 1 else f"request {n}"
        if not isinstance(doc, dict):
            raise UsageError(f"{where}: a JSON object is needed, not `{json.dumps(doc)[:40]}`",
                             help="the pipeline's columns as keys: recipient, program, channel, category, amount")
        items.append(request_item(s, doc, where if "id" not in doc else str(doc["id"])))
    return items
