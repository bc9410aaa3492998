"""The owner's finer rules in a real browser: impact before confirming, report mode, lifetime
limit, two-factor enrolment and requirement, and revoking a member's token for one organization.

These tests run their own server whose usage counts are written every 0.1 s, so the pages see
the requests a test has just made.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import BROWSER_MARKS, BrowserWorld, Visit
from tests.support import ApiClient, LiveServer, assert_error, eventually, running_server

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("rules-pages") / "test.db"
    with running_server(f"sqlite+aiosqlite:///{database}", usage_flush_seconds=0.1) as live:
        yield live


def _tab(page: Page, name: str) -> Locator:
    tabs = page.get_by_role("navigation", name="Organization settings")
    return tabs.get_by_role("link", name=name, exact=True)


def _used(owner: ApiClient, slug: str, allowed: int) -> bool:
    """Whether the organization's usage report has seen ``allowed`` personal-token requests."""
    report = owner.get(f"/api/0/organizations/{slug}/personal-token-usage/").json()
    return bool(report["tokens"]) and report["totals"]["requests"]["allowed"] == allowed


def test_owner_sees_the_impact_then_reports_then_limits_lifetimes(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user("Olivia Owner")
    owner = browser_world.login(account)
    slug = browser_world.organization(owner)
    member = browser_world.member(owner, slug)
    secret = browser_world.personal_token(member.session, ["org:read"])
    browser_world.personal_token(browser_world.member(owner, slug).session, ["org:read"])  # unused
    bearer = browser_world.bearer(secret)
    for _ in range(3):
        assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert eventually(lambda: _used(owner, slug, 3))

    visit.sign_in(account)
    page = visit.page
    visit.goto(f"/settings/{slug}/security/")
    summary = page.locator("#impact-summary")
    expect(summary).to_contain_text("1 token held by 1 member")
    expect(summary).to_contain_text("1 person will be told by email")
    chart = page.get_by_role("img", name="Personal-token requests to")
    expect(chart).to_be_visible()
    expect(chart.locator("desc")).to_contain_text("3 allowed, 0 denied")
    expect(chart.locator("rect.bar-allowed")).to_have_count(1)
    expect(page.locator(".legend")).to_contain_text("Allowed: 3")
    row = page.get_by_role("row").filter(has_text=f"…{secret[-4:]}")
    expect(row).to_contain_text(member.account.email)
    expect(row).to_contain_text("3 allowed")
    expect(row.locator(".badge")).to_have_text(["allowed", "denied by policy"])
    visit.screenshot("rules-security-impact")

    # Deny in report mode: two changes at once, so the server draws the preview and asks.
    page.get_by_label("Report only").check()
    page.get_by_label("Maximum personal token lifetime (days)").fill("365")
    page.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Personal API tokens: allowed → report only")
    expect(dialog).to_contain_text("Tokenward-Report-Only")
    expect(dialog).to_contain_text("1 person will be told by email")
    visit.screenshot("rules-security-report-dialog")
    dialog.get_by_role("button", name="Confirm changes").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing breaks yet")
    expect(page.get_by_role("status")).to_contain_text("1 member will be told by email")

    response = bearer.get(f"/api/0/organizations/{slug}/")
    assert response.status_code == 200
    assert response.headers["Tokenward-Report-Only"] == "personal-token-denied"

    # A lifetime limit: the token never expires, so it is (reported as) over the limit.
    page.get_by_label("Maximum personal token lifetime (days)").fill("30")
    page.get_by_role("button", name="Save changes").click()
    expect(dialog).to_contain_text("Maximum personal token lifetime: 365 days → 30 days")
    expect(dialog.get_by_role("heading")).to_have_text(
        f"Limit personal token lifetimes in {slug.title()}?"
    )
    expect(dialog).to_contain_text("longer than 30 days, are only reported")
    expect(dialog).not_to_contain_text("personal-token-denied")
    dialog.get_by_role("button", name="Set the limit").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.get_by_label("Maximum personal token lifetime (days)")).to_have_value("30")
    settings = owner.get(f"/api/0/organizations/{slug}/").json()["settings"]
    assert settings["personal_token_max_lifetime_days"] == 30
    assert settings["personal_token_enforcement"] == "report"
    assert bearer.get(f"/api/0/organizations/{slug}/").headers["Tokenward-Report-Only"]

    # Out of range is refused on the form, and nothing changes.
    page.get_by_label("Maximum personal token lifetime (days)").evaluate(
        "input => { input.removeAttribute('max'); input.value = '5000'; }"
    )
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("less than or equal to 3650")
    visit.expected_statuses.add(400)
    settings = owner.get(f"/api/0/organizations/{slug}/").json()["settings"]
    assert settings["personal_token_max_lifetime_days"] == 30


