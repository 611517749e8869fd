"""Reading import rows: field parsers, the report, and the batch-writing pipeline.

A field parser returns the clean value or raises ``RowError`` with a reason a person
can act on; the importers turn that into a rejection carrying the row's line number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies
from email_validator import EmailNotValidError, validate_email

from flows.locales import LOCALES
from flows.text_safety import clean_text, is_clean

Row = tuple[int, Mapping[str, Any]]
"""A row to import and where it came from: (line number in the file or item number, fields)."""

PhoneNormaliser = Callable[[str, str], str | None]
"""``(raw phone, locale) -> E.164 or None``; ``bot.phones.normalise_phone`` in the app."""

KEEP_DETAILS = 1000
"""How many rejections (and warnings) a report keeps; all are counted."""

_DECIMAL = re.compile(r"^([+-]?)(\d+)(?:\.(\d+))?$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_MAX_CENTS = 10**15
# The plain shape of nearly every address, which the library accepts too; it costs a
# regular expression where the library costs 0.2 ms, a minute on a million rows.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]{1,64}(?:\.[A-Za-z0-9_+-]{1,64})*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}(?:com|net|org|br|es|io)"
)

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No order of a shop running this bot is older; earlier dates are typing mistakes."""
FUTURE_SLACK = timedelta(minutes=10)
"""How far ahead of our clock a time may be: the store's clock may run a little fast."""


class RowError(ValueError):
    """A row cannot be imported; the message says why."""


@dataclass(frozen=True)
class Rejection:
    """One row left out (or, as a warning, kept with a field dropped), and why."""

    line: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass
class ImportReport:
    """What an import did: counts, and the first ``KEEP_DETAILS`` rejections and warnings."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    warned: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Rows read: every row is added, updated, unchanged, stale or rejected."""
        return self.added + self.updated + self.unchanged + self.stale + self.rejected

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < KEEP_DETAILS:
            self.rejections.append(Rejection(line, reason))

    def warn(self, line: int, reason: str) -> None:
        self.warned += 1
        if len(self.warnings) < KEEP_DETAILS:
            self.warnings.append(Rejection(line, reason))

    def as_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "rejected": self.rejected,
            "rejections": [r.as_json() for r in self.rejections],
            "warnings": [w.as_json() for w in self.warnings],
        }


def stripped(
    row: Mapping[str, Any],
    warn: Callable[[str], None] | None = None,
    *,
    ids: tuple[str, ...] = (),
) -> dict[str, str]:
    """Every field as stripped, storable text (None as ''): what the row parsers read.

    A JSON number is taken as its text, but an id (a name in ``ids``) must be text or a
    whole number, and nothing may be a list, an object or true/false: their text would
    be Python's, not the sender's. NUL characters and lone surrogates are cleaned out
    (``clean_text``), with a warning, so that both databases store the same text.
    """
    try:
        fields = {k: v.strip() for k, v in row.items()}  # a CSV row: all text
    except AttributeError:
        fields = {str(k): _scalar(str(k), v, str(k) in ids) for k, v in row.items()}
    if not is_clean("".join(fields.values())):
        for name, value in fields.items():
            if not is_clean(value):
                fields[name] = clean_text(value).strip()
                if warn is not None:
                    warn(f"{name} held NUL or invalid characters; they were removed")
    return fields


def _scalar(name: str, value: Any, is_id: bool) -> str:
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and not is_id:
        return str(value)
    expected = "text or a whole number" if is_id else "text or a number"
    raise RowError(f"{name} must be {expected}, not {_json_type(value)}")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def required(fields: Mapping[str, str], name: str, max_len: int = 0) -> str:
    """A field that must be there (of at most ``max_len`` characters when given)."""
    value = fields.get(name, "")
    if not value:
        raise RowError(f"missing {name}")
    if max_len and len(value) > max_len:
        raise RowError(f"{name} longer than {max_len} characters")
    return value


