"""``postsale run`` says so when the operators' channel is not among those it runs."""

from __future__ import annotations

import logging

import pytest

from bot.entrypoints.runner import _warn_without_operators
from bot.settings import Settings


def test_whatsapp_alone_warns_that_operators_alerts_will_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(_env_file=None, whatsapp_token="t", whatsapp_phone_number_id="1")
    with caplog.at_level(logging.WARNING, "postsale.run"):
        _warn_without_operators(settings, {"whatsapp": object()})
    assert "OPERATOR_CHANNEL=telegram is not running here" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, "postsale.run"):
        _warn_without_operators(settings, {"whatsapp": object(), "telegram": object()})
    assert caplog.text == ""
