"""Signing in through an organization's identity provider in Chromium: the real redirects, the
provider's own sign-in page, and back to Tokenward signed in, with the account linked."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_MARKS, BrowserWorld, Visit
from tests.sso.conftest import configure
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
