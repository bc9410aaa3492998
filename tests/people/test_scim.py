"""SCIM Users for an organization's identity provider: the gate like any organization route,
SCIM errors for bad input with nothing changed, and deprovisioning that reaches every process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.fastpath.conftest import start_server
from tests.support import ApiClient, LiveServer, World, assert_error, error_code, unique

SCIM = "application/scim+json"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
EXTENSION = "urn:ietf:params:scim:schemas:extension:tokenward:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _scim_base(slug: str) -> str:
    return f"/api/0/organizations/{slug}/scim/v2"


def _identity_provider(world: World, owner: ApiClient, slug: str) -> ApiClient:
    token = world.organization_token(owner, slug, ["member:admin", "member:read"])
    return world.client({"Authorization": f"Bearer {token}", "Content-Type": SCIM})


def _create(idp: ApiClient, slug: str, email: str, **extra: Any) -> dict[str, Any]:
    body = {"schemas": [CORE], "userName": email, "name": {"givenName": "Ada"}, **extra}
    response = idp.post(f"{_scim_base(slug)}/Users", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith(SCIM)
    created: dict[str, Any] = response.json()
    return created


def _scim_error(response: httpx.Response, status: int, scim_type: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status), body
    assert body.get("scimType") == scim_type, body
    assert body["detail"], body


def _members(owner: ApiClient, slug: str) -> dict[str, str]:
    response = owner.get(f"/api/0/organizations/{slug}/members/")
    assert response.status_code == 200, response.text
    return {item["user"]["email"]: item["role"] for item in response.json()}


def _set_active(idp: ApiClient, slug: str, scim_id: str, active: bool) -> httpx.Response:
    operation = {"op": "replace", "value": {"active": active}}
    return idp.request(
        "PATCH",
        f"{_scim_base(slug)}/Users/{scim_id}",
        json={"schemas": [PATCH], "Operations": [operation]},
    )


def test_only_the_organizations_own_admin_token_gets_in(people: World) -> None:
    owner = people.session()
    slug = people.organization(owner)
    other = people.organization(owner)
    users = f"{_scim_base(slug)}/Users"
    _scim_error(people.anonymous().get(users), 401)
    _scim_error(people.bearer(people.organization_token(owner, other)).get(users), 404)
    outsider = people.session()
    _scim_error(people.bearer(people.personal_token(outsider)).get(users), 404)
    reader = people.bearer(people.organization_token(owner, slug, ["member:read"]))
    refused = reader.get(users)
    _scim_error(refused, 403)
    assert "insufficient-scope" in refused.json()["detail"]
    # A member's personal token lacks the scope; even the owner's own credentials are not the
    # organization's: SCIM is for the organization's tokens.
    member = people.member(owner, slug, "member")
    _scim_error(people.bearer(people.personal_token(member.session)).get(users), 403)
    for own in (people.bearer(people.personal_token(owner)), owner):
        refused = own.post(users, json={"schemas": [CORE], "userName": "x@example.com"})
        _scim_error(refused, 403)
        assert refused.json()["detail"].startswith("organization-token-required")
    assert list(_members(owner, slug).values()) == ["owner", "member"]
    config = _identity_provider(people, owner, slug).get(
        f"{_scim_base(slug)}/ServiceProviderConfig"
    )
    assert config.status_code == 200 and config.json()["patch"]["supported"] is True


def test_create_filter_page_and_role_through_the_extension(people: World) -> None:
    owner = people.session()
    slug = people.organization(owner)
    idp = _identity_provider(people, owner, slug)
    emails = [f"{unique('scim')}@example.com" for _ in range(3)]
    created = _create(idp, slug, emails[0], **{EXTENSION: {"role": "manager"}, "active": True})
    for email in emails[1:]:
        _create(idp, slug, email.upper())
    assert created["userName"] == emails[0] and created["active"] is True
    assert created[EXTENSION] == {"role": "manager"}
    assert _members(owner, slug) == {
        **{email: "member" for email in emails[1:]},
        emails[0]: "manager",
        owner_email(owner): "owner",
    }

    found = idp.get(f"{_scim_base(slug)}/Users", params={"filter": f'userName eq "{emails[0]}"'})
    assert found.status_code == 200, found.text
    assert [user["id"] for user in found.json()["Resources"]] == [created["id"]]
    page = idp.get(f"{_scim_base(slug)}/Users", params={"startIndex": 2, "count": 1}).json()
    assert page["totalResults"] == 3 and page["startIndex"] == 2 and page["itemsPerPage"] == 1
    assert page["Resources"][0]["userName"] == emails[1]

    log = owner.get(f"/api/0/organizations/{slug}/audit-logs/").json()
    added = [entry for entry in log if entry["event"] == "member.add"]
    assert len(added) == 3 and all(entry["data"]["source"] == "scim" for entry in added)
    assert {entry["actor"]["type"] for entry in added} == {"org_token"}


def owner_email(owner: ApiClient) -> str:
    email: str = owner.get("/api/0/users/me/").json()["email"]
    return email


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        (b"{not json", "invalidSyntax"),
        (b"[1, 2]", "invalidSyntax"),
        (b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}', "invalidValue"),
        (
            b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "nope"}',
            "invalidValue",
        ),
    ],
)
def test_malformed_bodies_are_scim_errors_and_change_nothing(
    people: World, body: bytes, scim_type: str
) -> None:
    owner = people.session()
    slug = people.organization(owner)
    idp = _identity_provider(people, owner, slug)
    _scim_error(idp.post(f"{_scim_base(slug)}/Users", content=body), 400, scim_type)
    assert list(_members(owner, slug).values()) == ["owner"]


def test_unknown_attributes_owner_role_and_unsupported_filters_change_nothing(
    people: World,
) -> None:
    owner = people.session()
    slug = people.organization(owner)
    idp = _identity_provider(people, owner, slug)
    users = f"{_scim_base(slug)}/Users"
    email = f"{unique('scim')}@example.com"
    unknown = idp.post(users, json={"schemas": [CORE], "userName": email, "shoeSize": 44})
    _scim_error(unknown, 400, "invalidSyntax")
    assert "shoeSize" in unknown.json()["detail"]
    owner_role = idp.post(
        users, json={"schemas": [CORE, EXTENSION], "userName": email, EXTENSION: {"role": "owner"}}
    )
    _scim_error(owner_role, 400, "invalidValue")
    for unsupported in ('name.givenName sw "A"', 'userName co "x"', "userName eq", "((("):
        _scim_error(idp.get(users, params={"filter": unsupported}), 400, "invalidFilter")
    _scim_error(idp.get(users, params={"count": "many"}), 400, "invalidValue")
    assert list(_members(owner, slug).values()) == ["owner"]

    created = _create(idp, slug, email)
    bad_patch = idp.request(
        "PATCH",
        f"{users}/{created['id']}",
        json={"schemas": [PATCH], "Operations": [{"op": "explode", "path": "active"}]},
    )
    _scim_error(bad_patch, 400, "invalidValue")
    no_such = idp.request(
        "PATCH",
        f"{users}/{created['id']}",
        json={"schemas": [PATCH], "Operations": [{"op": "replace", "path": "x", "value": 1}]},
    )
    _scim_error(no_such, 400, "invalidPath")
    _scim_error(idp.post(users, json={"schemas": [CORE], "userName": email}), 409, "uniqueness")
    promote = idp.request(
        "PATCH",
        f"{users}/{created['id']}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": f"{EXTENSION}:role", "value": "owner"}],
        },
    )
    _scim_error(promote, 400, "invalidValue")
    _scim_error(idp.get(f"{users}/999999999"), 404)
    _scim_error(idp.get(f"{users}/not-an-id"), 404)
    _scim_error(idp.get(f"{_scim_base(slug)}/Groups"), 404)
    assert _members(owner, slug)[email] == "member"


def test_an_adopted_owner_cannot_be_removed_or_demoted_through_scim(people: World) -> None:
    owner = people.session()
    slug = people.organization(owner)
    idp = _identity_provider(people, owner, slug)
    adopted = _create(idp, slug, owner_email(owner))
    users = f"{_scim_base(slug)}/Users"
    _scim_error(_set_active(idp, slug, adopted["id"], False), 403)
    demote = idp.put(
        f"{users}/{adopted['id']}",
        json={
            "schemas": [CORE, EXTENSION],
            "userName": owner_email(owner),
            EXTENSION: {"role": "member"},
        },
    )
    _scim_error(demote, 403)
    _scim_error(idp.delete(f"{users}/{adopted['id']}"), 403)
    assert _members(owner, slug) == {owner_email(owner): "owner"}
    assert idp.get(f"{users}/{adopted['id']}").status_code == 200


def test_user_name_changes_only_for_accounts_the_identity_provider_made(people: World) -> None:
    owner = people.session()
    slug = people.organization(owner)
    idp = _identity_provider(people, owner, slug)
    made = _create(idp, slug, f"{unique('made')}@example.com")
    renamed_to = f"{unique('renamed')}@example.com"
    put = idp.put(
        f"{_scim_base(slug)}/Users/{made['id']}", json={"schemas": [CORE], "userName": renamed_to}
    )
    assert put.status_code == 200 and put.json()["userName"] == renamed_to, put.text
    assert renamed_to in _members(owner, slug)

    existing = people.user()  # an account of its own, with a password
    linked = _create(idp, slug, existing.email)
    refused = idp.put(
        f"{_scim_base(slug)}/Users/{linked['id']}",
        json={"schemas": [CORE], "userName": f"{unique('taken')}@example.com"},
    )
    _scim_error(refused, 400, "mutability")
    assert existing.email in _members(owner, slug)
    people.login(existing)  # the account is untouched


@pytest.fixture(scope="module")
def two_nodes(database_urls: dict[str, str]) -> Iterator[tuple[LiveServer, LiveServer]]:
    if "postgresql" not in database_urls:
        pytest.fail("deprovisioning across processes needs PostgreSQL (TOKENWARD_TEST_BACKENDS)")
    from tests.support import _migrate, run_async

    url = database_urls["postgresql"]
    run_async(_migrate(url))
    secret = "people-" + unique("secret")
    first, second = start_server(url, secret), start_server(url, secret)
    yield first, second
    first.stop()
    second.stop()


def _until(check: Any, seconds: float = 15.0) -> None:
    """A guard against a hang, not a speed assertion."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the other process kept the old answer"
        time.sleep(0.02)


