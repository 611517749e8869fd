"""The HTTP side: the Telegram webhook, order ingestion (``ingest``) and /healthz (``app``)."""
