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
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert f"{name}:" in str(caught.value)
    assert value in str(caught.value)
