"""Store platforms' webhooks (Shopify, WooCommerce, Nuvemshop, VTEX) as order rows."""
