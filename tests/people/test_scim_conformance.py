"""The python-scim project's conformance checker finds no broken MUST in the Users resource or
the discovery endpoints.

It runs on the SQLite server only, to keep the suite quick: the SCIM code does not depend on the
backend, and tests/people/test_scim.py runs its operations on both."""

from __future__ import annotations

import pytest
from scim2_tester import Status, check_server

from tests.people.scim_harness import scim_client
from tests.support import World

SCIM_SCOPES = ["member:admin", "member:read", "member:write"]

pytestmark = pytest.mark.parametrize("people_server", ["sqlite"], indirect=True)


def test_scim2_tester_reports_no_failure(people: World) -> None:
    owner = people.session()
    slug = people.organization(owner)
    token = people.organization_token(owner, slug, SCIM_SCOPES)
    base = f"{people.server.url}/api/0/organizations/{slug}/scim/v2"
    client, http = scim_client(base, token)
    try:
        results = check_server(client, resource_types=["User"])
    finally:
        http.close()
    failures = [
        f"{result.title}: {result.reason}"
        for result in results
        if result.status in (Status.ERROR, Status.CRITICAL)
    ]
    assert not failures, "\n".join(failures)
    passed = {result.title for result in results if result.status is Status.SUCCESS}
    print(sorted(passed, key=str))
    assert len(passed) > 10, passed
