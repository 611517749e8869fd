"""The settings of running the bot as a service: its logs, its HTTP server, its checks.

A mix-in of ``bot.settings.Settings`` (INTERFACE.md lists them).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from bot.durations import Duration


class OpsSettings(BaseSettings):
    """Log lines as text or JSON; whether the HTTP server always runs; when /readyz calls
    the outbox stuck."""

    # json: one JSON object a line, for a log collector (bot.log_format).
    log_format: Literal["text", "json"] = "text"
    # auto: the server runs only when something must receive over HTTP (a webhook,
    # ingestion, WhatsApp, a store), so a first `postsale run` opens no port; on: always,
    # for /metrics and /readyz of a polling bot.
    http_server: Literal["auto", "on"] = "auto"
    # A queued message due for this long while no send result was recorded for as long.
    outbox_stuck_after: Duration = Field(default=timedelta(minutes=10), gt=timedelta(0))
    # Set: GET /metrics wants "Authorization: Bearer <token>" (a scraper outside the host).
    metrics_token: str = ""
