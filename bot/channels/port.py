"""What every channel adapter (aiogram, python-telegram-bot, console, ...) speaks.

Adapters only translate: a library update becomes an ``Incoming`` handed to the
engine, and an ``Outgoing`` from the outbox becomes a library call whose failures
are mapped to the neutral errors below. A channel declares its name, its send limits
and its capabilities; it receives through a poller it owns (``Receiver``) or HTTP
routes (``Routes``); answering button presses is a capability (``Acknowledging``).
Routes speak the neutral ``HttpRequest`` / ``HttpResponse`` below, so the HTTP server
mounts any channel's paths without knowing the channel, and a channel owns the checks
of its own requests (a secret header, an HMAC of the raw body, a verification echo).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.channels.routes import Headers as Headers
from bot.channels.routes import HttpRequest as HttpRequest
from bot.channels.routes import HttpResponse as HttpResponse
from bot.channels.routes import Route as Route
from bot.channels.routes import RouteHandler as RouteHandler
from flows.events import Event
from storage.outbox_body import BodyButton


@dataclass(frozen=True)
class ConversationKey:
    """Which chat an update belongs to (per-chat ordering is keyed on it)."""

    channel: str
    chat_id: str


@dataclass(frozen=True)
class Incoming:
    """One update from a channel, already translated into a neutral event."""

    channel: str  # "telegram", "console", ...
    update_id: str  # unique per channel: the duplicate check uses it
    chat_id: str
    user_id: str
    chat_type: str  # "private", "group", "supergroup", "channel"
    event: Event
    language_code: str | None = None
    first_name: str | None = None
    username: str | None = None
    # a callback query to answer, when the event is a button press
    callback_id: str | None = None
    # a button press: the message that carried the button, and the label it showed
    message_id: str | None = None
    button_label: str | None = None
    # the sender's phone number (E.164) as the channel vouches for it (WhatsApp's wa_id):
    # the engine links an unlinked chat by it, no deep link needed
    phone: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(self.channel, self.chat_id)


# A button as sent is the button as stored: the outbox body's rows go out as they are.
OutButton = BodyButton


@dataclass(frozen=True)
class Outgoing:
    """A rendered message ready to send (built from an outbox row's body)."""

    chat_id: str
    text: str
    buttons: tuple[tuple[OutButton, ...], ...] = ()
    request_contact: bool = False
    contact_label: str | None = None  # the label of the share-my-phone button
    remove_keyboard: bool = False
    photo_path: str | None = None
    document_path: str | None = None
    document_name: str | None = None
    # set: replace the inline keyboard of this earlier message instead of sending one
    edit_message_id: str | None = None
    # what the message is for ("reply", "invitation", "reminder", "operator", ...) and its
    # outbox row: a channel with a service window picks a template by the purpose, and
    # the template's quick reply names the row (``open:<row>``) to send it once tapped
    purpose: str = "reply"
    row_id: int | None = None


class SendError(Exception):
    """A send that failed; subclasses say what the sender should do about it."""


class RetryAfter(SendError):
    """429: wait ``seconds`` and try again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Forbidden(SendError):
    """403: the person blocked the bot or the chat is gone; do not try again."""


class Transient(SendError):
    """Network or 5xx error: try again with backoff."""


class Unconfirmed(Transient):
    """The request may have reached Telegram but no answer came back (a timeout or a
    connection dropped after it was written, or an unreadable answer): it may have been
    delivered. The sender retries it once, then keeps it as "unknown"."""


class Rejected(SendError):
    """400 or another permanent error: keep the message as failed with this reason."""


class ChatRetryAfter(RetryAfter):
    """This chat only must wait ``seconds`` (WhatsApp's per-recipient pair limit, 131056);
    the channel's other chats go on."""


class Halted(SendError):
    """The account may not send for now (WhatsApp's spam limit 131048, a revoked token):
    the channel pauses ``seconds``, the message stays queued and operators are told."""

    def __init__(self, reason: str, seconds: float = 900.0) -> None:
        super().__init__(reason)
        self.seconds = seconds


@dataclass(frozen=True)
class Receipt:
    """What the channel's server says became of a sent message (WhatsApp's statuses)."""

    remote_id: str  # the id ``send`` returned
    status: str  # "sent", "delivered", "read" or "failed"
    at: datetime
    error: str | None = None  # for "failed": the code and reason


ReceiptHandler = Callable[[str, Receipt], Awaitable[None]]  # (channel, receipt)


@dataclass(frozen=True)
class ChatWindow:
    """What a channel with a service window needs of a chat: when the person last wrote
    (None: never) and the language to write a template in."""

    last_inbound_at: datetime | None
    locale: str


ChatWindowLookup = Callable[[str], Awaitable[ChatWindow]]  # chat id -> its window


UpdateHandler = Callable[[Incoming], Awaitable[None]]


@dataclass(frozen=True)
class ChannelLimits:
    """How fast a channel's server lets us send: the outbox sender paces within these."""

    global_rate: float  # messages a second, all chats together
    per_chat_rate: float  # messages a second to one private chat
    group_per_minute: float | None = None  # messages a minute to one group (None: no own limit)


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show, so the core asks instead of knowing which channel it is.

    The outbox sender reflows buttons into ``buttons_per_row`` and skips edits a channel
    cannot make; flows may read the rest (templates, the service window) as they grow.
    """

    buttons_per_message: int
    buttons_per_row: int
    # a picker of up to ``list_rows`` rows (WhatsApp's list message): more buttons than
    # ``buttons_per_message`` become a two-tap picker (``bot.channels.pickers``)
    list_messages: bool = False
    list_rows: int = 0
    request_contact: bool = False  # a share-my-phone button
    command_menu: bool = False  # a menu of commands the client shows
    message_templates: bool = False  # pre-approved templates outside the service window
    service_window_hours: float | None = None  # free-form replies only this long after
    edits_buttons: bool = False  # a sent message's buttons can be replaced (Outgoing edit)
    acknowledges_presses: bool = False  # a button press is answered (``Acknowledging``)
    uploads_files: bool = True  # False: the file is shown by path and must be kept


class Channel(Protocol):
    """A channel as the core sees it: its name, limits, capabilities and sending side."""

    name: str
    limits: ChannelLimits
    capabilities: Capabilities

    def is_group(self, chat_id: str) -> bool:
        """Whether ``chat_id`` is a group chat (paced by ``limits.group_per_minute``)."""
        ...

    async def send(self, message: Outgoing) -> str:
        """Send; return the remote message id; raise a ``SendError`` on failure."""
        ...


class Receiver(Protocol):
    """A channel that receives through a poller it owns (long polling, a terminal)."""

    async def start(self) -> None:
        """Begin taking updates; they go to the channel's ``UpdateHandler``."""
        ...

    async def stop(self) -> None:
        """Take no new updates and finish the ones in hand."""
        ...


class Routes(Protocol):
    """A channel that receives through HTTP routes of its own (a webhook)."""

    def routes(self) -> tuple[Route, ...]:
        """The routes the HTTP server mounts for this channel (empty while it polls)."""
        ...


class Acknowledging(Protocol):
    """A channel whose button presses must be answered (Telegram's callback answer)."""

    async def acknowledge(self, incoming: Incoming) -> None:
        """Tell the client the press in ``incoming`` was received (stops its spinner)."""
        ...


@runtime_checkable
class Opening(Protocol):
    """A channel with a connection to check before anything runs (its credentials, its
    server) and to release after the outbox sender stopped."""

    async def open(self) -> None:
        """Connect; a wrong credential or an unreachable server is a ``StartupError``."""
        ...

    async def close(self) -> None: ...


class Probing(Protocol):
    """A channel that can tell whether its server answers at all (sending nothing)."""

    async def probe(self) -> None:
        """Return when the server answered; raise a ``SendError`` when it did not."""
        ...
