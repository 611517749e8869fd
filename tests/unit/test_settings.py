"""Settings: every name of INTERFACE.md, read from the environment and .env, checked."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    names = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert names == {name.upper() for name in Settings.model_fields}


def test_the_defaults_are_those_of_the_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "tests")  # no .env here
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    s = load_settings()
    assert s.bot_framework == "aiogram"
    assert s.database_url == "sqlite+aiosqlite:///postsale.db"
    assert s.followup_delay == timedelta(hours=24)
    assert s.reminder_after == timedelta(hours=48)
    assert s.survey_expires_after == timedelta(days=7)
    assert s.survey_throttle == timedelta(days=90)
    assert s.default_locale == "pt-BR"
    assert str(s.tz) == "America/Sao_Paulo"


def test_values_come_from_a_dot_env_file_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("FOLLOWUP_DELAY=90s\nOPERATOR_IDS=1, 2,3\nDEFAULT_LOCALE=es\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEFAULT_LOCALE", "ca")
    s = load_settings()
    assert s.followup_delay == timedelta(seconds=90)
    assert s.operator_ids == ["1", "2", "3"]
    assert s.default_locale == "ca"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FOLLOWUP_DELAY", "soon"),
        ("SURVEY_THROTTLE", "90 days"),
        ("CONTACT_WINDOW", "9am-8pm"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LOCALE", "fr"),
        ("BOT_FRAMEWORK", "telethon"),
        ("HTTP_PORT", "99999"),
        ("BUSINESS_HOURS", "weekdays 9-5"),
        ("SEND_RATE_GLOBAL", "0"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_setting(
    name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refusal(name, value, tmp_path, monkeypatch)
    assert f"{name}:" in message
    assert value in message


def refusal(name: str, value: str, where: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The message ``name=value`` stops start-up with (run in ``where``, no ``.env``)."""
    monkeypatch.chdir(where)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return str(caught.value)


@pytest.mark.parametrize(
    ("name", "written", "read"),
    [
        ("DATABASE_URL", "postgresql://user@host/db", "postgresql+asyncpg://user@host/db"),
        (
            "DATABASE_URL",
            "postgres://u:p%40ss@host:5433/db",
            "postgresql+asyncpg://u:p%40ss@host:5433/db",
        ),
        ("DATABASE_URL", "postgresql+asyncpg://user@host/db", "postgresql+asyncpg://user@host/db"),
        ("DATABASE_URL", "sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        (
            "DATABASE_URL",
            "sqlite+aiosqlite:///file:x.db?mode=ro&uri=true",
            "sqlite+aiosqlite:///file:x.db?mode=ro&uri=true",
        ),
        ("LOG_LEVEL", "debug", "DEBUG"),
        ("LOG_LEVEL", "Warn", "WARNING"),
    ],
)
def test_a_url_or_level_as_people_write_it_is_read_as_meant(
    name: str, written: str, read: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, written)
    assert getattr(load_settings(), name.lower()) == read


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("DATABASE_URL", "nonsense", "not a database URL"),
        ("DATABASE_URL", "mysql://shop@db/shop", "unsupported database 'mysql'"),
        ("DATABASE_URL", "postgresql+psycopg2://db/shop", "'postgresql+psycopg2'"),
        ("LOG_LEVEL", "verbose", "unknown log level 'verbose'"),
        ("OPERATOR_IDS", "12, abc", "not a Telegram user id: 'abc'"),
        ("ADMIN_IDS", "@maria", "not a Telegram user id: '@maria'"),
        ("ADMIN_IDS", "-100123", "not a Telegram user id: '-100123'"),
    ],
)
def test_an_unusable_url_level_or_user_id_is_refused_saying_why(
    name: str, value: str, named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refusal(name, value, tmp_path, monkeypatch)
    assert f"{name}: " in message
    assert named in message


def test_a_refused_database_url_is_shown_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refusal("DATABASE_URL", "mysql://shop:hunter2@db/shop", tmp_path, monkeypatch)
    assert "mysql://shop:***@db/shop" in message
    assert "hunter2" not in message
