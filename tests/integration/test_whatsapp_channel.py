"""The WhatsApp channel over loopback HTTP: its routes in the bot's real aiohttp server
(Meta's side played by ``WebhookPoster``), sending to the fake Cloud API."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import Database
from bot.channels.attempts import Unavailable
from bot.channels.port import (
    ChatRetryAfter,
    Forbidden,
    Halted,
    Incoming,
    OutButton,
    Outgoing,
    Receipt,
    Rejected,
    RetryAfter,
    Transient,
)
from bot.channels.whatsapp.factory import WhatsAppChannel, build_whatsapp_channel
from bot.channels.whatsapp.webhook import sign
from bot.channels.whatsapp.window import ChatWindow
from bot.entrypoints.http.app import build_app, channel_routes
from bot.settings import Settings, SettingsError
from bot.startup import StartupError
from flows.events import ButtonIn, TextIn
from tests.fakes import wa_updates as wa
from tests.fakes.cloud_api import APP_SECRET, TOKEN, VERIFY_TOKEN, FakeCloudApi, WebhookPoster

CUSTOMER = "5511987654321"


def wa_settings(api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "whatsapp_token": TOKEN,
        "whatsapp_phone_number_id": wa.PHONE_NUMBER_ID,
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN,
        "whatsapp_api_url": api_url,
        "default_locale": "en",
        "database_url": "sqlite+aiosqlite://",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Stack:
    api: FakeCloudApi
    channel: WhatsAppChannel
    meta: WebhookPoster
    handled: list[Incoming] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    failure: Exception | None = None

    async def handle(self, incoming: Incoming) -> None:
        await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        self.handled.append(incoming)

    async def on_receipt(self, channel: str, receipt: Receipt) -> None:
        assert channel == "whatsapp"
        self.receipts.append(receipt)


@pytest.fixture
async def stack(sqlite_db: Database) -> AsyncIterator[Stack]:
    api = FakeCloudApi()
    url = await api.start()
    settings = wa_settings(url)
    holder: dict[str, Stack] = {}

    async def handler(incoming: Incoming) -> None:
        await holder["stack"].handle(incoming)

    channel = build_whatsapp_channel(settings, handler, retry_delay=0.01)
    server = TestServer(build_app(settings, sqlite_db, channel_routes({"whatsapp": channel})))
    await server.start_server()
    meta = WebhookPoster(f"http://127.0.0.1:{server.port}/whatsapp", api=api)
    made = Stack(api, channel, meta)
    made.gate.set()
    channel.on_receipt = made.on_receipt
    holder["stack"] = made
    await channel.start()
    try:
        yield made
    finally:
        await channel.stop()
        await channel.close()
        await server.close()
        await api.close()


# -- the webhook's checks -------------------------------------------------------------


async def test_meta_verification_echoes_the_challenge_only_with_the_verify_token(
    stack: Stack,
) -> None:
    assert await stack.meta.verify("subscribe", VERIFY_TOKEN, "8761") == (200, "8761")
    assert (await stack.meta.verify("subscribe", VERIFY_TOKEN + "x"))[0] == 403
    assert (await stack.meta.verify("unsubscribe", VERIFY_TOKEN))[0] == 403


async def test_a_rightly_signed_body_is_handled(stack: Stack) -> None:
    assert await stack.meta.post(wa.text(CUSTOMER, "hello")) == 200
    [got] = stack.handled
    assert (got.event, got.chat_id, got.phone) == (TextIn("hello"), CUSTOMER, "+" + CUSTOMER)


@pytest.mark.parametrize("kind", ["missing", "wrong", "other body", "no prefix", "not hex"])
async def test_a_wrong_signature_is_refused_and_nothing_handed_over(
    stack: Stack, kind: str
) -> None:
    value = wa.text(CUSTOMER, "hello")
    signature = {
        "missing": None,
        "wrong": "sha256=" + "0" * 64,
        "other body": sign(APP_SECRET, b'{"object": "whatsapp_business_account"}'),
        "no prefix": sign(APP_SECRET, b"x")[len("sha256=") :],
        "not hex": "sha256=zz",
    }[kind]
    assert await stack.meta.post(value, signature=signature) == 401
    assert stack.handled == []


async def test_a_signature_in_uppercase_hex_is_the_same_digest(stack: Stack) -> None:
    raw = b'{"object": "whatsapp_business_account", "entry": []}'
    value = wa.text(CUSTOMER, "shouting hex")
    body = json.dumps(wa.body(value)).encode()
    upper = "sha256=" + sign(APP_SECRET, body)[len("sha256=") :].upper()
    assert await stack.meta.post(raw=body, signature=upper) == 200
    assert [i.event for i in stack.handled] == [TextIn("shouting hex")]
    assert await stack.meta.post(raw=raw, signature=sign(APP_SECRET, raw)) == 200


async def test_malformed_json_is_400(stack: Stack) -> None:
    raw = b"{not json"
    assert await stack.meta.post(raw=raw, signature=sign(APP_SECRET, raw)) == 400


async def test_routes_refuse_to_exist_without_their_secrets() -> None:
    for missing in ("whatsapp_app_secret", "whatsapp_verify_token"):
        settings = wa_settings("http://127.0.0.1:9/v23.0", **{missing: ""})
        channel = build_whatsapp_channel(settings, lambda _i: asyncio.sleep(0))
        with pytest.raises(SettingsError, match=missing.upper()):
            channel.routes()
        await channel.close()


# -- receiving --------------------------------------------------------------------------


async def test_a_body_sent_twice_is_handled_once(stack: Stack) -> None:
    value = wa.text(CUSTOMER, "once", message_id=wa.wamid(7))
    assert await stack.meta.post(value) == 200
    assert await stack.meta.post(value) == 200
    assert len(stack.handled) == 1


async def test_statuses_reach_on_receipt(stack: Stack) -> None:
    error = wa.failure(131026, "Message undeliverable", "not on WhatsApp")
    assert (
        await stack.meta.post(
            wa.status("wamid.A", "delivered", CUSTOMER),
            wa.status("wamid.B", "failed", CUSTOMER, errors=[error]),
        )
        == 200
    )
    assert [(r.remote_id, r.status) for r in stack.receipts] == [
        ("wamid.A", "delivered"),
        ("wamid.B", "failed"),
    ]
    assert stack.receipts[1].error == "131026: Message undeliverable (not on WhatsApp)"


async def test_the_answer_waits_for_the_handler(stack: Stack) -> None:
    stack.gate.clear()
    posted = asyncio.create_task(stack.meta.post(wa.text(CUSTOMER, "slow")))
    await asyncio.sleep(0.3)
    assert not posted.done()  # Meta has no 200 while the update is in hand
    stack.gate.set()
    assert await posted == 200
    assert len(stack.handled) == 1


async def test_an_outage_answers_503_and_lets_the_resend_through(stack: Stack) -> None:
    from sqlalchemy.exc import OperationalError

    value = wa.text(CUSTOMER, "during the outage", message_id=wa.wamid(8))
    stack.failure = OperationalError("INSERT", {}, Exception("database is locked"))
    assert await stack.meta.post(value) == 503
    stack.failure = None
    assert await stack.meta.post(value) == 200  # Meta's retry is handled
    assert [i.event for i in stack.handled] == [TextIn("during the outage")]


async def test_unavailable_from_the_handler_is_503_and_nothing_is_marked_read(
    stack: Stack,
) -> None:
    value = wa.text(CUSTOMER, "x", message_id=wa.wamid(10))
    stack.failure = Unavailable("database down")
    assert await stack.meta.post(value) == 503
    await stack.channel.wait_idle()
    assert stack.api.read_marks() == []
    stack.failure = None
    assert await stack.meta.post(value) == 200
    assert [i.event for i in stack.handled] == [TextIn("x")]


async def test_a_handled_message_is_marked_read(stack: Stack) -> None:
    value = wa.text(CUSTOMER, "read me", message_id=wa.wamid(9))
    assert await stack.meta.post(value) == 200
    await stack.channel.wait_idle()
    assert stack.api.read_marks() == [wa.wamid(9)]


async def test_after_stop_bodies_are_refused_with_503(stack: Stack) -> None:
    await stack.channel.stop()
    assert await stack.meta.post(wa.text(CUSTOMER, "late")) == 503
    assert stack.handled == []


# -- sending ----------------------------------------------------------------------------


async def opened(stack: Stack, chat: str = CUSTOMER) -> None:
    """The customer writes, so the window is open (the channel's memory and Meta's)."""
    assert await stack.meta.post(wa.text(chat, "hi")) == 200


async def test_text_buttons_and_lists_reach_the_fake_as_rendered(stack: Stack) -> None:
    await opened(stack)
    await stack.channel.send(Outgoing(CUSTOMER, "Plain"))
    yes_no = ((OutButton("Yes", "res:1:yes"), OutButton("No", "res:1:no")),)
    await stack.channel.send(Outgoing(CUSTOMER, "Solved?", buttons=yes_no))
    faces = (tuple(OutButton(str(n), f"csat:1:{n}") for n in range(1, 6)),)
    await stack.channel.send(Outgoing(CUSTOMER, "Rate us", buttons=faces))
    plain, replies, picker = stack.api.messages(CUSTOMER)
    assert plain["text"] == {"preview_url": False, "body": "Plain"}
    assert [b["reply"]["title"] for b in replies["interactive"]["action"]["buttons"]] == [
        "Yes",
        "No",
    ]
    action = picker["interactive"]["action"]
    assert action["button"] == "Choose"
    assert [r["id"] for r in action["sections"][0]["rows"]] == [f"csat:1:{n}" for n in range(1, 6)]


async def test_the_list_button_speaks_the_chats_locale(stack: Stack) -> None:
    await opened(stack)

    async def lookup(chat: str) -> ChatWindow:
        return ChatWindow(datetime.now(UTC), "pt-BR")

    stack.channel.chat_window = lookup
    many = (tuple(OutButton(str(n), f"n:{n}") for n in range(5)),)
    await stack.channel.send(Outgoing(CUSTOMER, "Nota", buttons=many))
    assert stack.api.messages(CUSTOMER)[-1]["interactive"]["action"]["button"] == "Escolher"


async def test_a_photo_and_a_document_are_uploaded_then_sent(stack: Stack, tmp_path: Path) -> None:
    await opened(stack)
    photo = tmp_path / "label.png"
    photo.write_bytes(b"\x89PNG fake")
    report = tmp_path / "data.json"
    report.write_text("{}", encoding="utf-8")
    await stack.channel.send(Outgoing(CUSTOMER, "Your label", photo_path=str(photo)))
    await stack.channel.send(
        Outgoing(CUSTOMER, "Your data", document_path=str(report), document_name="export.json")
    )
    image, document = stack.api.messages(CUSTOMER)
    first, second = stack.api.uploads()
    assert first.files["file"] == ("label.png", b"\x89PNG fake")
    assert first.body == {"messaging_product": "whatsapp", "type": "image/png"}
    assert image["image"] == {"id": first.wamid, "caption": "Your label"}
    assert document["document"] == {
        "id": second.wamid,
        "caption": "Your data",
        "filename": "export.json",
    }


async def test_a_closed_window_sends_the_template_of_an_invitation(stack: Stack) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=3)

    async def lookup(chat: str) -> ChatWindow:
        return ChatWindow(long_ago, "es")

    stack.channel.chat_window = lookup
    invitation = Outgoing(CUSTOMER, "How was it?", purpose="invitation", row_id=41)
    wamid = await stack.channel.send(invitation)
    [sent] = stack.api.messages(CUSTOMER)
    assert sent["template"]["name"] == "postsale_survey"
    assert sent["template"]["language"] == {"code": "es"}
    assert sent["template"]["components"][0]["parameters"] == [
        {"type": "payload", "payload": "open:41"}
    ]
    assert wamid.startswith("wamid.")


async def test_a_reply_outside_the_window_is_rejected_as_131047(stack: Stack) -> None:
    with pytest.raises(Rejected, match="131047.*'reply'"):
        await stack.channel.send(Outgoing(CUSTOMER, "Thanks!"))
    assert stack.api.requests == []  # nothing was even tried


async def test_meta_refusing_a_free_form_send_falls_back_to_the_template(stack: Stack) -> None:
    await opened(stack)
    stack.api.last_inbound[CUSTOMER] = datetime.now(UTC) - timedelta(hours=30)  # Meta knows
    await stack.channel.send(Outgoing(CUSTOMER, "Reminder", purpose="reminder", row_id=9))
    [refused] = stack.api.refused()
    assert refused["type"] == "text"
    [sent] = stack.api.messages(CUSTOMER)
    assert sent["template"]["name"] == "postsale_reminder"
    with pytest.raises(Rejected, match="131047"):
        await stack.channel.send(Outgoing(CUSTOMER, "A plain reply"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (130429, RetryAfter),
        (131056, ChatRetryAfter),
        (131026, Forbidden),
        (131048, Halted),
        (131049, Rejected),
        (4, RetryAfter),
        (80007, RetryAfter),
        (131000, Transient),
    ],
)
async def test_each_error_code_the_server_answers_is_mapped(
    stack: Stack, code: int, expected: type[Exception]
) -> None:
    await opened(stack)
    stack.api.fail_next(code)
    with pytest.raises(expected) as caught:
        await stack.channel.send(Outgoing(CUSTOMER, "hi"))
    assert type(caught.value) is expected
    assert await stack.channel.send(Outgoing(CUSTOMER, "hi"))  # the next one goes


async def test_a_wrong_token_or_no_server_stops_start_up(stack: Stack) -> None:
    wrong = build_whatsapp_channel(
        wa_settings(stack.channel.settings.whatsapp_api_url, whatsapp_token="EAAG-wrong"),
        stack.handle,
    )
    with pytest.raises(StartupError, match="WHATSAPP_TOKEN"):
        await wrong.open()
    await wrong.close()
    gone = build_whatsapp_channel(wa_settings("http://127.0.0.1:9/v23.0"), stack.handle)
    with pytest.raises(StartupError, match="WHATSAPP_API_URL"):
        await gone.open()
    await gone.close()


async def test_no_token_or_app_secret_reaches_a_log(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await stack.meta.post(wa.text(CUSTOMER, "hi"), signature="sha256=" + "1" * 64)
    await opened(stack)
    stack.api.fail_next(190)
    with pytest.raises(Halted):
        await stack.channel.send(Outgoing(CUSTOMER, "hi"))
    stack.failure = RuntimeError("boom")
    await stack.meta.post(wa.text(CUSTOMER, "poison"))
    await stack.channel.wait_idle()
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "wrong or missing signature" in logged  # the log was captured at all
    for secret in (TOKEN, APP_SECRET, VERIFY_TOKEN):
        assert secret not in logged


async def test_presses_arrive_as_their_data_with_the_message_they_were_on(stack: Stack) -> None:
    assert (
        await stack.meta.post(
            wa.button_reply(CUSTOMER, "res:7:yes", "Yes", context="wamid.ASKED"),
            wa.template_button(CUSTOMER, "open:41", "Answer", context="wamid.TPL"),
        )
        == 200
    )
    assert [(i.event, i.message_id) for i in stack.handled] == [
        (ButtonIn("res:7:yes"), "wamid.ASKED"),
        (ButtonIn("open:41"), "wamid.TPL"),
    ]
