"""Two-tap pickers and Brazil's ninth digit: pure rules, checked on the shapes the flows send."""

from __future__ import annotations

import pytest

from bot.channels import pickers
from bot.channels.port import Capabilities, Outgoing, Rejected
from bot.delivery.outgoing import fit
from bot.phones import number_variants
from flows.survey_buttons import csat_buttons, nps_buttons, skip_row
from storage.outbox_body import BodyButton

WHATSAPP = Capabilities(
    buttons_per_message=10, buttons_per_row=10, list_messages=True, list_rows=10
)
TELEGRAM = Capabilities(buttons_per_message=100, buttons_per_row=8)


def rows_of(say_rows: tuple) -> tuple[tuple[BodyButton, ...], ...]:
    return tuple(tuple(BodyButton(b.label, b.data) for b in row) for row in say_rows)


NPS = rows_of(nps_buttons(7) + skip_row(7))


def test_nps_arrives_as_three_choices_and_every_score_is_two_taps_away() -> None:
    sent = fit(Outgoing("5511", "How likely...?", buttons=NPS, row_id=42), WHATSAPP)
    first = [b for row in sent.buttons for b in row]
    assert [b.text for b in first] == ["0 – 5", "6 – 10", "Skip"]
    assert [b.data for b in first] == ["pick:42:0", "pick:42:1", "skip:7"]
    reached = set()
    for button in first:
        group = pickers.parse(button.data)
        if group is None:
            continue
        assert group[0] == 42
        second = pickers.second_level(NPS, group[1])
        assert second is not None and len(second) <= WHATSAPP.list_rows
        reached |= {b.data for row in second for b in row}
    assert reached == {f"nps:7:{n}" for n in range(11)}


def test_what_fits_is_left_alone_and_telegram_never_gets_a_picker() -> None:
    csat = rows_of(csat_buttons(7))
    assert fit(Outgoing("1", "CSAT?", buttons=csat, row_id=1), WHATSAPP).buttons == csat
    assert fit(Outgoing("1", "NPS?", buttons=NPS, row_id=1), TELEGRAM).buttons[0] == NPS[0]


def test_without_a_row_id_or_lists_too_many_buttons_are_refused_not_dropped() -> None:
    with pytest.raises(Rejected):
        fit(Outgoing("1", "NPS?", buttons=NPS), WHATSAPP)  # no row to rebuild the step from
    three = Capabilities(buttons_per_message=3, buttons_per_row=3)
    with pytest.raises(Rejected):
        fit(Outgoing("1", "NPS?", buttons=NPS, row_id=5), three)


@pytest.mark.parametrize("data", ["pick:", "pick:x:1", "pick:1", "pick:1:-1", "nps:1:2", "open:3"])
def test_other_data_is_not_a_picker_group(data: str) -> None:
    assert pickers.parse(data) is None


def test_a_group_index_outside_the_message_has_no_second_step() -> None:
    assert pickers.second_level(NPS, 9) is None
    assert pickers.second_level(NPS, 2) is None  # the skip row is a button, not a group


@pytest.mark.parametrize(
    ("number", "variants"),
    [
        ("+5511987654321", ("+5511987654321", "+551187654321")),
        ("+551187654321", ("+551187654321", "+5511987654321")),
        ("5521912345678", ("+5521912345678", "+552112345678")),
        ("+551133334444", ("+551133334444",)),  # a landline (starts 2-5): no ninth digit
        ("+34612345678", ("+34612345678",)),
        ("not a number", ()),
    ],
)
def test_brazilian_mobiles_are_matched_with_and_without_the_ninth_digit(
    number: str, variants: tuple[str, ...]
) -> None:
    assert number_variants(number) == variants
