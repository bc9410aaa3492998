"""The access-log redaction of the SSO callback's query."""

from __future__ import annotations

import logging

from tokenward.http.log_redaction import SsoCallbackRedaction


def test_access_log_lines_of_the_callback_lose_their_query() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/auth/sso/callback/?code=SECRETCODE&state=S", "1.1", 303),
        None,
    )
    assert SsoCallbackRedaction().filter(record)
    assert "SECRETCODE" not in record.getMessage() and "[redacted]" in record.getMessage()
    other = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("a", "GET", "/x/?y=1"), None
    )
    SsoCallbackRedaction().filter(other)
    assert other.getMessage() == "a GET /x/?y=1"
