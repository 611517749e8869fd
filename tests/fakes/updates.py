"""Update JSON as Telegram sends it, for ``FakeBotApi.inject`` (and for the benchmark)."""

from __future__ import annotations

import itertools
import time
from typing import Any

BOT_ID = 777000


def user(
    user_id: int, *, language_code: str | None = "en", first_name: str = "Ana"
) -> dict[str, Any]:
    found: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        found["language_code"] = language_code
    return found


def chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    if kind == "private":
        return {"id": chat_id, "type": "private", "first_name": "Ana"}
    return {"id": chat_id, "type": kind, "title": "A group"}


_message_ids = itertools.count(5_000)


def _message(
    chat_id: int, *, sender: int | None = None, kind: str = "private", **content: Any
) -> dict[str, Any]:
    return {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id, kind),
        "from": user(sender or chat_id, language_code=content.pop("language_code", "en")),
        **content,
    }


def message(chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
    """A text message update (``/start token`` is a text message too)."""
    update = {"message": _message(chat_id, text=text, **extra)}
    if text.startswith("/"):
        length = len(text.split(" ", 1)[0])
        update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return update


def group_message(chat_id: int, sender: int, text: str) -> dict[str, Any]:
    return {"message": _message(chat_id, sender=sender, kind="group", text=text)}


def callback(chat_id: int, data: str, *, query_id: str | None = None) -> dict[str, Any]:
    """A press of an inline button on a message the bot sent to ``chat_id``."""
    asked = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id),
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Postsale"},
        "text": "a question",
    }
    return press(asked, data, query_id=query_id)


def press(message: dict[str, Any], data: str, *, query_id: str | None = None) -> dict[str, Any]:
    """A press of the button ``data`` on ``message``, a message the bot really sent."""
    chat_id = int(message["chat"]["id"])
    return {
        "callback_query": {
            "id": query_id or f"cq{next(_message_ids)}",
            "from": user(chat_id),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": dict(message),
        }
    }


def contact(chat_id: int, phone: str, *, own: bool = True) -> dict[str, Any]:
    shared = {"phone_number": phone, "first_name": "Ana", "user_id": chat_id if own else 42}
    return {"message": _message(chat_id, contact=shared)}


def sticker(chat_id: int) -> dict[str, Any]:
    found = {
        "file_id": "s1",
        "file_unique_id": "su1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    return {"message": _message(chat_id, sticker=found)}


def photo(chat_id: int) -> dict[str, Any]:
    sizes = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]
    return {"message": _message(chat_id, photo=sizes)}


def edited_message(chat_id: int, text: str) -> dict[str, Any]:
    edited = _message(chat_id, text=text, edit_date=int(time.time()))
    return {"edited_message": edited}


def channel_post(channel_id: int, text: str) -> dict[str, Any]:
    post = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": channel_id, "type": "channel", "title": "News"},
        "text": text,
    }
    return {"channel_post": post}


def unknown_kind() -> dict[str, Any]:
    """An update of a kind neither library knows (a future Bot API addition)."""
    return {"future_thing": {"id": 1, "what": "something new"}}


def unreadable_message(chat_id: int, text: str = "hello") -> dict[str, Any]:
    """A message neither library can read (no ``chat``): a malformed or future shape."""
    found = _message(chat_id, text=text)
    del found["chat"]
    return {"message": found}


def unreadable_callback(query_id: str) -> dict[str, Any]:
    """A button press neither library can read (no ``from``), with an id to answer."""
    return {"callback_query": {"id": query_id, "chat_instance": "ci0", "data": "nps:1:9"}}
