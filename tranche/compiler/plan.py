"""Policy (law + regime + facts + as-of) -> one dialect-neutral sqlglot expression.

Partial evaluation, in three steps:

1. **Resolve** (:func:`resolve_policy`): with the date and the facts fixed, the
   regime in force is known (per recipient when the timeline of record decides)
   and every rule's outcome is a constant: its effect, or `blocked` with its
   missing facts.  What is left depends only on the item: a :class:`Policy`.
2. **Deduplicate**: many (option, date) pairs resolve to the same policy (the
   regime and the relevant facts rarely change from week to week); each
   distinct policy is compiled once and shared.
3. **Compile** (:class:`Compiler`): one method per policy node, found by name
   -- ``<op>_sql`` for a predicate (``in_sql``, ``under_sql``, ``gte_sql``, ...),
   ``condition_sql``, ``rule_sql``, ``layer_sql``, ``decision_sql``,
   ``policy_sql`` -- building sqlglot expressions, never strings.  Every value
   is a sqlglot literal (quoted and escaped by the generator).

The query has four levels over the items (``source``):

* ``prepared``: the input columns plus derived inputs (``program_status`` from
  the scenario's programs, text casts of declared attributes); flags are tested
  as ``,a,b,`` and amounts as DECIMAL(18,2) inline, where DuckDB can evaluate
  them on dictionary-encoded values;
* ``matched``: one boolean per rule (the rule's ``when`` and none of its
  ``unless``), shared by every policy that contains the rule;
* ``ranked``: per policy, the outcome's rank (0 permitted .. 3 prohibited);
* the output: per policy the outcome, the deciding rule ids and the missing
  facts as constant strings chosen by CASE, joined to the small table of
  (option, as_of, policy) contexts.

Deciding rules are written comma-separated in the in-memory evaluator's order
(law rules in file order, then the regime's; when no rule decided,
``default:<regime>`` then ``default:law``); missing facts comma-separated and
sorted; both are empty strings when there are none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

from sqlglot import exp

from ..engine.timeline import FactState, facts_at, regime_in_force, resolve_option
from ..errors import UsageError
from ..language.scenario import OUTCOMES, STAGES, Condition, Outcome, Predicate, Regime, Scenario
from ..language.values import DATE_TEXT, SET_SEPARATOR, parse_date
from ..semantics import Layer, RuleState, default_marker, entry_start, resolve_layer
from .caps import cap_select
from .dialects import generate
from .lookup import LOOKUP_CEILING, LOOKUP_LIMIT, Lookup, _case, lookup

__all__ = [
    "RuleState",
    "Layer",
    "Policy",
    "Context",
    "Plan",
    "SmallTable",
    "Compiler",
    "REQUIRED_COLUMNS",
    "OUTPUT_COLUMNS",
    "resolve_policy",
    "contexts",
    "plan",
    "compile_policy",
]

REQUIRED_COLUMNS = ("id", "recipient", "program", "channel", "category", "amount")
OUTPUT_COLUMNS = ("option", "as_of", "outcome", "rules", "missing_facts")
AMOUNT_TYPE = "DECIMAL(18, 2)"
DECIMAL_ATTRIBUTE_TYPE = "DECIMAL(38, 10)"
SEPARATOR = SET_SEPARATOR  # of sets in the input, and of rule and fact lists in the output
_SUBSET_LIMIT = 3  # up to this many candidate rules, deciding-rule lists are enumerated as constants
_P = "__t_"  # prefix of the compiler's own columns
ROW = _P + "row"  # the row number a runner may add to the items (the narrow layout's item key)


# ---------------------------------------------------------------------------------------------------------
# step 1: resolve the facts and the regime in force


@dataclass(frozen=True)
class Policy:
    """What is left of the decision contract once the date and facts are fixed.

    ``regimes`` maps recipients to the regime layer in force; a single entry
    with recipient ``None`` applies to every recipient (a named option).
    """

    law: Layer
    regimes: tuple[tuple[str | None, Layer], ...]


@dataclass(frozen=True)
class Context:
    """One (option, date) pair and the policy it resolves to."""

    option: str | None
    as_of: dt.date
    policy: Policy
    regimes: tuple[str, ...]
    facts: FactState = field(compare=False)


def _regime_layer(regime: Regime, facts: FactState, since: dt.date | None = None) -> Layer:
    """The regime's layer, in force since ``since`` (a regime named as an option: since the as-of date)."""
    return resolve_layer(regime.id, regime.version, regime.rules, regime.default, facts, regime.criterion,
                         since or facts.as_of)


def resolve_policy(scenario: Scenario, as_of: dt.date, option: str | None = None, assume: Iterable[str] = (),
                   recipients: Iterable[str] = ()) -> Context:
    """Fix the date and facts: the regime in force and each rule's outcome.

    ``option`` names a regime or a timeline (resolved at ``as_of``); ``None``
    means each recipient's timeline of record, resolved for ``recipients``
    (those present in the items).  Raises like the in-memory evaluator does:
    :class:`~tranche.errors.NotFound` for an unknown option,
    :class:`~tranche.errors.EvaluationError` when no regime is in force.
    """
    facts = facts_at(scenario, as_of, assume)
    law = resolve_layer("law", scenario.law.version, scenario.law.rules, scenario.law.default, facts)
    regimes: list[tuple[str | None, Layer]] = []
    if option is not None:
        target = resolve_option(scenario, option)
        if isinstance(target, Regime):
            regimes.append((None, _regime_layer(target, facts)))
        else:
            found = regime_in_force(scenario, "", facts, option)
            regimes.append((None, _regime_layer(found.regime, facts, entry_start(found.entry, facts))))
    else:
        by_recipient = {r: regime_in_force(scenario, r, facts) for r in sorted(set(recipients))}
        layers = [(r, _regime_layer(f.regime, facts, entry_start(f.entry, facts))) for r, f in by_recipient.items()]
        if layers and all(layer == layers[0][1] for _, layer in layers):  # one regime, the same since (if it matters)
            regimes.append((None, layers[0][1]))
        else:
            regimes += layers
    ids = tuple(dict.fromkeys(layer.name for _, layer in regimes))
    return Context(option, as_of, Policy(law, tuple(regimes)), ids, facts)


