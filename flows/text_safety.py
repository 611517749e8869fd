"""Text that every database stores: no NUL characters, no lone surrogates.

PostgreSQL refuses a NUL in a text column and neither database can store half of a
surrogate pair (JSON's ``"\\ud800"``), so one such character would fail a whole batch;
SQLite would take the NUL and then hold a value PostgreSQL cannot. Cleaning at the
door makes both databases store the same thing.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
"""What a lone surrogate becomes: Unicode's own mark for a character that was lost."""

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def clean_text(s: str) -> str:
    """``s`` without NUL characters and with each lone surrogate replaced by U+FFFD.

    A NUL carries nothing a person wrote, so it is dropped; a surrogate stood for a
    character, so a mark is left where it was.
    """
    if _UNSAFE.search(s) is None:  # the common case: nothing to do
        return s
    return _UNSAFE.sub(lambda found: "" if found.group() == "\x00" else REPLACEMENT, s)


def is_clean(s: str) -> bool:
    """Whether ``clean_text`` would leave ``s`` as it is."""
    return _UNSAFE.search(s) is None
