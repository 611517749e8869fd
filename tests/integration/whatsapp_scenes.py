"""What the WhatsApp scenario tests share: a customer's side of the chat, on the stack's
clock, and readers of what the fake Cloud API received and the rows written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.app import Database
from storage.models import OutboxMessage
from tests.fakes import wa_updates as wa
from tests.fakes.cloud_api import FakeCloudApi, Request
from tests.fakes.whatsapp_stack import WhatsAppStack

PHONE = "+5511987654321"  # as the store recorded it, with the ninth digit
WA_ID = "551187654321"  # the WhatsApp account, made before the ninth digit


class Customer:
    """The customer's phone: what they send (stamped with the stack's clock) and see."""

    def __init__(
        self, stack: WhatsAppStack, cloud: FakeCloudApi, wa_id: str = WA_ID, *also: str
    ) -> None:
        """``also``: other forms of the number whose messages Meta delivers to this account
        (the store's phone with Brazil's ninth digit)."""
        self.stack, self.cloud, self.wa_id = stack, cloud, wa_id
        self.numbers = {wa_id, *also}

    def _at(self) -> dict[str, Any]:
        return {"at": self.stack.at()}

    async def says(self, text: str) -> None:
        await self.stack.deliver(wa.text(self.wa_id, text, **self._at()))

    async def sends(self, kind: str) -> None:
        await self.stack.deliver(wa.media(self.wa_id, kind, **self._at()))

    async def taps(self, title: str) -> None:
        """A reply button of the last interactive message, by its title."""
        sent = self.last()
        interactive = sent.body["interactive"]
        assert interactive["type"] == "button", interactive
        [data] = [
            b["reply"]["id"]
            for b in interactive["action"]["buttons"]
            if b["reply"]["title"] == title
        ]
        value = wa.button_reply(self.wa_id, data, title, str(sent.wamid), **self._at())
        await self.stack.deliver(value)

    async def picks(self, title: str) -> None:
        """A row of the last list message, by its title."""
        sent = self.last()
        interactive = sent.body["interactive"]
        assert interactive["type"] == "list", interactive
        [row] = [r for r in list_rows(sent.body) if r["title"] == title]
        value = wa.list_reply(self.wa_id, row["id"], title, str(sent.wamid), **self._at())
        await self.stack.deliver(value)

    async def opens(self, label: str = "Answer") -> None:
        """The quick reply of the last template."""
        sent = self.last()
        assert sent.body["type"] == "template", sent.body
        payload = template_payload(sent.body)
        value = wa.template_button(self.wa_id, payload, label, str(sent.wamid), **self._at())
        await self.stack.deliver(value)

    def received(self) -> list[Request]:
        """Every message accepted for this account (any of its numbers), oldest first."""
        return [r for r in self.cloud.requests if r.accepted and r.body.get("to") in self.numbers]

    def last(self) -> Request:
        return self.received()[-1]

    def texts(self) -> list[str]:
        """What each message says (a text's body, an interactive's body)."""
        return [body_text(r.body) for r in self.received()]


def body_text(body: dict[str, Any]) -> str:
    if body["type"] == "text":
        return str(body["text"]["body"])
    if body["type"] == "interactive":
        return str(body["interactive"]["body"]["text"])
    return f"[{body['type']}]"


def buttons(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, id) of a reply-button message's buttons."""
    assert body["type"] == "interactive" and body["interactive"]["type"] == "button", body
    return [
        (b["reply"]["title"], b["reply"]["id"]) for b in body["interactive"]["action"]["buttons"]
    ]


def list_rows(body: dict[str, Any]) -> list[dict[str, str]]:
    assert body["type"] == "interactive" and body["interactive"]["type"] == "list", body
    return [row for s in body["interactive"]["action"]["sections"] for row in s["rows"]]


def template_payload(body: dict[str, Any]) -> str:
    [component] = body["template"]["components"]
    assert (component["type"], component["sub_type"]) == ("button", "quick_reply")
    return str(component["parameters"][0]["payload"])


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.uow() as uow:
        query = select(func.count()).select_from(model).where(*where)
        return int(await uow.session.scalar(query) or 0)


async def outbox(db: Database, chat_id: str = WA_ID) -> list[OutboxMessage]:
    async with db.uow() as uow:
        query = (
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return list(await uow.session.scalars(query))
