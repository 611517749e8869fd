"""WhatsApp through Meta's Cloud API: a small Graph API client of our own (``client``),
webhook routes (``webhook``), the translations both ways (``inbound``, ``outbound``,
``errors``) and the 24-hour service window (``window``)."""
