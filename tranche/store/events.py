"""The audit log's typed events: one frozen dataclass per kind of change.

Every change to the store appends exactly one entry per event to the audit
log (:mod:`tranche.store.audit`).  An event names itself with a kebab-case
``name``, carries the ``actor`` who made the change and the UTC time it was
``created``; :meth:`Event.payload` is everything else, as JSON-ready data.
:func:`event_from_entry` turns a stored entry back into its event.

>>> e = CaseApproved(actor="rita", case=3, scenario="peru-1962", item="F62-SAL-01", regime="limited",
...                  regime_version="0a1b2c3d4e5f", revision=2, justification="urgent necessity shown")
>>> e.name, e.payload()["regime_version"]
('case-approved', '0a1b2c3d4e5f')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Event",
    "SchemaMigrated",
    "UserAdded",
    "UserRoleChanged",
    "UserClearanceChanged",
    "UserPasswordSet",
    "TokenIssued",
    "TokenRevoked",
    "SessionsEnded",
    "UserDisabled",
    "UserEnabled",
    "ScenarioLoaded",
    "LawActivated",
    "RegimeActivated",
    "FactAsserted",
    "FactRetracted",
    "CaseOpened",
    "CaseApproved",
    "CaseDenied",
    "CaseReopened",
    "CaseWithdrawn",
    "EVENTS",
    "event_from_entry",
    "utc_now",
    "format_time",
]


def utc_now() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def format_time(when: dt.datetime) -> str:
    """``2026-11-01T12:00:00.123456Z``: how times are stored and hashed (sortable as text)."""
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, kw_only=True)
class Event:
    """A change to the store: who made it and when; subclasses say what."""

    name: ClassVar[str] = "event"
    actor: str
    created: dt.datetime = field(default_factory=utc_now)

    def payload(self) -> dict[str, Any]:
        """Everything but ``actor`` and ``created``, as JSON-ready data."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.name not in ("actor", "created")}

    def describe(self) -> str:
        """One line for people."""
        body = ", ".join(f"{k}={v}" for k, v in self.payload().items() if v not in (None, "", [], {}))
        return f"{self.name} {body}"


@dataclass(frozen=True, kw_only=True)
class SchemaMigrated(Event):
    """schema-migrated: `tranche init` created or upgraded the database schema."""

    name: ClassVar[str] = "schema-migrated"
    from_revision: str | None
    to_revision: str
    database: str = ""  # the database's id (audit_identity), from revision 0003
    baseline: dict[str, Any] | None = None  # the state as found, when the log began before revision 0003


@dataclass(frozen=True, kw_only=True)
class UserAdded(Event):
    """user-added: a user was given a role (the first admin by `tranche init --admin`)."""

    name: ClassVar[str] = "user-added"
    user: str
    role: str
    clearance: str = "UNCLASSIFIED"  # from schema revision 0004


@dataclass(frozen=True, kw_only=True)
class UserClearanceChanged(Event):
    """user-clearance-changed: a user's clearance (the highest marking they may see) changed."""

    name: ClassVar[str] = "user-clearance-changed"
    user: str
    clearance: str
    previous_clearance: str


@dataclass(frozen=True, kw_only=True)
class UserPasswordSet(Event):
    """user-password-set: a user's browser-login password was set; ``digest`` is the SHA-256 of its stored
    argon2 hash (never the password), so that replay can tell a hash written outside tranche."""

    name: ClassVar[str] = "user-password-set"
    user: str
    digest: str


@dataclass(frozen=True, kw_only=True)
class TokenIssued(Event):
    """token-issued: an API token was issued to a user; ``token`` is its public id, ``digest`` the SHA-256 of
    its stored argon2 hash (the secret is shown once and never stored)."""

    name: ClassVar[str] = "token-issued"
    user: str
    token: str
    digest: str


@dataclass(frozen=True, kw_only=True)
class TokenRevoked(Event):
    """token-revoked: an API token no longer authenticates anyone."""

    name: ClassVar[str] = "token-revoked"
    user: str
    token: str


@dataclass(frozen=True, kw_only=True)
class SessionsEnded(Event):
    """sessions-ended: every browser session of a user was ended by an admin (`tranche user revoke --user`,
    `tranche user disable`); ``sessions`` is how many there were.  A user signing out is not recorded."""

    name: ClassVar[str] = "sessions-ended"
    user: str
    sessions: int


@dataclass(frozen=True, kw_only=True)
class UserDisabled(Event):
    """user-disabled: a user may no longer sign in, use a token or act (their tokens are revoked, each with its
    own `token-revoked` entry, and their sessions ended)."""

    name: ClassVar[str] = "user-disabled"
    user: str


@dataclass(frozen=True, kw_only=True)
class UserEnabled(Event):
    """user-enabled: a disabled user may sign in and act again (with a new token or password)."""

    name: ClassVar[str] = "user-enabled"
    user: str


