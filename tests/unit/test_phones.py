"""Phone numbers are matched in E.164, however the store or Telegram wrote them."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.phones import _MISS, _international, normalise_phone, parse_phone


@pytest.mark.parametrize(
    ("raw", "locale", "expected"),
    [
        ("+55 (11) 98765-4321", "pt-BR", "+5511987654321"),
        ("11 98765-4321", "pt-BR", "+5511987654321"),  # national, with separators
        ("(11) 98765-4321", "pt-BR", "+5511987654321"),
        ("11987654321", "pt-BR", "+5511987654321"),  # national, digits only
        ("5511987654321", "pt-BR", "+5511987654321"),  # as Telegram shares a contact
        ("+1 650-253-0000", "pt-BR", "+16502530000"),
        ("650-253-0000", "en", "+16502530000"),
        ("612 34 56 78", "es", "+34612345678"),
    ],
)
def test_numbers_written_many_ways_come_out_in_e164(raw: str, locale: str, expected: str) -> None:
    assert normalise_phone(raw, locale) == expected


@pytest.mark.parametrize("raw", ["", "   ", "call me", "123", "+55 11 1234"])
def test_what_is_not_a_valid_number_gives_none(raw: str) -> None:
    assert normalise_phone(raw) is None


def _written_many_ways() -> list[str]:
    """Example numbers of every region and kind, as E.164 and spaced, some digits changed."""
    rng = random.Random(5)
    kinds = (
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.VOIP,
        PhoneNumberType.UAN,
    )
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in kinds
    ]
    examples += [
        phonenumbers.example_number_for_non_geo_entity(code)
        for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    ]
    styles = (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL)
    written = [phonenumbers.format_number(e, s) for e in examples if e is not None for s in styles]
    changed = [w[:-3] + f"{rng.randrange(1000):03d}" for w in written]
    odd = [
        f"+{rng.randrange(1, 999)} ({rng.randrange(10**9)}) {rng.randrange(99)}" for _ in range(500)
    ]
    return written + changed + odd + ["+55 011 98765-4321", "+39 06 1234 5678", "+1 (650) 253.0000"]


def test_the_shortcut_for_international_numbers_agrees_with_phonenumbers() -> None:
    numbers = _written_many_ways()
    for raw in numbers:
        assert normalise_phone(raw) == parse_phone(raw), raw
    # The shortcut did answer most of them (its point), valid ones and invalid ones.
    answered = [raw for raw in numbers if _international(raw) is not _MISS]
    assert len(answered) > 0.8 * len(numbers)
    assert any(parse_phone(raw) is None for raw in answered)
