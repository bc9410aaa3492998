"""Access-log lines never carry what the identity provider sends to the SSO callback: the
authorization code and state in its query string are replaced before the line is written."""

from __future__ import annotations

import logging

__all__ = ["SsoCallbackRedaction", "install_log_redaction"]

_CALLBACK = "/auth/sso/callback/"


class SsoCallbackRedaction(logging.Filter):
    """For uvicorn's access log, whose arguments are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2]
            if path.startswith(_CALLBACK) and "?" in path:
                record.args = (*args[:2], _CALLBACK + "?[redacted]", *args[3:])
        return True


def install_log_redaction() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, SsoCallbackRedaction) for f in access.filters):
        access.addFilter(SsoCallbackRedaction())