@pytest.mark.postgres
def test_deprovisioning_reaches_every_process_and_spares_the_rest(
    two_nodes: tuple[LiveServer, LiveServer],
) -> None:
    node_a, node_b = two_nodes
    world_a, world_b = World(node_a), World(node_b)
    try:
        owner = world_a.session()
        slug = world_a.organization(owner)
        elsewhere = world_a.organization(owner)
        idp = _identity_provider(world_a, owner, slug)
        person = world_a.user()
        world_a.add_member(owner, elsewhere, person, "member")
        created = _create(idp, slug, person.email, **{EXTENSION: {"role": "manager"}})

        # The person works through node B: a session and a personal token, caches warm.
        session_b = world_b.login(person)
        token_b = world_b.bearer(world_b.personal_token(session_b))
        for client in (session_b, token_b):
            for _ in range(3):
                assert client.get(f"/api/0/organizations/{slug}/").status_code == 200

        assert _set_active(idp, slug, created["id"], False).status_code == 200
        for client in (session_b, token_b):
            _until(lambda c=client: c.get(f"/api/0/organizations/{slug}/").status_code == 404)
            for _ in range(3):
                assert_error(client.get(f"/api/0/organizations/{slug}/projects/"), 404, "not-found")
            assert client.get(f"/api/0/organizations/{elsewhere}/").status_code == 200
        assert session_b.get("/api/0/users/me/").status_code == 200

        still = idp.get(f"{_scim_base(slug)}/Users/{created['id']}")
        assert still.status_code == 200 and still.json()["active"] is False
        log = owner.get(f"/api/0/organizations/{slug}/audit-logs/").json()
        assert log[0]["event"] == "member.remove" and log[0]["data"]["source"] == "scim"

        # Turned on again: the person is back with the role the identity provider gave.
        assert _set_active(idp, slug, created["id"], True).status_code == 200
        _until(lambda: token_b.get(f"/api/0/organizations/{slug}/").status_code == 200)
        assert token_b.get(f"/api/0/organizations/{slug}/").json()["role"] == "manager"

        deleted = idp.delete(f"{_scim_base(slug)}/Users/{created['id']}")
        assert deleted.status_code == 204
        _until(lambda: error_code(token_b.get(f"/api/0/organizations/{slug}/")) == "not-found")
        _scim_error(idp.get(f"{_scim_base(slug)}/Users/{created['id']}"), 404)
        assert token_b.get(f"/api/0/organizations/{elsewhere}/").status_code == 200
        assert person.email not in _members(owner, slug)
    finally:
        world_a.close()
        world_b.close()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_USERS = st.fixed_dictionaries(
    {},
    optional={
        "schemas": st.just([CORE]) | st.just([CORE, EXTENSION]) | _JSON,
        "userName": st.emails() | st.text(max_size=20) | _JSON,
        "active": st.booleans() | _JSON,
        "name": st.fixed_dictionaries({"givenName": st.text(max_size=10)}) | _JSON,
        "emails": _JSON,
        EXTENSION: st.fixed_dictionaries({"role": st.sampled_from(["member", "owner", "x"])})
        | _JSON,
    },
)
_PATHS = st.sampled_from(
    ["active", "userName", f"{EXTENSION}:role", 'emails[type eq "work"].value', "name", "id", "]["]
)
_PATCHES = st.fixed_dictionaries(
    {
        "schemas": st.just([PATCH]) | _JSON,
        "Operations": st.lists(
            st.fixed_dictionaries(
                {"op": st.sampled_from(["add", "remove", "replace", "Replace", "move"])},
                optional={"path": _PATHS | st.text(max_size=12), "value": _JSON | st.booleans()},
            ),
            max_size=3,
        )
        | _JSON,
    }
)


def _scim_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code != 204:
        assert response.headers["content-type"].startswith(SCIM), response.text
    if response.status_code >= 400:
        body = response.json()
        assert body["schemas"] == [ERROR] and body["status"] == str(response.status_code), body


def test_hostile_bodies_get_scim_answers_and_never_make_an_owner(people: World) -> None:
    owner = people.session()
    slug = people.organization(owner)
    idp = _identity_provider(people, owner, slug)
    users = f"{_scim_base(slug)}/Users"
    target = _create(idp, slug, f"{unique('target')}@example.com")["id"]

    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(20261130)
    @given(user=_USERS, patch=_PATCHES)
    def run(user: dict[str, Any], patch: dict[str, Any]) -> None:
        _scim_answer(idp.post(users, json=user))
        _scim_answer(idp.put(f"{users}/{target}", json=user))
        _scim_answer(idp.request("PATCH", f"{users}/{target}", json=patch))

    run()
    roles = _members(owner, slug)
    assert [email for email, role in roles.items() if role == "owner"] == [owner_email(owner)]
