"""The channels the settings enable, each built from ``(settings, handler, options)``.

Today: ``telegram`` when ``BOT_TOKEN`` is set, ``whatsapp`` when ``WHATSAPP_TOKEN`` and
``WHATSAPP_PHONE_NUMBER_ID`` are (both side by side), ``console`` for the terminal chat. A new
channel adds a factory here and a condition in ``enabled``; the composition root
(``bot.bootstrap.build_app``) builds what ``enabled_factories`` returns, keyed by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from bot.channels.port import Channel, UpdateHandler
from bot.settings import Settings

Factory = Callable[[Settings, UpdateHandler, Mapping[str, Any]], Channel]
Options = Mapping[str, Mapping[str, Any]]


def _telegram(settings: Settings, handler: UpdateHandler, options: Mapping[str, Any]) -> Channel:
    from bot.channels.telegram.factory import build_telegram_channel

    return build_telegram_channel(settings, handler, **options)


def _whatsapp(settings: Settings, handler: UpdateHandler, options: Mapping[str, Any]) -> Channel:
    from bot.channels.whatsapp.factory import build_whatsapp_channel

    return build_whatsapp_channel(settings, handler, **options)


def _console(settings: Settings, handler: UpdateHandler, options: Mapping[str, Any]) -> Channel:
    from bot.channels.console import ConsoleChannel

    return ConsoleChannel(handler, **options)


FACTORIES: dict[str, Factory] = {
    "telegram": _telegram,
    "whatsapp": _whatsapp,
    "console": _console,
}


def enabled(settings: Settings, *, terminal: bool = False) -> list[str]:
    """The names of the channels to run: the terminal chat runs the console alone."""
    if terminal:
        return ["console"]
    names = ["telegram"] if settings.bot_token else []
    if settings.whatsapp:
        names.append("whatsapp")
    return names


def enabled_factories(
    settings: Settings, options: Options | None = None, *, terminal: bool = False
) -> dict[str, Callable[[Settings, UpdateHandler], Channel]]:
    """Every enabled channel's factory, as ``bot.bootstrap.build_app`` takes them:
    ``(settings, handler) -> channel``, ``options[name]`` tuning that one."""
    given = options or {}
    return {
        name: partial(_with_options, FACTORIES[name], given.get(name, {}))
        for name in enabled(settings, terminal=terminal)
    }


def _with_options(
    factory: Factory, options: Mapping[str, Any], settings: Settings, handler: UpdateHandler
) -> Channel:
    return factory(settings, handler, options)


__all__ = ["FACTORIES", "Factory", "enabled", "enabled_factories"]
