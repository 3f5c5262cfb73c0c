"""The value domain: how flag sets, amounts, thresholds and dates are written and read, once.

Every back-end reads values in the form defined here: the scenario reader (YAML
and CSV), the bulk reader (CSV and Parquet, through :func:`parse_set` on each
distinct value), the compiled SQL (which splits sets on :data:`SET_SEPARATOR`)
and the command line (:func:`parse_date`).

* a **set** (``flags``, declared ``set`` attributes) is written as members
  separated by :data:`SET_SEPARATOR` (``,``), spaces around members ignored;
  each member is an identifier (:data:`MEMBER_PATTERN`), so no member can
  contain the separator and no other separator can pass for one;
* an **amount** is a finite, non-negative decimal with at most
  :data:`CURRENCY_PLACES` places and at most :data:`MAX_DIGITS` digits in all
  (what ``DECIMAL(18, 2)`` holds);
* a **threshold** of a rule on the amount obeys the same bounds (negative
  thresholds allowed); one on a declared decimal attribute may have up to
  :data:`ATTRIBUTE_PLACES` places (``DECIMAL(38, 10)``);
* a **date** is ISO ``YYYY-MM-DD`` (:func:`parse_date` for the command line, :func:`parse_day`
  for a pipeline cell or a rule's value, which raises :class:`ValueProblem`); ISO dates also
  compare correctly as text, which is how the compiled SQL compares a stage column on every
  engine (:data:`DATE_TEXT`).
* a **group label** (:func:`group_label`) is the text under which a summary
  (``compare --by``, ``bulk --by``) totals an attribute's value.

Each parser raises :class:`ValueProblem` with a message and a help text; the
caller adds the location.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import UsageError

__all__ = [
    "SET_SEPARATOR",
    "MEMBER_PATTERN",
    "CURRENCY_PLACES",
    "ATTRIBUTE_PLACES",
    "MAX_DIGITS",
    "ATTRIBUTE_MAX_DIGITS",
    "ZERO",
    "ValueProblem",
    "is_member",
    "parse_set",
    "format_set",
    "parse_decimal",
    "parse_amount",
    "parse_date",
    "parse_day",
    "DATE_TEXT",
    "is_under",
    "NO_VALUE",
    "group_label",
]

SET_SEPARATOR = ","
MEMBER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
CURRENCY_PLACES = 2
ATTRIBUTE_PLACES = 10
MAX_DIGITS = 18  # DECIMAL(18, 2)
ATTRIBUTE_MAX_DIGITS = 38  # DECIMAL(38, 10)
ZERO = Decimal("0.00")

_MEMBER = re.compile(MEMBER_PATTERN)
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_WORDS = {0: "zero", 1: "one", 2: "two", 3: "three"}


class ValueProblem(ValueError):
    """A value that does not belong to its domain: ``message`` says why, ``help`` how to write it."""

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.help = help


def is_member(text: str) -> bool:
    """True when ``text`` can be a member of a set (a flag id): an identifier.

    >>> is_member("internal_security"), is_member("a,b"), is_member("a;b")
    (True, False, False)
    """
    return bool(_MEMBER.match(text))


@functools.lru_cache(maxsize=65536)  # a pipeline repeats a few flag sets on many rows
def parse_set(text: str | None) -> frozenset[str]:
    """A set written ``a,b`` (spaces around members ignored; empty or missing: the empty set).

    >>> sorted(parse_set(" sensitive , internal_security "))
    ['internal_security', 'sensitive']
    >>> parse_set("sensitive;internal_security")
    Traceback (most recent call last):
    ...
    tranche.language.values.ValueProblem: `sensitive;internal_security` is not a member: members are identifiers separated by `,`
    """
    if text is None:
        return frozenset()
    out: set[str] = set()
    for raw in text.split(SET_SEPARATOR):
        member = raw.strip()
        if not member:
            continue
        member = sys.intern(member)
        if not is_member(member):
            raise ValueProblem(f"`{member}` is not a member: members are identifiers separated by `{SET_SEPARATOR}`",
                               help=f"write the members separated by `{SET_SEPARATOR}`, e.g. "
                                    f"`sensitive{SET_SEPARATOR}internal_security`; a member is letters, digits "
                                    "and `_`, starting with a letter or `_`")
        out.add(member)
    return frozenset(out)


def format_set(members: frozenset[str] | set[str]) -> str:
    """The written form of a set (sorted members, the one separator)."""
    return SET_SEPARATOR.join(sorted(members))


def parse_decimal(value: Any, *, places: int = CURRENCY_PLACES, digits: int = MAX_DIGITS,
                  negative: bool = True, what: str = "number") -> Decimal:
    """A finite decimal with at most ``places`` decimal places and ``digits`` digits in all.

    ``value`` is text or a number read from YAML (a float is read through its
    shortest text form, so ``0.1`` is ``Decimal("0.1")``).

    >>> parse_decimal("14000000"), parse_decimal(0.5)
    (Decimal('14000000'), Decimal('0.5'))
    >>> parse_decimal("NaN")
    Traceback (most recent call last):
    ...
    tranche.language.values.ValueProblem: `NaN` is not a finite number
    """
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise ValueProblem(f"`{value}` is not {_a(what)}", help="write one number, e.g. `14000000` or `2.5`")
    text = repr(value) if isinstance(value, float) else str(value)
    text = text.strip().replace("_", "")
    try:
        num = Decimal(text)
    except InvalidOperation:
        raise ValueProblem(f"`{value}` is not a decimal number",
                           help="write a decimal number without currency sign or thousands separators, "
                                "e.g. `1250000.00`") from None
    if not num.is_finite() or (isinstance(value, float) and value != value):
        raise ValueProblem(f"`{value}` is not a finite number", help="write a finite decimal number, e.g. `14000000`")
    if not negative and num < 0:
        raise ValueProblem(f"`{value}` is negative", help=f"{_a(what)} is zero or more")
    exponent = num.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -places and num != num.quantize(Decimal(1).scaleb(-places)):
        unit = "cents" if places == CURRENCY_PLACES else f"{places} decimal places"
        raise ValueProblem(f"`{value}` has more than {_WORDS.get(places, str(places))} decimal places",
                           help=f"write it with at most {unit}, e.g. `1250000.00`")
    if exponent < -places:
        num = num.quantize(Decimal(1).scaleb(-places))
    if abs(num) >= Decimal(10) ** (digits - places):
        raise ValueProblem(f"`{value}` is too large",
                           help=f"{_a(what)} has at most {digits - places} digits before the decimal point")
    return num


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def parse_amount(value: Any) -> Decimal:
    """An amount: finite, non-negative, at most cents, at most ``DECIMAL(18, 2)``.

    >>> parse_amount("1250000.00")
    Decimal('1250000.00')
    """
    return parse_decimal(value, negative=False, what="amount")


def parse_date(value: dt.date | str) -> dt.date:
    """An ISO date (``YYYY-MM-DD``); a :class:`~tranche.errors.UsageError` otherwise.

    >>> parse_date("1962-10-03")
    datetime.date(1962, 10, 3)
    """
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise UsageError(f"`{value}` is not a date", help="write dates as YYYY-MM-DD, e.g. 2001-12-31") from None


DATE_TEXT = 10
"""The length of an ISO date as text (``YYYY-MM-DD``): how many characters of a date column the SQL compares."""


def parse_day(value: Any) -> dt.date:
    """A date written ``YYYY-MM-DD`` (or read as a date from YAML); :class:`ValueProblem` otherwise.

    >>> parse_day("1962-07-18")
    datetime.date(1962, 7, 18)
    >>> parse_day("1962-13-01")
    Traceback (most recent call last):
    ...
    tranche.language.values.ValueProblem: `1962-13-01` is not a date
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = value.strip() if isinstance(value, str) else None
    if text is not None and _ISO_DAY.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueProblem(f"`{value}` is not a date", help="write dates as YYYY-MM-DD, e.g. 2001-06-30")


