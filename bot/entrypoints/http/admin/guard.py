"""Who may see an admin page: the signed session, its row, the role, and every form's CSRF.

Each page names the operator command whose role it needs (the dashboard ``kpi``, the
tickets ``tickets``, ...), checked through ``bot.operators.access.authorize`` -- the
same check, the same log line, as the chat's -- on every request, the role read afresh.
A request without a running session, with a cookie signed otherwise, or a form without
the session's CSRF token is refused with 403 and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.app import Database
from bot.entrypoints.http.admin.pages import page_locale, render
from bot.entrypoints.http.admin.session import (
    NOTICE_COOKIE,
    Signer,
    forget_cookie,
    session_id_of,
    take_notice,
)
from bot.handling import CustomerMessenger
from bot.operators.access import NotAllowed, authorize
from bot.operators.base import COMMANDS
from bot.settings import Settings
from storage.roles import Role
from storage.web_links import session_user

log = logging.getLogger("postsale.admin")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class AdminWiring:
    """What the admin's actions need beyond the database: the messenger that writes to
    customers (through the outbox), the outbox sender's wake-up, the clock."""

    messenger: CustomerMessenger
    wake: Callable[[], None] = lambda: None
    clock: Callable[[], datetime] = field(default=_utcnow)


@dataclass
class Admin:
    db: Database
    settings: Settings
    wiring: AdminWiring
    signer: Signer


ADMIN = web.AppKey("postsale_admin", Admin)


@dataclass(frozen=True)
class Visit:
    """One allowed request: who, with which role, its CSRF token, language and time."""

    request: web.Request
    admin: Admin
    user_id: str
    role: Role
    session_id: int
    csrf: str
    lang: str
    now: datetime
    form: MultiDictProxy[Any] | None = None

    def page(self, template: str, status: int = 200, **values: Any) -> web.Response:
        said = take_notice(self.request, self.admin.signer)
        base = {"user_id": self.user_id, "role": self.role, "csrf": self.csrf, "notice": said}
        response = render(self.request, self.admin.settings, template, base | values, status=status)
        if said is not None:
            forget_cookie(response, NOTICE_COOKIE)
        return response


Page = Callable[[Visit], Awaitable[web.StreamResponse]]


def refuse(request: web.Request, admin: Admin, reason: str, signed_in: bool) -> web.Response:
    log.warning("refused %s %s: %s", request.method, request.path, reason)
    values = {"signed_in": signed_in, "user_id": None, "role": None, "csrf": ""}
    return render(request, admin.settings, "refused.html", values, status=403)


def switched_off(request: web.Request, admin: Admin) -> web.Response:
    values = {"user_id": None, "role": None, "csrf": ""}
    return render(request, admin.settings, "off.html", values, status=503)


async def _visitor(request: web.Request, admin: Admin, command: str, now: datetime) -> Any:
    """(user id, role, session id), or the refusal's reason."""
    session_id = session_id_of(request, admin.signer)
    if session_id is None:
        signed = bool(request.cookies.get("postsale_admin"))
        return "a session cookie not signed with WEB_SECRET" if signed else "no session"
    async with admin.db.reader() as uow:
        user = await session_user(uow.session, session_id, now)
        if user is None:
            return f"session {session_id} ended or signed out"
        try:
            role = await authorize(
                uow.session, admin.settings, user, f"web {command}", COMMANDS[command]
            )
        except NotAllowed as refused:
            return refused
    return user, role, session_id


def staff_page(command: str) -> Callable[[Page], Callable[[web.Request], Awaitable[Any]]]:
    """An admin page for whoever may run ``command``; a POST needs the CSRF token too."""

    def wrap(page: Page) -> Callable[[web.Request], Awaitable[Any]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            admin = request.app[ADMIN]
            if not admin.settings.web_secret:
                return switched_off(request, admin)
            now = admin.wiring.clock()
            found = await _visitor(request, admin, command, now)
            if isinstance(found, NotAllowed):
                return refuse(request, admin, str(found), signed_in=True)
            if isinstance(found, str):
                return refuse(request, admin, found, signed_in=False)
            user, role, session_id = found
            form = None
            if request.method == "POST":
                form = await request.post()
                token = form.get("csrf")
                if not admin.signer.csrf_ok(session_id, token if isinstance(token, str) else None):
                    return refuse(request, admin, f"a form without its CSRF token ({user})", True)
            visit = Visit(
                request,
                admin,
                user,
                role,
                session_id,
                admin.signer.csrf_token(session_id),
                page_locale(request, admin.settings),
                now,
                form,
            )
            return await page(visit)

        return handle

    return wrap
