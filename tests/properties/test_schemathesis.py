"""schemathesis fuzzes every operation of ``/openapi.json`` as an organization owner.

No answer may be a 5xx, and every answer must be one the schema documents: its status code, its
content type, its body and its headers. Generation is bounded (``TOKENWARD_FUZZ_EXAMPLES`` cases
per operation and mode, default 25) and seeded (``TOKENWARD_FUZZ_SEED``), so CI is repeatable.

A third of the path parameters point at real objects (the owner's organization, a foreign one, a
project, a member, tokens), so the fuzzer gets past the gate's 404; a third at strings that only
look like ids. A deleted object is replaced at once so later cases can find one again.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import Counter
from collections.abc import Iterator
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.leaks.keyring import SCANNER_PATH, ScannerKeyring
from tests.leakwatch import WATCH
from tests.sso.rows import an_authorization, ensure_configuration, shared_provider
from tests.support import PASSWORD, ApiClient, LiveServer, World, error_code, unique
from tokenward.auth.inventory import inventory
from tokenward.auth.login_throttle import LoginThrottle, ThrottleLimits
from tokenward.auth.sessions import COOKIE_NAME
from tokenward.scanner_keys import ScannerKeys

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = int(os.environ.get("TOKENWARD_FUZZ_EXAMPLES", "25"))
OpenApiOperation = APIOperation[Any, Any, Any, Any]
OpenApiCase = Case[OpenApiOperation]
# What a case's call answers, or the session's own post of a signed report.
Answer = Response | requests.Response
SEED = int(os.environ.get("TOKENWARD_FUZZ_SEED", "20240605"))


# Strings that look like ids or cursors to a careless parser: a digit ``int`` refuses, a digit
# of another script, a number past 64 bits, a padded number.
LOOKALIKES = ["²", "٣", "99999999999999999999", " 1"]
CLOSED = "http://127.0.0.1:9"  # an SSO issuer that refuses connections at once


def _choice(generated: str, salt: str, real: list[Any], tricks: list[Any] = LOOKALIKES) -> Any:
    """A third of the time the generated value (None), a third a real one, a third a trick;
    picked by the generated data, so a case replays the same way while Hypothesis shrinks it."""
    digest = zlib.crc32(f"{salt}|{generated}".encode())
    pools = [[], real, tricks or real]
    pool = pools[digest % 3]
    return pool[(digest // 3) % len(pool)] if pool else None


class OwnerScene:
    """An owner's organization with one of everything, and the credentials to act as that owner."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.owner = world.user("Fuzz Owner")
        self.client = world.login(self.owner)
        self.organization = world.organization(self.client)
        stranger = world.session("Stranger")
        self.foreign_organization = world.organization(stranger)
        self.foreign_project = world.project(stranger, self.foreign_organization)
        self.member = world.user("Fuzz Member")
        self.member_id = world.add_member(self.client, self.organization, self.member, "member")
        self.candidate = world.user("Fuzz Candidate")
        self.signer = world.user("Fuzz Signer")  # logs in and out; the fuzzer never sees its email
        self.project_id = world.project(self.client, self.organization)
        self.organization_token_id = self._mint(f"/api/0/organizations/{self.organization}/tokens/")
        self.personal_token_id = self._mint("/api/0/users/me/tokens/")
        self.invitation_id = self._invite()
        self.owner_id = self.client.get("/api/0/users/me/").json()["id"]
        self.database_url = world.server.settings.database_url
        ensure_configuration(self.database_url, self.organization)
        self.authorization_id = self._authorize()
        cookie = self.client.http.cookies.get(COOKIE_NAME)
        self.headers = {
            "Cookie": f"{COOKIE_NAME}={cookie}",
            "X-CSRF-Token": self.client.http.headers["X-CSRF-Token"],
        }
        self.http = requests.Session()
        self.http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # never keep one
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.keyring: ScannerKeyring | None = None

    def _mint(self, path: str) -> str:
        body = {"name": unique("fuzz"), "scopes": ["org:read"]}
        response = self.client.post(path, json=body)
        assert response.status_code == 201, response.text
        token_id: str = response.json()["id"]
        return token_id

    def _invite(self) -> str:
        path = f"/api/0/organizations/{self.organization}/members/"
        body = {"email": f"{unique('fuzz-invitee')}@example.com", "role": "member"}
        response = self.client.post(path, json=body)
        assert response.status_code == 201, response.text
        invitation_id: str = response.json()["id"]
        return invitation_id

    def _authorize(self) -> str:
        return an_authorization(
            self.database_url, self.organization, self.personal_token_id, self.owner_id
        )

    def _real_values(self, case: OpenApiCase) -> dict[str, list[str]]:
        path = case.operation.path
        values = {
            "org": [self.organization, self.organization, self.foreign_organization],
            "project_id": [self.project_id, self.project_id, self.foreign_project],
            "member_id": [self.member_id],
            "invitation_id": [self.invitation_id],
            "authorization_id": [self.authorization_id],
        }
        if path.startswith("/api/0/users/me/") or "/personal-tokens/" in path:
            values["token_id"] = [self.personal_token_id]
        else:
            values["token_id"] = [self.organization_token_id]
        return values

    def aim(self, case: OpenApiCase) -> None:
        """Point path parameters and a few body fields at real objects, some of the time."""
        generated = f"{case.method}|{case.path_parameters}|{case.query}|{case.body!s}"
        if isinstance(case.path_parameters, dict):
            real = self._real_values(case)
            for name in list(case.path_parameters):
                tricks = [] if name == "org" else LOOKALIKES
                value = _choice(generated, name, real.get(name, []), tricks)
                if value is not None:
                    case.path_parameters[name] = value
        if isinstance(case.query, dict) and "cursor" in case.query:
            cursor = _choice(generated, "cursor", [], LOOKALIKES)
            if cursor is not None:
                case.query["cursor"] = cursor
        if isinstance(case.body, dict):
            if "email" in case.body and case.operation.path.endswith("/members/"):
                email = _choice(generated, "email", [self.candidate.email], [self.member.email])
                if email is not None:
                    case.body["email"] = email
            if case.operation.path.endswith("/sso/") and isinstance(case.body.get("issuer"), str):
                # Never the open internet: the test provider, or a closed loopback port.
                issuer = _choice(generated, "issuer", [shared_provider().issuer], [CLOSED])
                case.body["issuer"] = issuer or CLOSED
                if issuer == shared_provider().issuer:
                    # The client already configured, so that authorizations do not lapse.
                    case.body.update(client_id="tokenward", allowed_domains=[])
            if case.operation.path.endswith("/sso-authorizations/"):
                slug = _choice(generated, "sso-org", [self.organization], [])
                if slug is not None:
                    case.body["organization"] = slug
            if case.operation.path == "/api/0/auth/login/":
                email = _choice(generated, "login", [self.candidate.email], [])
                if email is not None:
                    case.body["email"] = email
                    case.body["password"] = PASSWORD

    def headers_for(self, case: OpenApiCase) -> dict[str, str]:
        """The owner's session, except for logging out, which ends a session of its own."""
        if case.operation.path != "/api/0/auth/logout/":
            return self.headers
        client: ApiClient = self.world.login(self.signer)
        cookie = client.http.cookies.get(COOKIE_NAME)
        return {
            "Cookie": f"{COOKIE_NAME}={cookie}",
            "X-CSRF-Token": client.http.headers["X-CSRF-Token"],
        }

    def replenish(self, case: OpenApiCase, response: Answer) -> None:
        """Put back what a successful call took away, so later cases still find real objects."""
        self.statuses[(case.operation.label, response.status_code)] += 1
        parameters = case.path_parameters or {}
        added = response.status_code == 201 and case.operation.path.endswith("/members/")
        if added and isinstance(case.body, dict) and case.body.get("email") == self.candidate.email:
            self.candidate = self.world.user("Fuzz Candidate")
        if response.status_code != 204 or case.method.upper() != "DELETE":
            return
        path = case.operation.path
        if path.endswith("/sso/"):
            ensure_configuration(self.database_url, self.organization)
            self.authorization_id = self._authorize()
        elif path.endswith("/credential-authorizations/{authorization_id}/"):
            self.authorization_id = self._authorize()
        elif (
            path == "/api/0/projects/{project_id}/" and parameters["project_id"] == self.project_id
        ):
            self.project_id = self.world.project(self.client, self.organization)
        elif path.endswith("/invitations/{invitation_id}/"):
            self.invitation_id = self._invite()
        elif path.endswith("/members/{member_id}/") and parameters["member_id"] == self.member_id:
            self.member_id = self.world.add_member(
                self.client, self.organization, self.member, "member"
            )
        elif path.endswith(("/me/tokens/{token_id}/", "/personal-tokens/{token_id}/")):
            self.personal_token_id = self._mint("/api/0/users/me/tokens/")
            self.authorization_id = self._authorize()
        elif path.endswith("/tokens/{token_id}/"):
            self.organization_token_id = self._mint(
                f"/api/0/organizations/{self.organization}/tokens/"
            )