@dataclass(frozen=True, kw_only=True)
class UserRoleChanged(Event):
    """user-role-changed: a user's role changed."""

    name: ClassVar[str] = "user-role-changed"
    user: str
    role: str
    previous_role: str


@dataclass(frozen=True, kw_only=True)
class ScenarioLoaded(Event):
    """scenario-loaded: a validated scenario was written (first load or a changed one)."""

    name: ClassVar[str] = "scenario-loaded"
    scenario: str
    revision: int
    content_hash: str
    law_version: str
    regime_versions: dict[str, str]
    counts: dict[str, int]
    path: str = ""
    facts: dict[str, list[str | None]] | None = None  # fact -> [date, until] after the load
    parts_hash: str = ""  # codec.parts_hash: everything loaded but the facts' dates


@dataclass(frozen=True, kw_only=True)
class LawActivated(Event):
    """law-activated: a new version of a scenario's law is in force for every regime."""

    name: ClassVar[str] = "law-activated"
    scenario: str
    version: str
    number: int
    previous_version: str | None = None


@dataclass(frozen=True, kw_only=True)
class RegimeActivated(Event):
    """regime-activated: a new (immutable) version of a regime became its current version."""

    name: ClassVar[str] = "regime-activated"
    scenario: str
    regime: str
    version: str
    number: int
    previous_version: str | None = None


@dataclass(frozen=True, kw_only=True)
class FactAsserted(Event):
    """fact-asserted: a fact holds from a date (until a date, if given), on a source."""

    name: ClassVar[str] = "fact-asserted"
    scenario: str
    fact: str
    date: dt.date
    until: dt.date | None = None
    sources: tuple[str, ...] = ()
    previous_date: dt.date | None = None
    previous_until: dt.date | None = None


@dataclass(frozen=True, kw_only=True)
class FactRetracted(Event):
    """fact-retracted: a fact is no longer established (it can still be assumed)."""

    name: ClassVar[str] = "fact-retracted"
    scenario: str
    fact: str
    previous_date: dt.date | None
    previous_until: dt.date | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CaseOpened(Event):
    """case-opened: an item whose outcome is `review` gets a case-by-case review."""

    name: ClassVar[str] = "case-opened"
    case: int
    scenario: str
    item: str
    regime: str
    regime_version: str
    criterion: str | None
    requested_by: str


@dataclass(frozen=True, kw_only=True)
class CaseApproved(Event):
    """case-approved: a reviewer approved a case, valid only under its regime version."""

    name: ClassVar[str] = "case-approved"
    case: int
    scenario: str
    item: str
    regime: str
    regime_version: str
    revision: int
    justification: str


@dataclass(frozen=True, kw_only=True)
class CaseDenied(Event):
    """case-denied: a reviewer denied a case under its regime version."""

    name: ClassVar[str] = "case-denied"
    case: int
    scenario: str
    item: str
    regime: str
    regime_version: str
    revision: int
    justification: str


@dataclass(frozen=True, kw_only=True)
class CaseReopened(Event):
    """case-reopened: the case's regime changed; a decision given under the old version is stale."""

    name: ClassVar[str] = "case-reopened"
    case: int
    scenario: str
    item: str
    regime: str
    regime_version: str
    previous_version: str
    previous_status: str
    criterion: str | None
    stale: bool


@dataclass(frozen=True, kw_only=True)
class CaseWithdrawn(Event):
    """case-withdrawn: the case's item or regime is gone, or the item no longer needs review."""

    name: ClassVar[str] = "case-withdrawn"
    case: int
    scenario: str
    item: str
    regime: str
    previous_status: str
    reason: str


EVENTS: dict[str, type[Event]] = {cls.name: cls for cls in (
    SchemaMigrated, UserAdded, UserRoleChanged, UserClearanceChanged, UserPasswordSet, TokenIssued, TokenRevoked,
    SessionsEnded, UserDisabled, UserEnabled, ScenarioLoaded, LawActivated, RegimeActivated, FactAsserted,
    FactRetracted, CaseOpened, CaseApproved, CaseDenied, CaseReopened, CaseWithdrawn)}


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


_DATE_FIELDS = frozenset({"date", "until", "previous_date", "previous_until"})
_TUPLE_FIELDS = frozenset({"sources"})


def event_from_entry(action: str, actor: str, created: str, payload: dict[str, Any]) -> Event | None:
    """The typed event of a stored audit entry, or None for an unknown action or a payload that does not fit."""
    cls = EVENTS.get(action)
    if cls is None:
        return None
    kwargs: dict[str, Any] = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    try:
        for key, value in payload.items():
            f = hints.get(key)
            if f is None:
                return None
            if isinstance(value, str) and key in _DATE_FIELDS:
                value = dt.date.fromisoformat(value)
            elif isinstance(value, list) and key in _TUPLE_FIELDS:
                value = tuple(value)
            kwargs[key] = value
        return cls(actor=actor, created=_parse_time(created), **kwargs)
    except (TypeError, ValueError):
        return None
