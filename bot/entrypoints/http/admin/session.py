"""The admin's cookies: the signed session, the sign-in form's nonce, a one-shot notice.

Signed with ``WEB_SECRET`` by itsdangerous (a salt per purpose, so one cookie cannot
stand in for another). The session cookie carries only the id of the ``web_links`` row
that opened it; whether it still runs (not expired, not signed out) is read from the
database on every request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, URLSafeSerializer

from bot.settings import Settings

SESSION_COOKIE = "postsale_admin"
LOGIN_COOKIE = "postsale_login"
NOTICE_COOKIE = "postsale_notice"
LANG_COOKIE = "postsale_lang"
PATH = "/admin"


@dataclass(frozen=True)
class Signer:
    """Every value the admin signs or checks, under ``WEB_SECRET``."""

    secret: str

    def _serializer(self, purpose: str) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=f"postsale-admin-{purpose}")

    def dumps(self, purpose: str, value: Any) -> str:
        return str(self._serializer(purpose).dumps(value))

    def loads(self, purpose: str, text: str | None) -> Any:
        """The signed value, or None when absent or signed otherwise (another secret)."""
        if not text:
            return None
        try:
            return self._serializer(purpose).loads(text)
        except BadSignature:
            return None

    def csrf_token(self, session_id: int) -> str:
        return self.dumps("csrf", session_id)

    def csrf_ok(self, session_id: int, token: str | None) -> bool:
        return token is not None and self.loads("csrf", token) == session_id


def secure(settings: Settings) -> bool:
    """Whether the cookies go only over HTTPS: when the admin is reached over HTTPS."""
    return settings.web_address.startswith("https://")


def set_cookie(
    response: web.StreamResponse, settings: Settings, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="Strict",
        secure=secure(settings),
    )


def forget_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path=PATH)


def session_id_of(request: web.Request, signer: Signer) -> int | None:
    found = signer.loads("session", request.cookies.get(SESSION_COOKIE))
    return found.get("s") if isinstance(found, dict) and isinstance(found.get("s"), int) else None


def start_session(
    response: web.StreamResponse, settings: Settings, signer: Signer, session_id: int
) -> None:
    max_age = int(settings.web_session_ttl.total_seconds())
    set_cookie(
        response, settings, SESSION_COOKIE, signer.dumps("session", {"s": session_id}), max_age
    )


def new_login_nonce() -> str:
    return secrets.token_urlsafe(16)


def notice(
    response: web.StreamResponse, settings: Settings, signer: Signer, text: str, kind: str
) -> None:
    """A message for the next page (after a POST's redirect), shown once."""
    set_cookie(response, settings, NOTICE_COOKIE, signer.dumps("notice", [kind, text]), 120)


def take_notice(request: web.Request, signer: Signer) -> tuple[str, str] | None:
    found = signer.loads("notice", request.cookies.get(NOTICE_COOKIE))
    if isinstance(found, list) and len(found) == 2 and all(isinstance(x, str) for x in found):
        return found[0], found[1]
    return None
