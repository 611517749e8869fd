"""The store connectors the settings enable, by name (``POST /connect/<name>``)."""

from __future__ import annotations

from collections.abc import Callable

from bot.settings import Settings
from bot.stores import nuvemshop, shopify, vtex, woocommerce
from bot.stores.port import Connector

# name -> a function building the connector from the settings, or None when its
# secret is unset (its path then answers 404 naming the setting).
Builder = Callable[[Settings], Connector | None]
BUILDERS: dict[str, Builder] = {
    "shopify": shopify.build,
    "woocommerce": woocommerce.build,
    nuvemshop.NAME: nuvemshop.build,
    vtex.NAME: vtex.build,
}
# The setting that enables each connector, for the 404's message.
ENABLED_BY: dict[str, str] = {
    "shopify": "SHOPIFY_WEBHOOK_SECRET",
    "woocommerce": "WOOCOMMERCE_WEBHOOK_SECRET",
    "nuvemshop": "NUVEMSHOP_APP_SECRET",
    "vtex": "VTEX_HOOK_KEY",
}


def enabled_connectors(settings: Settings) -> dict[str, Connector]:
    """Every connector whose settings are there."""
    found: dict[str, Connector] = {}
    for name, build in BUILDERS.items():
        connector = build(settings)
        if connector is not None:
            found[name] = connector
    return found