def contexts(scenario: Scenario, dates: Sequence[dt.date], options: Sequence[str | None] = (None,),
             assume: Iterable[str] = (), recipients: Iterable[str] = ()) -> list[Context]:
    """Every (option, date) pair, options outermost, each resolved."""
    assume = tuple(assume)
    recipients = tuple(recipients)
    if not dates:
        raise UsageError("no dates to evaluate", help="pass --as-of, --dates or --every with --from and --to")
    return [resolve_policy(scenario, day, option, assume, recipients) for option in options for day in dates]


# ---------------------------------------------------------------------------------------------------------
# step 3: compile


def _id(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference."""
    return exp.Column(this=_id(name), table=_id(table) if table else None)


def lit(value: str | int | Decimal | None) -> exp.Expr:
    """A literal (strings are quoted and escaped by the generator)."""
    if value is None:
        return exp.Null()
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(str(value))


def _decimal(value: Decimal, base: str = AMOUNT_TYPE) -> exp.Expr:
    exponent = value.as_tuple().exponent
    scale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    kind = base if scale <= 2 else f"DECIMAL(38, {min(scale, 30)})"
    return exp.Cast(this=exp.Literal.string(format(value, "f")), to=exp.DataType.build(kind))


def _or(terms: Sequence[exp.Expr]) -> exp.Expr:
    if not terms:
        return exp.false()
    out = terms[0]
    for t in terms[1:]:
        out = exp.Or(this=out, expression=t)
    return exp.Paren(this=out) if len(terms) > 1 else out


def _and(terms: Sequence[exp.Expr]) -> exp.Expr:
    if not terms:
        return exp.true()
    out = terms[0]
    for t in terms[1:]:
        out = exp.And(this=out, expression=t)
    return exp.Paren(this=out) if len(terms) > 1 else out


def _not(term: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Paren(this=term) if not isinstance(term, (exp.Column, exp.Paren, exp.Boolean)) else term)


def _strict(term: exp.Expr) -> exp.Expr:
    """``term`` with NULL read as FALSE (skipped where ``term`` cannot be NULL)."""
    if _never_null(term):
        return term
    return _mark(exp.Coalesce(this=term, expressions=[exp.false()]))


def _mark(term: exp.Expr) -> exp.Expr:
    """Note that ``term`` is never NULL."""
    term.meta["never_null"] = True
    return term


def _never_null(term: exp.Expr) -> bool:
    if isinstance(term, exp.Boolean) or term.meta.get("never_null"):
        return True
    if isinstance(term, (exp.And, exp.Or)):
        return _never_null(term.this) and _never_null(term.expression)
    if isinstance(term, (exp.Paren, exp.Not)):
        return _never_null(term.this)
    return False


def _concat(parts: Sequence[exp.Expr]) -> exp.Expr:
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p, safe=True)
    return out


_COMPARISONS: dict[str, type[exp.Binary]] = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE,
                                              "eq": exp.EQ}


class _Sql:
    """The SQL primitives of the operator table (:class:`tranche.language.operators.SqlBuilder`) in sqlglot."""

    def __init__(self, compiler: "Compiler", p: Predicate) -> None:
        self.compiler = compiler
        self.p = p

    def one_of(self, value: exp.Expr, values: Sequence[str]) -> exp.Expr:
        if len(values) == 1:
            return exp.EQ(this=value, expression=lit(values[0]))
        return exp.In(this=value, expressions=[lit(v) for v in values])

    def starts_with(self, value: exp.Expr, prefix: str) -> exp.Expr:
        return exp.StartsWith(this=value, expression=lit(prefix))

    def has_member(self, value: exp.Expr, member: str) -> exp.Expr:
        # sets are compared in their written form `,a,b,` (see Compiler.value)
        return _mark(exp.GT(this=exp.StrPosition(this=value, substr=lit(f"{SEPARATOR}{member}{SEPARATOR}")),
                            expression=exp.Literal.number(0)))

    def compare(self, value: exp.Expr, op: str, bound: Decimal) -> exp.Expr:
        base = AMOUNT_TYPE if self.p.attribute == "amount" else DECIMAL_ATTRIBUTE_TYPE
        return _COMPARISONS[op](this=value, expression=_decimal(bound, base))

    def compare_date(self, value: exp.Expr, op: str, day: dt.date) -> exp.Expr:
        # ISO dates in order are in order as text: the value is the column's first ten characters as text
        # (Compiler.value), compared with the date's text, on every engine alike
        return _COMPARISONS[op](this=value, expression=lit(day.isoformat()))

    def all_of(self, terms: Sequence[exp.Expr]) -> exp.Expr:
        return _and(terms)

    def any_of(self, terms: Sequence[exp.Expr]) -> exp.Expr:
        return _or(terms)

    def negate(self, term: exp.Expr) -> exp.Expr:
        # every primitive is NULL only where the value is missing, which predicate_sql handles
        return _not(term)


class Compiler:
    """Builds the expressions of a plan: one method per policy node, dispatched by name.

    ``columns`` are the input columns: an attribute the input lacks is a missing
    value (the missing-value rules of :func:`tranche.engine.predicate_holds`).
    """

    def __init__(self, scenario: Scenario, columns: Sequence[str], normalize_sets: bool = True,
                 not_null: Iterable[str] = ()) -> None:
        self.scenario = scenario
        self.normalize_sets = normalize_sets
        self.not_null = frozenset(not_null)
        self.columns = tuple(columns)
        self._present = frozenset(self.columns)
        self.rule_columns: dict[tuple[Condition, tuple[Condition, ...]], str] = {}
        self.match_names: dict[str, str] = {}
        self.matches: dict[str, exp.Expr] = {}
        self.derived: dict[str, exp.Expr] = {}

    # -- inputs ---------------------------------------------------------------------------------------
    def attribute_type(self, attribute: str) -> str:
        schema = self.scenario.attributes.get(attribute)
        if schema is not None:
            return schema.type
        if attribute in STAGES:
            return "date"
        return {"category": "category", "amount": "decimal", "flags": "set"}.get(attribute, "enum")

    def value(self, attribute: str) -> exp.Expr:
        """The item's value of ``attribute`` as the predicates see it.

        ``program_status`` and text casts of declared attributes are computed once per
        row in ``prepared``; sets (``,a,b,``) and decimals are written inline, which
        lets DuckDB evaluate them on dictionary-encoded values.
        """
        kind = self.attribute_type(attribute)
        if attribute == "program_status":
            return self._derive("program_status", self.program_status_sql())
        if attribute not in self._present:
            return lit(SEPARATOR) if kind == "set" else exp.Null()
        if kind == "set":
            # inline, not a derived column: DuckDB then tests dictionary-encoded values once per distinct value
            raw: exp.Expr = col(attribute)
            if self.normalize_sets:
                text = exp.Coalesce(this=exp.Cast(this=raw, to=exp.DataType.build("TEXT")), expressions=[lit("")])
                raw = exp.Anonymous(this="REPLACE", expressions=[text, lit(" "), lit("")])
            return _concat([lit(SEPARATOR), raw, lit(SEPARATOR)])
        if kind == "decimal":
            kind_sql = AMOUNT_TYPE if attribute == "amount" else DECIMAL_ATTRIBUTE_TYPE
            return exp.Cast(this=col(attribute), to=exp.DataType.build(kind_sql))  # a no-op on DECIMAL(18,2)
        if kind == "date":  # a DATE column or ISO text (a CSV read as text), empty text read as missing
            day = exp.Substring(this=exp.Cast(this=col(attribute), to=exp.DataType.build("TEXT")),
                                start=exp.Literal.number(1), length=exp.Literal.number(DATE_TEXT))
            return self._derive(f"date_{attribute}", exp.Nullif(this=day, expression=lit("")))
        if attribute in ("recipient", "program", "channel", "category"):
            return col(attribute)
        return self._derive(f"str_{attribute}", exp.Cast(this=col(attribute), to=exp.DataType.build("TEXT")))

    def _derive(self, name: str, expression: exp.Expr) -> exp.Column:
        key = _P + name
        self.derived.setdefault(key, expression)
        return col(key)

    def program_status_sql(self) -> exp.Expr:
        """The status of the item's program, from the scenario (NULL for a program it does not know)."""
        if "program" not in self._present:
            return exp.Null()
        by_status: dict[str, list[str]] = {}
        for p in self.scenario.programs.values():
            by_status.setdefault(p.status, []).append(p.id)
        branches = [(exp.In(this=col("program"), expressions=[lit(x) for x in sorted(ids)]), lit(status))
                    for status, ids in sorted(by_status.items())]
        return _case(branches, exp.Null())

    # -- predicates: the operator table's SQL forms ---------------------------------------------------
    def predicate_sql(self, p: Predicate) -> exp.Expr:
        """True exactly where the predicate holds (the operator table's meaning), NULL read as false.

        The operator's ``sql`` form is built from this compiler's primitives
        (:class:`_Sql`); where the item has no value the result is the operator's
        ``missing`` result, as in the evaluator.  Positive tests stay *weak* (NULL
        where the value is missing; :meth:`rule_sql` reads NULL as false).
        """
        op = p.operator
        v = self.value(p.attribute)
        if isinstance(v, exp.Null):
            return exp.true() if op.missing else exp.false()
        test: exp.Expr = op.sql(_Sql(self, p), v, p.values)
        kind = self.attribute_type(p.attribute)
        known = (p.attribute in self.not_null and p.attribute in self._present and p.attribute != "program_status"
                 and kind != "date") or kind == "set"  # a set is never NULL: missing is the empty set; an empty
        # date is missing even in a column without NULL
        if known or _never_null(test):
            return _mark(test)
        if op.missing:
            return _mark(_or([exp.Is(this=v, expression=exp.Null()), test]))
        return test

    # -- conditions, rules, layers --------------------------------------------------------------------
    def condition_sql(self, c: Condition) -> exp.Expr:
        """A conjunction; the empty condition is TRUE.

        Predicates and conditions are *weak*: NULL (from a missing value) counts as
        false, so a negation first turns NULL into FALSE (:func:`_strict`).
        """
        return _and([self.predicate_sql(p) for p in c.predicates])

    def rule_sql(self, state: RuleState) -> exp.Expr:
        """The rule state matches: its ``when`` holds and none of its ``unless`` does; never NULL.

        The conditions are the state's, with the fact tests already decided (:mod:`tranche.semantics`).
        """
        terms = [] if not state.when.predicates else [self.condition_sql(state.when)]
        terms += [_not(_strict(self.condition_sql(u))) for u in state.unless]
        return _strict(_and(terms))

    def match(self, state: RuleState) -> exp.Expr:
        """The column holding ``rule_sql(state)``, computed once per item in ``matched``.

        Rules with the same conditions (a regime restating the law, say) share one column.
        """
        key_conditions = (state.when, state.unless)
        name = self.rule_columns.get(key_conditions)
        if name is None:
            expression = self.rule_sql(state)
            key = expression.sql()
            name = self.match_names.get(key)
            if name is None:
                name = self.match_names[key] = f"{_P}m{len(self.matches)}"
                self.matches[name] = expression
            self.rule_columns[key_conditions] = name
        return _mark(col(name))

    def layer_sql(self, layer: Layer) -> exp.Expr:
        """Some rule of the layer matches (no conditional default and no default applies)."""
        return _or([self.match(s) for s in layer.normal])

    def _no_rule(self, layer: Layer) -> exp.Expr:
        return _not(self.layer_sql(layer)) if layer.normal else exp.true()

    def _fallback_sql(self, layer: Layer, i: int) -> exp.Expr:
        """The layer's ``i``-th conditional default decides: no rule matches, it does, no earlier one does."""
        fallbacks = layer.fallbacks
        return _and([self._no_rule(layer), self.match(fallbacks[i]), *(_not(self.match(f)) for f in fallbacks[:i])])

    def _default_sql(self, layer: Layer) -> exp.Expr:
        """The layer's default decides: no rule and no conditional default matches."""
        if not layer.rules:
            return exp.true()
        return _not(_or([self.match(s) for s in layer.rules]))

    def _deciders(self, layer: Layer, outcome: Outcome) -> list[tuple[exp.Expr, RuleState]]:
        """(where it decides, state) for each rule state or conditional default of ``layer`` giving ``outcome``."""
        out = [(self.match(s), s) for s in layer.giving(outcome)]
        out += [(self._fallback_sql(layer, i), f) for i, f in enumerate(layer.fallbacks) if f.outcome is outcome]
        return out

    def _gives(self, layer: Layer, outcome: Outcome) -> list[exp.Expr]:
        """Where ``layer`` gives ``outcome``: a matching rule state (or conditional default) giving it, or its default."""
        terms = [cond for cond, _ in self._deciders(layer, outcome)]
        if layer.default is outcome:
            terms.append(self._default_sql(layer))
        return terms

    def rank_sql(self, law: Layer, regime: Layer) -> exp.Expr:
        """The rank of the decision: the most restrictive outcome some layer gives (the semantic core's order)."""
        branches = []
        least, *rest = OUTCOMES
        for outcome in reversed(rest):
            terms = [t for layer in (law, regime) for t in self._gives(layer, outcome)]
            if terms:
                branches.append((_or(terms), exp.Literal.number(outcome.rank)))
        return _case(branches, exp.Literal.number(least.rank))

    def rules_sql(self, law: Layer, regime: Layer, rank: exp.Expr) -> exp.Expr:
        """The deciding rules, given the decision's rank: the matching states at that outcome, law first;
        where none matches, the defaults that gave it, regime first (:func:`tranche.semantics.combine`)."""
        branches = []
        for outcome in reversed(OUTCOMES):
            parts = [(cond, (s.rule.id,)) for layer in (law, regime) for cond, s in self._deciders(layer, outcome)]
            defaults = [(self._default_sql(layer), (default_marker(layer.name),))
                        for layer in (regime, law) if layer.default is outcome]
            # where no state gives the outcome, a default did; with one such default, or at the least
            # restrictive outcome (which every matching rule would reach), every such default applies
            fallback: str | exp.Expr = SEPARATOR.join(n for _, (n,) in defaults)
            if len(defaults) > 1 and outcome is not OUTCOMES[0]:
                fallback = self._listing(defaults, "")
            value = self._listing(parts, fallback)
            branches.append((outcome.rank, value))
        return self._by_rank(rank, branches)

    def missing_sql(self, law: Layer, regime: Layer, rank: exp.Expr) -> exp.Expr:
        """The missing facts of the deciding (blocked) rules, sorted; empty unless blocked."""
        parts = [(cond, s.missing) for layer in (law, regime) for cond, s in self._deciders(layer, Outcome.BLOCKED)]
        if not parts:
            return lit("")
        value = self._listing(parts, "", sort=True)
        return self._by_rank(rank, [(Outcome.BLOCKED.rank, value)], lit(""))

    def _by_rank(self, rank: exp.Expr, branches: Sequence[tuple[int, exp.Expr]],
                 default: exp.Expr | None = None) -> exp.Expr:
        distinct = {b.sql() for _, b in branches}
        if default is None and len(distinct) == 1:
            return branches[0][1]
        if default is None:
            *head, (_, last) = branches
            return _case([(exp.EQ(this=rank, expression=exp.Literal.number(r)), v) for r, v in head], last)
        return _case([(exp.EQ(this=rank, expression=exp.Literal.number(r)), v) for r, v in branches], default)

    def _listing(self, parts: Sequence[tuple[exp.Expr, tuple[str, ...]]], fallback: str | exp.Expr,
                 sort: bool = False) -> exp.Expr:
        """The names of the parts whose condition holds, comma-separated (``fallback`` when none holds).

        Up to a few parts every combination is a constant string; beyond, a concatenation.
        """
        def names(chosen: Iterable[tuple[str, ...]]) -> str:
            seq = [n for group in chosen for n in group]
            return SEPARATOR.join(sorted(set(seq)) if sort else list(dict.fromkeys(seq)))

        fb = fallback if isinstance(fallback, exp.Expr) else lit(fallback)
        if not parts:
            return fb
        if len({names([p[1]]) for p in parts}) == 1 and (sort or len(parts) == 1):
            only = names([parts[0][1]])
            return lit(only) if fallback == "" else _case([(_or([p[0] for p in parts]), lit(only))], fb)
        if len(parts) <= _SUBSET_LIMIT:
            branches = []
            for size in range(len(parts), 0, -1):
                for subset in itertools.combinations(parts, size):
                    branches.append((_and([p[0] for p in subset]), lit(names(p[1] for p in subset))))
            return _case(branches, fb)
        if sort:
            facts = sorted({f for _, group in parts for f in group})
            pieces = [_case([(_or([c for c, group in parts if f in group]), lit(SEPARATOR + f))], lit(""))
                      for f in facts]
        else:
            pieces = [_case([(c, lit(SEPARATOR + SEPARATOR.join(group)))], lit("")) for c, group in parts]
        joined = exp.Substring(this=exp.Paren(this=_concat(pieces)), start=exp.Literal.number(2))
        return _case([(_or([p[0] for p in parts]), joined)], fb)

    def decision_sql(self, law: Layer, regime: Layer) -> tuple[exp.Expr, Callable[[exp.Expr], tuple[exp.Expr, exp.Expr]]]:
        """(rank expression, rank -> (rules, missing facts)) for one law and regime layer."""
        return self.rank_sql(law, regime), lambda rank: (self.rules_sql(law, regime, rank),
                                                         self.missing_sql(law, regime, rank))

    def policy_sql(self, policy: Policy) -> tuple[exp.Expr, Callable[[exp.Expr], tuple[exp.Expr, exp.Expr]]]:
        """Like :meth:`decision_sql`, dispatching on the recipient when regimes differ by recipient."""
        if len(policy.regimes) == 1 and policy.regimes[0][0] is None:
            return self.decision_sql(policy.law, policy.regimes[0][1])
        per = [(recipient, *self.decision_sql(policy.law, layer)) for recipient, layer in policy.regimes]
        if not per:
            return exp.Null(), lambda rank: (exp.Null(), exp.Null())

        def when(recipient: str | None) -> exp.Expr:
            return exp.EQ(this=col("recipient"), expression=lit(recipient))

        rank = _case([(when(r), e) for r, e, _ in per], exp.Null())

        def strings(rank_col: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
            built = [(r, *f(rank_col)) for r, _, f in per]
            return (_case([(when(r), a) for r, a, _ in built], exp.Null()),
                    _case([(when(r), b) for r, _, b in built], exp.Null()))

        return rank, strings


# ---------------------------------------------------------------------------------------------------------
# the plan: the whole query, one pass over the items


def outcome_sql(rank: exp.Expr) -> exp.Expr:
    """The outcome's name from its rank."""
    return _case([(exp.EQ(this=rank, expression=exp.Literal.number(o.rank)), lit(o.value))
                  for o in reversed(OUTCOMES)], exp.Null())


def _date(day: dt.date) -> exp.Expr:
    return exp.Cast(this=exp.Literal.string(day.isoformat()), to=exp.DataType.build("DATE"))


def _union(rows: Sequence[Sequence[tuple[str, exp.Expr]]]) -> exp.Select | exp.Union:
    """A small literal table as SELECT ... UNION ALL SELECT ... (portable where VALUES aliases are not)."""
    selects = [exp.select(*(exp.alias_(v, name, quoted=True) for name, v in row)) for row in rows]
    out: exp.Select | exp.Union = selects[0]
    for s in selects[1:]:
        out = exp.Union(this=out, expression=s, distinct=False)
    return out


@dataclass(frozen=True)
class SmallTable:
    """A small literal table of a plan (the (option, date) pairs, the decision table).

    Written into the query as ``WITH name(columns) AS (VALUES ...)`` (:meth:`Plan.sql`),
    or created by a runner as a real table (DuckDB: with ENUM columns, so the
    outcome and rules columns are dictionary-encoded all the way to Parquet).
    ``types`` are the columns' SQL types; ``TEXT`` columns are the ones a runner
    may dictionary-encode.
    """

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def values(self) -> exp.Values:
        """The rows as a sqlglot VALUES expression (every value a literal)."""
        def value(v: Any, kind: str) -> exp.Expr:
            if v is None:
                return exp.Cast(this=exp.Null(), to=exp.DataType.build(kind))
            if isinstance(v, dt.date):
                return _date(v)
            return lit(v)

        return exp.Values(expressions=[exp.Tuple(expressions=[value(v, k) for v, k in zip(row, self.types)])
                                       for row in self.rows])

    def alias(self) -> exp.TableAlias:
        return exp.TableAlias(this=_id(self.name), columns=[_id(c) for c in self.columns])


PAIRS = f"{_P}pairs"
DECISIONS = f"{_P}decisions"


@dataclass(frozen=True)
class Plan:
    """The compiled form of one or more (option, date) contexts over a table of items.

    ``select`` yields every input column plus option, as_of, outcome, rules and
    missing_facts for every item and context; ``summary`` yields option, as_of,
    program, outcome, amount (exact sum) and items.  Both are dialect-neutral
    sqlglot expressions; :func:`tranche.compiler.dialects.generate` writes them
    for a dialect.

    ``form`` is ``lookup`` (a class key per item looked up in the decision table
    ``tables``; :mod:`tranche.compiler.lookup`) or ``case`` (CASE expressions over
    the rule conditions, for policies with too many classes).  In both forms
    ``select`` reads a subquery ``decided`` holding every decided row: a pass over
    the decided rows (aggregate caps, say) wraps it.
    """

    contexts: tuple[Context, ...]
    policies: tuple[Policy, ...]
    columns: tuple[str, ...]
    select: exp.Select
    summary: exp.Select
    form: str = "case"
    tables: tuple[SmallTable, ...] = ()
    keyed: exp.Select | None = field(default=None, repr=False)
    lookup: Lookup | None = field(default=None, repr=False)
    capped: bool = False  # the law's caps are applied to the decided rows (``select`` and ``summary`` read them)

    def with_tables(self, query: exp.Select) -> exp.Select:
        """``query`` with the plan's small tables as ``WITH`` clauses (what a runner did not create)."""
        out = query.copy()
        for t in self.tables:
            out = out.with_(t.alias(), as_=t.values(), copy=False)  # (out is a copy already; the VALUES are new)
        return out

    def sql(self, dialect: str = "duckdb", *, pretty: bool = False, inline: bool = True) -> str:
        """The output query, written for ``dialect`` (``inline=False``: the small tables exist already)."""
        if inline:  # a tree of its own (with_tables copies): written without another copy
            return generate(self.with_tables(self.select), dialect, pretty=pretty, copy=False)
        return generate(self.select, dialect, pretty=pretty)

    def summary_sql(self, dialect: str = "duckdb", *, pretty: bool = False, inline: bool = True) -> str:
        """The summary query, written for ``dialect``."""
        if inline:
            return generate(self.with_tables(self.summary), dialect, pretty=pretty, copy=False)
        return generate(self.summary, dialect, pretty=pretty)

    def narrow(self, item: str, source: exp.Expr | None = None, pairs: range | None = None) -> exp.Select:
        """The narrow layout (lookup form): ``item`` (an input column), ``pair``, ``outcome`` (rank) and
        ``rules`` (an index into :meth:`Lookup.decisions`) per item and pair.

        ``source``: a table with ``item`` and the key ``__t_key`` (default: the items, keyed);
        ``pairs``: only these pair numbers.
        """
        if self.keyed is None or self.capped:
            raise UsageError("the narrow query reads the decision table: the lookup form, without caps")
        frame = source if source is not None else self.keyed.subquery("d")
        table: exp.Expr = exp.to_table(PAIRS).as_("c")
        if pairs is not None:
            table = exp.select(exp.Star()).from_(PAIRS).where(exp.Between(
                this=col(f"{_P}pair"), low=exp.Literal.number(pairs.start),
                high=exp.Literal.number(pairs.stop - 1))).subquery("c")
        return exp.select(exp.alias_(col(item, "d"), "item", quoted=True),
                          exp.alias_(col(f"{_P}pair", "c"), "pair", quoted=True),
                          exp.alias_(col(f"{_P}o", "t"), "outcome", quoted=True),
                          exp.alias_(col(f"{_P}r", "t"), "rules", quoted=True)) \
            .from_(frame).join(table, join_type="cross") \
            .join(exp.to_table(DECISIONS).as_("t"), on=self._lookup_on("d"), join_type="left")

    def _lookup_on(self, keyed: str) -> exp.Expr:
        assert self.lookup is not None
        k = exp.Add(this=exp.Mul(this=col(f"{_P}p", "c"), expression=exp.Literal.number(self.lookup.size)),
                    expression=col(f"{_P}key", keyed))
        return exp.EQ(this=col(f"{_P}k", "t"), expression=k)


def _check_columns(columns: tuple[str, ...]) -> None:
    lacking = [c for c in REQUIRED_COLUMNS if c not in columns]
    if lacking:
        raise UsageError("the items lack the column" + ("s " if len(lacking) > 1 else " ")
                         + ", ".join(f"`{c}`" for c in lacking),
                         help="the items need the columns " + ", ".join(REQUIRED_COLUMNS) + " (flags optional)")
    clash = [c for c in columns if c in OUTPUT_COLUMNS or (c.startswith(_P) and c != ROW)]
    if clash:
        raise UsageError("the items have the column" + ("s " if len(clash) > 1 else " ")
                         + ", ".join(f"`{c}`" for c in clash) + ", which the output adds",
                         help="rename or drop " + ("them" if len(clash) > 1 else "it") + " before evaluating")


FORMS = ("auto", "lookup", "case")


def plan(scenario: Scenario, ctxs: Sequence[Context], columns: Sequence[str],
         source: exp.Expr | str = "items", *, amount_sum: Callable[[exp.Expr], exp.Expr] | None = None,
         normalize_sets: bool = True, not_null: Iterable[str] = (), form: str = "auto",
         lookup_limit: int = LOOKUP_LIMIT) -> Plan:
    """Compile ``ctxs`` over ``source`` (a table name or a sqlglot table expression) with ``columns``.

    ``normalize_sets=False`` promises that set-valued columns (flags) hold no
    NULL and no spaces (``a,b``, as a pre-scan of the file found), which spares
    coalescing and removing spaces on every row.  ``not_null`` names columns known
    to hold no NULL (a scan's statistics say so), whose tests need no coalescing.

    ``amount_sum`` builds the exact sum of the amount (default: SUM of DECIMAL(18,2));
    SQLite passes a sum in integer cents.

    ``form``: ``auto`` compiles to a lookup when the decision table has at most
    ``lookup_limit`` rows and to CASE expressions otherwise; ``lookup`` and ``case``
    force one form.
    """
    if not ctxs:
        raise UsageError("nothing to evaluate: no (option, date) pair")
    if form not in FORMS:
        raise UsageError(f"unknown plan form `{form}`", help="choose " + ", ".join(FORMS))
    columns = tuple(columns)
    _check_columns(columns)
    src: exp.Expr = exp.to_table(source) if isinstance(source, str) else source
    policies: dict[Policy, int] = {}
    for c in ctxs:
        policies.setdefault(c.policy, len(policies))
    compiler = Compiler(scenario, columns, normalize_sets, not_null)
    total = amount_sum or (lambda e: exp.Sum(this=exp.Cast(this=e, to=exp.DataType.build(AMOUNT_TYPE))))
    found = None
    if form != "case":
        found = lookup(compiler, list(policies), None if form == "lookup" else lookup_limit)
        if found is None and form == "lookup":
            raise UsageError(f"the lookup form's decision table would exceed {LOOKUP_CEILING:,} rows",
                             help="the policies test too many attributes for one table: use the CASE form")
    if found is not None:
        compiled = _lookup_plan(compiler, ctxs, policies, columns, src, found, total)
    else:
        compiled = _case_plan(compiler, ctxs, policies, columns, src, total)
    if scenario.law.caps:  # aggregate ceilings: a pass over the decided rows (either form)
        compiled = _with_caps(scenario, compiled, amount_sum)
    return compiled


def _lookup_plan(compiler: Compiler, ctxs: Sequence[Context], policies: dict[Policy, int], columns: tuple[str, ...],
                 src: exp.Expr, found: Lookup, total: Callable[[exp.Expr], exp.Expr]) -> Plan:
    key = found.key_sql(compiler)
    inputs = [col(c) for c in columns]
    prepared = exp.select(*inputs, *(exp.alias_(e, n, quoted=True) for n, e in compiler.derived.items())).from_(src)
    keyed = exp.select(*inputs, exp.alias_(key, f"{_P}key", quoted=True)).from_(prepared.subquery("prepared"))

    pairs = SmallTable(PAIRS, (f"{_P}pair", "option", "as_of", f"{_P}p"), ("INT", "TEXT", "DATE", "INT"),
                       tuple((i, c.option, c.as_of, policies[c.policy]) for i, c in enumerate(ctxs)))
    dictionary = {d: i for i, d in enumerate(found.decisions())}
    rows: list[tuple[Any, ...]] = []
    for k, v in found.rows():
        if v is None:
            rows.append((k, None, None, None, None, None))
            continue
        rules, missing = ",".join(v.rules), ",".join(v.missing)
        rows.append((k, v.outcome.value, rules, missing, v.outcome.rank, dictionary[(rules, missing)]))
    decisions = SmallTable(DECISIONS, (f"{_P}k", "outcome", "rules", "missing_facts", f"{_P}o", f"{_P}r"),
                           ("INT", "TEXT", "TEXT", "TEXT", "INT", "INT"), tuple(rows))
    draft = Plan(tuple(ctxs), tuple(policies), columns, exp.select(), exp.select(), "lookup", (pairs, decisions),
                 keyed, found)

    def joined(source: exp.Expr, alias: str) -> exp.Select:
        return exp.select().from_(source.subquery(alias) if isinstance(source, exp.Select) else source) \
            .join(exp.to_table(PAIRS).as_("c"), join_type="cross") \
            .join(exp.to_table(DECISIONS).as_("t"), on=draft._lookup_on(alias), join_type="left")

    decided = joined(keyed, "d").select(*(col(c, "d") for c in columns),
                                        *(exp.alias_(col(n, "c"), n, quoted=True) for n in ("option", "as_of")),
                                        *(exp.alias_(col(n, "t"), n, quoted=True)
                                          for n in ("outcome", "rules", "missing_facts")))
    select = exp.select(*(col(c, "decided") for c in (*columns, *OUTPUT_COLUMNS))).from_(decided.subquery("decided"))

    # summary: amounts per program and key (one pass, whatever the number of pairs), then looked up per pair
    grouped = exp.select(col("program"), col(f"{_P}key"), exp.alias_(total(col("amount")), "amount", quoted=True),
                         exp.alias_(exp.Count(this=exp.Star()), "items", quoted=True)) \
        .from_(keyed.subquery("k")).group_by(col("program"), col(f"{_P}key"))
    keys = [col("option", "c"), col("as_of", "c"), col("program", "g"), col("outcome", "t")]
    summary = joined(grouped, "g").select(*keys, exp.alias_(exp.Sum(this=col("amount", "g")), "amount", quoted=True),
                                          exp.alias_(exp.Sum(this=col("items", "g")), "items", quoted=True)) \
        .group_by(*keys).order_by(*keys)
    return Plan(draft.contexts, draft.policies, columns, select, summary, "lookup", draft.tables, keyed, found)


def _case_plan(compiler: Compiler, ctxs: Sequence[Context], policies: dict[Policy, int], columns: tuple[str, ...],
               src: exp.Expr, total: Callable[[exp.Expr], exp.Expr]) -> Plan:
    ranks: list[exp.Expr] = []
    strings: list[tuple[exp.Expr, exp.Expr]] = []
    for p, i in policies.items():
        rank, build = compiler.policy_sql(p)
        ranks.append(rank)
        strings.append(build(col(f"{_P}k{i}")))
    match_exprs = list(compiler.matches.items())

    inputs = [col(c) for c in columns]
    prepared = exp.select(*inputs, *(exp.alias_(e, n, quoted=True) for n, e in compiler.derived.items())).from_(src)
    matched = exp.select(exp.Star()).select(*(exp.alias_(e, n, quoted=True) for n, e in match_exprs)) \
        .from_(prepared.subquery("prepared"))
    ranked = exp.select(exp.Star()).select(*(exp.alias_(r, f"{_P}k{i}", quoted=True) for i, r in enumerate(ranks))) \
        .from_(matched.subquery("matched"))

    n = len(policies)
    if n == 1:
        per_item = ranked
    else:
        decided_cols: list[exp.Expr] = []
        for i, (rules, missing) in enumerate(strings):
            decided_cols += [exp.alias_(outcome_sql(col(f"{_P}k{i}")), f"{_P}o{i}", quoted=True),
                             exp.alias_(rules, f"{_P}r{i}", quoted=True),
                             exp.alias_(missing, f"{_P}f{i}", quoted=True)]
        per_item = exp.select(*inputs, *decided_cols).from_(ranked.subquery("ranked"))

    ctx_rows = [[("option", lit(c.option)), ("as_of", _date(c.as_of)), (f"{_P}p", exp.Literal.number(policies[c.policy]))]
                for c in ctxs]
    table = _union(ctx_rows).subquery("ctx")

    def pick(kind: str, single: exp.Expr) -> exp.Expr:
        if n == 1:
            return single
        return _case([(exp.EQ(this=col(f"{_P}p", "ctx"), expression=exp.Literal.number(i)), col(f"{_P}{kind}{i}", "d"))
                      for i in range(n)], exp.Null())

    out_cols = [col(c, "d") for c in columns]
    single_rules, single_missing = strings[0]
    decided = exp.select(
        *out_cols,
        exp.alias_(col("option", "ctx"), "option", quoted=True),
        exp.alias_(col("as_of", "ctx"), "as_of", quoted=True),
        exp.alias_(pick("o", outcome_sql(col(f"{_P}k0", "d"))), "outcome", quoted=True),
        exp.alias_(pick("r", _requalify(single_rules, "d")), "rules", quoted=True),
        exp.alias_(pick("f", _requalify(single_missing, "d")), "missing_facts", quoted=True),
    ).from_(per_item.subquery("d"))
    decided = decided.join(table, join_type="cross")
    select = exp.select(*(col(c, "decided") for c in (*columns, *OUTPUT_COLUMNS))).from_(decided.subquery("decided"))

    # summary: aggregate per distinct policy first, then fan out to the contexts
    if n == 1:
        base = exp.select(col("program"), exp.alias_(outcome_sql(col(f"{_P}k0")), "outcome", quoted=True),
                          col("amount"), exp.alias_(exp.Literal.number(0), f"{_P}p", quoted=True)) \
            .from_(ranked.subquery("r"))
    else:
        which = _union([[(f"{_P}p", exp.Literal.number(i))] for i in range(n)]).subquery("pp")
        outcome = _case([(exp.EQ(this=col(f"{_P}p", "pp"), expression=exp.Literal.number(i)),
                          outcome_sql(col(f"{_P}k{i}", "r"))) for i in range(n)], exp.Null())
        base = exp.select(col("program", "r"), exp.alias_(outcome, "outcome", quoted=True), col("amount", "r"),
                          col(f"{_P}p", "pp")).from_(ranked.subquery("r")).join(which, join_type="cross")
    grouped = exp.select(col(f"{_P}p"), col("program"), col("outcome"),
                         exp.alias_(total(col("amount")), "amount", quoted=True),
                         exp.alias_(exp.Count(this=exp.Star()), "items", quoted=True)) \
        .from_(base.subquery("b")).group_by(col(f"{_P}p"), col("program"), col("outcome"))
    summary = exp.select(col("option", "ctx"), col("as_of", "ctx"), col("program", "g"), col("outcome", "g"),
                         col("amount", "g"), col("items", "g")) \
        .from_(grouped.subquery("g")) \
        .join(_union(ctx_rows).subquery("ctx"), on=exp.EQ(this=col(f"{_P}p", "ctx"), expression=col(f"{_P}p", "g")),
              join_type="inner") \
        .order_by(col("option", "ctx"), col("as_of", "ctx"), col("program", "g"), col("outcome", "g"))
    return Plan(tuple(ctxs), tuple(policies), columns, select, summary, "case")


def _with_caps(scenario: Scenario, p: Plan, amount_sum: Callable[[exp.Expr], exp.Expr] | None) -> Plan:
    """``p`` with the law's aggregate ceilings applied: a pass over the decided rows; the summary then reads it."""
    select = cap_select(scenario, p.contexts, p.columns, p.select, Compiler(scenario, p.columns))
    total_of = amount_sum or (lambda e: exp.Sum(this=exp.Cast(this=e, to=exp.DataType.build(AMOUNT_TYPE))))
    keys = [col("option"), col("as_of"), col("program"), col("outcome")]
    summary = exp.select(*keys, exp.alias_(total_of(col("amount")), "amount", quoted=True),
                         exp.alias_(exp.Count(this=exp.Star()), "items", quoted=True)) \
        .from_(select.subquery("capped")).group_by(*keys).order_by(*keys)
    return dataclasses.replace(p, select=select, summary=summary, capped=True)


def _requalify(expression: exp.Expr, table: str) -> exp.Expr:
    """Qualify the compiler's own column references with ``table``."""
    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            return col(node.name, table)
        return node

    return expression.transform(qualify)


def compile_policy(scenario: Scenario, as_of: dt.date | str, option: str | None = None, assume: Iterable[str] = (),
                   *, columns: Sequence[str] = REQUIRED_COLUMNS + ("flags",), source: exp.Expr | str = "items",
                   recipients: Iterable[str] | None = None) -> Plan:
    """Compile the law and ``option`` (or the timelines of record) at ``as_of`` into one query.

    >>> import tranche
    >>> s = tranche.load_scenario("scenarios/peru-1962")
    >>> p = compile_policy(s, "1962-10-03", "limited")
    >>> p.form, p.sql("duckdb")[:20]
    ('lookup', 'WITH "__t_pairs"("__')
    """
    day = parse_date(as_of)
    ctx = resolve_policy(scenario, day, option, assume, scenario.recipients if recipients is None else recipients)
    return plan(scenario, [ctx], columns, source)
