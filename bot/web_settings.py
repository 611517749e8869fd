"""The web admin's settings (``/admin/``): its signing secret, public address, sessions.

A mix-in of ``bot.settings.Settings`` (INTERFACE.md lists them).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from bot.durations import Duration

# itsdangerous signs with HMAC-SHA1 over a derived key: a short secret is guessable
# offline from one cookie.
MIN_SECRET = 32


class WebSettings(BaseSettings):
    """``WEB_SECRET`` signs the admin's cookies (empty: the admin is off);
    ``WEB_BASE_URL`` is where operators reach it (the sign-in links point there)."""

    web_secret: str = ""
    # empty: http://HTTP_HOST:HTTP_PORT
    web_base_url: str = ""
    web_session_ttl: Duration = Field(default=timedelta(hours=12), gt=timedelta(0))

    @field_validator("web_secret")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET:
            raise ValueError(
                f"too short ({len(value)} characters): use at least {MIN_SECRET}, e.g."
                ' python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return value

    @field_validator("web_base_url")
    @classmethod
    def _an_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) address: {value!r}")
        return value
