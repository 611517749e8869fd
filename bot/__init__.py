"""The edge and the wiring: channels, CLI, HTTP, scheduler, outbox sender, settings."""
