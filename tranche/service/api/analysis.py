"""Option comparison (JSON and CSV), the regime diff and lint, over what the user's clearance allows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from fastapi.responses import Response

from ...analysis import diff as diff_options
from ...analysis import lint as lint_scenario
from ...errors import UsageError, error_document
from ..auth import Principal, role
from ..errors import ERROR_RESPONSES
from ..exports import comparison_csv
from .common import desk, split, today, view

router = APIRouter(tags=["analysis"], responses=ERROR_RESPONSES)
VIEWER = Depends(role("viewer"))
OPTIONS = Query(..., description="regimes or timelines to compare, as A,B,C (or repeated)")
ASSUME = Query(None, description="facts assumed to hold: FACT or FACT@YYYY-MM-DD (comma-separated or repeated)")


def comparison_doc(request: Request, scenario: str, p: Principal, as_of: dt.date | None, options: list[str],
                   assume: list[str], recipient: str | None) -> dict[str, Any]:
    """The comparison as the user may see it, with what was withheld on every total (API and pages alike)."""
    found = _comparison_doc(request, scenario, p, as_of, options, assume, recipient, cached=False)
    assert found is not None
    return found


def _comparison_doc(request: Request, scenario: str, p: Principal, as_of: dt.date | None, options: list[str],
                    assume: list[str], recipient: str | None, cached: bool) -> dict[str, Any] | None:
    """:func:`comparison_doc`; with ``cached``, None unless the comparison is cached."""
    d = desk(request)
    v = d.view_if_cached(scenario, p.user.clearance) if cached else view(request, scenario, p)
    if v is None:
        return None
    key = (scenario, p.user.clearance, today(as_of), v.options(options), v.assume(assume), recipient)
    result = d.compare_if_cached(*key) if cached else d.compare(*key)
    return None if result is None else v.totals(result.to_dict(), recipient)


@router.get("/api/scenarios/{scenario}/compare", summary="Options compared: amounts by outcome per program")
async def compare(scenario: str, request: Request, options: list[str] = OPTIONS, as_of: dt.date | None = None,
                  assume: list[str] | None = ASSUME, recipient: str | None = None,
                  p: Principal = VIEWER) -> dict[str, Any]:
    # at once when the comparison is cached, else in the thread pool (as a single decision)
    args = (request, scenario, p, as_of, split(options), split(assume), recipient)
    found = _comparison_doc(*args, cached=True)
    return found if found is not None else await run_in_threadpool(comparison_doc, *args)


@router.get("/api/scenarios/{scenario}/compare.csv", summary="The comparison as CSV",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def compare_csv(scenario: str, request: Request, options: list[str] = OPTIONS, as_of: dt.date | None = None,
                assume: list[str] | None = ASSUME, recipient: str | None = None, p: Principal = VIEWER) -> Response:
    v = view(request, scenario, p)
    result = desk(request).compare(scenario, p.user.clearance, today(as_of), v.options(split(options)),
                                   v.assume(split(assume)), recipient)
    return Response(comparison_csv(result, v, recipient), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{scenario}-compare.csv"'})


@router.get("/api/scenarios/{scenario}/diff", summary="Every class of requests whose outcome differs between two options")
def diff(scenario: str, request: Request, a: str = Query(..., description="the option before"),
         b: str = Query(..., description="the option after"), as_of: dt.date | None = None,
         assume: list[str] | None = ASSUME, with_law: bool = False, p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    result = diff_options(v.scenario_for_totals(), v.option(a), v.option(b), as_of=as_of,
                          assume=v.assume(split(assume)), law=with_law)
    return {**v.redact_doc(result.to_dict()), "withheld": v.withheld()}


@router.get("/api/scenarios/{scenario}/lint", summary="What the scenario probably did not mean (warnings)")
def lint(scenario: str, request: Request, regime: list[str] | None = Query(None), as_of: dt.date | None = None,
         p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    regimes = v.options(split(regime)) or ([r for r in v.scenario.regimes if r not in v.hidden_regimes]
                                           if v.hidden_regimes else None)
    if regimes:
        unknown = [r for r in regimes if r not in v.scenario.regimes]
        if unknown:
            raise UsageError(f"unknown regime `{unknown[0]}`")
    findings = lint_scenario(v.scenario_for_totals(), regimes, as_of=as_of)
    return {**v.redact_doc(error_document(findings, 0)), "scenario": scenario, "withheld": v.withheld()}
