"""The delivery notices' words and the "talk to us" button, in the pure flows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import flows
from flows import notices
from flows.effects import OpenTicket
from flows.notices import DeliveryNews, delivery_notice
from flows.state import Facts, OrderRef, State

NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)
ORDER = OrderRef(7, "#1001 (08/03)")
LINK = "https://rastreio.example.com/BR1?x=1"


def text_of(news: DeliveryNews) -> flows.Say:
    [said] = delivery_notice(State(), news).replies
    return said


@pytest.mark.parametrize("kind", ["shipped", "out_for_delivery", "delivery_failed"])
def test_a_status_notice_names_the_order_and_its_tracking_link(kind: str) -> None:
    plain, tracked = notices._TEXTS[kind]
    said = text_of(DeliveryNews(kind, ORDER, LINK))
    assert said.text == tracked and dict(said.params) == {"order": ORDER.label, "url": LINK}
    assert text_of(DeliveryNews(kind, ORDER)).text == plain


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "rastreio.example.com/BR1", "https://a b", "  ", "ftp://x"]
)
def test_a_tracking_link_that_is_not_a_web_address_is_left_out(link: str) -> None:
    said = text_of(DeliveryNews("shipped", ORDER, link))
    assert said.text == notices._TEXTS["shipped"][0] and "url" not in dict(said.params)


def test_only_the_failed_and_the_delayed_notices_offer_to_talk_to_us() -> None:
    data = {
        kind: [b.data for row in text_of(DeliveryNews(kind, ORDER)).buttons for b in row]
        for kind in notices.KINDS
    }
    assert data == {
        "shipped": [],
        "out_for_delivery": [],
        "delivery_failed": ["late:7"],
        "delayed": ["late:7"],
    }


def test_the_delay_notice_gives_the_new_date_when_the_store_set_one() -> None:
    assert text_of(DeliveryNews("delayed", ORDER)).text == notices.DELAY
    later = text_of(DeliveryNews("delayed", ORDER, new_estimate="14/03"))
    assert later.text == notices.DELAY_NEW_DATE and dict(later.params)["date"] == "14/03"


def test_a_notice_leaves_a_pending_survey_as_it_was() -> None:
    asking = State("survey", "nps", {"followup": 3})
    assert delivery_notice(asking, DeliveryNews("shipped", ORDER)).state == asking


def test_talk_to_us_opens_one_late_delivery_ticket_about_the_order() -> None:
    out = flows.step(State(), flows.ButtonIn("late:7"), Facts(linked=True), NOW)
    assert out.effects == (OpenTicket("complaint", "late_delivery", 7, None),)
    assert dict(out.replies[0].params) == {"n": "$ticket"}


def test_talk_to_us_while_a_ticket_is_open_points_to_it() -> None:
    out = flows.step(State(), flows.ButtonIn("late:7"), Facts(linked=True, active_ticket=4), NOW)
    assert out.effects == () and dict(out.replies[0].params) == {"n": 4}


def test_talk_to_us_during_a_survey_keeps_the_survey_waiting() -> None:
    asking = State("survey", "nps", {"followup": 3})
    out = flows.step(asking, flows.ButtonIn("late:7"), Facts(linked=True), NOW)
    assert out.state == asking and isinstance(out.effects[0], OpenTicket)


def test_talk_to_us_with_forged_data_opens_a_ticket_without_an_order() -> None:
    out = flows.step(State(), flows.ButtonIn("late:x;drop"), Facts(linked=True), NOW)
    assert out.effects == (OpenTicket("complaint", "late_delivery", None, None),)


def test_talk_to_us_from_a_chat_not_linked_asks_to_link_first() -> None:
    out = flows.step(State(), flows.ButtonIn("late:7"), Facts(linked=False), NOW)
    assert out.effects == ()
