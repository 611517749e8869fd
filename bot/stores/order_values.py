"""A platform's order values made safe for an order row (every connector): times, ids, cents.

A platform's order carries fields the import would reject whole (an unknown language,
VTEX's ``0001-01-01`` for "no date", a time it cannot read); what cannot be used is left
out here instead, so the order is still recorded with what is good in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from storage.imports.rows import EARLIEST, RowError, parse_locale


def text(value: Any) -> str:
    """The value as stripped text; '' for None, objects and lists."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def usable_time(value: Any) -> str:
    """An ISO 8601 time the import reads, as given; '' when unreadable or a null stand-in."""
    given = text(value)
    if not given:
        return ""
    try:
        stamp = datetime.fromisoformat(given.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if stamp.tzinfo is None:  # read in DEFAULT_TIMEZONE by the import; a day is no matter
        stamp = stamp.replace(tzinfo=UTC)
    return given if stamp >= EARLIEST else ""


def _instant(stamp: str) -> datetime:
    # Only to compare: a time without an offset (a carrier's local time) is near enough.
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def latest_time(times: Iterable[str]) -> str:
    """The latest of usable ISO times (``usable_time``), as given; '' when there is none."""
    return max(filter(None, times), key=_instant, default="")


def known_locale(value: Any) -> str:
    """One of the bot's locales for a language tag (``pt``, ``pt-BR``, ``es_AR``), or ''."""
    given = text(value)
    if not given:
        return ""
    try:
        return parse_locale(given)
    except RowError:
        return ""


def platform_id(platform: str, value: Any) -> str:
    """``nuvemshop:450789469``: two platforms' orders or customers never share an id."""
    given = text(value)
    return f"{platform}:{given}" if given else ""


def guest_id(platform: str, email: str, phone: str) -> str:
    """A customer known by contact only: by e-mail, else by phone; '' with neither."""
    if email:
        return f"{platform}:email:{email.strip().lower()}"
    if phone:
        return f"{platform}:phone:{phone.strip()}"
    return ""


def cents_text(value: Any) -> str:
    """Integer cents (VTEX's money) as the decimal string rows carry: 106714 -> 1067.14."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return ""
    return f"{value // 100}.{value % 100:02d}"


def gmt(value: Any) -> str:
    """A time the platform gives in GMT without an offset, with it (else the import would
    read it in DEFAULT_TIMEZONE); '' when absent."""
    given = text(value)
    if not given:
        return ""
    if given.endswith("Z") or "+" in given[10:] or "-" in given[10:]:
        return given
    return f"{given}+00:00"


def full_name(first: Any, last: Any) -> str:
    return " ".join(part for part in (text(first), text(last)) if part)
