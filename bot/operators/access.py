"""The role check every operator and admin action goes through (DESIGN.md invariant 7)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from storage.roles import Role, StaffIds, allows, role_of

log = logging.getLogger("postsale.operators")


class NotAllowed(Exception):
    """The user's role does not allow the action; it was refused and logged."""

    def __init__(self, user_id: str, command: str, role: Role | None, needed: Role) -> None:
        super().__init__(f"user {user_id} ({role or 'no role'}) may not run {command}")
        self.user_id, self.command, self.role, self.needed = user_id, command, role, needed


def staff_ids(settings: Settings) -> StaffIds:
    return StaffIds.of(settings.operator_ids, settings.admin_ids)


async def authorize(
    session: AsyncSession, settings: Settings, user_id: str, command: str, needed: Role
) -> Role:
    """The user's role when it allows ``command``; otherwise log and raise ``NotAllowed``."""
    role = await role_of(session, staff_ids(settings), user_id)
    if not allows(role, needed):
        log.warning(
            "refused %s for user %s: role %s, needs %s", command, user_id, role or "none", needed
        )
        raise NotAllowed(user_id, command, role, needed)
    assert role is not None
    return role
