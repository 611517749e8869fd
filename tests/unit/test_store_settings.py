"""The Nuvemshop and VTEX settings: a connector that could not fetch orders does not start."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings
from bot.stores.registry import enabled_connectors


def test_a_nuvemshop_secret_without_its_token_is_refused() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, nuvemshop_app_secret="the-secret-value")
    assert "NUVEMSHOP_ACCESS_TOKEN" in str(refused.value)
    assert "the-secret-value" not in str(refused.value)


def test_a_vtex_hook_key_names_what_it_lacks() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, vtex_hook_key="hook-key-value", vtex_app_key="k")
    message = str(refused.value)
    assert "VTEX_APP_TOKEN" in message and "VTEX_ACCOUNT" in message
    assert "VTEX_APP_KEY," not in message and "hook-key-value" not in message


def test_the_connectors_are_on_with_their_settings_and_off_without() -> None:
    assert enabled_connectors(load_settings(_env_file=None)) == {}
    on = load_settings(
        _env_file=None,
        nuvemshop_app_secret="s",
        nuvemshop_access_token="t",
        vtex_hook_key="k",
        vtex_app_key="a",
        vtex_app_token="t",
        vtex_account="acme",
    )
    assert sorted(enabled_connectors(on)) == ["nuvemshop", "vtex"]
    assert on.vtex_base_url == "https://acme.vtexcommercestable.com.br"
