"""Secrets are shown once and never again; the run-wide leak watch itself can catch a leak."""

from __future__ import annotations

import json

import httpx

from tests.leakwatch import LeakWatch
from tests.support import World
from tokenward import credentials


def _response(body: str) -> httpx.Response:
    request = httpx.Request("GET", "http://test/api/0/x/")
    return httpx.Response(200, text=body, request=request)


def test_leak_watch_flags_a_token_outside_its_issuing_response() -> None:
    watch = LeakWatch()
    minted = credentials.mint(credentials.TokenKind.PERSONAL)
    watch.response(_response(json.dumps({"token": minted.secret})))
    assert watch.leaks == [] and minted.secret in watch.tokens
    watch.response(_response(json.dumps({"name": f"echo {minted.secret}"})))
    assert len(watch.leaks) == 1 and minted.secret[-4:] in watch.leaks[0].what


def test_token_objects_never_print_their_secret() -> None:
    minted = credentials.mint(credentials.TokenKind.PERSONAL)
    parsed = credentials.parse(minted.secret)
    for text in (repr(minted), str(minted), repr(parsed), str(parsed), f"{minted}"):
        assert minted.secret not in text
        assert minted.secret[4:20] not in text


def test_token_is_shown_once_and_lists_show_only_last_characters(world: World) -> None:
    session = world.session()
    token = world.personal_token(session, ["org:read"])
    listed = session.get("/api/0/users/me/tokens/")
    assert listed.status_code == 200
    assert token not in listed.text
    assert [t["token_last_characters"] for t in listed.json()] == [token[-4:]]
    assert all("token" not in item for item in listed.json())
