"""The HTTP side: the channels' routes and /healthz (``app``), order ingestion (``ingest``)."""
