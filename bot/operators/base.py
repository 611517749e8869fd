"""What every operator action shares: the role table, the role check, errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import translate
from bot.operators.access import authorize
from bot.operators.commands import ROLES
from bot.operators.commands import OperatorError as OperatorError
from bot.operators.commands import ticket_number as ticket_number
from bot.settings import Settings
from storage.models import Ticket
from storage.roles import Role

if TYPE_CHECKING:
    from bot.engine.pipeline import Engine

Body = dict[str, Any]

COMMANDS = ROLES  # the role each command needs (bot.operators.commands)


@dataclass
class ServiceBase:
    """One update's transaction, acting on behalf of an operator."""

    session: AsyncSession
    settings: Settings
    engine: Engine
    now: datetime
    # the operator's language (their chat's choice or Telegram's); empty: DEFAULT_LOCALE
    locale: str = ""

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
