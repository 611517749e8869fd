"""The settings of the store connectors (INTERFACE.md).

A mix-in of ``bot.settings.Settings``: one ``.env``, one place that names a bad value.
A connector is served when its secret is set; its path then answers 404 no more.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
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
    nuvemshop_access_token: str = Field("", validate_default=True)
    nuvemshop_store_id: str = ""
    # API v1 (the docs' stable URL; api.nuvemshop.com.br/v1 serves the same stores).
    nuvemshop_api_url: str = "https://api.tiendanube.com/v1"
    # Nuvemshop refuses API calls without a User-Agent naming the app and a contact.
    nuvemshop_user_agent: str = "postsale (store owner)"
    # VTEX: the value our hook configuration asks VTEX to send in X-Postsale-Hook-Key,
    # and the app key / token the OMS API is read with.
    vtex_account: str = ""
    vtex_hook_key: str = ""
    vtex_app_key: str = ""
    vtex_app_token: str = ""
    vtex_api_url: str = Field(
        "", validate_default=True
    )  # default https://{VTEX_ACCOUNT}.vtexcommercestable.com.br

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

    # A connector whose webhooks are verified but whose orders cannot be fetched would
    # answer every event 400: start-up stops instead, naming what is missing. (Checked on
    # fields, not on the whole model, so that the message shows no secret.)
    @field_validator("nuvemshop_access_token")
    @classmethod
    def _check_nuvemshop(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("nuvemshop_app_secret") and not value:
            raise ValueError("required with NUVEMSHOP_APP_SECRET (to fetch the orders)")
        return value

    @field_validator("vtex_api_url")
    @classmethod
    def _check_vtex(cls, value: str, info: ValidationInfo) -> str:
        data = info.data
        if not data.get("vtex_hook_key"):
            return value.rstrip("/")
        needed = {
            "VTEX_APP_KEY": data.get("vtex_app_key"),
            "VTEX_APP_TOKEN": data.get("vtex_app_token"),
            "VTEX_ACCOUNT (or VTEX_API_URL)": data.get("vtex_account") or value,
        }
        missing = [name for name, given in needed.items() if not given]
        if missing:
            raise ValueError(f"VTEX_HOOK_KEY is set: {', '.join(missing)} required too")
        return value.rstrip("/")

    @property
    def vtex_base_url(self) -> str:
        """The account's OMS host (``VTEX_API_URL`` when set: a test server)."""
        return self.vtex_api_url or f"https://{self.vtex_account}.vtexcommercestable.com.br"
