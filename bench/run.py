"""`make bench`: tranche's evaluators against Cedar (cedarpy), Casbin and a dictionary lookup.

Every case runs in its own subprocess (so its peak memory is its own) and
prints one JSON line; this driver collects them into bench/results.json and
writes bench/RESULTS.md.  Run one case with ``python bench/run.py --case NAME``.

Cases:
  latency            single decisions, p50/p99: dict lookup, evaluator, evaluator + explanation,
                     cedarpy, casbin (Peru 1962, `limited` on 1962-10-03, FY1963 appropriation assumed)
  duckdb-1m/-10m     the compiled query over generated Parquet: decisions only, GROUP BY, Parquet out
  loop-1m            the in-memory evaluator over a sample of the file, extrapolated
  cedar-batch        cedarpy.is_authorized_batch over a sample, extrapolated
  sweep              3 options x 52 weekly dates over 1M items: summary (and full Parquet output)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENARIO = ROOT / "scenarios" / "peru-1962"
AS_OF = dt.date(1962, 10, 3)
OPTION = "limited"
ASSUME = ("congress.appropriation.FY1963",)
DATA = Path(os.environ.get("TRANCHE_BENCH_DIR", Path(tempfile.gettempdir()) / "tranche-bench"))


# ---------------------------------------------------------------------------------------------------------
# data


def generate_items(n: int) -> Path:
    """n items of the Peru pipeline's shape (programs, channels, categories, flags), written by DuckDB."""
    import duckdb

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"items-{n}.parquet"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.parquet")
    con = duckdb.connect()
    pipeline = str(SCENARIO / "pipeline.csv")
    con.execute(f"""
        COPY (
          WITH p AS (SELECT row_number() OVER () - 1 AS k, *
                     FROM read_csv('{pipeline}', header = true, all_varchar = true))
          SELECT 'G' || lpad(CAST(r.range AS VARCHAR), 9, '0') AS id, p.recipient, p.program, p.channel,
                 p.category,
                 CAST(CAST(p.amount AS DECIMAL(18, 2)) * (0.5 + hash(r.range) % 1000 / 1000.0) AS DECIMAL(18, 2))
                   AS amount,
                 coalesce(p.flags, '') AS flags, p.description
          FROM range({n}) r JOIN p ON p.k = hash(r.range * 7919) % (SELECT count(*) FROM p)
        ) TO '{tmp}' (FORMAT parquet)""")
    con.close()
    tmp.rename(path)
    return path


def generate_items_text(n: int) -> Path:
    """The same items with string ids and amounts written as text (what an export from a spreadsheet gives)."""
    import duckdb

    path = DATA / f"items-text-{n}.parquet"
    if path.exists():
        return path
    source = generate_items(n)
    tmp = path.with_suffix(".tmp.parquet")
    duckdb.connect().execute(
        f"COPY (SELECT id, recipient, program, channel, category, CAST(amount AS VARCHAR) AS amount, flags, "
        f"description FROM read_parquet('{source}')) TO '{tmp}' (FORMAT parquet)")
    tmp.rename(path)
    return path


