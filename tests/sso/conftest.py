from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.leakwatch import WATCH
from tests.sso.provider import IdentityProvider, csrf_of, identity_provider, sign_in
from tests.support import ApiClient, UserAccount, World


@pytest.fixture(scope="session")
def provider() -> Iterator[IdentityProvider]:
    with identity_provider() as running:
        yield running


def client_secret() -> str:
    secret = "sso-secret-" + uuid.uuid4().hex
    WATCH.secret(secret, "an SSO client secret")
    return secret


def configure(
    owner: ApiClient, slug: str, issuer: str, **extra: object
) -> tuple[dict[str, object], str]:
    secret = client_secret()
    body = {"issuer": issuer, "client_id": "tokenward-" + slug, "client_secret": secret, **extra}
    response = owner.put(f"/api/0/organizations/{slug}/sso/", json=body)
    assert response.status_code == 200, response.text
    return response.json(), secret


@dataclass
class SsoOrganization:
    """An organization with SSO configured; its owner signed in through it too."""

    slug: str
    owner: ApiClient  # a password session
    owner_account: UserAccount
    owner_sso: ApiClient  # a session that came through SSO
    owner_subject: str


@pytest.fixture
def sso_org(world: World, provider: IdentityProvider) -> SsoOrganization:
    account = world.user("Owner")
    owner = world.login(account)
    slug = world.organization(owner)
    configure(owner, slug, provider.issuer)
    subject = provider.person(account.email)
    browser = world.anonymous()
    answer = sign_in(browser, provider, slug, subject)
    assert answer.status_code == 303, answer.text
    csrf_of(browser)
    return SsoOrganization(slug, owner, account, browser, subject)
