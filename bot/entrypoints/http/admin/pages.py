"""Rendering the admin's pages: Jinja2 with autoescape on, in the visitor's language.

Every text of the templates is a gettext message id of ``bot.operators.web_texts``,
written ``{{ _("...") }}``; what the customers wrote is passed as data and escaped.
The pages carry no script: the Content-Security-Policy says so to the browser too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.durations import NO_VALUE, duration
from bot.entrypoints.http.admin.session import LANG_COOKIE
from bot.i18n import LOCALES, match_locale, ngettext, translate
from bot.settings import Settings

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # the sign-in page's address holds the link's token: never sent on to another site
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
LOCALE_NAMES = {"pt-BR": "Português", "en": "English", "es": "Español", "ca": "Català"}


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.entrypoints.http.admin", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def page_locale(request: web.Request, settings: Settings) -> str:
    """The visitor's choice (``?lang=`` or its cookie), else the browser's, else the default."""
    for code in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
        found = match_locale(code)
        if found is not None:
            return found
    for part in request.headers.get("Accept-Language", "").split(","):
        found = match_locale(part.split(";")[0].strip())
        if found is not None:
            return found
    return match_locale(settings.default_locale) or LOCALES[0]


def moment(at: datetime | None, tz: ZoneInfo) -> str:
    return NO_VALUE if at is None else f"{at.astimezone(tz):%Y-%m-%d %H:%M}"


def url_with(request: web.Request, **changes: Any) -> str:
    """This page's address with some query parameters changed (the others kept)."""
    query = {k: v for k, v in request.query.items() if k not in changes}
    query.update({k: str(v) for k, v in changes.items()})
    return f"{request.path}?{urlencode(query)}"


def render(
    request: web.Request,
    settings: Settings,
    template: str,
    values: Mapping[str, Any],
    *,
    status: int = 200,
) -> web.Response:
    lang = page_locale(request, settings)
    tz = settings.operators_tz

    def _(msgid: str, **params: Any) -> str:
        return translate(msgid, lang, **params)

    def n_(singular: str, plural: str, n: int, **params: Any) -> str:
        return ngettext(singular, plural, n, lang, **params)

    page = (
        environment()
        .get_template(template)
        .render(
            _=_,
            n_=n_,
            lang=lang,
            html_lang=lang,
            locales=LOCALE_NAMES,
            when=lambda at: moment(at, tz),
            zone=tz.key,
            path=request.path,
            lang_url=lambda code: url_with(request, lang=code),
            page_url=lambda n: url_with(request, page=n),
            duration=duration,
            **values,
        )
    )
    response = web.Response(text=page, content_type="text/html", status=status, headers=HEADERS)
    if "lang" in request.query and match_locale(request.query["lang"]):
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, path="/admin", httponly=True, samesite="Strict"
        )
    return response
