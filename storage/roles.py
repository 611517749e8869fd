"""Who may run operator and admin commands: settings' id lists plus the ``operators`` table.

An admin may do everything an operator may. The role is read afresh on every command
(no cache), so ``postsale operators remove`` takes effect on the next message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Operator

Role = Literal["operator", "admin"]
RANK: dict[str | None, int] = {None: 0, "operator": 1, "admin": 2}


@dataclass(frozen=True)
class StaffIds:
    """The user ids the settings name (``OPERATOR_IDS``, ``ADMIN_IDS``)."""

    operators: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()

    @classmethod
    def of(cls, operators: Iterable[str], admins: Iterable[str]) -> StaffIds:
        return cls(frozenset(map(str, operators)), frozenset(map(str, admins)))


@dataclass(frozen=True)
class StaffMember:
    """One operator or admin and where the role comes from (``settings`` or ``table``)."""

    user_id: str
    role: Role
    name: str | None
    source: str


async def role_of(session: AsyncSession, ids: StaffIds, user_id: str) -> Role | None:
    """The user's highest role, or None for anyone else."""
    user_id = str(user_id)
    if not user_id:
        return None
    if user_id in ids.admins:
        return "admin"
    row = await session.get(Operator, user_id)
    from_table: Role | None = None
    if row is not None and row.role in ("operator", "admin"):
        from_table = "admin" if row.role == "admin" else "operator"
    if from_table == "admin":
        return "admin"
    if user_id in ids.operators:
        return "operator"
    return from_table


def allows(role: Role | None, needed: Role) -> bool:
    """Whether ``role`` covers ``needed`` (an admin covers an operator)."""
    return RANK[role] >= RANK[needed]


async def add_operator(
    session: AsyncSession, user_id: str, role: Role, name: str | None, now: datetime
) -> bool:
    """Add or update an operator; True when the user was not in the table before."""
    row = await session.get(Operator, str(user_id))
    if row is None:
        session.add(Operator(user_id=str(user_id), role=role, name=name, added_at=now))
        await session.flush()
        return True
    row.role = role
    if name is not None:
        row.name = name
    return False


async def remove_operator(session: AsyncSession, user_id: str) -> bool:
    """Remove from the table; True when a row was removed."""
    result = await session.execute(delete(Operator).where(Operator.user_id == str(user_id)))
    return bool(getattr(result, "rowcount", 0))


async def staff(session: AsyncSession, ids: StaffIds) -> list[StaffMember]:
    """Everybody with a role, highest role per user, sorted by user id."""
    members: dict[str, StaffMember] = {}
    for uid in ids.operators:
        members[uid] = StaffMember(uid, "operator", None, "settings")
    for uid in ids.admins:
        members[uid] = StaffMember(uid, "admin", None, "settings")
    for row in await session.scalars(select(Operator)):
        role: Role = "admin" if row.role == "admin" else "operator"
        held = members.get(row.user_id)
        if held is None or RANK[role] > RANK[held.role]:
            members[row.user_id] = StaffMember(row.user_id, role, row.name, "table")
        elif held.name is None and row.name:
            members[row.user_id] = StaffMember(held.user_id, held.role, row.name, held.source)
    return [members[k] for k in sorted(members)]


__all__ = [
    "Role",
    "StaffIds",
    "StaffMember",
    "add_operator",
    "allows",
    "remove_operator",
    "role_of",
    "staff",
]


async def operator_user_ids(session: AsyncSession) -> list[str]:
    """The user ids of the operators table (their command menu is set from these)."""
    return [str(u) for u in (await session.scalars(select(Operator.user_id))).all()]
