"""Text that every database stores: no NUL characters, no lone surrogates.

PostgreSQL refuses NUL in text, and a lone surrogate (``\\ud800``: JSON may carry
one, UTF-8 cannot) fails any encoding to UTF-8, on SQLite as on PostgreSQL. A
customer's message is cleaned where it comes in, so both databases store the same.
"""

from __future__ import annotations

import re

_NUL = "\x00"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean_text(s: str) -> str:
    """``s`` without NUL characters, each lone surrogate replaced with U+FFFD."""
    if _NUL in s:
        s = s.replace(_NUL, "")
    return _LONE_SURROGATE.sub(REPLACEMENT, s)
