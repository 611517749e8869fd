"""The web admin under ``/admin/``: server-rendered pages for operators and admins.

Sign-in by one-time link (``/web`` in the chat, ``postsale web-link``), a signed
session cookie, CSRF on every form and the role checked on every request
(``guard``); the dashboard (``dashboard``), the tickets (``tickets``) and, for
admins, the operators (``staff``), the conversations (``conversations``) and the
customers with their data-rights actions (``customers``). Off -- every page 503,
naming the setting -- while ``WEB_SECRET`` is empty.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app import Database
from bot.entrypoints.http.admin.answers import answer_page, answer_theme
from bot.entrypoints.http.admin.conversations import (
    conversation_export,
    conversation_page,
    conversation_search,
)
from bot.entrypoints.http.admin.customers import (
    confirm_page,
    customer_export,
    customer_forget,
    customer_lookup,
    customer_page,
)
from bot.entrypoints.http.admin.dashboard import dashboard
from bot.entrypoints.http.admin.guard import ADMIN, Admin, AdminWiring
from bot.entrypoints.http.admin.login import login, login_page, logout
from bot.entrypoints.http.admin.session import Signer
from bot.entrypoints.http.admin.staff import operators_page
from bot.entrypoints.http.admin.tickets import ACTIONS, ticket_action, ticket_list, ticket_page
from bot.settings import Settings

__all__ = ["ROUTES", "AdminWiring", "add_admin_routes"]
log = logging.getLogger("postsale.admin")

ROUTES = {
    ("GET", "/admin"): "the web admin",
    ("GET", "/admin/"): "the web admin",
    ("GET", "/admin/login"): "the web admin",
    ("POST", "/admin/login"): "the web admin",
    ("POST", "/admin/logout"): "the web admin",
    ("GET", "/admin/tickets"): "the web admin",
    ("GET", "/admin/tickets/{number}"): "the web admin",
    ("POST", "/admin/tickets/{number}/{action}"): "the web admin",
    ("GET", "/admin/operators"): "the web admin",
    ("GET", "/admin/conversations"): "the web admin",
    ("GET", "/admin/conversations/export"): "the web admin",
    ("GET", "/admin/conversations/{number}"): "the web admin",
    ("GET", "/admin/customers"): "the web admin",
    ("GET", "/admin/customers/{number}"): "the web admin",
    ("GET", "/admin/customers/{number}/export"): "the web admin",
    ("POST", "/admin/customers/{number}/export"): "the web admin",
    ("GET", "/admin/customers/{number}/forget"): "the web admin",
    ("POST", "/admin/customers/{number}/forget"): "the web admin",
}


async def _to_dashboard(request: web.Request) -> web.StreamResponse:
    return web.Response(status=308, headers={"Location": "/admin/"})


def add_admin_routes(
    app: web.Application, db: Database, settings: Settings, wiring: AdminWiring
) -> None:
    if not settings.web_secret:
        # Not a warning: most deployments serve HTTP for a webhook, not for the admin.
        log.debug("the web admin (/admin/) is off: set WEB_SECRET to serve it")
    app[ADMIN] = Admin(db, settings, wiring, Signer(settings.web_secret))
    r = app.router
    r.add_get("/admin", _to_dashboard)
    r.add_get("/admin/", dashboard)
    r.add_get("/admin/login", login_page)
    r.add_post("/admin/login", login)
    r.add_post("/admin/logout", logout)
    r.add_get("/admin/tickets", ticket_list)
    r.add_get("/admin/tickets/{number}", ticket_page)
    for action in ACTIONS:
        r.add_post(f"/admin/tickets/{{number}}/{action}", ticket_action(action))
    r.add_get("/admin/operators", operators_page)
    r.add_get("/admin/conversations", conversation_search)
    r.add_get("/admin/conversations/export", conversation_export)
    r.add_get("/admin/conversations/{number}", conversation_page)
    r.add_get("/admin/answers/{number}", answer_page)
    r.add_post("/admin/answers/{number}/theme", answer_theme)
    r.add_get("/admin/customers", customer_lookup)
    r.add_get("/admin/customers/{number}", customer_page)
    for action, act in (("export", customer_export), ("forget", customer_forget)):
        r.add_get(f"/admin/customers/{{number}}/{action}", confirm_page(action))
        r.add_post(f"/admin/customers/{{number}}/{action}", act)
