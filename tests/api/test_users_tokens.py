"""``/users/me/`` and personal tokens: shown once, listed without secrets, expiry, revocation,
managed from a session only, and refused to organization tokens."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from tests.support import ALL, ApiClient, Cast, World, all_pages, assert_error, error_fields
from tokenward import credentials

TOKENS = "/api/0/users/me/tokens/"
FIELDS = {
    "id",
    "organizations",
    "name",
    "scopes",
    "token_last_characters",
    "created_at",
    "expires_at",
    "last_used_at",
}


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def create(session: ApiClient, scopes: tuple[str, ...] = ("org:read",)) -> dict[str, str]:
    response = session.post(TOKENS, json={"name": "t", "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


def listed_ids(session: ApiClient) -> list[str]:
    return [item["id"] for item in session.get(f"{TOKENS}?per_page=100").json()]


def test_me_answers_the_user_for_a_session_and_a_personal_token(world: World) -> None:
    session = world.session("Grace")
    me = session.get("/api/0/users/me/")
    assert me.status_code == 200
    body = me.json()
    assert set(body) == {"id", "email", "name"}
    assert body["name"] == "Grace" and isinstance(body["id"], str)
    token = world.personal_token(session, ["project:read"])  # any scope will do
    assert world.bearer(token).get("/api/0/users/me/").json() == body


def test_organization_tokens_are_refused_on_user_endpoints(cast: Cast, world: World) -> None:
    slug = cast.organization()
    bearer = world.bearer(world.organization_token(cast.session(0), slug))
    for method, path in [
        ("GET", "/api/0/users/me/"),
        ("GET", TOKENS),
        ("POST", TOKENS),
        ("DELETE", TOKENS + "1/"),
        ("POST", "/api/0/organizations/"),
    ]:
        body = {"slug": "x-" + slug, "name": "X", "scopes": ["org:read"]}
        assert_error(bearer.request(method, path, json=body), 403, "user-required")


def test_creating_a_token_shows_it_once(world: World) -> None:
    session = world.session()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    response = session.post(
        TOKENS,
        json={"name": "laptop", "scopes": ["project:read", "org:read"], "expires_at": iso(expires)},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == FIELDS | {"token"}
    token = created["token"]
    assert re.fullmatch(r"twp_[0-9A-Za-z]{49}", token)
    assert credentials.parse(token).kind is credentials.TokenKind.PERSONAL
    assert created["token_last_characters"] == token[-4:]
    assert created["name"] == "laptop"
    assert sorted(created["scopes"]) == ["org:read", "project:read"]
    assert abs(parse_time(created["expires_at"]) - expires) < dt.timedelta(seconds=1)
    assert parse_time(created["created_at"]).utcoffset() == dt.timedelta(0)
    assert parse_time(created["expires_at"]).utcoffset() == dt.timedelta(0)
    assert created["last_used_at"] is None

    listed = session.get(TOKENS)
    assert listed.status_code == 200
    assert token not in listed.text and token[4:-4] not in listed.text
    [item] = listed.json()
    assert set(item) == FIELDS
    assert item == {key: created[key] for key in FIELDS}


def test_a_token_without_expiry_lists_null(world: World) -> None:
    session = world.session()
    world.personal_token(session, ["org:read"])
    [item] = session.get(TOKENS).json()
    assert item["expires_at"] is None


def test_token_management_needs_a_session(cast: Cast) -> None:
    bearer = cast.token(0)  # every scope: still not enough
    before = listed_ids(cast.session(0))
    for method, path in [("GET", TOKENS), ("POST", TOKENS), ("DELETE", f"{TOKENS}{before[0]}/")]:
        response = bearer.request(method, path, json={"name": "x", "scopes": ["org:read"]})
        assert_error(response, 403, "session-required")
    assert listed_ids(cast.session(0)) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["org:read"]}, "name"),
        ({"name": "  ", "scopes": ["org:read"]}, "name"),
        ({"name": "x"}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["org:read", "org:everything"]}, "scopes"),
        ({"name": "x", "scopes": "org:read"}, "scopes"),
        ({"name": "x", "scopes": ["org:read"], "expires_at": "2099-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "scopes": ["org:read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": ["org:read"], "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "x", "scopes": ["org:read"], "user_id": 1}, "user_id"),
    ],
)
def test_invalid_token_requests_are_400(cast: Cast, body: dict[str, object], field: str) -> None:
    session = cast.session(0)
    before = listed_ids(session)
    assert error_fields(session.post(TOKENS, json=body)) == [field]
    assert listed_ids(session) == before


def test_expires_at_just_past_is_refused(cast: Cast) -> None:
    session = cast.session(0)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    response = session.post(
        TOKENS, json={"name": "x", "scopes": ["org:read"], "expires_at": iso(past)}
    )
    assert error_fields(response) == ["expires_at"]


def test_expired_tokens_are_token_expired(cast: Cast, world: World) -> None:
    session = world.session()
    slug = cast.organization()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
    personal = world.bearer(world.personal_token(session, ["org:read"], expires_at=iso(expires)))
    minted = cast.session(0).post(
        f"/api/0/organizations/{slug}/tokens/",
        json={"name": "short-lived", "scopes": ["org:read"], "expires_at": iso(expires)},
    )
    assert minted.status_code == 201, minted.text
    assert parse_time(minted.json()["expires_at"]) == expires
    organization = world.bearer(minted.json()["token"])
    assert personal.get("/api/0/users/me/").status_code == 200
    assert organization.get(f"/api/0/organizations/{slug}/").status_code == 200
    time.sleep(max(0.0, (expires - dt.datetime.now(dt.UTC)).total_seconds()) + 0.2)
    assert_error(personal.get("/api/0/users/me/"), 401, "token-expired")
    assert_error(personal.get("/api/0/organizations/"), 401, "token-expired")
    assert_error(organization.get(f"/api/0/organizations/{slug}/"), 401, "token-expired")


def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    session = world.session()
    token = world.personal_token(session, ["org:read"])
    bearer = world.bearer(token)
    assert bearer.get("/api/0/users/me/").status_code == 200  # warm any cache
    [item] = session.get(TOKENS).json()
    assert session.delete(f"{TOKENS}{item['id']}/").status_code == 204
    assert_error(bearer.get("/api/0/users/me/"), 401, "invalid-token")
    assert session.get(TOKENS).json() == []
    assert_error(session.delete(f"{TOKENS}{item['id']}/"), 404, "not-found")


def test_one_cannot_revoke_another_users_token(cast: Cast, world: World) -> None:
    created = create(cast.session(0))
    assert_error(cast.session(1).delete(f"{TOKENS}{created['id']}/"), 404, "not-found")
    assert world.bearer(created["token"]).get("/api/0/users/me/").status_code == 200
    assert created["id"] in listed_ids(cast.session(0))


@pytest.mark.parametrize("token_id", ["999999999", "abc", "-1", "1" * 30])
def test_revoking_an_unknown_token_is_404(cast: Cast, token_id: str) -> None:
    assert_error(cast.session(0).delete(f"{TOKENS}{token_id}/"), 404, "not-found")


def test_a_bad_checksum_or_unknown_token_is_invalid_token(cast: Cast, world: World) -> None:
    token = create(cast.session(0))["token"]
    last = token[-1]
    tampered = token[:-1] + ("A" if last != "A" else "B")
    body = token[:-6]
    unknown = credentials.mint(credentials.TokenKind.PERSONAL).secret
    for candidate in (
        tampered,
        token[:-1],
        "two_" + body[4:] + credentials.checksum(body),
        unknown,
    ):
        response = world.bearer(candidate).get("/api/0/users/me/")
        detail = assert_error(response, 401, "invalid-token")
        assert candidate[4:-4] not in response.text
        assert detail["extra"] == {}


def test_personal_token_list_pages(world: World) -> None:
    session = world.session()
    made = [world.personal_token(session, ["org:read"]) for _ in range(5)]
    pages = all_pages(session, TOKENS, per_page=2)
    assert [len(page) for page in pages] == [2, 2, 1]
    seen = [item["token_last_characters"] for page in pages for item in page]
    assert seen == [token[-4:] for token in made]  # oldest first, each once


def test_every_scope_is_accepted(cast: Cast) -> None:
    session = cast.session(0)
    response = session.post(TOKENS, json={"name": "all", "scopes": sorted(ALL)})
    assert response.status_code == 201
    assert sorted(response.json()["scopes"]) == sorted(ALL)


def test_expiry_in_another_time_zone_is_answered_in_utc(cast: Cast) -> None:
    response = cast.session(0).post(
        TOKENS,
        json={"name": "tz", "scopes": ["org:read"], "expires_at": "2030-01-01T05:30:00+05:30"},
    )
    assert response.status_code == 201, response.text
    expires = parse_time(response.json()["expires_at"])
    assert expires == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert expires.utcoffset() == dt.timedelta(0)
