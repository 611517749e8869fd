"""The log filter: no secret survives into a written line, whatever carried it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.log_secrets import RedactSecrets, hide_secrets, secrets_of
from bot.settings import Settings

TOKEN = "123456:AAH-secret-half"


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger with a real handler, its secrets hidden, and what it writes."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("test.log_secrets")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    settings = Settings(
        bot_token=TOKEN,
        webhook_secret="hook-secret",
        ingest_secret="ingest-secret",
        database_url="postgresql://shop:pg-pass%2F1@db/shop",
    )
    hide_secrets(settings, logger)
    yield logger, out
    logger.removeHandler(handler)


def test_a_secret_in_the_arguments_is_masked_at_every_level(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = written
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
        logger.log(level, "HTTP Request: POST %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert all(line.endswith("https://api.telegram.org/bot***/getMe") for line in lines)


def test_a_secret_in_a_traceback_is_masked(written: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = written
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected; secret hook-secret")
    except RuntimeError:
        logger.exception("start-up failed")
    text = out.getvalue()
    assert "RuntimeError: The token `***` was rejected; secret ***" in text
    assert "secret-half" not in text
    assert "hook-secret" not in text


def test_the_database_password_is_masked_as_written_and_as_quoted_in_a_url(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = written
    logger.info("connecting with pg-pass/1, that is postgresql://shop:pg-pass%2F1@db/shop")
    assert (
        out.getvalue()
        .strip()
        .endswith("connecting with ***, that is postgresql://shop:***@db/shop")
    )


def test_the_token_s_secret_half_alone_is_masked_too(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = written
    logger.warning("token part %s", "AAH-secret-half")
    assert out.getvalue().strip() == "WARNING test.log_secrets: token part ***"


def test_without_secrets_a_record_is_left_as_it_is() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d updates", (3,), None)
    assert RedactSecrets(secrets_of(Settings(database_url="sqlite:///x.db"))).filter(record)
    assert (record.msg, record.args) == ("%d updates", (3,))


def test_the_metrics_token_is_masked() -> None:
    out = io.StringIO()
    logger = logging.getLogger("test.log_secrets.metrics")
    logger.propagate = False
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    try:
        hide_secrets(Settings(_env_file=None, metrics_token="scrape-me-7Q"), logger)  # type: ignore[call-arg]
        logger.warning("Authorization: Bearer %s", "scrape-me-7Q")
    finally:
        logger.removeHandler(handler)
    assert "scrape-me-7Q" not in out.getvalue()
    assert "Bearer ***" in out.getvalue()
