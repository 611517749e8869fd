"""The Cloud API's webhook JSON read as Incoming updates and Receipts (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels.whatsapp.inbound import read_batch, to_receipt, update_id_of
from flows.events import ButtonIn, CommandIn, ContactIn, MediaIn, TextIn
from tests.fakes import wa_updates as wa

ME = wa.PHONE_NUMBER_ID
WA_ID = "5511987654321"


def one(value: dict) -> object:
    batch = read_batch(wa.body(value), ME)
    assert not batch.unreadable
    [(incoming, _)] = batch.messages
    return incoming


def test_a_text_is_an_incoming_of_the_senders_chat_with_their_phone_and_name() -> None:
    value = wa.text(WA_ID, "hello\x00 there", name="Ana", at=1749416383, message_id="wamid.X1")
    [(got, sent_at)] = read_batch(wa.body(value), ME).messages
    assert got.event == TextIn("hello there")  # cleaned
    assert (got.channel, got.chat_id, got.user_id, got.chat_type) == (
        "whatsapp",
        WA_ID,
        WA_ID,
        "private",
    )
    assert (got.update_id, got.phone, got.first_name, got.language_code) == (
        "wamid.X1",
        "+" + WA_ID,
        "Ana",
        None,
    )
    assert sent_at == datetime.fromtimestamp(1749416383, UTC)


@pytest.mark.parametrize(
    ("said", "event"),
    [
        ("/start abc123", CommandIn("start", "abc123")),
        ("/HELP", CommandIn("help", "")),
        ("/", TextIn("/")),
        ("5/10 at best", TextIn("5/10 at best")),
    ],
)
def test_a_slash_makes_a_command(said: str, event: object) -> None:
    assert one(wa.text(WA_ID, said)).event == event


def test_reply_buttons_and_list_rows_are_their_ids_with_the_label_and_the_message() -> None:
    pressed = one(wa.button_reply(WA_ID, "res:7:yes", "Yes, solved", context="wamid.ASKED"))
    assert (pressed.event, pressed.button_label, pressed.message_id) == (
        ButtonIn("res:7:yes"),
        "Yes, solved",
        "wamid.ASKED",
    )
    picked = one(wa.list_reply(WA_ID, "nps:3:9", "9", context="wamid.LIST"))
    assert (picked.event, picked.button_label, picked.message_id) == (
        ButtonIn("nps:3:9"),
        "9",
        "wamid.LIST",
    )


def test_a_template_quick_reply_is_its_payload() -> None:
    got = one(wa.template_button(WA_ID, "open:41", "Answer the survey", context="wamid.T"))
    assert (got.event, got.button_label) == (ButtonIn("open:41"), "Answer the survey")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("image", "photo"),
        ("audio", "voice"),
        ("sticker", "sticker"),
        ("document", "document"),
        ("video", "video"),
    ],
)
def test_media_become_media_events(kind: str, expected: str) -> None:
    assert one(wa.media(WA_ID, kind)).event == MediaIn(expected)


def test_a_location_and_an_unknown_kind() -> None:
    assert one(wa.location(WA_ID)).event == MediaIn("location")
    assert one(wa.unsupported(WA_ID)).event == MediaIn("unsupported")


def test_a_shared_contact_is_the_first_phone_and_says_whether_it_is_the_senders() -> None:
    own = one(wa.contacts(WA_ID, "+55 11 98765-4321", WA_ID)).event
    other = one(wa.contacts(WA_ID, "+55 21 91234-5678", "5521912345678")).event
    unknown = one(wa.contacts(WA_ID, "+55 21 91234-5678", None)).event
    assert own == ContactIn("+55 11 98765-4321", own=True)
    assert other == ContactIn("+55 21 91234-5678", own=False)
    assert unknown == ContactIn("+55 21 91234-5678", own=False)


def test_reactions_and_other_numbers_values_are_ignored() -> None:
    assert read_batch(wa.body(wa.reaction(WA_ID, "wamid.OLD")), ME).messages == []
    elsewhere = wa.text(WA_ID, "hi", phone_number_id="999999")
    assert read_batch(wa.body(elsewhere), ME).messages == []


def test_a_message_without_a_sender_is_unreadable_not_dropped() -> None:
    value = wa.text(WA_ID, "hi")
    del value["messages"][0]["from"]
    batch = read_batch(wa.body(value), ME)
    assert batch.messages == [] and len(batch.unreadable) == 1


def test_a_long_wamid_becomes_a_digest_of_64_characters() -> None:
    short = "wamid." + "A" * 58
    long = "wamid." + "B" * 90
    assert update_id_of(short) == short
    digest = update_id_of(long)
    assert digest.startswith("sha256:") and len(digest) == 63
    assert digest != update_id_of(long + "C")


def test_statuses_become_receipts_with_the_failure_reason() -> None:
    sent = to_receipt(wa.status("wamid.S", "delivered", WA_ID, at=1750857384)["statuses"][0])
    assert sent is not None
    assert (sent.remote_id, sent.status, sent.error) == ("wamid.S", "delivered", None)
    assert sent.at == datetime.fromtimestamp(1750857384, UTC)
    error = wa.failure(131026, "Message undeliverable", "The recipient is not on WhatsApp")
    failed = to_receipt(wa.status("wamid.F", "failed", WA_ID, errors=[error])["statuses"][0])
    assert failed is not None and failed.status == "failed"
    assert failed.error == "131026: Message undeliverable (The recipient is not on WhatsApp)"
    assert to_receipt({"id": "wamid.D", "status": "deleted", "timestamp": "1"}) is None


def test_a_body_holds_messages_and_statuses_together() -> None:
    data = wa.body(wa.text(WA_ID, "one"), wa.status("wamid.S", "read", WA_ID))
    batch = read_batch(data, ME)
    assert [i.event for i, _ in batch.messages] == [TextIn("one")]
    assert [r.status for r in batch.receipts] == ["read"]