def _env() -> dict[str, str]:
    """The environment of a child process: this checkout's tranche first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _tranche() -> str:
    return str(Path(sys.executable).parent / "tranche")


_CPU: list[float] = []  # CPU seconds (user + system) of the last child process, for load-robust ratios


def _timed(cmd: list[str]) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _CPU[:] = [(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {proc.stderr.strip()[-500:]}")
    return seconds, proc.stdout


def scenario() -> Any:
    import tranche

    return tranche.load_scenario(SCENARIO)


# ---------------------------------------------------------------------------------------------------------
# Cedar and Casbin encodings of the same policy (law + `limited`, facts fixed)


def _policy(s: Any) -> Any:
    from tranche.compiler.plan import resolve_policy

    return resolve_policy(s, AS_OF, OPTION, ASSUME).policy


def cedar_encoding(s: Any) -> tuple[str, dict[str, int], list[dict[str, Any]]]:
    """Cedar policies (one permit per rule, id = rule id; the regime default as a guarded permit).

    Cedar answers Allow with the satisfied policies as reasons; the outcome is the
    most restrictive of their ranks (the same combination tranche makes).
    """
    policy = _policy(s)
    law, (_, regime) = policy.law, policy.regimes[0]
    ranks: dict[str, int] = {}
    texts = []

    def pred(p: Any) -> str:
        a, op, vals = p.attribute, p.op, list(p.values)
        if a == "category":
            test = " || ".join(f'resource in Category::"{v}"' for v in vals)
            return f"({test})" if op == "under" else f"!({test})"
        if a == "flags":
            arr = json.dumps(vals)
            return {"all": f"resource.flags.containsAll({arr})", "any": f"resource.flags.containsAny({arr})",
                    "none": f"!resource.flags.containsAny({arr})"}[op]
        if a == "amount":
            fn = {"gt": "greaterThan", "gte": "greaterThanOrEqual", "lt": "lessThan", "lte": "lessThanOrEqual"}
            if op == "eq":
                return f'resource.amount == decimal("{vals[0]:.2f}")'
            return f'resource.amount.{fn[op]}(decimal("{Decimal(vals[0]):.2f}"))'
        arr = json.dumps(vals)
        test = f"{arr}.contains(resource.{a})"
        return test if op == "in" else f"!{test}"

    def cond(c: Any) -> str:
        return " && ".join(pred(p) for p in c.predicates) or "true"

    def matches(rule: Any) -> str:
        out = f"({cond(rule.when)})"
        for u in rule.unless:
            out += f" && !({cond(u)})"
        return out

    # cedar names the policies of a set policy0, policy1, ... in order; `names` maps them back
    for layer in (law, regime):
        for st in layer.rules:
            ranks[f"policy{len(texts)}"] = st.outcome.rank
            texts.append(f'@id("{st.rule.id}") permit(principal, action, resource) when {{ {matches(st.rule)} }};')
    if regime.default.rank > 0:
        none = " || ".join(matches(st.rule) for st in regime.rules) or "false"
        ranks[f"policy{len(texts)}"] = regime.default.rank
        texts.append(f'@id("default:{regime.name}") permit(principal, action, resource) when {{ !({none}) }};')
    cats = [{"uid": {"type": "Category", "id": n}, "attrs": {},
             "parents": [{"type": "Category", "id": s.taxonomy.nodes[n].parent}] if s.taxonomy.nodes[n].parent else []}
            for n in s.taxonomy.nodes]
    return "\n".join(texts), ranks, cats


def cedar_entity(item: Any) -> dict[str, Any]:
    return {"uid": {"type": "Item", "id": item.id},
            "attrs": {**{k: v for k, v in item.attrs.items() if isinstance(v, str)},  # declared text attributes
                      "channel": item.channel, "program": item.program, "program_status": item.program_status,
                      "recipient": item.recipient, "flags": sorted(item.flags),
                      "amount": {"__extn": {"fn": "decimal", "arg": f"{item.amount:.2f}"}}},
            "parents": [{"type": "Category", "id": item.category}]}


def cedar_request(item: Any) -> dict[str, Any]:
    return {"principal": 'Recipient::"PER"', "action": 'Action::"deliver"',
            "resource": {"type": "Item", "id": item.id}, "context": {}}


def cedar_outcome(result: Any, ranks: dict[str, int]) -> tuple[int, tuple[str, ...]]:
    reasons = result.diagnostics.reasons
    rank = max((ranks[r] for r in reasons), default=0)
    return rank, tuple(r for r in reasons if ranks[r] == rank)


class _Obj:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


def casbin_enforcer(s: Any) -> Any:
    """Casbin: one policy line per rule, most restrictive first; `priority` effect = first match decides.

    The regime default is a line guarded by "no regime rule matches", at its rank;
    the law default (permitted) is the last line.  Casbin reports the one line that
    decided (tranche reports every deciding rule).
    """
    import casbin

    policy = _policy(s)
    law, (_, regime) = policy.law, policy.regimes[0]
    subtree = {n: sorted(x for x in s.taxonomy.nodes if x == n or x.startswith(n + ".")) for n in s.taxonomy.nodes}

    def pred(p: Any) -> str:
        a, op, vals = p.attribute, p.op, list(p.values)
        if a == "category":
            nodes = sorted({x for v in vals for x in subtree[v]})
            return f"r.obj.category {'in' if op == 'under' else 'not in'} {tuple(nodes)!r}"
        if a == "flags":
            if op == "all":
                return " and ".join(f"'{v}' in r.obj.flags" for v in vals)
            test = " or ".join(f"'{v}' in r.obj.flags" for v in vals)
            return f"({test})" if op == "any" else f"not ({test})"
        if a == "amount":
            sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=="}[op]
            return f"r.obj.amount {sym} {float(vals[0])!r}"
        return f"r.obj.{a} {'in' if op == 'in' else 'not in'} {tuple(vals)!r}"

    def cond(c: Any) -> str:
        return " and ".join(f"({pred(p)})" for p in c.predicates) or "True"

    def matches(rule: Any) -> str:
        out = f"({cond(rule.when)})"
        for u in rule.unless:
            out += f" and not ({cond(u)})"
        return out

    lines: list[tuple[int, str, str]] = [(st.outcome.rank, matches(st.rule), st.rule.id)
                                         for layer in (law, regime) for st in layer.rules]
    if regime.default.rank > 0:
        none = " or ".join(matches(st.rule) for st in regime.rules) or "False"
        lines.append((regime.default.rank, f"not ({none})", f"default:{regime.name}"))
    lines.sort(key=lambda x: -x[0])
    lines.append((0, "True", "default:law"))
    model = casbin.model.Model()
    model.load_model_from_text("""
