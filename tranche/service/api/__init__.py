"""The JSON API under ``/api/``: one router per resource.

``health`` (no authentication), ``scenarios`` (scenarios, recipients, the timeline, programs, line items),
``decisions`` (single, batch, ad-hoc requests), ``analysis`` (compare, diff, lint), ``facts``, ``cases``
(review cases), ``audit`` (the log and its verification), ``users`` (who am I; users for admins).
"""

from . import analysis, audit, cases, decisions, facts, health, scenarios, users

ROUTERS = (health.router, users.router, scenarios.router, decisions.router, analysis.router, facts.router,
           cases.router, audit.router)

__all__ = ["ROUTERS"]
