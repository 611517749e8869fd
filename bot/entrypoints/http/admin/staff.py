"""``/admin/operators`` (admins): who has which role, from the settings and the table."""

from __future__ import annotations

from aiohttp import web

from bot.entrypoints.http.admin.guard import Visit, staff_page
from bot.operators.access import staff_ids
from storage.roles import staff


@staff_page("operators")
async def operators_page(v: Visit) -> web.StreamResponse:
    async with v.admin.db.reader() as uow:
        members = await staff(uow.session, staff_ids(v.admin.settings))
    return v.page("operators.html", members=members)
