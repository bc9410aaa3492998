"""Deeply nested JSON is refused as 400 invalid-request, with no stack trace in the log."""

from __future__ import annotations

import logging

import pytest

from tests.support import World, error_fields


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [500, 5000])
def test_deep_json_is_a_clear_400_everywhere(
    world: World, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    owner = world.session()
    slug = world.organization(owner)
    bodies = [
        (world.anonymous(), "POST", "/api/0/auth/login/", f'{{"email": {_nested(depth)}}}'),
        (owner, "PUT", f"/api/0/organizations/{slug}/", f'{{"settings": {_nested(depth)}}}'),
        (owner, "POST", f"/api/0/organizations/{slug}/projects/", f'{{"name": {_nested(depth)}}}'),
        (owner, "POST", "/api/0/users/me/tokens/", f'{{"scopes": {_nested(depth)}}}'),
    ]
    with caplog.at_level(logging.DEBUG):
        for client, method, path, body in bodies:
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            assert error_fields(response) == ["body"], response.text
    assert not [record for record in caplog.records if record.exc_info]
    assert not [r for r in caplog.records if "Traceback" in r.getMessage()]
    assert owner.get(f"/api/0/organizations/{slug}/").status_code == 200
