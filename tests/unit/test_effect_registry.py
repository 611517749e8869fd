"""Every domain effect a flow can ask for has exactly one handler in the engine."""

from __future__ import annotations

import dataclasses
import inspect
from typing import get_args

from bot.engine.effects import HANDLERS, WITHOUT_CUSTOMER
from flows import effects as fx


def effect_classes() -> set[type]:
    """Every dataclass defined in flows/effects.py, whether or not ``Effect`` names it."""
    return {
        cls
        for _, cls in inspect.getmembers(fx, inspect.isclass)
        if cls.__module__ == fx.__name__ and dataclasses.is_dataclass(cls)
    }


def test_the_effect_union_names_every_effect_class() -> None:
    assert set(get_args(fx.Effect)) == effect_classes()


def test_every_effect_type_has_one_handler_and_no_handler_is_for_something_else() -> None:
    assert set(HANDLERS) == effect_classes()
    assert all(callable(handler) for handler in HANDLERS.values())


def test_only_the_language_choice_applies_before_a_chat_is_linked() -> None:
    assert {fx.SetLocale} == WITHOUT_CUSTOMER
