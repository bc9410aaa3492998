"""Tokens revoked because they leaked, as owners see them: "revoked: leaked" on the members'
personal tokens page and on the organization tokens page, and in the audit log."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_MARKS, BrowserWorld, Visit

pytestmark = BROWSER_MARKS

FOUND_AT = "https://github.com/acme/app/blob/main/.env"


def test_owners_see_leaked_tokens_marked_on_both_token_pages(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user("Olivia Owner")
    owner = browser_world.login(account)
    slug = browser_world.organization(owner)
    member = browser_world.member(owner, slug)
    personal = browser_world.personal_token(member.session, ["org:read"])
    automation = browser_world.organization_token(owner, slug, ["org:read"])
    kept = browser_world.organization_token(owner, slug, ["org:read"])
    finder = browser_world.session()
    for secret in (personal, automation):
        answered = finder.post("/api/0/leaked-tokens/", json={"token": secret, "url": FOUND_AT})
        assert answered.json()["label"] == "true_positive", answered.text

    visit.sign_in(account)
    page = visit.page
    visit.goto(f"/settings/{slug}/personal-tokens/")
    leaked = page.get_by_role("region", name="Revoked because they leaked")
    row = leaked.get_by_role("row").filter(has_text=f"…{personal[-4:]}")
    expect(row).to_contain_text(member.account.email)
    expect(row.locator(".badge")).to_have_text("revoked: leaked")
    expect(page.get_by_text("has a live personal token")).to_be_visible()  # none live now

    visit.goto(f"/settings/{slug}/tokens/")
    leaked = page.get_by_role("region", name="Revoked because they leaked")
    expect(leaked.get_by_role("row").filter(has_text=f"…{automation[-4:]}")).to_contain_text(
        "revoked: leaked"
    )
    expect(leaked.get_by_role("row").filter(has_text=f"…{kept[-4:]}")).to_have_count(0)
    live = page.get_by_role("row").filter(has_text=f"…{kept[-4:]}")
    expect(live.get_by_role("button", name="Revoke")).to_be_visible()
    visit.screenshot("leaked-organization-tokens")

    visit.goto(f"/settings/{slug}/audit-log/")
    expect(page.get_by_text(FOUND_AT).first).to_be_visible()
