"""Settings from the environment and ``.env`` (INTERFACE.md lists every one)."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.database_urls import database_url as database_url
from bot.database_urls import shown_url as shown_url
from bot.durations import Duration
from bot.notice_settings import NoticeSettings
from bot.ops_settings import OpsSettings
from bot.store_settings import StoreSettings
from bot.web_settings import WebSettings
from flows.business_hours import BusinessHours
from flows.locales import LOCALES


def _id_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


_USER_ID = re.compile(r"\d+")


def telegram_user_id(text: str) -> str:
    """``text`` if it is a Telegram user id (a positive number), else ``ValueError``."""
    value = text.strip()
    if not _USER_ID.fullmatch(value):
        raise ValueError(
            f"not a Telegram user id: {text!r} (a user id is a number such as 123456789,"
            " not a @username)"
        )
    return value


def _user_ids(values: list[str]) -> list[str]:
    return [telegram_user_id(v) for v in values]


IdList = Annotated[list[str], NoDecode, BeforeValidator(_id_list), AfterValidator(_user_ids)]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class ContactWindow:
    """Local hours in which a customer may be contacted, e.g. ``09:00-20:00``."""

    def __init__(self, start: time, end: time) -> None:
        self.start, self.end = start, end

    @classmethod
    def parse(cls, text: str) -> ContactWindow:
        m = _WINDOW.match(text)
        if not m:
            raise ValueError(f"not a time window: {text!r} (use HH:MM-HH:MM)")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"not a time window: {text!r}")
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        return cls(time(h1, m1), end)

    def __repr__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


# The Graph API, at the version the adapter was written and tested against.
WHATSAPP_GRAPH_API = "https://graph.facebook.com/v23.0"


class Settings(StoreSettings, NoticeSettings, OpsSettings, WebSettings, BaseSettings):
    """Every setting of INTERFACE.md; a bad value stops start-up naming the setting."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: str = ""
    bot_username: str = ""
    bot_framework: Literal["aiogram", "ptb"] = "aiogram"
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///postsale.db"
    # SQLite: small transactions run inline and buffer their writes (storage.uow).
    sqlite_fast_path: bool = True
    operator_ids: IdList = Field(default_factory=list)
    admin_ids: IdList = Field(default_factory=list)
    operator_chat_id: str = ""
    # The channel OPERATOR_CHAT_ID and OPERATOR_IDS are addresses on (alerts go there).
    operator_channel: Literal["telegram", "console"] = "telegram"
    followup_delay: Duration = timedelta(hours=24)
    reminder_after: Duration = timedelta(hours=48)
    survey_expires_after: Duration = timedelta(days=7)
    survey_throttle: Duration = timedelta(days=90)
    contact_window: str = "09:00-20:00"
    default_timezone: str = "America/Sao_Paulo"
    default_locale: str = "pt-BR"
    webhook_url: str = ""
    webhook_secret: str = ""
    # WhatsApp Cloud API (bot.channels.whatsapp): served when the token and number id are set.
    whatsapp_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    whatsapp_api_url: str = WHATSAPP_GRAPH_API
    whatsapp_send_rate: float = Field(default=80.0, gt=0)  # messages a second, per number
    # The approved templates sent outside the 24-hour window (docs/whatsapp.md), and the
    # template language of each of our locales.
    whatsapp_template_survey: str = "postsale_survey"
    whatsapp_template_reminder: str = "postsale_reminder"
    whatsapp_template_reply: str = "postsale_reply"
    whatsapp_template_languages: str = "pt-BR=pt_BR,en=en,es=es,ca=ca"
    ingest_secret: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    business_hours: str = "mon-fri 09:00-18:00"
    operators_timezone: str = ""
    sla_first_response: Duration = timedelta(hours=4)
    sla_resolution: Duration = timedelta(hours=48)
    send_rate_global: float = Field(default=30.0, gt=0)
    send_rate_per_chat: float = Field(default=1.0, gt=0)
    # How long a reply may still go after network or server errors, and the longest
    # wait between two tries (invitations and reminders: until their survey expires).
    outbox_retry_for: Duration = timedelta(hours=6)
    outbox_backoff_max: Duration = timedelta(minutes=5)
    log_level: str = "INFO"
    # A model made by `postsale themes train`; empty: the one shipped with postsale.
    themes_model: str = ""
    data_dir: str = "postsale-files"
    # How long a /mydata export file may stay on disk if its send never happened.
    export_ttl: Duration = Field(default=timedelta(hours=1), gt=timedelta(0))
    store_name: str = ""
    review_url: str = ""  # e.g. https://shop.example/orders/{order_id}/review

    @field_validator("contact_window")
    @classmethod
    def _check_window(cls, value: str) -> str:
        ContactWindow.parse(value)
        return value

    @field_validator("business_hours")
    @classmethod
    def _check_business_hours(cls, value: str) -> str:
        BusinessHours.parse(value)
        return value

    @field_validator("default_timezone", "operators_timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        for known in LOCALES:
            if value.lower() == known.lower():
                return known
        raise ValueError(f"unsupported locale {value!r} (one of {', '.join(LOCALES)})")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return database_url(value)

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level == "WARN":
            return "WARNING"
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r} (one of {', '.join(LOG_LEVELS)})")
        return level

    @field_validator("review_url")
    @classmethod
    def _check_review_url(cls, value: str) -> str:
        try:
            value.format(order_id="1")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"not a link template: {value!r} (only {{order_id}} may stand in braces)"
            ) from exc
        return value.strip()

    @field_validator("telegram_api_url", "webhook_url", "whatsapp_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("whatsapp_template_languages")
    @classmethod
    def _check_template_languages(cls, value: str) -> str:
        template_languages(value)
        return value

    @property
    def whatsapp(self) -> bool:
        """Whether WhatsApp is served (its token and phone number id are set)."""
        return bool(self.whatsapp_token and self.whatsapp_phone_number_id)

    @property
    def phone_channel(self) -> str | None:
        """The channel that reaches a customer by phone number alone (no link), if served."""
        return "whatsapp" if self.whatsapp else None

    @property
    def template_languages(self) -> dict[str, str]:
        """Our locale -> the template language code Meta approved it under."""
        return template_languages(self.whatsapp_template_languages)

    def review_link(self, order_id: str) -> str | None:
        """``REVIEW_URL`` for the store's order ``order_id``, or None when none is set."""
        return (
            self.review_url.format(order_id=quote(order_id, safe="")) if self.review_url else None
        )

    @property
    def window(self) -> ContactWindow:
        return ContactWindow.parse(self.contact_window)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    @property
    def operators_tz(self) -> ZoneInfo:
        return ZoneInfo(self.operators_timezone or self.default_timezone)

    @property
    def web_address(self) -> str:
        """Where the web admin is reached: ``WEB_BASE_URL``, else ``http://HTTP_HOST:HTTP_PORT``."""
        return self.web_base_url or f"http://{self.http_host}:{self.http_port}"


def template_languages(text: str) -> dict[str, str]:
    """``pt-BR=pt_BR,en=en`` as a mapping; every locale of ours must have a language."""
    found: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        locale, sep, code = part.partition("=")
        if not sep or not code.strip():
            raise ValueError(f"not locale=language: {part!r}")
        found[locale.strip()] = code.strip()
    missing = [locale for locale in LOCALES if locale not in found]
    if missing:
        raise ValueError(f"no template language for {', '.join(missing)}")
    return found


class SettingsError(SystemExit):
    """Raised at start-up with a message naming every bad setting."""


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            got = err.get("input")
            if name == "DATABASE_URL" and isinstance(got, str):
                got = shown_url(got)  # a message may end up in a cron mail
            lines.append(f"  {name}: {err['msg']} (got {got!r})")
        raise SettingsError("postsale: bad setting(s):\n" + "\n".join(lines)) from None
