"""schemathesis fuzzes every operation as each other kind of caller of the owner's organization:
a member's session, a member's personal token where personal tokens are denied, an organization
token, and an outsider's session.

Every answer must be documented and never a 5xx; and a success must be one the rule allows that
caller: ``decide`` is asked with the route's own requirement (or, for a route about the caller, its
session and organization-token conditions). Path parameters always point into the owner's
organization, so a success is never about the caller's own data elsewhere.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.properties.test_schemathesis import (
    CHECKS,
    SEED,
    OpenApiCase,
    OpenApiOperation,
    OwnerScene,
    _watch,
    operations_of,
    owner_api,  # noqa: F401 - a fixture
    owner_scene,  # noqa: F401 - a fixture
)
from tests.support import ApiClient, LiveServer
from tests.unit.test_policy import HERE, oracle
from tokenward.auth.access import ACCESS_ATTRIBUTE, REQUIREMENT_ATTRIBUTE
from tokenward.auth.inventory import _flat_routes
from tokenward.auth.sessions import COOKIE_NAME
from tokenward.policy import ALL_SCOPES, Credential, CredentialKind, Requirement, Role

EXAMPLES = int(os.environ.get("TOKENWARD_FUZZ_CALLER_EXAMPLES", "4"))
OURS = HERE  # the owner's organization, as the oracle names it
# Calls that would end the caller's own session or are made by nobody signed in.
SKIPPED = {"/api/0/auth/logout/", "/api/0/auth/login/"}


@dataclass
class Caller:
    name: str
    headers: dict[str, str]
    credential: Credential
    role: Role | None


def _session_headers(client: ApiClient) -> dict[str, str]:
    cookie = client.http.cookies.get(COOKIE_NAME)
    return {
        "Cookie": f"{COOKIE_NAME}={cookie}",
        "X-CSRF-Token": client.http.headers["X-CSRF-Token"],
    }


def _callers(scene: OwnerScene) -> list[Caller]:
    world = scene.world
    member = world.login(scene.member)
    personal = world.personal_token(member, sorted(ALL_SCOPES))
    minted = scene.client.post(
        f"/api/0/organizations/{scene.organization}/tokens/",
        json={"name": "fuzz automation", "scopes": sorted(ALL_SCOPES)},
    )
    assert minted.status_code == 201, minted.text
    session = Credential(CredentialKind.SESSION)
    return [
        Caller("member session", _session_headers(member), session, Role.MEMBER),
        Caller(
            "member's personal token, denied here",
            {"Authorization": f"Bearer {personal}"},
            Credential(CredentialKind.PERSONAL_TOKEN, ALL_SCOPES),
            Role.MEMBER,
        ),
        Caller(
            "organization token",
            {"Authorization": f"Bearer {minted.json()['token']}"},
            Credential(CredentialKind.ORGANIZATION_TOKEN, ALL_SCOPES, OURS),
            None,
        ),
        Caller("outsider session", _session_headers(world.session("Outsider")), session, None),
    ]


def _gates(server: LiveServer) -> dict[tuple[str, str], Callable[..., Any]]:
    """Each operation's access dependency, by (path, method)."""
    gates: dict[tuple[str, str], Callable[..., Any]] = {}
    for route in _flat_routes(server.app):
        if isinstance(route, APIRoute):
            for dependency in route.dependant.dependencies:
                call = dependency.call
                if call is not None and getattr(call, ACCESS_ATTRIBUTE, None) is not None:
                    for method in route.methods or ():
                        gates[(route.path, method)] = call
    return gates


def _may_succeed(path: str, gate: Callable[..., Any], caller: Caller) -> bool:
    """Whether the contract lets ``caller`` succeed here: promises that hold whatever a route
    declares, then the test's own oracle of the rule with the route's requirement (before any
    refinement, which only ever asks for more)."""
    kind = getattr(gate, ACCESS_ATTRIBUTE)
    kind_of = caller.credential.kind
    inside = path.startswith(("/api/0/organizations/{org}/", "/api/0/projects/"))
    if inside and (caller.role is None and kind_of is not CredentialKind.ORGANIZATION_TOKEN):
        return False  # an outsider never gets in
    if inside and kind_of is CredentialKind.PERSONAL_TOKEN:
        return False  # personal tokens are denied here
    if "/tokens/" in path and kind_of is not CredentialKind.SESSION:
        return False  # tokens cannot list, mint or revoke tokens
    if kind == "public":
        return not inside
    requirement: Requirement = getattr(gate, REQUIREMENT_ATTRIBUTE)
    if kind == "user":
        if kind_of is CredentialKind.ORGANIZATION_TOKEN and not gate.allows_organization_token:  # type: ignore[attr-defined]
            return False
        return not inside and (not requirement.session_only or kind_of is CredentialKind.SESSION)
    status, _, _ = oracle(caller.credential, False, caller.role, requirement)
    return status == 200


def _aim_inside(scene: OwnerScene, case: OpenApiCase) -> None:
    scene.aim(case)
    parameters = case.path_parameters
    if isinstance(parameters, dict):
        if "org" in parameters:
            parameters["org"] = scene.organization
        if parameters.get("project_id") == scene.foreign_project:
            parameters["project_id"] = scene.project_id


def _fuzz(
    operation: OpenApiOperation,
    caller: Caller,
    scene: OwnerScene,
    gate: Callable[..., Any],
    outcomes: Counter[tuple[str, bool]],
) -> None:
    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def run(case: OpenApiCase) -> None:
        _aim_inside(scene, case)
        response = case.call(session=scene.http, headers=caller.headers)
        _watch(response)
        scene.replenish(case, response)
        case.validate_response(response, checks=CHECKS, headers=caller.headers)
        outcomes[(caller.name, 200 <= response.status_code < 300)] += 1
        if 200 <= response.status_code < 300:
            assert _may_succeed(operation.path, gate, caller), (
                f"{caller.name} got {response.status_code} from {operation.label}, "
                "which the rule forbids it"
            )

    run()


@pytest.fixture
def denying(owner_scene: OwnerScene) -> Iterator[OwnerScene]:  # noqa: F811
    """The owner's organization denies personal tokens while the callers fuzz it."""
    path = f"/api/0/organizations/{owner_scene.organization}/"
    deny = {"settings": {"allow_personal_tokens": False}}
    assert owner_scene.client.put(path, json=deny).status_code == 200
    yield owner_scene
    allow = {"settings": {"allow_personal_tokens": True}}
    assert owner_scene.client.put(path, json=allow).status_code == 200


@pytest.mark.slow  # every operation for every kind of caller
def test_every_operation_answers_each_caller_as_the_rule_says(
    owner_api: OpenApiSchema,  # noqa: F811
    denying: OwnerScene,
    server: LiveServer,
    subtests: pytest.Subtests,
) -> None:
    gates = _gates(server)
    operations = operations_of(owner_api)
    callers = _callers(denying)
    outcomes: Counter[tuple[str, bool]] = Counter()
    for caller in callers:
        for operation in operations:
            if operation.path in SKIPPED:
                continue
            gate = gates[(operation.path, operation.method.upper())]
            with subtests.test(msg=f"{operation.label} as {caller.name}"):
                _fuzz(operation, caller, denying, gate, outcomes)
    # Each caller was refused somewhere and let through somewhere, or the run proved little.
    for caller in callers:
        assert outcomes[(caller.name, True)] and outcomes[(caller.name, False)], outcomes
