"""The run-wide leak watch sees every place a secret could escape to, and matches every secret
exactly: uvicorn's own loggers, response headers, secrets that are not token-shaped."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.leakwatch import WATCH, LeakWatch
from tests.support import LiveServer
from tokenward import credentials


def _response(body: str, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "http://test/api/0/x/")
    return httpx.Response(200, text=body, headers=headers, request=request)


@contextmanager
def _not_propagating(*names: str) -> Iterator[list[logging.Logger]]:
    """Loggers as uvicorn's default logging configuration leaves them: not reaching the root."""
    loggers = [logging.getLogger(name) for name in names]
    before = [(logger.propagate, logger.level) for logger in loggers]
    for logger in loggers:
        logger.propagate = False
        logger.setLevel(logging.INFO)
    try:
        yield loggers
    finally:
        for logger, (propagate, level) in zip(loggers, before, strict=True):
            logger.propagate = propagate
            logger.setLevel(level)


def test_the_watch_sees_uvicorns_own_loggers_even_when_they_do_not_propagate() -> None:
    with WATCH.canary() as canary, _not_propagating("uvicorn.error", "uvicorn.access") as loggers:
        for logger in loggers:
            logger.info('127.0.0.1:5000 - "GET /api/0/x/?key=%s HTTP/1.1" 200', canary.value)
    assert canary.seen == ["log uvicorn.error", "log uvicorn.access"]


def test_the_watch_reads_the_test_servers_access_log(server: LiveServer) -> None:
    with WATCH.canary() as canary, httpx.Client(base_url=server.url) as client:
        assert client.get("/healthz", params={"probe": canary.value}).status_code == 200
    assert "log uvicorn.access" in canary.seen


def test_the_watch_reads_response_headers() -> None:
    watch = LeakWatch()
    minted = credentials.mint(credentials.TokenKind.PERSONAL)
    watch.secret(minted.secret, "token")
    watch.response(_response("{}", {"Location": f"/sign-in?next=/x?t={minted.secret}"}))
    assert [(leak.where, leak.what) for leak in watch.leaks] == [
        ("GET /api/0/x/ -> 200 (headers)", f"token ending {minted.secret[-4:]}")
    ]


def test_every_issued_secret_is_matched_exactly_not_by_shape() -> None:
    watch = LeakWatch()
    watch.password("hunter2-but-longer")
    enrolment = _response('{"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "otpauth_uri": "x"}')
    watch.response(enrolment)  # issues a TOTP secret: seen there, it is no leak
    minted = credentials.mint(credentials.TokenKind.ORGANIZATION)
    watch.response(_response(f'{{"token": "{minted.secret}"}}'))
    assert watch.leaks == []
    watch.record("password=hunter2-but-longer;", "tokenward.x")
    watch.record("secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP enrolled", "tokenward.x")
    watch.record(f"token body {minted.secret[4:]} without its prefix", "tokenward.x")
    watch.log_text(f"INFO: 127.0.0.1 GET /?k={minted.secret}\nINFO: fine", "a server's log")
    watch.browser_response("GET", "http://test/p/", 200, {}, f"<code>{minted.secret}</code>")
    assert [(leak.where, leak.what.split(" ending")[0]) for leak in watch.leaks] == [
        ("log tokenward.x", "password"),
        ("log tokenward.x", "TOTP secret"),
        ("log tokenward.x", "token"),  # the whole token was issued, a part of it is caught too
        ("a server's log line 1", "token"),
        ("browser GET http://test/p/ -> 200", "token"),
    ]
    assert watch.records_seen == 5 and watch.responses_seen == 3


def test_a_page_showing_a_new_token_issues_it_and_a_second_showing_leaks_it() -> None:
    watch = LeakWatch()
    minted = credentials.mint(credentials.TokenKind.PERSONAL)
    page = f"<p>Copy it now: <code>{minted.secret}</code></p>"
    watch.browser_response("POST", "http://test/tokens/", 200, {}, page)
    assert watch.leaks == [] and minted.secret in watch.tokens
    watch.browser_response("GET", "http://test/tokens/", 200, {}, page)
    assert [leak.where for leak in watch.leaks] == ["browser GET http://test/tokens/ -> 200"]


def test_a_token_shaped_string_nobody_issued_is_a_leak() -> None:
    watch = LeakWatch()
    stranger = credentials.mint(credentials.TokenKind.PERSONAL).secret
    watch.record(f"Authorization: Bearer {stranger}", "tokenward.x")
    assert [leak.what for leak in watch.leaks] == [f"token-shaped string ending {stranger[-4:]}"]