def _watch(response: Answer) -> None:
    """Hand the body to the run-wide leak watch, like every other response of the test run."""
    request = httpx.Request(response.request.method or "GET", response.request.url or "/")
    WATCH.response(httpx.Response(response.status_code, content=response.content, request=request))


@pytest.fixture
def owner_scene(world: World, tmp_path: Path) -> Iterator[OwnerScene]:
    # Fuzzed logins fail by the dozen from 127.0.0.1: count them per email as usual but not per
    # address (counts are kept in the store), so the rest of the run can still sign in.
    state = world.server.app.state
    shared = state.login_throttle
    state.login_throttle = LoginThrottle(state.store, ThrottleLimits(per_address=None))
    # Leak reports are fuzzed signed by a scanner key of the test's own, as well as unsigned.
    keyring = ScannerKeyring(tmp_path / "scanner-keys.json")
    keyring.add("fuzz-key")
    shared_keys, state.scanner_keys = state.scanner_keys, ScannerKeys(keyring.path)
    scene = None
    try:
        scene = OwnerScene(world)
        scene.keyring = keyring
        yield scene
    finally:
        state.login_throttle = shared
        state.scanner_keys = shared_keys
        if scene is not None:
            scene.http.close()


@pytest.fixture
def owner_api(server: LiveServer) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def _fuzz(operation: OpenApiOperation, mode: GenerationMode, scene: OwnerScene) -> None:
    @seed(SEED)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: OpenApiCase) -> None:
        scene.aim(case)
        headers = scene.headers_for(case)
        response: Answer
        if case.operation.path == SCANNER_PATH and scene.keyring is not None:
            response = _signed_report(case, scene, headers)
        else:
            response = case.call(session=scene.http, headers=headers)
        _watch(response)
        scene.replenish(case, response)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def _signed_report(
    case: OpenApiCase, scene: OwnerScene, headers: dict[str, str]
) -> requests.Response:
    """Send the generated report signed with the scene's scanner key, two times in three."""
    assert scene.keyring is not None
    body = json.dumps(case.body).encode() if isinstance(case.body, list | dict) else b""
    generated = f"{case.body!s}|{case.headers}"
    signed = _choice(generated, "signature", [True, True], [False]) or False
    if signed:
        headers = {**headers, **scene.keyring.headers(body)}
    url = scene.world.server.url + SCANNER_PATH
    return scene.http.post(url, data=body, headers=headers)


