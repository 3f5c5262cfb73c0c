"""The files of a scenario as pydantic models: what each YAML file may contain.

These models check shape and types only; cross-references (unknown
categories, facts, sources, regimes) are checked in :mod:`.validate`, which
turns these models into the frozen values of :mod:`.scenario`.

Rule conditions (``when`` and ``unless``) are kept as plain mappings here,
because which keys they may use depends on the attributes the scenario
declares; :mod:`.validate` reads them against that schema.
"""

# (no `from __future__ import annotations`: pydantic would evaluate every annotation from its text again)
import datetime as dt
import os
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

__all__ = [
    "ID_PATTERN",
    "FACT_PATTERN",
    "RECIPIENT_PATTERN",
    "AttributeFile",
    "RecipientFile",
    "DemoFile",
    "ScenarioFile",
    "TaxonomyNodeFile",
    "TaxonomyFile",
    "ProgramFile",
    "ProgramsFile",
    "FactFile",
    "AfterFile",
    "LiftFile",
    "ActionFile",
    "CapFile",
    "NotificationFile",
    "FactsFile",
    "RuleFile",
    "ExemptionFile",
    "LawFile",
    "PackFile",
    "ReviewDateFile",
    "RegimeFile",
    "StartFile",
    "TimelineEntryFile",
    "TimelineFile",
    "RegimesFile",
    "SourceFile",
    "SourcesFile",
    "PolicyTestFile",
    "TestsFile",
    "AggregateTestFile",
    "CompareExpectFile",
    "DiffExpectFile",
    "FILE_MODELS",
    "PACK_FILE_MODELS",
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
FACT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
RECIPIENT_PATTERN = r"^[A-Z]{3}$"

Outcome_ = Literal["permitted", "review", "blocked", "prohibited"]
Default_ = Literal["permitted", "review", "prohibited"]
Effect_ = Literal["permit", "review", "forbid"]
Marking_ = Literal["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]
MARKING_HELP = "classification: UNCLASSIFIED (default), CONFIDENTIAL or SECRET; users see only what their clearance allows"
Basis_ = Literal["record", "inference", "illustrative"]
_BASIS_HELP = ("what the claim rests on: record (a source states it; cite it), inference (reasoned from sources; "
               "say how in `notes`) or illustrative (invented to make figures concrete; cites no source as its own)")


# Pydantic looks for plugins (entry points of every installed distribution: 30 ms) when it builds the first
# model; these models validate files and no plugin has anything to observe in them, so the search is skipped
# while they are built, as Typer does for its own adapters.  The setting is restored at the end of this module.
_PLUGINS = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"


def _list() -> list[Any]:
    """An empty list: the default of the list fields.  (Pydantic reads a factory's signature; a builtin type's
    is parsed from its text, 0.3 ms each: sixty of them were a fifth of building these models.)"""
    return []


def _dict() -> dict[str, Any]:
    """An empty mapping: the default of the mapping fields (see :func:`_list`)."""
    return {}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AttributeFile(_Model):
    """A line-item attribute the scenario declares, so rules can match on it."""

    type: Literal["enum", "string", "decimal", "set", "date"] = Field(
        description="enum: one of `values`; string: free text; decimal: a number; set: comma-separated members of "
                    "`values`; date: YYYY-MM-DD (empty: none), tested like the stage dates (`before`, `by`, ...)")
    values: list[str] = Field(default_factory=_list, description="allowed values (enum, set)")
    description: str = ""
    required: bool = False


class RecipientFile(_Model):
    code: str = Field(pattern=RECIPIENT_PATTERN, description="ISO 3166 alpha-3 code, e.g. PER")
    name: str = ""


class DemoFile(_Model):
    """`demo:` in `scenario.yaml`: what `tranche demo` shows for this scenario."""

    as_of: dt.date = Field(description="the date of the comparison, YYYY-MM-DD")
    options: list[str] = Field(min_length=1, description="regimes or timelines to compare, in order; the first "
                                                         "is the one the printed next steps explain")
    assume: list[str] = Field(default_factory=_list, description="facts assumed to hold (FACT or FACT@YYYY-MM-DD)")
    recipient: str | None = Field(default=None, pattern=RECIPIENT_PATTERN,
                                  description="whose timeline is shown; default: the scenario's first recipient")
    note: str = Field(default="", description="one line printed above the comparison (what it shows, its source)")


class ScenarioFile(_Model):
    """`scenario.yaml`: what the scenario is and the vocabulary its files use."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    description: str = ""
    donor: str = ""
    recipients: list[RecipientFile] = Field(min_length=1)
    channels: dict[str, str] = Field(min_length=1, description="channel id -> description, e.g. grant, sale")
    flags: dict[str, str] = Field(default_factory=_dict, description="flag id -> description, e.g. internal_security")
    attributes: dict[str, AttributeFile] = Field(default_factory=_dict,
                                                 description="extra line-item columns rules may match on")
    program_statuses: list[str] = Field(default_factory=lambda: ["approved", "proposed"])
    currency: str = "USD"
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)
    demo: DemoFile | None = Field(default=None, description="what `tranche demo` compares for this scenario")


class TaxonomyNodeFile(_Model):
    title: str = ""
    description: str = ""
    sources: list[str] = Field(default_factory=_list)
    children: dict[str, "TaxonomyNodeFile"] = Field(default_factory=_dict)


class TaxonomyFile(_Model):
    """`taxonomy.yaml`: the category tree; a rule on a node covers its subtree."""

    taxonomy: dict[str, TaxonomyNodeFile] = Field(min_length=1)


class ProgramFile(_Model):
    id: str = Field(pattern=ID_PATTERN)
    recipient: str = Field(pattern=RECIPIENT_PATTERN)
    title: str = ""
    fiscal_year: int | None = None
    total: Decimal | None = Field(default=None, ge=0, description="the record's total; checked against the pipeline")
    status: str = "approved"
    basis: Basis_ | None = Field(default=None, description=_BASIS_HELP)
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)


class ProgramsFile(_Model):
    """`programs.yaml`: fiscal-year programs with totals and status."""

    programs: list[ProgramFile] = Field(min_length=1)


class AfterFile(_Model):
    fact: str = Field(pattern=FACT_PATTERN, description="the fact the period runs from")
    days: int = Field(ge=0, le=36500, description="days after that fact's date")


class LiftFile(_Model):
    rules: list[str] = Field(min_length=1, description="ids of the law or regime rules it lifts")
    scope: dict[str, Any] = Field(default_factory=_dict, description="a condition: the items it covers (program, "
                                  "account, category, recipient, ...); empty: every item the rules cover")
    after: AfterFile | None = Field(default=None, description="effective only `days` days after `fact` (e.g. a "
                                      "report to Congress)")
    note: str = ""


class FactFile(_Model):
    id: str = Field(pattern=FACT_PATTERN)
    title: str = ""
    kind: str = Field(default="event", description="event, determination, certification, congressional, agreement, ...")
    role: Literal["trigger", "precondition", "waiver", "certification"] = Field(
        default="precondition",
        description="trigger: its holding may only tighten decisions (a rule's `when` may test it); precondition, "
                    "waiver, certification: its holding may only relax them (`require`, `lifted_by`, `unless`)")
    date: dt.date | None = Field(default=None, description="when the fact began to hold; omit for a fact the record does not establish (it can still be assumed)")
    until: dt.date | None = Field(default=None, description="when it stopped holding, if it did")
    recipient: str | None = Field(default=None, pattern=RECIPIENT_PATTERN)
    after: AfterFile | None = Field(
        default=None, description="a derived fact: holds from `days` days after the date of `fact` "
                                  "(a waiting period, e.g. 15 days after a notification to Congress)")
    basis: Basis_ | None = Field(default=None, description=_BASIS_HELP)
    sources: list[str] = Field(default_factory=_list)
    marking: Marking_ = Field(default="UNCLASSIFIED", description=MARKING_HELP)
    notes: list[str] = Field(default_factory=_list)
    lifts: Annotated[list[LiftFile], WithJsonSchema({
        "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]})] = Field(
        default_factory=_list, description="a waiver or certification: while it holds, the named rules do not apply "
                                          "to the items in `scope` (one or a list; several waivers compose)")

    @field_validator("lifts", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _until_after_date(self) -> "FactFile":
        if self.until is not None and self.date is not None and self.until <= self.date:
            raise ValueError("`until` must be after `date`")
        return self


class FactsFile(_Model):
    """`facts.yaml`: dated, sourced preconditions and events."""

    facts: list[FactFile] = Field(default_factory=_list)


class ActionFile(_Model):
    do: str = Field(pattern=ID_PATTERN, description="what the regime orders for the line, e.g. stop_release, "
                                                    "hold_in_transit, continue_contract_then_store, no_new_offers")
    when: dict[str, Any] = Field(default_factory=_dict, description="for which lines: a condition, e.g. a stage "
                                 "(`{shipped: {by: as_of}, delivered: {not_by: as_of}}`: in transit)")
    note: str = ""


class NotificationFile(_Model):
    id: str = Field(pattern=ID_PATTERN)
    title: str = ""
    to: str = Field(default="", description="who is notified, e.g. the Committees on Appropriations")
    when: dict[str, Any] = Field(default_factory=_dict, description="the requests that need it: thresholds by value "
                                 "(`amount: {gte: ...}`) and item class")
    wait: AfterFile | None = Field(default=None, description="notify and proceed unless objected to: the requests are "
                                     "blocked until `days` after `fact` (the notification)")
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)


class CapFile(_Model):
    id: str = Field(pattern=ID_PATTERN)
    title: str = ""
    limit: Any = Field(description="the ceiling, exact decimal USD (e.g. 57500000.00)")
    when: dict[str, Any] = Field(default_factory=_dict, description="the lines that count against it (a condition)")
    per: list[str] = Field(default_factory=_list, description="one ceiling per value of these attributes (e.g. "
                           "[recipient] or [program]); empty: one pool")
    order: list[str] = Field(default_factory=_list, description="allocation order: attributes, `-attr` for descending; "
                             "ties by item id")
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)


class RuleFile(_Model):
    id: str = Field(pattern=ID_PATTERN)
    description: str = ""
    when: dict[str, Any] = Field(default_factory=_dict, description="conditions, all of which must hold")
    unless: Annotated[list[dict[str, Any]], WithJsonSchema({
        "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]})] = Field(
        default_factory=_list, description="exceptions (one condition or a list): the rule does not match where any holds")
    exempt: list[str] = Field(default_factory=_list, description="exemption classes (declared under `exemptions:` in "
                              "law.yaml or a law pack): the rule does not match where any of them applies")
    effect: Effect_ = "permit"
    criterion: str | None = Field(default=None, description="the criterion of case-by-case review (effect review)")
    require: list[str] = Field(default_factory=_list, description="facts that must hold; while any is missing the outcome is blocked")
    lifted_by: list[str] = Field(default_factory=_list, description="a hold: with `effect: forbid`, prohibited until "
                                                                   "every one of these facts holds (policy, not law: "
                                                                   "the explanation names what would lift it)")
    actions: list[ActionFile | str] = Field(default_factory=_list, description="what the regime orders for the lines "
                                            "this rule decides (obligations carried by the decision)")
    effective: dt.date | None = Field(default=None, description="law rules only: the first day the rule applies")
    sunset: dt.date | None = Field(default=None, description="law rules only: the first day it no longer applies "
                                                             "(it applies on dates in [effective, sunset))")
    basis: Basis_ | None = Field(default=None, description=_BASIS_HELP)
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)

    @field_validator("unless", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _sunset_after_effective(self) -> "RuleFile":
        if self.effective is not None and self.sunset is not None and self.sunset <= self.effective:
            raise ValueError("`sunset` must be after `effective`: the rule applies on dates in [effective, sunset)")
        return self

    @model_validator(mode="after")
    def _require_needs_permit_or_review(self) -> "RuleFile":
        if self.require and self.effect == "forbid":
            raise ValueError("a `forbid` rule cannot `require` facts: use `permit` or `review` with `require`")
        if self.lifted_by and self.effect != "forbid":
            raise ValueError("only a `forbid` rule can be a hold (`lifted_by`): a hold prohibits until its facts hold")
        return self


class ExemptionFile(_Model):
    """An exemption class: conditions defined once (e.g. humanitarian assistance) that rules name in `exempt:`."""

    title: str = ""
    description: str = ""
    when: Annotated[list[dict[str, Any]], WithJsonSchema({
        "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]})] = Field(
        min_length=1, description="one condition or a list of them: a request is exempt where any holds")
    basis: Basis_ | None = None
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v


class LawFile(_Model):
    """`law.yaml`: rules that bind every regime (statutes, agreements); its default is `permitted`."""

    title: str = "Law"
    include: list[str] = Field(default_factory=_list, description="law packs this scenario's law includes: paths of "
                               "pack folders, relative to the scenario folder (e.g. `../../packs/faa-1961`)")
    sources: list[str] = Field(default_factory=_list)
    exemptions: dict[str, ExemptionFile] = Field(default_factory=_dict, description="exemption classes, by name: "
                                                  "rules name them in `exempt:`")
    rules: list[RuleFile] = Field(default_factory=_list)
    notifications: list[NotificationFile] = Field(default_factory=_list, description="duties a decision creates")
    caps: list[CapFile] = Field(default_factory=_list, description="aggregate ceilings, allocated in a declared order: "
                                "a permitted line that would exceed one is blocked naming it")


class PackFile(_Model):
    """`pack.yaml`: what a law pack is (its folder also holds law.yaml, sources.yaml and, optionally, facts.yaml)."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    description: str = ""
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)


class ReviewDateFile(_Model):
    date: dt.date
    note: str = ""
    sources: list[str] = Field(default_factory=_list)


class StartFile(_Model):
    date: dt.date | None = None
    fact: str | None = None
    all: list[str] | None = Field(default=None, min_length=1, description="facts: in force while every one holds "
                                  "(from the date the last of them holds)")
    any: list[str] | None = Field(default=None, min_length=1, description="facts: in force while one of them holds "
                                  "(from the date the first holds)")

    @model_validator(mode="after")
    def _exactly_one(self) -> "StartFile":
        if sum(x is not None for x in (self.date, self.fact, self.all, self.any)) != 1:
            raise ValueError("give exactly one of `date`, `fact`, `all` or `any`")
        return self


class RegimeFile(_Model):
    id: str = Field(pattern=ID_PATTERN)
    title: str = ""
    description: str = ""
    recipients: list[str] = Field(default_factory=_list, description="recipients it applies to; empty = any")
    extends: str | None = Field(default=None, description="another regime this one starts from: its rules (in order), "
                                "default and criterion, then `remove`, then `rules` (a rule with an inherited id "
                                "replaces it in place; a new id is added at the end)")
    remove: list[str] = Field(default_factory=_list, description="with `extends`: inherited rule ids to drop")
    default: Default_ | None = Field(default=None, description="the outcome where no rule of the regime matches "
                                                               "(required unless inherited with `extends`)")
    criterion: str | None = Field(default=None, description="criterion when the default is `review`")
    effective: StartFile | None = Field(
        default=None, description="shorthand: `{date: ...}` or `{fact: ...}`; regimes with `effective` form their "
                                  "recipients' timeline of record, in file order")
    until: dt.date | None = Field(default=None, description="with `effective`: stated expiry")
    announced: dt.date | None = Field(default=None, description="with `effective`: when it was announced, if not the "
                                      "day it takes effect (shown by `tranche timeline`)")
    basis: Basis_ | None = Field(default=None, description=_BASIS_HELP)
    rules: list[RuleFile] = Field(default_factory=_list)
    otherwise: list[RuleFile] = Field(default_factory=_list, description="conditional defaults: where no rule matches, "
                                      "the first of these whose conditions hold decides (e.g. 'other grant aid case by "
                                      "case'); where none does, `default`")
    reviews: list[ReviewDateFile] = Field(default_factory=_list, description="scheduled reviews")
    resumption_criteria: list[str] = Field(default_factory=_list)
    sources: list[str] = Field(default_factory=_list)
    marking: Marking_ = Field(default="UNCLASSIFIED", description=MARKING_HELP)
    notes: list[str] = Field(default_factory=_list)


class TimelineEntryFile(_Model):
    regime: str
    start: StartFile = Field(alias="from", description="`{date: YYYY-MM-DD}`, `{fact: FACT}` (in force from the "
                             "fact's date), `{all: [FACT, ...]}` or `{any: [FACT, ...]}`")
    until: dt.date | None = Field(default=None, description="stated expiry; must meet the next entry's start")
    announced: dt.date | None = Field(default=None, description="when the step was announced, if not the day it "
                                      "takes effect (shown by `tranche timeline`, never decided on)")
    basis: Basis_ | None = Field(default=None, description=_BASIS_HELP)
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)


