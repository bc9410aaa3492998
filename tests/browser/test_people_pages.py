"""Invitations and identity-provider members in Chromium: invite from the members page, accept
from the emailed link in a fresh browser, resend and revoke, and see who SCIM manages."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_MARKS, BrowserWorld, Visit
from tests.mailbox import Mailbox
from tests.support import LiveServer, running_server, unique

pytestmark = BROWSER_MARKS

_LINK = re.compile(r"https?://[^\s]+(/accept-invite/[A-Za-z0-9_-]+/)")


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def server(mailbox: Mailbox) -> Iterator[LiveServer]:
    """This module's own SQLite server, sending email; links point at the server itself."""
    with (
        tempfile.TemporaryDirectory(prefix="tokenward-people-") as directory,
        running_server(
            f"sqlite+aiosqlite:///{Path(directory) / 'people.db'}",
            smtp_url=mailbox.url,
            outbox_interval_seconds=0.2,
        ) as live,
    ):
        yield live


def _link(mailbox: Mailbox, email: str, count: int = 1) -> str:
    received = mailbox.wait_for(email, count, seconds=15)
    assert len(received) >= count, f"no invitation email to {email}"
    found = _LINK.search(received[count - 1].body)
    assert found is not None, received[count - 1].body
    return found.group(1)


def test_invite_accept_in_a_fresh_browser_and_reuse_fails(
    visit: Visit, browser_world: BrowserWorld, mailbox: Mailbox
) -> None:
    owner_account = browser_world.user("Olivia Owner")
    owner = browser_world.login(owner_account)
    slug = browser_world.organization(owner)
    invitee = f"{unique('invitee')}@example.com"

    visit.sign_in(owner_account)
    page = visit.page
    visit.goto(f"/settings/{slug}/members/")
    page.get_by_label("Email").fill(invitee)
    page.get_by_label("Role", exact=True).select_option("manager")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {invitee}")
    row = page.get_by_role("region", name="Invitations").get_by_role("row").filter(has_text=invitee)
    expect(row).to_contain_text("manager")
    expect(row).to_contain_text("invited")

    path = _link(mailbox, invitee)
    browser = page.context.browser
    assert browser is not None
    stranger = browser.new_context()
    try:
        tab = stranger.new_page()
        tab.goto(visit.url(path))
        expect(tab.get_by_role("heading", name=f"Join {slug.title()}")).to_be_visible()
        expect(tab.get_by_text(invitee)).to_be_visible()
        tab.get_by_label("Your name").fill("Ivy Invitee")
        tab.get_by_label("Choose a password").fill("short")
        tab.get_by_label("Choose a password").evaluate(
            "field => field.removeAttribute('minlength')"
        )
        tab.get_by_role("button", name=f"Join {slug.title()}").click()
        expect(tab.get_by_role("alert")).to_contain_text("Check the fields")
        tab.get_by_label("Choose a password").fill("a long enough passphrase")
        tab.get_by_role("button", name=f"Join {slug.title()}").click()
        tab.wait_for_url(visit.url(f"/settings/{slug}/"))
        expect(tab.get_by_role("status")).to_contain_text(f"Welcome to {slug.title()}")
        expect(tab.get_by_text("Ivy Invitee")).to_be_visible()

        used = tab.goto(visit.url(path))
        assert used is not None and used.status == 410
        expect(tab.get_by_role("heading")).to_contain_text("already been used")
    finally:
        stranger.close()

    page.reload()
    expect(page.get_by_role("region", name="Invitations")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text=invitee)).to_contain_text("Ivy Invitee")


def test_resend_revoke_and_identity_provider_badge(
    visit: Visit, browser_world: BrowserWorld, mailbox: Mailbox
) -> None:
    owner_account = browser_world.user("Olivia Owner")
    owner = browser_world.login(owner_account)
    slug = browser_world.organization(owner)
    first, second = (f"{unique('invitee')}@example.com" for _ in range(2))
    for email in (first, second):
        response = owner.post(
            f"/api/0/organizations/{slug}/members/", json={"email": email, "role": "member"}
        )
        assert response.status_code == 201, response.text
    token = browser_world.organization_token(owner, slug, ["member:admin"])
    provisioned = f"{unique('scim')}@example.com"
    created = browser_world.bearer(token).post(
        f"/api/0/organizations/{slug}/scim/v2/Users",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": provisioned},
    )
    assert created.status_code == 201, created.text

    visit.sign_in(owner_account)
    page = visit.page
    visit.goto(f"/settings/{slug}/members/")
    expect(page.get_by_role("row").filter(has_text=provisioned)).to_contain_text(
        "Identity provider"
    )
    expect(page.get_by_role("row").filter(has_text=owner_account.email)).not_to_contain_text(
        "Identity provider"
    )

    invitations = page.get_by_role("region", name="Invitations")
    invitations.get_by_role("button", name=f"Resend the invitation to {first}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent again to {first}")
    assert len(mailbox.wait_for(first, 2)) == 2

    invitations.get_by_role("row").filter(has_text=second).get_by_role(
        "button", name="Revoke"
    ).click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation for {second} revoked")
    expect(invitations.get_by_role("row").filter(has_text=second)).to_have_count(0)
    revoked = page.context.request.get(visit.url(_link(mailbox, second)))
    assert revoked.status == 410 and "withdrawn" in revoked.text()

    page.get_by_role("navigation", name="Organization settings").get_by_role(
        "link", name="Audit log", exact=True
    ).click()
    expect(page.get_by_role("row").nth(1)).to_contain_text("Invitation revoked")
    expect(page.get_by_role("row").nth(2)).to_contain_text("Invitation sent again")
    expect(page.get_by_text("by the identity provider (SCIM)")).to_be_visible()
