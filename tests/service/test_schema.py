"""Schemathesis against /api/openapi.json: no 5xx, no response that violates the document, no undocumented
status code, whatever it sends (as an admin cleared SECRET, so that every endpoint is reached).

Bounded: a few examples per operation, no shrinking; the whole test takes well under a minute.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from tranche.service.app import create_app

from .conftest import Desk, make_desk


def _served() -> tuple[FastAPI, Desk]:
    """A desk in a temporary folder (schemathesis reads the document when the module is collected); its audit
    key lies beside the database."""
    folder = Path(tempfile.mkdtemp(prefix="tranche-schema-"))
    saved = os.environ.pop("TRANCHE_AUDIT_KEY", None)
    try:
        desk = make_desk(f"sqlite:///{folder / 'schema.db'}")
    finally:
        if saved is not None:
            os.environ["TRANCHE_AUDIT_KEY"] = saved
    return create_app(desk.url), desk


APP, DESK = _served()
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def own_key() -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    mp.delenv("TRANCHE_AUDIT_KEY", raising=False)
    try:
        yield
    finally:
        mp.undo()


@schema.parametrize()
@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: Any) -> None:
    desk = DESK
    if case.path_parameters and "scenario" in case.path_parameters and case.path_parameters["scenario"] == "":
        case.path_parameters["scenario"] = "peru-1962"
    response = case.call(headers=desk.auth("admin"))
    case.validate_response(response, checks=(not_a_server_error, response_schema_conformance,
                                             status_code_conformance))