class TimelineFile(_Model):
    id: str = Field(pattern=ID_PATTERN)
    recipient: str = Field(pattern=RECIPIENT_PATTERN)
    title: str = ""
    record: bool = Field(default=False, description="the recipient's posture of record, used when no regime is named")
    basis: Basis_ | None = Field(default=None, description=_BASIS_HELP)
    sources: list[str] = Field(default_factory=_list)
    notes: list[str] = Field(default_factory=_list)
    entries: list[TimelineEntryFile] = Field(min_length=1)


class RegimesFile(_Model):
    """`regimes.yaml`: regimes (rule sets) and timelines (which regime is in force when)."""

    regimes: list[RegimeFile] = Field(min_length=1)
    timelines: list[TimelineFile] = Field(default_factory=_list)


class SourceFile(_Model):
    id: str = Field(pattern=ID_PATTERN)
    title: str
    kind: str = Field(default="document", description="document, telegram, statute, file, note, ...")
    date: dt.date | None = None
    citation: str = ""
    file: str | None = Field(default=None, description="path of a local copy, relative to the scenario")
    marking: Marking_ = Field(default="UNCLASSIFIED", description=MARKING_HELP)
    notes: list[str] = Field(default_factory=_list)


class SourcesFile(_Model):
    """`sources.yaml`: citations that rules, facts, regimes and programs refer to."""

    sources: list[SourceFile] = Field(min_length=1)


