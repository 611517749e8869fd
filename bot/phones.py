"""Phone numbers in E.164, the form customers are matched on."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

_REGION = {"pt-BR": "BR", "en": "US", "es": "ES", "ca": "ES"}

# "+" and ASCII digits with the usual separators: no letters, no extension marks (x # , ;),
# so ``phonenumbers.parse`` would find no extension and drop every separator.
_INTERNATIONAL = re.compile(r"\+[0-9 ().\-]+")
_SEPARATORS = str.maketrans("", "", " ().-")
_MISS = "miss"


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
    found = _international(text)
    if found is not _MISS:
        return found
    return parse_phone(text, locale)


def parse_phone(text: str, locale: str = "pt-BR") -> str | None:
    """E.164 of ``text`` by ``phonenumbers`` alone (no shortcut); None when not valid."""
    try:
        number = phonenumbers.parse(text, _REGION.get(locale, "BR"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _international(text: str) -> str | None:
    """The common case, ``+<country code><number>``, without ``phonenumbers.parse``.

    Parsing costs more than checking: for these inputs ``parse`` only splits off the
    country code (unless a national prefix could be stripped, or the number starts with a
    zero, where its rules are subtle), so the split is done here and the number is then
    checked by ``phonenumbers`` itself. Anything else answers ``_MISS``: parse it fully.
    """
    if len(text) > 64 or _INTERNATIONAL.fullmatch(text) is None:
        return _MISS
    digits = text[1:].translate(_SEPARATORS)
    if len(digits) < 5 or digits[0] == "0":
        return _MISS
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return _MISS
    national = digits[size:]
    if not 2 <= len(national) <= 17 or national[0] == "0":
        return _MISS
    region = COUNTRY_CODE_TO_REGION_CODE[code][0]
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None:
        return _MISS
    prefix = metadata.national_prefix_for_parsing
    if prefix and _pattern(prefix).match(national):
        return _MISS  # parse might strip a national prefix: let it decide
    number = PhoneNumber(country_code=code, national_number=int(national))
    return f"+{code}{national}" if phonenumbers.is_valid_number(number) else None


@lru_cache(maxsize=512)
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


def number_variants(e164: str) -> tuple[str, ...]:
    """The E.164 numbers one messaging account may stand for: the number itself and, for a
    Brazilian mobile, the same number with or without the ninth digit.

    Brazil added a leading 9 to mobile numbers (2012-2016); WhatsApp accounts made
    before keep an id without it (``55 11 8765-4321``) while stores record the number
    with it (``55 11 98765-4321``), and the other way round.
    """
    digits = e164.lstrip("+")
    if not digits.isdigit():
        return ()
    found = ["+" + digits]
    national = digits[2:] if digits.startswith("55") else ""
    if len(national) == 10 and national[2] in "6789":  # DDD + an 8-digit mobile
        found.append(f"+55{national[:2]}9{national[2:]}")
    elif len(national) == 11 and national[2] == "9":  # DDD + 9 + 8 digits
        found.append(f"+55{national[:2]}{national[3:]}")
    return tuple(found)
