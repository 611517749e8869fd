"""Phone numbers in E.164, the form customers are matched on."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

_REGION = {"pt-BR": "BR", "en": "US", "es": "ES", "ca": "ES"}


@lru_cache(maxsize=65_536)  # imports see the same numbers again and again; parsing is slow
def normalise_phone(raw: str, locale: str = "pt-BR") -> str | None:
    """``+55 (11) 98765-4321`` -> ``+5511987654321``; None when it is not a valid number.

    Numbers without a country code are read in the region of ``locale``.
    """
    text = raw.strip()
    if not text:
        return None
    if text.isdigit() and len(text) > 11:
        # Telegram sends shared contacts as bare digits with the country code and no
        # plus sign; 11 digits or fewer is a national number (DDD + 9 digits in Brazil).
        text = "+" + text
    try:
        number = phonenumbers.parse(text, _REGION.get(locale, "BR"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