class PolicyTestFile(_Model):
    name: str
    item: str | None = Field(default=None, description="a pipeline item id")
    request: dict[str, Any] | None = Field(default=None, description="an inline line item instead of `item`")
    as_of: dt.date
    regime: str | None = Field(default=None, description="a regime or timeline; default: the recipient's record")
    assume: list[str] = Field(default_factory=_list)
    expect: Outcome_
    missing: list[str] | None = Field(default=None, description="exact missing facts expected (blocked)")
    rules: list[str] | None = Field(default=None, description="exact deciding rule ids expected")
    criterion: str | None = None
    actions: list[str] | None = Field(default=None, description="exact actions the decision carries (the regime's "
                                      "orders for the line, e.g. stop_release)")

    @model_validator(mode="after")
    def _item_or_request(self) -> "PolicyTestFile":
        if (self.item is None) == (self.request is None):
            raise ValueError("give exactly one of `item` or `request`")
        return self


class CompareExpectFile(_Model):
    option: str = Field(description="a regime or timeline")
    row: str = Field(default="total", description="`total`, a program id, `channel:CHANNEL`, `ATTRIBUTE:VALUE`, "
                     "or `action:ACTION` (the lines that carry that action)")
    expect: dict[str, Any] = Field(description="any of total, permitted, review, blocked, prohibited (amounts), "
                                   "share (the permitted share, e.g. 0.678), items")