def operations_of(schema: OpenApiSchema) -> list[OpenApiOperation]:
    """Every operation of the schema; one it cannot read fails the test."""
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    return operations


def _negatable(operation: OpenApiOperation) -> bool:
    """Whether there is something to get wrong: any string is a valid path parameter."""
    return bool(operation.query or operation.body)


@pytest.mark.slow  # every operation, two generation modes, 25 cases each
def test_every_operation_answers_as_documented(
    owner_api: OpenApiSchema, owner_scene: OwnerScene, subtests: pytest.Subtests
) -> None:
    operations = operations_of(owner_api)
    assert len(operations) >= 24
    for operation in operations:
        modes = [GenerationMode.POSITIVE]
        if _negatable(operation):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            with subtests.test(msg=f"{operation.label} ({mode.value})"):
                _fuzz(operation, mode, owner_scene)
    # The aiming must work: nearly every operation got past the gate to a success at least once.
    labels = {operation.label for operation in operations}
    succeeded = {label for label, status in owner_scene.statuses if 200 <= status < 300}
    missed = sorted(labels - succeeded)
    assert len(missed) <= len(labels) // 8, f"never answered 2xx: {missed}"


def test_the_schema_documents_every_route_and_its_errors(
    owner_api: OpenApiSchema, server: LiveServer
) -> None:
    """Every API route is an operation, and each one documents its coded errors and 503."""
    paths: dict[str, dict[str, Any]] = owner_api.raw_schema["paths"]
    documented = {(path, method.upper()) for path, item in paths.items() for method in item}
    routes = {
        (route.path, method)
        for route in inventory(server.app)
        if (route.path.startswith("/api/") or route.path == "/healthz")
        and "/scim/v2" not in route.path  # SCIM describes itself (its Schemas, ResourceTypes)
        for method in route.methods
    }
    assert routes == documented
    for path, method in sorted(documented):
        operation = paths[path][method.lower()]
        responses = operation["responses"]
        assert "422" not in responses, (method, path)
        assert "503" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= set(responses), (method, path)
        if path.startswith(("/api/0/organizations/{org}/", "/api/0/projects/")):
            assert {"401", "403", "404"} <= set(responses), (method, path)
        if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", [])):
            assert "Link" in responses["200"]["headers"], (method, path)
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                schema_ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert schema_ref.endswith("/ErrorOut"), (method, path, status)
    login = paths["/api/0/auth/login/"]["post"]["responses"]
    assert "Retry-After" in login["429"]["headers"]


