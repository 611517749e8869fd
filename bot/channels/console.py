"""The terminal as a channel: typed lines come in as ``Incoming``, sent messages are printed.

Two chats share the keyboard: ``customer`` and ``operator``; ``/operator`` and
``/customer`` switch between them, ``#N`` presses button N of the chat's last
buttons, ``/quit`` (or the end of input) stops. Messages reach the screen the way
they reach Telegram: through the outbox sender, which calls ``send``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import IO

from bot.channels.port import (
    Capabilities,
    ChannelLimits,
    Incoming,
    OutButton,
    Outgoing,
    UpdateHandler,
)
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn, TextIn
from flows.registry import COMMANDS
from flows.staff import STAFF_COMMANDS

NAME = "console"
CUSTOMER_CHAT, OPERATOR_CHAT = "customer", "operator"
OPERATOR_USER = "console-operator"
MEDIA = {":sticker": "sticker", ":photo": "photo", ":voice": "voice", ":document": "document"}
QUIT = ("/quit", "/exit")

CAPABILITIES = Capabilities(
    buttons_per_message=100,
    buttons_per_row=100,
    request_contact=True,
    edits_buttons=True,
    uploads_files=False,  # a file is shown by its path: it must outlive the "send"
)
# A terminal has no server to overload; pacing only keeps the sender's bookkeeping.
LIMITS = ChannelLimits(global_rate=1000.0, per_chat_rate=1000.0)


def _commands(names: Iterable[str]) -> str:
    return " ".join(f"/{name}" for name in names)


# The command lists come from the flows' and the operators' tables (what /help shows).
HELP = f"""\
Terminal chat. You are the demo customer; the bot writes as "bot>".
  type an answer, or #N to press button N of the last buttons shown
  {_commands(n for n in COMMANDS if n != "start")}   customer commands
  /operator, then {_commands(c.name for c in STAFF_COMMANDS)}   operator side
  /customer   back to the customer        :sticker :photo :voice   send media
  /contact +5511987654321   share a phone number        /quit   leave
"""


@dataclass(frozen=True)
class Person:
    """Who types in one of the console's chats."""

    user_id: str
    first_name: str


PEOPLE = {
    CUSTOMER_CHAT: Person("console-customer", "Ana"),
    OPERATOR_CHAT: Person(OPERATOR_USER, "Operator"),
}


class ConsoleChannel:
    """A ``Channel`` and ``Receiver`` on a line reader and a text stream."""

    name = NAME
    limits = LIMITS
    capabilities = CAPABILITIES

    def __init__(
        self,
        handler: UpdateHandler,
        *,
        read_line: Callable[[], str] | None = None,
        out: IO[str] | None = None,
        settle: Callable[[], Awaitable[None]] | None = None,
        first_id: int = 1,
    ) -> None:
        self.handler = handler
        self.read_line = read_line or sys.stdin.readline
        self.out = out or sys.stdout
        # Waits until what the last update queued is shown, so the prompt comes after it.
        self.settle = settle
        self.role = CUSTOMER_CHAT
        self.buttons: dict[str, list[OutButton]] = {chat: [] for chat in PEOPLE}
        self.done = asyncio.Event()  # the person left (/quit or end of input)
        self._update_ids = itertools.count(first_id)
        self._message_ids = itertools.count(1)
        self._poller: asyncio.Task[None] | None = None

    def is_group(self, chat_id: str) -> bool:
        return False

    # -- receiving ---------------------------------------------------------------------

    async def start(self) -> None:
        self._poller = asyncio.create_task(self._poll(), name="console-poll")

    async def stop(self) -> None:
        if self._poller is not None and not self._poller.done():
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        self._poller = None

    async def _poll(self) -> None:
        try:
            self.print(HELP)
            await self._settle()
            while await self.take(await self._prompt()):
                await self._settle()
        finally:
            self.done.set()

    async def _prompt(self) -> str:
        self.out.write(f"{self.role}> ")
        self.out.flush()
        return await asyncio.to_thread(self.read_line)

    async def _settle(self) -> None:
        if self.settle is not None:
            await self.settle()

    async def take(self, line: str) -> bool:
        """Handle one typed line; False once the person left."""
        text = line.strip()
        if not line or text in QUIT:
            self.print("bye")
            return False
        if text in ("/operator", "/customer"):
            self.role = text[1:]
            self.print(f"(you are now the {self.role})")
        elif text:
            incoming = self.incoming(line)
            if incoming is not None:
                await self.handler(incoming)
        return True

    def incoming(self, line: str) -> Incoming | None:
        """The update a typed line makes in the current chat (None: nothing to send)."""
        event, label = self.parse(line)
        if event is None:
            return None
        person = PEOPLE[self.role]
        return Incoming(
            channel=NAME,
            update_id=str(next(self._update_ids)),
            chat_id=self.role,
            user_id=person.user_id,
            chat_type="private",
            event=event,
            first_name=person.first_name,
            button_label=label,
        )

    def parse(self, line: str) -> tuple[Event | None, str | None]:
        """The event of a line, and the label of the button it pressed."""
        text = line.strip()
        if text.startswith("#") and text[1:].isdigit():
            shown, index = self.buttons[self.role], int(text[1:]) - 1
            if 0 <= index < len(shown):
                return ButtonIn(shown[index].data), shown[index].text
            self.print(f"(no button {text[1:]} on screen)")
            return None, None
        if text in MEDIA:
            return MediaIn(MEDIA[text]), None
        if text.startswith("/contact"):
            return ContactIn(text[len("/contact") :].strip(), own=True), None
        if text.startswith("/") and len(text) > 1:
            name, _, args = text[1:].partition(" ")
            return CommandIn(name.lower(), args.strip()), None
        return TextIn(line.rstrip("\n")), None

    # -- sending -----------------------------------------------------------------------

    async def send(self, message: Outgoing) -> str:
        """Print the message (and its buttons); an edit prints the buttons it leaves."""
        chat = message.chat_id
        who = "bot>" if chat == self.role else f"bot (to {chat})>"
        if message.text:
            self.print(f"{who} {message.text}")
        for path in (message.photo_path, message.document_path):
            if path:
                self.print(f"{who} [file] {path}")
        flat = [b for row in message.buttons for b in row]
        if flat:
            self.buttons[chat] = flat
            self.print("     " + "  ".join(f"[#{i}] {b.text}" for i, b in enumerate(flat, 1)))
        if message.request_contact:
            self.print("     (share your phone: /contact +55...)")
        return message.edit_message_id or str(next(self._message_ids))

    def print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


__all__ = ["CAPABILITIES", "HELP", "LIMITS", "NAME", "OPERATOR_USER", "ConsoleChannel"]