def is_under(node: str, ancestor: str) -> bool:
    """True when the category ``node`` is ``ancestor`` or below it (dotted paths).

    >>> is_under("end_items.civic_action", "end_items"), is_under("end_itemsx", "end_items")
    (True, False)
    """
    return node == ancestor or node.startswith(ancestor + ".")


NO_VALUE = "(none)"
"""The group of items without a value (missing, empty text, the empty set)."""


def group_label(value: Any) -> str:
    """The text a summary groups ``value`` under: one label per value, whatever way it was written.

    Sets are their sorted members (:func:`format_set`); decimals have at least two places and no
    trailing zeros beyond them; dates are ISO; a missing value, empty text and the empty set are
    :data:`NO_VALUE`.

    >>> group_label(frozenset({"sensitive", "lethal"})), group_label(Decimal("1200000")), group_label(None)
    ('lethal,sensitive', '1200000.00', '(none)')
    >>> group_label(Decimal("0.1250000000")), group_label(frozenset())
    ('0.125', '(none)')
    """
    if value is None or value == "" or (isinstance(value, (set, frozenset)) and not value):
        return NO_VALUE
    if isinstance(value, (set, frozenset)):
        return format_set(value)
    if isinstance(value, Decimal):
        num = value.normalize()
        exponent = num.as_tuple().exponent
        if isinstance(exponent, int) and exponent > -CURRENCY_PLACES:
            num = num.quantize(Decimal(1).scaleb(-CURRENCY_PLACES))
        return format(num, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
