"""Small field readers the connectors share: ids with their platform, locales, UTC times."""

from __future__ import annotations

from typing import Any

from storage.imports.rows import RowError, parse_locale


def platform_id(platform: str, value: Any) -> str:
    """``shopify:450789469``: two platforms' orders (or customers) never share an id."""
    return f"{platform}:{value}"


def guest_id(platform: str, email: str, phone: str) -> str:
    """The customer id of a guest checkout: by e-mail, else by phone; '' with neither."""
    if email:
        return f"{platform}:email:{email.strip().lower()}"
    if phone:
        return f"{platform}:phone:{phone.strip()}"
    return ""


def our_locale(value: Any) -> str:
    """One of the bot's locales for a platform's language tag (``pt-BR``, ``en-US``), or ''
    when the bot does not speak it (the store's default language is used then)."""
    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        return parse_locale(value.strip())
    except RowError:
        return ""


def gmt(value: Any) -> str:
    """A time the platform gives in GMT without an offset, with it (else the import would
    read it in DEFAULT_TIMEZONE); '' when absent."""
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value.strip()
    if text.endswith("Z") or "+" in text[10:] or "-" in text[10:]:
        return text
    return f"{text}+00:00"


def text_of(value: Any) -> str:
    """A JSON scalar as text ('' for null, an object or a list)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return ""
    return str(value)


def full_name(first: Any, last: Any) -> str:
    return " ".join(part for part in (text_of(first), text_of(last)) if part)
