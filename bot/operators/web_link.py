"""``/web``: a one-time link that signs an operator or admin in to the web admin.

The link is answered only in a private chat: whoever opens it first is signed in as
the user it was made for, so it must not be shown to a group.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.i18n import translate
from bot.operators.base import Body, OperatorError, ServiceBase
from bot.settings import Settings
from flows.replies import N_
from storage.web_links import LINK_TTL, create_link

LOGIN_PATH = "/admin/login"
WEB_OFF = N_("The web admin is off: an admin must set WEB_SECRET first.")
PRIVATE_ONLY = N_("Send /web to me in a private chat: the link signs in whoever opens it.")
YOUR_LINK = N_(
    "Your sign-in link to the web admin (it works once, within {minutes} minutes; "
    "do not share it):\n{url}"
)


def sign_in_url(settings: Settings, token: str) -> str:
    return f"{settings.web_address}{LOGIN_PATH}?token={quote(token)}"


async def web_link(s: ServiceBase, user_id: str) -> list[Body]:
    """A fresh sign-in link for ``user_id`` (an operator or admin)."""
    await s.allow(user_id, "web")
    if not s.settings.web_secret:
        raise OperatorError(translate(WEB_OFF, s.lang))
    if not s.private:
        raise OperatorError(translate(PRIVATE_ONLY, s.lang))
    token = await create_link(s.session, user_id, s.now)
    minutes = int(LINK_TTL.total_seconds() // 60)
    url = sign_in_url(s.settings, token)
    return [Body(translate(YOUR_LINK, s.lang, minutes=minutes, url=url))]