[request_definition]
r = obj
[policy_definition]
p = sub_rule, eft, rid
[policy_effect]
e = priority(p.eft) || deny
[matchers]
m = eval(p.sub_rule)
""")
    enforcer = casbin.Enforcer(model)
    for rank, rule, rid in lines:
        enforcer.add_named_policy("p", [rule, "allow" if rank == 0 else "deny", rid])
    return enforcer


def casbin_obj(item: Any) -> Any:
    return _Obj(**dict(item.attrs), channel=item.channel, category=item.category, program=item.program,
                program_status=item.program_status, recipient=item.recipient, flags=item.flags,
                amount=float(item.amount))  # declared attributes (e.g. Peru's `commitment`) too


# ---------------------------------------------------------------------------------------------------------
# cases


def _percentiles(samples_ns: list[int]) -> dict[str, float]:
    samples_ns.sort()
    n = len(samples_ns)
    return {"p50_us": samples_ns[n // 2] / 1000, "p99_us": samples_ns[int(n * 0.99)] / 1000,
            "mean_us": sum(samples_ns) / n / 1000, "calls": n}


def _latency(fn: Callable[[Any], Any], items: list[Any], rounds: int) -> dict[str, float]:
    clock = time.perf_counter_ns
    for item in items:  # warm up
        fn(item)
    samples = []
    gc.disable()
    try:
        for _ in range(rounds):
            for item in items:
                t0 = clock()
                fn(item)
                samples.append(clock() - t0)
    finally:
        gc.enable()
    return _percentiles(samples)


def case_latency() -> dict[str, Any]:
    import cedarpy

    from tranche.engine import Evaluator, decision_dict

    s = scenario()
    items = list(s.items)
    ev = Evaluator(s, AS_OF, ASSUME, OPTION)
    table = {(i.channel, i.category, i.program, i.flags): ev.decide(i).outcome for i in items}
    out: dict[str, Any] = {}
    out["dict lookup (floor)"] = _latency(lambda i: table[(i.channel, i.category, i.program, i.flags)], items, 4000)
    out["tranche evaluator"] = _latency(ev.decide, items, 4000)
    out["tranche evaluator + explanation"] = _latency(lambda i: decision_dict(ev.decide(i)), items, 2000)
    from tranche.compiler import compile_policy
    from tranche.compiler.lookup import Decider

    compiled = compile_policy(s, AS_OF, OPTION, ASSUME)
    assert compiled.lookup is not None
    decider = Decider(compiled.lookup)
    wrong = [i.id for i in items if (lambda v, d: v is None or (v.outcome, v.rules, v.missing) !=
                                     (d.outcome, d.rules, d.missing_facts))(decider.decide(i), ev.decide(i))]
    out["compiled lookup in memory (Decider)"] = _latency(decider.decide, items, 4000)
    out["compiled lookup in memory (Decider)"]["disagreements"] = len(wrong)
    policies, ranks, cats = cedar_encoding(s)
    pset = cedarpy.PolicySet.from_str(policies)
    ents = cedarpy.Entities.from_json_str(json.dumps(cats + [cedar_entity(i) for i in items]))
    # the encodings agree with tranche on the outcome for every item of the pipeline
    mism = [i.id for i in items
            if cedar_outcome(cedarpy.is_authorized(cedar_request(i), pset, ents), ranks)[0] != ev.decide(i).outcome.rank]
    out["cedarpy is_authorized"] = _latency(lambda i: cedar_outcome(cedarpy.is_authorized(cedar_request(i), pset, ents),
                                                                     ranks), items, 100)
    out["cedarpy is_authorized"]["disagreements"] = len(mism)
    enforcer = casbin_enforcer(s)
    objs = {i.id: casbin_obj(i) for i in items}
    rank_of = {"allow": 0}

    def casbin_decide(i: Any) -> Any:
        return enforcer.enforce_ex(objs[i.id])

    c_mism = []
    for i in items:
        allowed, explain = casbin_decide(i)
        rid = explain[2] if explain else "default:law"
        rank = 0 if allowed else next((st.outcome.rank for layer in (_policy(s).law, _policy(s).regimes[0][1])
                                      for st in layer.rules if st.rule.id == rid), _policy(s).regimes[0][1].default.rank)
        if rank != ev.decide(i).outcome.rank:
            c_mism.append(i.id)
    del rank_of
    out["casbin enforce_ex"] = _latency(casbin_decide, items, 40)
    out["casbin enforce_ex"]["disagreements"] = len(c_mism)
    return out


def _con(threads: int | None = None) -> Any:
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    return con


def _best(fn: Callable[[], Any], reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def case_duckdb(n: int) -> dict[str, Any]:
    from tranche.compiler.run import bulk, create_tables, duckdb_plan

    s = scenario()
    path = generate_items(n)
    con = _con()
    rel = con.read_parquet(str(path))
    rel.create_view("items")
    p = duckdb_plan(con, s, rel.columns, [AS_OF], [OPTION], ASSUME, "items")  # what `bulk` compiles
    inline = p.form != "lookup"
    if not inline:  # as `bulk` runs it: the small tables created, with ENUM columns
        create_tables(con, p)
    sql = p.sql("duckdb", inline=inline)
    plain = ("SELECT CASE WHEN channel = 'grant' AND category IN ('maintenance', 'spares') THEN 'permitted' "
             "ELSE 'prohibited' END AS outcome, 'r' AS rules FROM items")
    out: dict[str, Any] = {"items": n, "threads": con.execute("SELECT current_setting('threads')").fetchall()[0][0],
                           "form": p.form}
    sinks = {
        "decide (min outcome, max rules)": "SELECT min(outcome), max(rules) FROM ({q})",
        "decide + GROUP BY outcome, rules": "SELECT outcome, rules, count(*) FROM ({q}) GROUP BY ALL",
    }
    for label, sink in sinks.items():
        secs = _best(lambda: con.execute(sink.format(q=sql)).fetchall(), 5)
        base = _best(lambda: con.execute(sink.format(q=plain)).fetchall(), 5)
        out[label] = {"seconds": secs, "per_second": n / secs, "plain_case_seconds": base,
                      "plain_case_per_second": n / base}
    profile = con.execute("EXPLAIN ANALYZE " + sinks["decide (min outcome, max rules)"].format(q=sql)).fetchall()
    out["profile"] = profile[0][1]
    target = DATA / f"out-{n}.parquet"
    secs = _best(lambda: bulk(s, path, target, [AS_OF], [OPTION], ASSUME), 1)
    out["tranche bulk to Parquet (all columns)"] = {"seconds": secs, "per_second": n / secs}
    target.unlink(missing_ok=True)
    return out


def _items_from_parquet(path: Path, limit: int) -> list[Any]:
    """LineItems for a sample of the file (the conversion is timed separately)."""
    import duckdb

    from tranche.language.scenario import LineItem

    s = scenario()
    status = {p.id: p.status for p in s.programs.values()}
    rows = duckdb.connect().execute(
        f"SELECT id, recipient, program, channel, category, amount, flags FROM read_parquet('{path}') LIMIT {limit}"
    ).fetchall()
    return [LineItem(r[0], r[1], r[2], r[3], r[4], r[5], frozenset(f for f in (r[6] or "").split(",") if f),
                     program_status=status.get(r[2], "approved")) for r in rows]


def case_loop(n: int, sample: int = 200_000) -> dict[str, Any]:
    from tranche.engine import Evaluator

    path = generate_items(n)
    t0 = time.perf_counter()
    items = _items_from_parquet(path, sample)
    convert = time.perf_counter() - t0
    ev = Evaluator(scenario(), AS_OF, ASSUME, OPTION)
    secs = _best(lambda: [(d.outcome, d.rules) for d in map(ev.decide, items)])
    return {"items": n, "sample": sample, "seconds_sample": secs, "per_second": sample / secs,
            "extrapolated_seconds": secs * n / sample, "convert_seconds_sample": convert,
            "per_second_with_conversion": sample / (secs + convert)}


def case_cedar_batch(n: int, sample: int = 20_000) -> dict[str, Any]:
    import cedarpy

    s = scenario()
    items = _items_from_parquet(generate_items(n), sample)
    policies, ranks, cats = cedar_encoding(s)
    pset = cedarpy.PolicySet.from_str(policies)
    t0 = time.perf_counter()
    ents = cedarpy.Entities.from_json_str(json.dumps(cats + [cedar_entity(i) for i in items]))
    load = time.perf_counter() - t0
    requests = [cedar_request(i) for i in items]
    secs = _best(lambda: [cedar_outcome(r, ranks) for r in cedarpy.is_authorized_batch(requests, pset, ents)], 2)
    return {"items": n, "sample": sample, "seconds_sample": secs, "per_second": sample / secs,
            "entities_load_seconds": load, "extrapolated_seconds": secs * n / sample}


def case_sweep(n: int) -> dict[str, Any]:
    from tranche.compiler.run import bulk, dates_between, duckdb_plan

    s = scenario()
    path = generate_items(n)
    dates = dates_between(AS_OF, AS_OF + dt.timedelta(weeks=51), "7d")
    options = ["limited", "recommended", "full"]
    con = _con()
    rel = con.read_parquet(str(path))
    rel.create_view("items")
    t0 = time.perf_counter()
    p = duckdb_plan(con, s, rel.columns, dates, options, ASSUME, "items")
    ctxs = p.contexts
    sql = p.summary_sql("duckdb")
    compile_s = time.perf_counter() - t0
    secs = _best(lambda: con.execute(sql).fetchall(), 2)
    rows = con.execute(sql).fetchall()
    out: dict[str, Any] = {"items": n, "options": len(options), "dates": len(dates), "pairs": len(ctxs),
                           "distinct_policies": len(p.policies), "decisions": n * len(ctxs),
                           "compile_seconds": compile_s, "summary_seconds": secs + compile_s,
                           "summary_rows": len(rows), "decisions_per_second": n * len(ctxs) / (secs + compile_s)}
    if os.environ.get("TRANCHE_BENCH_SWEEP_WRITE", "1") != "0":
        target = DATA / "sweep.parquet"
        t0 = time.perf_counter()
        res = bulk(s, path, target, dates, options, ASSUME)
        out["bulk_parquet_seconds"] = time.perf_counter() - t0
        out["bulk_parquet_rows"] = res.rows
        out["bulk_parquet_bytes"] = target.stat().st_size
        target.unlink(missing_ok=True)
    return out


def case_profile_explain() -> dict[str, Any]:
    """Where the time of a decision with its explanation goes (cProfile, top functions)."""
    import cProfile
    import io
    import pstats

    from tranche.engine import Evaluator, decision_dict

    s = scenario()
    ev = Evaluator(s, AS_OF, ASSUME, OPTION)
    items = list(s.items) * 400
    prof = cProfile.Profile()
    prof.enable()
    for i in items:
        decision_dict(ev.decide(i))
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
    return {"calls": len(items), "profile": buf.getvalue()}


def case_cli(n: int, sample: int = 100_000) -> dict[str, Any]:
    """`tranche bulk` on the generated file, checked: a sample against the evaluator, the summary against
    a GROUP BY of the output file."""
    import duckdb

    from tranche.engine import Evaluator

    path = generate_items(n)
    out = DATA / f"cli-{n}.parquet"
    cmd = [str(Path(sys.executable).parent / "tranche"), "bulk", str(SCENARIO), "--items", str(path), "--as-of",
           AS_OF.isoformat(), "--options", "limited,recommended,full", "--assume", ASSUME[0], "--out", str(out),
           "--format", "json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t0
    summary = json.loads(proc.stdout)["summary"]
    con = duckdb.connect()
    grouped = {(r[0], r[1], r[2]): (Decimal(str(r[3])), r[4]) for r in con.execute(
        f"SELECT option, program, outcome, sum(CAST(amount AS DECIMAL(18, 2))), count(*) FROM read_parquet('{out}') "
        "GROUP BY ALL").fetchall()}
    same_totals = all(grouped[(r["option"], r["program"], r["outcome"])] == (Decimal(r["amount"]), r["items"])
                      for r in summary) and len(grouped) == len(summary)
    items = {i.id: i for i in _items_from_parquet(path, sample)}
    rows = con.execute(f"SELECT id, option, outcome, rules, missing_facts FROM read_parquet('{out}') "
                       f"WHERE id IN (SELECT id FROM read_parquet('{path}') LIMIT {sample})").fetchall()
    s = scenario()
    evs = {o: Evaluator(s, AS_OF, ASSUME, o) for o in ("limited", "recommended", "full")}
    wrong = 0
    for item_id, option, outcome, rules, missing in rows:
        d = evs[option].decide(items[item_id])
        wrong += (d.outcome.value, ",".join(d.rules), ",".join(d.missing_facts)) != (outcome, rules, missing)
    out.unlink(missing_ok=True)
    return {"items": n, "command": " ".join(["tranche", *cmd[1:]]), "seconds": seconds, "decisions": 3 * n,
            "summary_equals_group_by": same_totals, "sample_rows_checked": len(rows), "sample_disagreements": wrong}


def case_e2e(n: int, rounds: int = 5) -> dict[str, Any]:
    """`tranche bulk ... --options limited --out X.parquet` as a whole process against DuckDB's own COPY of the
    same rows to Parquet, also a whole process (Python + duckdb), alternated in the same run."""
    import duckdb

    path = generate_items_text(n)
    copy_out, bulk_out = DATA / f"copy-{n}.parquet", DATA / f"e2e-{n}.parquet"
    copy = [sys.executable, "-c", "import duckdb; duckdb.connect().execute(\"COPY (SELECT * FROM read_parquet("
            f"'{path}')) TO '{copy_out}' (FORMAT parquet)\")"]
    cmd = [_tranche(), "bulk", str(SCENARIO), "--items", str(path), "--as-of", AS_OF.isoformat(), "--options",
           OPTION, "--assume", ASSUME[0], "--out", str(bulk_out), "--format", "json"]
    copies, bulks, ratios, copy_cpu, bulk_cpu = [], [], [], [], []
    summary: Any = None
    for _ in range(rounds):
        c, _ = _timed(copy)
        copy_cpu.append(_CPU[0])
        b, text = _timed(cmd)
        bulk_cpu.append(_CPU[0])
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        summary = json.loads(text)["summary"]
        copies.append(c)
        bulks.append(b)
        ratios.append(b / c)
    con = duckdb.connect()
    grouped = {(r[0], r[1], r[2]): (Decimal(str(r[3])), r[4]) for r in con.execute(
        f"SELECT option, program, outcome, sum(CAST(amount AS DECIMAL(18, 2))), count(*) FROM read_parquet('{bulk_out}') "
        "GROUP BY ALL").fetchall()}
    same = len(grouped) == len(summary) and all(
        grouped[(r["option"], r["program"], r["outcome"])] == (Decimal(r["amount"]), r["items"]) for r in summary)
    out = {"items": n, "rounds": rounds, "copy_command": " ".join(copy), "command": " ".join(["tranche", *cmd[1:]]),
           "copy_seconds": copies, "bulk_seconds": bulks, "ratios": ratios,
           "ratio_median": sorted(ratios)[len(ratios) // 2], "ratio_best_of": min(bulks) / min(copies),
           "copy_cpu_seconds": copy_cpu, "bulk_cpu_seconds": bulk_cpu,
           "cpu_ratio_median": sorted(b / c for b, c in zip(bulk_cpu, copy_cpu))[len(copy_cpu) // 2],
           "decisions_per_second": n / min(bulks), "summary_equals_group_by": same,
           "output_bytes": bulk_out.stat().st_size, "copy_bytes": copy_out.stat().st_size,
           "peak_rss_mb_of_either_process": rss}
    copy_out.unlink(missing_ok=True)
    bulk_out.unlink(missing_ok=True)
    return out


def case_sweep_narrow(n: int) -> dict[str, Any]:
    """3 options x 52 weekly dates over n items, narrow layout, `tranche bulk` as a whole process; the summary it
    prints equals a GROUP BY over the written decisions."""
    import shutil

    import duckdb

    path = generate_items(n)
    folder = DATA / "sweep-narrow"
    shutil.rmtree(folder, ignore_errors=True)
    end = AS_OF + dt.timedelta(weeks=51)
    cmd = [_tranche(), "bulk", str(SCENARIO), "--items", str(path), "--every", "7d", "--from", AS_OF.isoformat(),
           "--to", end.isoformat(), "--options", "limited,recommended,full", "--assume", ASSUME[0],
           "--out", str(folder), "--format", "json"]
    runs = []
    text = ""
    for _ in range(2):
        seconds, text = _timed(cmd)
        runs.append(seconds)
    data = json.loads(text)
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")  # the check shares the machine too
    # the items (1M rows) as the build side of the join, by construction
    con.execute(f"CREATE TABLE i AS SELECT item, program, amount FROM read_parquet('{folder}/items.parquet')")
    grouped = con.execute(
        f"SELECT p.option, p.as_of, g.program, o.name, sum(g.amount), sum(g.n) FROM ("
        f"  SELECT d.pair, d.outcome, i.program, sum(i.amount) AS amount, count(*) AS n "
        f"  FROM read_parquet('{folder}/decisions/*/*.parquet', hive_partitioning = true) d "
        f"  JOIN i ON i.item = d.item GROUP BY ALL) g "
        f"JOIN read_parquet('{folder}/pairs.parquet') p USING (pair) "
        f"JOIN read_parquet('{folder}/outcomes.parquet') o USING (outcome) GROUP BY ALL").fetchall()
    written = {(o, str(d), p, n_, f"{Decimal(a):.2f}", c) for o, d, p, n_, a, c in grouped}
    printed = {(r["option"], r["as_of"], r["program"], r["outcome"], r["amount"], r["items"]) for r in data["summary"]}
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    out = {"items": n, "pairs": len(data["contexts"]), "decisions": data["rows"], "command": " ".join(["tranche", *cmd[1:]]),
           "seconds": runs, "best_seconds": min(runs), "decisions_per_second": data["rows"] / min(runs),
           "summary_equals_group_by": written == printed, "bytes": size, "tranche_peak_rss_mb": child_rss}
    shutil.rmtree(folder, ignore_errors=True)
    return out


def case_forms(n: int) -> dict[str, Any]:
    """The lookup form against the CASE form and a plain two-branch CASE, same process, same sinks."""
    from tranche.compiler.run import _duckdb_plan, create_tables

    s = scenario()
    path = generate_items(n)
    con = _con()
    con.read_parquet(str(path)).create_view("__t_items")
    cols = tuple(con.execute("SELECT * FROM __t_items LIMIT 0").description and
                 [d[0] for d in con.execute("SELECT * FROM __t_items LIMIT 0").description])
    look, _ = _duckdb_plan(con, s, cols, [AS_OF], [OPTION], ASSUME, "__t_items", None, "lookup")
    case, _ = _duckdb_plan(con, s, cols, [AS_OF], [OPTION], ASSUME, "__t_items", None, "case")
    create_tables(con, look)
    plain = ("SELECT CASE WHEN channel = 'grant' AND category IN ('maintenance', 'spares') THEN 'permitted' "
             "ELSE 'prohibited' END AS outcome, 'r' AS rules FROM __t_items")
    queries = {"lookup form": look.sql("duckdb", inline=False), "case form": case.sql("duckdb"), "plain CASE": plain}
    sink = "SELECT min(outcome), max(rules) FROM ({q})"
    out: dict[str, Any] = {"items": n, "classes": look.lookup.size if look.lookup else None}
    for _ in range(2):
        for label, q in queries.items():
            secs = _best(lambda: con.execute(sink.format(q=q)).fetchall(), 3)
            best = min(secs, out.get(label, {}).get("seconds", float("inf")))
            out[label] = {"seconds": best, "per_second": n / best}
    return out


def case_spark(n: int) -> dict[str, Any]:
    """Local Spark (`bulk_spark`, local[*]) beside DuckDB (`bulk`) on the same n items, same process."""
    import shutil

    from tranche.compiler.run import bulk, bulk_spark, spark_session

    s = scenario()
    path = generate_items(n)
    t0 = time.perf_counter()
    spark = spark_session("local[*]")
    spark.sparkContext.setLogLevel("ERROR")
    start = time.perf_counter() - t0
    out: dict[str, Any] = {"items": n, "spark_session_start_seconds": start}
    target = DATA / f"spark-{n}.parquet"
    for label, fn in (("duckdb", lambda: bulk(s, path, target, [AS_OF], [OPTION], ASSUME)),
                      ("spark local[*]", lambda: bulk_spark(s, path, target, [AS_OF], [OPTION], ASSUME, spark=spark))):
        t0 = time.perf_counter()
        res = fn()
        secs = time.perf_counter() - t0
        out[label] = {"seconds": secs, "per_second": n / secs, "form": res.form,
                      "permitted": str(sum(r.amount for r in res.summary if r.outcome == "permitted"))}
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
    spark.stop()
    return out


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "latency": case_latency,
    "duckdb-1m": lambda: case_duckdb(1_000_000),
    "duckdb-10m": lambda: case_duckdb(10_000_000),
    "loop-1m": lambda: case_loop(1_000_000),
    "loop-10m": lambda: case_loop(10_000_000),
    "cedar-batch-1m": lambda: case_cedar_batch(1_000_000),
    "cedar-batch-10m": lambda: case_cedar_batch(10_000_000),
    "profile-explain": case_profile_explain,
    "sweep-1m": lambda: case_sweep(1_000_000),
    "cli-10m": lambda: case_cli(10_000_000),
    "e2e-10m": lambda: case_e2e(10_000_000),
    "sweep-narrow-1m": lambda: case_sweep_narrow(1_000_000),
    "forms-10m": lambda: case_forms(10_000_000),
    "spark-10m": lambda: case_spark(10_000_000),
}


def run_case(name: str) -> dict[str, Any]:
    result = CASES[name]()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# ---------------------------------------------------------------------------------------------------------
# driver


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=sorted(CASES), help="run one case and print its JSON")
    ap.add_argument("--only", nargs="*", default=None, help="cases to run (default: all)")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case), default=str))
        return
    _ensure_bench_extra()
    for n in (1_000_000, 10_000_000):
        generate_items(n)
    generate_items_text(10_000_000)
    results: dict[str, Any] = {}
    previous = ROOT / "bench" / "results.json"
    if args.only and previous.exists():  # a partial run keeps the other cases' last results
        results = json.loads(previous.read_text()).get("results", {})
    for name in args.only or list(CASES):
        sys.stderr.write(f"bench: {name} ...\n")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True)
        if proc.returncode != 0:
            results[name] = {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
            sys.stderr.write(proc.stderr)
        else:
            results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
            results[name]["run_at"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        sys.stderr.write(f"bench: {name} done in {time.perf_counter() - t0:.1f}s\n")
    meta = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores", "versions": _versions()}
    (ROOT / "bench" / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    from report import write_report  # bench/report.py, beside this file

    write_report(ROOT / "bench" / "RESULTS.md", meta, results)
    sys.stderr.write("bench: wrote bench/RESULTS.md and bench/results.json\n")


def _ensure_bench_extra() -> None:
    """cedarpy and Casbin come with the `bench` extra; install it with pip when missing."""
    import importlib.util

    if all(importlib.util.find_spec(m) for m in ("cedarpy", "casbin")):
        return
    sys.stderr.write("bench: installing the bench extra (cedarpy, pycasbin) with pip\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[bench]"], check=True)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("duckdb", "sqlglot", "cedarpy", "pycasbin", "pyspark"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


if __name__ == "__main__":
    main()
