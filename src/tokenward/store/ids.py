"""Object ids as they arrive in URLs and cursors: ASCII digits that fit a 64-bit integer."""

from __future__ import annotations

__all__ = ["parse_id"]

_MAX_DIGITS = 18  # every 18-digit number fits in a signed 64-bit column


def parse_id(text: str) -> int | None:
    """The id ``text`` spells, or None when it cannot name a row.

    ``str.isdigit`` alone is not enough: it accepts superscripts such as "²", which ``int``
    refuses, and digits of other scripts, which ``int`` reads but nobody ever linked to.
    """
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        return None
    return int(text)
