"""What every operator action shares: the role table, the role check, errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.handling import CustomerMessenger
from bot.i18n import translate
from bot.operators.access import authorize
from bot.settings import Settings
from flows.staff import STAFF_COMMANDS
from storage.models import Ticket
from storage.outbox_body import OutboxBody
from storage.roles import Role

Body = OutboxBody

# The role each command needs (flows.staff's table): admins may do everything operators may.
COMMANDS: dict[str, Role] = {c.name: c.role for c in STAFF_COMMANDS}


class OperatorError(Exception):
    """A request that cannot be done as asked; the message says why, for the operator."""


def ticket_number(text: str, lang: str) -> int:
    raw = text.strip().lstrip("#")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise OperatorError(
            translate(
                "Which ticket? Give its number, e.g. 12 (got {got}).", lang, got=repr(text.strip())
            )
        )
    return int(raw)


@dataclass
class ServiceBase:
    """One update's transaction, acting on behalf of an operator."""

    session: AsyncSession
    settings: Settings
    messenger: CustomerMessenger  # reaches the customer (bot.engine.messenger)
    now: datetime
    # the operator's language (their chat's choice or Telegram's); empty: DEFAULT_LOCALE
    locale: str = ""
    # whether the command came in a private chat (a sign-in link is given only there)
    private: bool = True

    async def allow(self, user_id: str, command: str) -> Role:
        """Check ``user_id`` may run ``command`` (raises ``NotAllowed``, logged)."""
        return await authorize(self.session, self.settings, user_id, command, COMMANDS[command])

    @property
    def tz(self) -> Any:
        return self.settings.operators_tz

    @property
    def lang(self) -> str:
        return self.locale or self.settings.default_locale

    async def _ticket(self, number: int) -> Ticket:
        ticket = await self.session.get(Ticket, number)
        if ticket is None:
            raise OperatorError(
                translate("There is no ticket #{n}. See /tickets.", self.lang, n=number)
            )
        return ticket
