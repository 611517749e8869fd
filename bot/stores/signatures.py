"""The signature Shopify and WooCommerce both put on a webhook: base64 HMAC-SHA256 of the body."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


def base64_hmac_ok(secret: bytes, body: bytes, given: str) -> bool:
    """Whether ``given`` is the base64 HMAC-SHA256 of ``body`` under ``secret``; compared
    in constant time on the digest bytes, and never for an empty or malformed header."""
    try:
        claimed = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    return bool(given) and hmac.compare_digest(expected, claimed)
