"""Signing in with a one-time link, and signing out.

``GET /admin/login?token=...`` only shows the link's state and a button: opening the
link spends nothing, so a chat's link preview (which fetches it) cannot use it up.
The button's ``POST`` spends it -- from this site, so that the ``SameSite=Strict``
session cookie it sets is sent with the very next page -- behind a nonce cookie
(the sign-in form's CSRF token). ``POST /admin/logout`` ends the session on the
server too.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.entrypoints.http.admin.guard import ADMIN, Admin, refuse, switched_off
from bot.entrypoints.http.admin.pages import render
from bot.entrypoints.http.admin.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    forget_cookie,
    new_login_nonce,
    session_id_of,
    set_cookie,
    start_session,
)
from bot.operators.access import staff_ids
from storage.roles import role_of
from storage.web_links import LinkState, link_state, sign_out, spend_link

log = logging.getLogger("postsale.admin")
NO_ONE = {"user_id": None, "role": None, "csrf": ""}


def _bad_link(request: web.Request, admin: Admin, state: LinkState) -> web.Response:
    log.warning("refused a sign-in link: %s", state)
    values = NO_ONE | {"state": state}
    return render(request, admin.settings, "link_refused.html", values, status=403)


async def login_page(request: web.Request) -> web.StreamResponse:
    admin = request.app[ADMIN]
    if not admin.settings.web_secret:
        return switched_off(request, admin)
    token = request.query.get("token", "")
    async with admin.db.reader() as uow:
        state = await link_state(uow.session, token, admin.wiring.clock()) if token else "unknown"
    if state != "valid":
        return _bad_link(request, admin, state)
    nonce = new_login_nonce()
    values = NO_ONE | {"token": token, "nonce": nonce}
    response = render(request, admin.settings, "login.html", values)
    set_cookie(response, admin.settings, LOGIN_COOKIE, admin.signer.dumps("login", nonce), 600)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    admin = request.app[ADMIN]
    if not admin.settings.web_secret:
        return switched_off(request, admin)
    form = await request.post()
    token, nonce = str(form.get("token", "")), form.get("nonce")
    expected = admin.signer.loads("login", request.cookies.get(LOGIN_COOKIE))
    if not nonce or expected != nonce:
        return refuse(request, admin, "a sign-in form without its nonce", signed_in=False)
    now = admin.wiring.clock()
    async with admin.db.uow() as uow:
        spent = await spend_link(uow.session, token, now, admin.settings.web_session_ttl)
        if spent.session_id is None or spent.user_id is None:
            return _bad_link(request, admin, spent.state)
        role = await role_of(uow.session, staff_ids(admin.settings), spent.user_id)
        await uow.commit()
    if role is None:
        return refuse(request, admin, f"user {spent.user_id} has no role now", signed_in=False)
    log.info("user %s (%s) signed in to the web admin", spent.user_id, role)
    response = web.Response(status=303, headers={"Location": "/admin/"})
    start_session(response, admin.settings, admin.signer, spent.session_id)
    forget_cookie(response, LOGIN_COOKIE)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    admin = request.app[ADMIN]
    if not admin.settings.web_secret:
        return switched_off(request, admin)
    session_id = session_id_of(request, admin.signer)
    form = await request.post()
    token = form.get("csrf")
    if session_id is None or not admin.signer.csrf_ok(
        session_id, token if isinstance(token, str) else None
    ):
        return refuse(request, admin, "a sign-out form without its CSRF token", signed_in=False)
    async with admin.db.uow() as uow:
        await sign_out(uow.session, session_id, admin.wiring.clock())
        await uow.commit()
    response = render(request, admin.settings, "signed_out.html", NO_ONE)
    forget_cookie(response, SESSION_COOKIE)
    return response
