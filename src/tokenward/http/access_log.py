"""Access-log lines never carry an invitation key: ``/accept-invite/<key>/`` is logged redacted."""

from __future__ import annotations

import logging
import re

__all__ = ["RedactLinkKeys", "redact_access_log"]

_KEYED_PATH = re.compile(r"(/accept-invite/)[^/?#\s]+")


def _redacted(value: object) -> object:
    return _KEYED_PATH.sub(r"\1…", value) if isinstance(value, str) else value


class RedactLinkKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = _KEYED_PATH.sub(r"\1…", record.msg)
        return True


def redact_access_log() -> None:
    """Install once on uvicorn's access logger (idempotent)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactLinkKeys) for existing in logger.filters):
        logger.addFilter(RedactLinkKeys())
