"""Phone numbers are matched in E.164, however the store or Telegram wrote them."""

from __future__ import annotations

import pytest

from bot.phones import normalise_phone


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
