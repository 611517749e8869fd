"""A promoter's review request names the store and links to the order's review page."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Database
from bot.bootstrap import build_core
from bot.engine.pipeline import Pipeline
from bot.settings import SettingsError, load_settings
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.integration.staff_helpers import (
    invite_to_survey,
    press,
    send,
    staff_settings,
    texts,
)


async def a_survey_answered(db: Database, engine: Pipeline, nps: int, locale: str = "en") -> str:
    """The customer ``c 1/2`` answers ``nps``, skips the reason and gives CSAT 5."""
    _, _, fid = await customer_with_delivered_order(db, "c 1/2", locale=locale, now=T0)
    assert fid is not None
    await invite_to_survey(db, engine, fid, T0)
    await send(db, engine, "100", press(f"nps:{fid}:{nps}"))
    await send(db, engine, "100", press(f"skip:{fid}"))
    return texts(await send(db, engine, "100", press(f"csat:{fid}:5")))


async def test_a_promoter_is_asked_for_a_review_at_the_named_store_with_the_orders_link(
    db: Database, tmp_path: Path
) -> None:
    settings = staff_settings(
        tmp_path, store_name="Loja Aurora", review_url="https://aurora.example/r/{order_id}?s=tg"
    )
    engine = build_core(db, settings, Clock(T0)).pipeline

    told = await a_survey_answered(db, engine, 10)

    assert told.index("Thank you for your answers") < told.index("a review of your order")
    assert "a review of your order at Loja Aurora would help" in told
    # the store's order id, quoted so that it stays one path segment
    assert "https://aurora.example/r/c%201%2F2-o1?s=tg" in told


async def test_without_store_settings_the_request_says_our_store_in_the_customers_language(
    db: Database, tmp_path: Path
) -> None:
    engine = build_core(db, staff_settings(tmp_path), Clock(T0)).pipeline

    told = await a_survey_answered(db, engine, 9, locale="pt-BR")

    assert "uma avaliação do seu pedido em nossa loja ajudaria" in told
    assert "http" not in told


async def test_a_passive_is_not_asked_for_a_review(db: Database, tmp_path: Path) -> None:
    settings = staff_settings(tmp_path, store_name="Loja Aurora", review_url="https://a.example")
    engine = build_core(db, settings, Clock(T0)).pipeline

    told = await a_survey_answered(db, engine, 8)

    assert "Thank you for your answers" in told and "review" not in told


@pytest.mark.parametrize("template", ["https://a.example/{order}", "https://a.example/{0}", "{"])
def test_a_review_url_with_unknown_braces_stops_start_up_naming_the_setting(
    template: str,
) -> None:
    with pytest.raises(SettingsError, match="REVIEW_URL"):
        load_settings(_env_file=None, review_url=template)