def test_enrol_an_authenticator_then_require_two_factor(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user("Olivia Owner")
    owner = browser_world.login(account)
    slug = browser_world.organization(owner)
    member = browser_world.member(owner, slug)
    # Reads the settings once 2FA is required: ``owner`` signed in before enrolling, so it will
    # not count as two-factor there; an organization token is not asked for a second factor.
    reader = browser_world.bearer(browser_world.organization_token(owner, slug, ["org:read"]))
    visit.sign_in(account)
    page = visit.page
    visit.expected_statuses.update({400, 409})

    # Without two-factor, the owner cannot require it: the control says why, with a link.
    visit.goto(f"/settings/{slug}/security/")
    expect(page.get_by_label("Require two-factor authentication")).to_be_disabled()
    expect(page.locator("#reason-2fa")).to_contain_text("once your own account has it")
    page.get_by_role("link", name="Set up two-factor authentication").click()
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    expect(page.locator(".qr svg")).to_have_count(1)
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().strip())
    visit.screenshot("rules-account-security-enrol")
    wrong = "000000" if totp.now() != "000000" else "111111"
    page.get_by_label("Authenticator code").fill(wrong)
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.locator(".field-error")).to_contain_text("does not match")
    page.get_by_label("Authenticator code").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("status")).to_contain_text("Two-factor authentication is on")
    assert owner.get("/api/0/users/me/2fa/").json()["enabled"] is True

    visit.goto(f"/settings/{slug}/security/")
    page.get_by_label("Require two-factor authentication").check()
    page.get_by_role("button", name="Save changes").click()
    # Members without a second factor would be locked out: the owner is asked first.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Require two-factor authentication in")
    expect(dialog).to_contain_text("1 member without two-factor authentication")
    expect(dialog).to_contain_text("1 person will be told by email")
    expect(dialog).not_to_contain_text("personal-token")
    visit.screenshot("rules-require-2fa-dialog")
    dialog.get_by_role("button", name="Require 2FA").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Saved. Two-factor authentication: not required → required."
    )
    expect(page.get_by_role("status")).not_to_contain_text("Personal API tokens")
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    assert reader.get(f"/api/0/organizations/{slug}/").json()["settings"]["require_2fa"] is True
    assert_error(owner.get(f"/api/0/organizations/{slug}/"), 401, "2fa-required")
    assert_error(member.session.get(f"/api/0/organizations/{slug}/"), 401, "2fa-required")

    # It cannot be removed while the organization requires it; the page says why.
    visit.goto("/settings/account/security/")
    page.get_by_label("Authenticator code").fill(totp.at(time.time() + 30))  # a fresh step
    page.get_by_role("button", name="Turn off two-factor authentication").click()
    expect(page.get_by_role("alert")).to_contain_text(f"require two-factor authentication: {slug}")
    assert owner.get("/api/0/users/me/2fa/").json()["enabled"] is True
    visit.screenshot("rules-account-security-cannot-remove")


def test_revoke_a_members_token_for_this_organization_only(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user("Olivia Owner")
    owner = browser_world.login(account)
    slug, elsewhere = browser_world.organization(owner), browser_world.organization(owner)
    member = browser_world.member(owner, slug)
    browser_world.add_member(owner, elsewhere, member.account, "member")
    secret = browser_world.personal_token(member.session, ["org:read"])
    bearer = browser_world.bearer(secret)
    assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert eventually(lambda: _used(owner, slug, 1))

    visit.sign_in(account)
    page = visit.page
    visit.goto(f"/settings/{slug}/")
    _tab(page, "Personal tokens").click()
    row = page.get_by_role("row").filter(has_text=f"…{secret[-4:]}")
    expect(row).to_contain_text(member.account.email)
    expect(row.locator(".badge")).to_have_text("allowed")
    expect(row).to_contain_text(time.strftime("%Y-%m-%d", time.gmtime()))  # last used here
    row.get_by_role("button", name="Revoke for this organization").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("keeps working in")
    expect(dialog).to_contain_text("other organizations")
    expect(dialog).to_contain_text(f"{member.account.email} will be told by email")
    visit.screenshot("rules-revoke-dialog")
    dialog.get_by_role("button", name="Revoke for this organization").click()
    expect(page.get_by_role("status")).to_contain_text("no longer works in")
    expect(row.locator(".badge")).to_have_text("revoked here")
    expect(row.get_by_role("button")).to_have_count(0)

    assert_error(bearer.get(f"/api/0/organizations/{slug}/"), 403, "personal-token-revoked")
    assert bearer.get(f"/api/0/organizations/{elsewhere}/").status_code == 200
    entry = owner.get(f"/api/0/organizations/{slug}/audit-logs/").json()[0]
    assert entry["event"] == "personal-token.revoke-access"


def test_managers_read_members_do_not_and_pages_fit_a_phone(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    owner = browser_world.login(browser_world.user("Olivia Owner"))
    slug = browser_world.organization(owner)
    manager = browser_world.member(owner, slug, "manager")
    member = browser_world.member(owner, slug)
    browser_world.personal_token(member.session, ["org:read"])
    page = visit.page
    page.set_viewport_size({"width": 390, "height": 844})

    visit.sign_in(manager.account)
    visit.goto(f"/settings/{slug}/security/")
    for control in (
        page.get_by_label("Allowed", exact=True),
        page.get_by_label("Report only"),
        page.get_by_label("Maximum personal token lifetime (days)"),
        page.get_by_label("Require two-factor authentication"),
        page.get_by_role("button", name="Save changes"),
    ):
        expect(control).to_be_disabled()
    expect(page.get_by_text("Only owners of")).to_be_visible()
    for path, name in (
        (f"/settings/{slug}/security/", "phone-rules-security"),
        (f"/settings/{slug}/personal-tokens/", "phone-rules-personal-tokens"),
        ("/settings/account/security/", "phone-rules-account-security"),
    ):
        visit.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        visit.screenshot(name)
    expect(page.get_by_role("button", name="Set up an authenticator app")).to_be_visible()

    # A member sees no tab for it, and the page refuses them.
    page.context.clear_cookies()
    visit.sign_in(member.account)
    visit.goto(f"/settings/{slug}/")
    expect(_tab(page, "Personal tokens")).to_have_count(0)
    response = page.goto(visit.url(f"/settings/{slug}/personal-tokens/"))
    assert response is not None and response.status == 403
    visit.expected_statuses.add(403)