def text(row: Mapping[str, Any], name: str, *, required: bool = False, max_len: int = 0) -> str:
    """The stripped text of a field ('' when absent or empty, unless ``required``)."""
    value = row.get(name)
    result = "" if value is None else str(value).strip()
    if required and not result:
        raise RowError(f"missing {name}")
    if max_len and len(result) > max_len:
        raise RowError(f"{name} longer than {max_len} characters")
    return result


def parse_time(
    value: str, name: str, default_tz: tzinfo, *, now: datetime | None = None
) -> datetime:
    """An ISO 8601 time (or date) as aware UTC; without an offset it is read in ``default_tz``.

    Given ``now``, the time must lie between ``EARLIEST`` and ``now + FUTURE_SLACK``: a
    date out there is a mistake, and one far out breaks the date arithmetic downstream.
    """
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(f"bad {name} {value!r} (expected ISO 8601, e.g. 2024-05-31 14:20)") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=default_tz)
    try:
        stamp = stamp.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise RowError(f"{name} {value!r} is out of range") from None
    if now is not None:
        if stamp < EARLIEST:
            raise RowError(f"{name} {value!r} is before {EARLIEST:%Y}")
        if stamp > now + FUTURE_SLACK:
            raise RowError(f"{name} {value!r} is in the future")
    return stamp


def parse_email(value: str) -> str | None:
    """The address when ``value`` is a well-formed e-mail address, else None (no DNS look-up)."""
    if _PLAIN_EMAIL.fullmatch(value) and len(value) <= 254:
        return value
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None
    return value


def parse_money(value: str, name: str) -> int:
    """A decimal string (``129.90``) as integer cents; negative or fractional cents refused."""
    found = _DECIMAL.match(value)
    if not found:
        raise RowError(f"{name} {value!r} is not a decimal number (e.g. 129.90)")
    sign, units, fraction = found.groups()
    fraction = (fraction or "").rstrip("0")
    if len(fraction) > 2:
        raise RowError(f"{name} {value!r} has fractions of a cent")
    # Whole numbers of cents from the digits themselves: exact, no float on the way.
    cents = int(units) * 100 + int(fraction.ljust(2, "0"))
    if sign == "-" and cents:
        raise RowError(f"negative {name} {value!r}")
    if cents >= _MAX_CENTS:
        raise RowError(f"{name} {value!r} is too large")
    return cents


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=256)
def parse_currency(value: str) -> str:
    """An ISO 4217 code, upper-cased (``brl`` -> ``BRL``)."""
    code = value.upper()
    if not _CURRENCY.match(value) or code not in _currencies():
        raise RowError(f"unknown currency {value!r} (expected an ISO 4217 code such as BRL)")
    return code


@lru_cache(maxsize=256)
def parse_locale(value: str) -> str:
    """One of our locales for ``pt-BR``, ``pt_br``, ``pt``, ``en-US``, ..."""
    code = value.replace("_", "-").lower()
    for locale in LOCALES:
        if code == locale.lower():
            return locale
    for locale in LOCALES:
        if code.split("-")[0] == locale.split("-")[0].lower():
            return locale
    raise RowError(f"unknown locale {value!r} (one of {', '.join(LOCALES)})")


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo | None:
    """The IANA zone ``name``, or None when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_zone(value: str) -> str:
    """An IANA time zone name (``America/Sao_Paulo``)."""
    if zone(value) is None:
        raise RowError(f"unknown time zone {value!r} (an IANA name such as America/Sao_Paulo)")
    return value


def parse_int(value: str, name: str, low: int, high: int) -> int:
    """A whole number within ``low..high``."""
    try:
        number = int(value)
    except ValueError:
        raise RowError(f"{name} {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise RowError(f"{name} {number} out of range {low}-{high}")
    return number


def numbered(items: Iterable[Mapping[str, Any]], start: int = 1) -> Iterator[Row]:
    """Rows numbered by position (the first is ``start``), for items that are not a file."""
    return enumerate(items, start)
