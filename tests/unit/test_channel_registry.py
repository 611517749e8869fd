"""The channels the settings enable, built by name."""

from __future__ import annotations

from bot.channels.console import ConsoleChannel
from bot.channels.port import Incoming
from bot.channels.registry import enabled, enabled_factories
from bot.channels.telegram.base import TelegramChannel
from bot.settings import Settings


async def ignore(incoming: Incoming) -> None:
    return None


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]


def test_telegram_runs_when_a_token_is_set_and_the_terminal_chat_runs_the_console() -> None:
    assert enabled(settings()) == []
    assert enabled(settings(bot_token="1:abc")) == ["telegram"]
    assert enabled(settings(bot_token="1:abc"), terminal=True) == ["console"]


def test_each_channel_is_built_by_name_with_its_own_options() -> None:
    given = settings(bot_token="1:abc")
    factories = enabled_factories(given, {"telegram": {"concurrency": 3}})
    assert list(factories) == ["telegram"]
    telegram = factories["telegram"](given, ignore)
    assert isinstance(telegram, TelegramChannel) and telegram.pump.ahead == 3
    terminal = enabled_factories(settings(), {"console": {"first_id": 42}}, terminal=True)
    console = terminal["console"](settings(), ignore)
    assert isinstance(console, ConsoleChannel) and console.name == "console"
