"""The languages the bot speaks: one list that flows, storage and bot all read."""

from __future__ import annotations

LANGUAGES: tuple[tuple[str, str], ...] = (
    ("pt-BR", "Português (Brasil)"),
    ("en", "English"),
    ("es", "Español"),
    ("ca", "Català"),
)
"""The locales a customer can choose, with their names in their own language."""

LOCALES: tuple[str, ...] = tuple(code for code, _ in LANGUAGES)
"""Our locales, the default first: ("pt-BR", "en", "es", "ca")."""