class DiffExpectFile(_Model):
    a: str
    b: str
    with_law: bool = False
    statements: int | None = Field(default=None, description="how many statements")
    includes: list[str] = Field(default_factory=_list, description="texts some statement contains")
    amount: Any = Field(default=None, description="the pipeline amount of all statements together")


class AggregateTestFile(_Model):
    name: str
    as_of: dt.date
    assume: list[str] = Field(default_factory=_list)
    compare: CompareExpectFile | None = None
    diff: DiffExpectFile | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "AggregateTestFile":
        if (self.compare is None) == (self.diff is None):
            raise ValueError("give exactly one of `compare` or `diff`")
        return self


class TestsFile(_Model):
    """`tests.yaml`: expected outcomes of items at dates under given facts, and expected aggregates."""

    tests: list[PolicyTestFile] = Field(default_factory=_list)
    aggregates: list[AggregateTestFile] = Field(default_factory=_list, description="expected figures of `compare` "
                                                "and statements of `diff` at a date")


FILE_MODELS: dict[str, type[BaseModel]] = {
    "scenario.yaml": ScenarioFile,
    "taxonomy.yaml": TaxonomyFile,
    "programs.yaml": ProgramsFile,
    "facts.yaml": FactsFile,
    "law.yaml": LawFile,
    "regimes.yaml": RegimesFile,
    "sources.yaml": SourcesFile,
    "tests.yaml": TestsFile,
}

PACK_FILE_MODELS: dict[str, type[BaseModel]] = {
    "pack.yaml": PackFile,
    "law.yaml": LawFile,
    "facts.yaml": FactsFile,
    "sources.yaml": SourcesFile,
}
"""The files of a law pack folder (pack.yaml, law.yaml and sources.yaml required; facts.yaml optional)."""

if _PLUGINS is None:
    del os.environ["PYDANTIC_DISABLE_PLUGINS"]
else:
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = _PLUGINS
