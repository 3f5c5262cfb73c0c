"""Reading a stored scenario back: the one place the store turns its rows and documents into a :class:`Scenario`.

Loading, facts and review cases all read scenarios; keeping the reader apart from the loader lets each
of them import it at the top, with no import inside a function.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..errors import NotFound, UsageError, did_you_mean
from ..language.scenario import Fact, Program, Scenario, Source, Taxonomy, TaxonomyNode
from . import codec
from .tables import (
    facts,
    law_versions,
    line_items,
    policy_tests,
    programs,
    regime_versions,
    regimes,
    scenarios,
    sources,
    taxonomy_nodes,
    timelines,
)

__all__ = ["scenario_ids", "pick", "read"]


def scenario_ids(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(select(scenarios.c.id).order_by(scenarios.c.id))]


def pick(conn: Connection, given: str | None, where: str = "") -> str:
    """The scenario meant: ``given`` (which must exist), else the only one in the database."""
    ids = scenario_ids(conn)
    place = f" in database `{where}`" if where else ""
    if given is not None:
        if given in ids:
            return given
        raise NotFound(f"no scenario `{given}`{place}",
                       help=did_you_mean(given, ids) or ("loaded: " + ", ".join(f"`{i}`" for i in ids) if ids else
                                                         "load one with `tranche load FOLDER`"))
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise NotFound(f"no scenario is loaded{place}", help="load one with `tranche load FOLDER`")
    raise UsageError(f"the database holds {len(ids)} scenarios: {', '.join(f'`{i}`' for i in ids)}",
                     help="say which with --scenario ID")


def read(conn: Connection, scenario_id: str) -> Scenario:
    """The scenario as stored (current law and regime versions, facts as asserted)."""
    row = conn.execute(select(scenarios).where(scenarios.c.id == scenario_id)).first()
    if row is None:
        raise NotFound(f"no scenario `{scenario_id}` in the database",
                       help=did_you_mean(scenario_id, scenario_ids(conn)) or "load one with `tranche load FOLDER`")
    sid = scenario_id
    manifest = codec.loads(row.manifest)
    attributes = codec.attributes_from_manifest(manifest)
    types = codec.types_of(attributes)

    def rows(table: Any) -> list[Any]:
        return list(conn.execute(select(table).where(table.c.scenario_id == sid).order_by(table.c.position)))

    node_rows = rows(taxonomy_nodes)
    children: dict[str, list[str]] = {}
    for n in node_rows:
        if n.parent is not None:
            children.setdefault(n.parent, []).append(n.id)
    taxonomy = Taxonomy({n.id: TaxonomyNode(n.id, n.parent, tuple(children.get(n.id, ())), n.title, n.description,
                                            tuple(codec.loads(n.sources))) for n in node_rows})
    srcs = {x.id: Source(x.id, x.title, x.kind, x.citation, x.date, x.file, tuple(codec.loads(x.notes)),
                         x.marking) for x in rows(sources)}
    progs = {p.id: Program(p.id, p.recipient, p.title, p.fiscal_year, p.total, p.status, tuple(codec.loads(p.sources)),
                           tuple(codec.loads(p.notes))) for p in rows(programs)}
    items = tuple(codec.item_from_doc({
        "id": it.id, "recipient": it.recipient, "program": it.program, "channel": it.channel,
        "category": it.category, "amount": it.amount, "flags": codec.loads(it.flags), "description": it.description,
        "program_status": it.program_status, "attrs": codec.loads(it.attrs), "line": it.line,
        "marking": it.marking}, types)
        for it in rows(line_items))
    fcts = codec.with_fact_semantics(
        {f.id: Fact(f.id, f.title, f.kind, f.date, f.until, f.recipient, tuple(codec.loads(f.sources)),
                    tuple(codec.loads(f.notes)), marking=f.marking) for f in rows(facts)}, manifest, types)
    fcts, progs, items = codec.with_provenance(manifest, fcts, progs, items)  # bases; keeps roles and lifts
    law_row = conn.execute(select(law_versions.c.document).where(
        (law_versions.c.scenario_id == sid) & (law_versions.c.version == row.law_version))).scalar_one()
    law = codec.law_from_doc(codec.loads(law_row), types, row.law_version)
    regime_rows = conn.execute(
        select(regimes.c.regime_id, regimes.c.current_version, regimes.c.marking, regime_versions.c.document)
        .join(regime_versions, (regime_versions.c.scenario_id == regimes.c.scenario_id)
              & (regime_versions.c.regime_id == regimes.c.regime_id)
              & (regime_versions.c.version == regimes.c.current_version))
        .where(regimes.c.scenario_id == sid).order_by(regimes.c.position))
    regs = {}
    for r in regime_rows:
        regime = codec.regime_from_doc(codec.loads(r.document), types, r.current_version)
        regs[regime.id] = regime if regime.marking == r.marking else dataclasses.replace(regime, marking=r.marking)
    tls = {t.id: codec.timeline_from_doc(codec.loads(t.document)) for t in rows(timelines)}
    tests = tuple(codec.test_from_doc(codec.loads(t.document), types) for t in rows(policy_tests))
    return Scenario(
        id=sid, title=row.title, root=Path(row.path), description=manifest["description"], donor=manifest["donor"],
        currency=manifest["currency"], recipients=dict(manifest["recipients"]), channels=dict(manifest["channels"]),
        flags=dict(manifest["flags"]), attributes=attributes, taxonomy=taxonomy, programs=progs, items=items,
        facts=fcts, law=law, regimes=regs, timelines=tls, sources=srcs, tests=tests, notes=tuple(manifest["notes"]),
        scenario_sources=tuple(manifest["sources"]), demo=codec.demo_from_manifest(manifest),
        aggregates=codec.aggregates_from_manifest(manifest))
