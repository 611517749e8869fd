"""What an outbox row carries: one typed body, stored as the JSON it always was.

Rows written before this type existed are plain dicts with the same keys, so
``OutboxBody.from_json`` reads them; keys it does not know (such as ``customer_ref``,
which marks a message showing a customer's data) travel along in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

# A /mydata export is the only copy of personal data outside the database: delete the
# file once its message is done with (bot.delivery.exports).
DISCARD_AFTER_SEND = "discard_after_send"

_FLAGS = ("request_contact", "remove_keyboard", DISCARD_AFTER_SEND)
_PATHS = ("contact_label", "photo_path", "document_path", "document_name")
_KNOWN = frozenset(("text", "buttons", "edit_message_id", "chart", *_FLAGS, *_PATHS))


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
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> tuple[str, ...]:
        """The files the message sends (each must still exist when it goes)."""
        return tuple(p for p in (self.photo_path, self.document_path) if p)

    def with_photo(self, path: str) -> OutboxBody:
        return replace(self, photo_path=path)

    def to_json(self) -> dict[str, Any]:
        """The JSON stored in ``OutboxMessage.body`` (false and empty parts left out)."""
        edit = self.edit_message_id is not None
        body: dict[str, Any] = {"text": self.text} if self.text or not edit else {}
        if self.buttons or edit:  # an edit to no buttons removes the keyboard
            body["buttons"] = [[b.to_json() for b in row] for row in self.buttons]
        if edit:
            body["edit_message_id"] = self.edit_message_id
        for key in _FLAGS:
            if getattr(self, key):
                body[key] = True
        for key in _PATHS:
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        if self.chart is not None:
            body["chart"] = dict(self.chart)
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
                extra={k: v for k, v in body.items() if k not in _KNOWN},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed outbox body: {exc!r}") from exc


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = ["DISCARD_AFTER_SEND", "BodyButton", "OutboxBody", "button_rows"]