def test_undocumented_methods_answer_405_with_every_allowed_method(
    owner_api: OpenApiSchema, owner_scene: OwnerScene
) -> None:
    """A method the schema does not list for a path is 405, and ``Allow`` lists the ones it does."""
    real = {
        "org": owner_scene.organization,
        "project_id": owner_scene.project_id,
        "member_id": owner_scene.member_id,
        "token_id": owner_scene.organization_token_id,
        "invitation_id": owner_scene.invitation_id,
        "authorization_id": owner_scene.authorization_id,
    }
    paths: dict[str, dict[str, Any]] = owner_api.raw_schema["paths"]
    checked = 0
    for template, item in paths.items():
        path = template.format(**real)
        allowed = {method.upper() for method in item}
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed):
            response = owner_scene.client.request(method, path)
            assert response.status_code == 405, (method, path, response.text)
            assert error_code(response) == "method-not-allowed", response.text
            assert set(response.headers["Allow"].split(", ")) == allowed, (method, path)
            checked += 1
    assert checked >= 40


def test_ids_and_cursors_that_only_look_like_numbers_are_refused(owner_scene: OwnerScene) -> None:
    """The fuzzer's tricks, every one against every id and cursor: 404 or 400, never a 5xx."""
    slug = owner_scene.organization
    by_id = [
        ("GET", "/api/0/projects/{}/", None),
        ("PUT", "/api/0/projects/{}/", {"name": "Renamed"}),
        ("DELETE", "/api/0/projects/{}/", None),
        ("PUT", f"/api/0/organizations/{slug}/members/{{}}/", {"role": "member"}),
        ("DELETE", f"/api/0/organizations/{slug}/members/{{}}/", None),
        ("DELETE", f"/api/0/organizations/{slug}/tokens/{{}}/", None),
        ("DELETE", "/api/0/users/me/tokens/{}/", None),
        ("DELETE", f"/api/0/organizations/{slug}/personal-tokens/{{}}/", None),
        ("DELETE", f"/api/0/organizations/{slug}/invitations/{{}}/", None),
        ("POST", f"/api/0/organizations/{slug}/invitations/{{}}/resend/", None),
    ]
    lists = [
        "/api/0/users/me/tokens/",
        f"/api/0/organizations/{slug}/members/",
        f"/api/0/organizations/{slug}/tokens/",
        f"/api/0/organizations/{slug}/projects/",
        f"/api/0/organizations/{slug}/audit-logs/",
        f"/api/0/organizations/{slug}/invitations/",
    ]
    for lookalike in LOOKALIKES:
        for method, template, body in by_id:
            response = owner_scene.client.request(method, template.format(lookalike), json=body)
            assert response.status_code == 404, (method, template, lookalike, response.text)
            assert error_code(response) == "not-found"
        for path in lists:
            response = owner_scene.client.get(path, params={"cursor": lookalike})
            assert response.status_code == 400, (path, lookalike, response.text)
            assert error_code(response) == "invalid-request"
