"""The settings of the store connectors (INTERFACE.md).

A mix-in of ``bot.settings.Settings``: one ``.env``, one place that names a bad value.
A connector is served when its secret is set; its path then answers 404 no more.
"""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings


class StoreSettings(BaseSettings):
    """Store platforms' webhook secrets and the API credentials orders are fetched with."""

    # Shopify: the app's client secret (or the store's webhook signing key).
    shopify_webhook_secret: str = ""
    # Shopify, optional: the shop (``mystore`` or ``mystore.myshopify.com``) and an Admin
    # API access token with read_orders, to fetch the order of a fulfillment event whose
    # orders/create never came. Without them such an event is answered and logged as an
    # unknown order. SHOPIFY_API_URL replaces https://{shop}.myshopify.com (a test server).
    shopify_shop: str = ""
    shopify_access_token: str = ""
    shopify_api_url: str = ""
    # WooCommerce: the secret typed into the webhook's settings.
    woocommerce_webhook_secret: str = ""
    # WooCommerce: what the core status "completed" means for this store's deliveries:
    # "delivered" (the default: the follow-up starts from it) or "shipped" (the store
    # completes orders when they leave, and a plugin's "delivered" status follows).
    woocommerce_completed_status: Literal["delivered", "shipped"] = "delivered"
    # Nuvemshop / Tiendanube: the app's client secret (signs webhooks), its access token
    # and the store id (user_id), to fetch an order a webhook names only by id.
    nuvemshop_app_secret: str = ""
    nuvemshop_access_token: str = ""
    nuvemshop_store_id: str = ""
    nuvemshop_api_url: str = "https://api.tiendanube.com/v1"
    # VTEX: the value our hook configuration asks VTEX to send in X-Postsale-Hook-Key,
    # and the app key / token the OMS API is read with.
    vtex_account: str = ""
    vtex_hook_key: str = ""
    vtex_app_key: str = ""
    vtex_app_token: str = ""
    vtex_api_url: str = ""  # default https://{VTEX_ACCOUNT}.vtexcommercestable.com.br

    def store_secrets(self) -> list[str]:
        """The values no log line may show."""
        return [
            self.shopify_webhook_secret,
            self.shopify_access_token,
            self.woocommerce_webhook_secret,
            self.nuvemshop_app_secret,
            self.nuvemshop_access_token,
            self.vtex_hook_key,
            self.vtex_app_key,
            self.vtex_app_token,
        ]
