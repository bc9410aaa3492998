"""Signing in through an organization's identity provider in Chromium: the real redirects, the
provider's own sign-in page, and back to Tokenward signed in, with the account linked; and
accepting an invitation the same way."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_MARKS, BrowserWorld, Visit
from tests.sso.conftest import configure
from tests.sso.invitations import invite
from tests.sso.provider import identity_provider

pytestmark = BROWSER_MARKS


def test_sign_in_with_sso_walks_through_the_provider_page(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    owner = browser_world.login(browser_world.user("Owner"))
    slug = browser_world.organization(owner)
    member = browser_world.user("Member Through SSO")
    browser_world.add_member(owner, slug, member, "member")
    with identity_provider() as provider:
        configure(owner, slug, provider.issuer)
        subject = provider.person(member.email, name="Member Through SSO")
        page = visit.page
        page.goto(visit.url("/login/"))
        page.get_by_label("Organization").fill(slug)
        page.get_by_role("button", name="Continue to your identity provider").click()
        page.wait_for_url(f"{provider.issuer}/oauth2/authorize?*")
        page.locator("input[name=sub]").fill(subject)
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(visit.url("/organizations/"))
        expect(page.get_by_text("linked to")).to_be_visible()
        expect(page.get_by_text(slug.title()).first).to_be_visible()
        # The session works in the organization's pages.
        visit.goto(f"/settings/{slug}/sso/")
        expect(page.get_by_text(provider.issuer)).to_be_visible()
        # The provider's own page may fetch its styles from the network; not ours to judge.
        visit.errors[:] = [e for e in visit.errors if not e.startswith(provider.issuer)]


def test_accept_an_invitation_through_the_provider_page(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    owner = browser_world.login(browser_world.user("Owner"))
    slug = browser_world.organization(owner)
    with identity_provider() as provider:
        configure(owner, slug, provider.issuer)  # no auto-provisioning: the invitation suffices
        with ThreadPoolExecutor(max_workers=1) as pool:  # store reads away from Playwright's loop
            email, key = pool.submit(invite, browser_world, owner, slug, "manager").result()
        subject = provider.person(email, name="Ivy Through SSO")
        page = visit.page
        visit.goto(f"/accept-invite/{key}/")
        expect(page.get_by_label("Choose a password")).to_be_visible()
        page.get_by_role("link", name=f"Continue with {slug.title()} SSO").click()
        page.wait_for_url(f"{provider.issuer}/oauth2/authorize?*")
        assert key not in page.url
        page.locator("input[name=sub]").fill(subject)
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(visit.url(f"/settings/{slug}/"))
        expect(page.get_by_text(f"Welcome to {slug.title()}.")).to_be_visible()
        cookies = {cookie["name"] for cookie in page.context.cookies()}
        assert "tokenward_invitation" not in cookies
        # The link worked once.
        visit.expected_statuses.add(410)
        page.goto(visit.url(f"/accept-invite/{key}/"))
        expect(page.get_by_role("heading", name="already been used")).to_be_visible()
        visit.errors[:] = [e for e in visit.errors if not e.startswith(provider.issuer)]
