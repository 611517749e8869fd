"""What an outbox row carries: one typed body, stored as the JSON it always was.

Rows written before this type existed are plain dicts with the same keys, so
``OutboxBody.from_json`` reads them; keys it does not know travel along in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

# A /mydata export is the only copy of personal data outside the database: delete the
# file once its message is done with (bot.delivery.exports).
DISCARD_AFTER_SEND = "discard_after_send"

# Marks a message that shows a customer's data: storage.data_rights forgets it with them.
CUSTOMER_REF = "customer_ref"

# The parts of a message after its text and buttons, in the order the JSON has them:
# a flag is written only when true, the others only when set.
_FLAGS = frozenset(("request_contact", "remove_keyboard", DISCARD_AFTER_SEND))
_PARTS = (
    "request_contact",
    "contact_label",
    "remove_keyboard",
    "photo_path",
    "chart",
    "document_path",
    "document_name",
    DISCARD_AFTER_SEND,
    CUSTOMER_REF,
)
_KNOWN = frozenset(("text", "buttons", "edit_message_id", *_PARTS))
# What a failed upload moves behind the chat's queued messages (storage.outbox_retry).
ATTACHMENT = ("photo_path", "chart", "document_path", "document_name", DISCARD_AFTER_SEND)


class BodyButton(NamedTuple):
    """An inline button: the label shown and the data a press sends back (a tuple: one
    is made per button of every message sent, and tuples are cheap to make)."""

    text: str
    data: str

    def to_json(self) -> dict[str, str]:
        return {"text": self.text, "data": self.data}


def button_rows(rows: Iterable[Iterable[Mapping[str, Any]]]) -> tuple[tuple[BodyButton, ...], ...]:
    """Rows of ``{"text", "data"}`` objects as buttons (``KeyError`` when one is missing)."""
    return tuple(tuple(BodyButton(str(b["text"]), str(b["data"])) for b in row) for row in rows)


@dataclass(frozen=True, slots=True)
class OutboxBody:
    """The rendered message of one outbox row."""

    text: str = ""
    buttons: tuple[tuple[BodyButton, ...], ...] = ()
    # set: replace the buttons of this earlier message instead of sending a new one
    edit_message_id: str | None = None
    request_contact: bool = False
    contact_label: str | None = None  # the label of the share-my-phone button
    remove_keyboard: bool = False
    # Attachments: a photo (or a chart, drawn into ``photo_path`` when sent), a document.
    photo_path: str | None = None
    chart: Mapping[str, Any] | None = None
    document_path: str | None = None
    document_name: str | None = None
    discard_after_send: bool = False  # delete ``document_path`` once the row is done
    customer_ref: int | None = None  # the customer whose data the message shows
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> tuple[str, ...]:
        """The files the message sends (each must still exist when it goes)."""
        return tuple(p for p in (self.photo_path, self.document_path) if p)

    @property
    def has_attachment(self) -> bool:
        return bool(self.files or self.document_name or self.chart)

    def with_photo(self, path: str) -> OutboxBody:
        return replace(self, photo_path=path)

    def attachment(self) -> OutboxBody:
        """Only the attachment of this message (a file, a chart, what to do after)."""
        return replace(OutboxBody(), **{key: getattr(self, key) for key in ATTACHMENT})

    def without_attachment(self) -> OutboxBody:
        """This message with its attachment left out."""
        return replace(self, **{key: getattr(_EMPTY, key) for key in ATTACHMENT})

    def transcript_payload(self) -> dict[str, Any] | None:
        """What the conversation transcript keeps of this message beside its text."""
        payload = self.to_json()
        payload.pop("text", None)
        return payload or None

    def to_json(self) -> dict[str, Any]:
        """The JSON stored in ``OutboxMessage.body`` (false and empty parts left out)."""
        edit = self.edit_message_id is not None
        body: dict[str, Any] = {}
        if self.text or not (edit or self.has_attachment):
            body["text"] = self.text
        if self.buttons or edit:  # an edit to no buttons removes the keyboard
            body["buttons"] = [[b.to_json() for b in row] for row in self.buttons]
        if edit:
            body["edit_message_id"] = self.edit_message_id
        for key in _PARTS:
            value = getattr(self, key)
            if key in _FLAGS and value:
                body[key] = True
            elif key not in _FLAGS and value is not None:
                body[key] = dict(value) if key == "chart" else value
        body.update(self.extra)
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> OutboxBody:
        """Read a stored body (``ValueError`` when its shape is wrong)."""
        try:
            chart = body.get("chart")
            return cls(
                text=str(body.get("text") or ""),
                buttons=button_rows(body.get("buttons") or ()),
                edit_message_id=_optional_str(body.get("edit_message_id")),
                chart=dict(chart) if chart else None,
                request_contact=bool(body.get("request_contact")),
                contact_label=_optional_str(body.get("contact_label")),
                remove_keyboard=bool(body.get("remove_keyboard")),
                photo_path=_optional_str(body.get("photo_path")),
                document_path=_optional_str(body.get("document_path")),
                document_name=_optional_str(body.get("document_name")),
                discard_after_send=bool(body.get(DISCARD_AFTER_SEND)),
                customer_ref=_optional_int(body.get(CUSTOMER_REF)),
                extra={k: v for k, v in body.items() if k not in _KNOWN},
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"malformed outbox body: {exc!r}") from exc


_EMPTY = OutboxBody()


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


__all__ = [
    "ATTACHMENT",
    "CUSTOMER_REF",
    "DISCARD_AFTER_SEND",
    "BodyButton",
    "OutboxBody",
    "button_rows",
]
