"""The organization's pages: the personal-token toggle, members, tokens, projects, audit log."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import BROWSER_MARKS, BrowserWorld, Visit
from tests.support import ApiClient, UserAccount, assert_error

pytestmark = BROWSER_MARKS


def _owner_with_organization(world: BrowserWorld) -> tuple[UserAccount, ApiClient, str]:
    account = world.user("Olivia Owner")
    session = world.login(account)
    return account, session, world.organization(session)


def _tab(page: Page, name: str) -> Locator:
    tabs = page.get_by_role("navigation", name="Organization settings")
    return tabs.get_by_role("link", name=name, exact=True)


def _choice(page: Page, name: str) -> Locator:
    return page.get_by_role("radio", name=name, exact=True)


def test_owner_denies_personal_tokens_through_the_dialog(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account, owner, slug = _owner_with_organization(browser_world)
    member = browser_world.member(owner, slug)
    token = browser_world.personal_token(member.session, ["org:read", "project:read"])
    projects = f"/api/0/organizations/{slug}/projects/"
    assert browser_world.bearer(token).get(projects).status_code == 200

    visit.sign_in(account)
    page = visit.page
    page.get_by_role("link", name=slug.title()).click()
    _tab(page, "Security").click()
    expect(_choice(page, "Allowed")).to_be_checked()
    expect(page.get_by_text("1 active personal token held by 1 member")).to_be_visible()

    # Cancelling the dialog changes nothing.
    _choice(page, "Denied").check()
    page.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert browser_world.bearer(token).get(projects).status_code == 200

    page.get_by_role("button", name="Save changes").click()
    expect(dialog).to_contain_text("will stop working")
    expect(dialog).to_contain_text("403 personal-token-denied")
    visit.screenshot("security-deny-dialog")
    dialog.get_by_role("button", name="Deny personal tokens").click()
    expect(page.get_by_role("status")).to_contain_text("Personal API tokens: allowed → denied")

    assert_error(
        browser_world.bearer(token).get(projects),
        403,
        "personal-token-denied",
        {"organization": slug},
    )
    page.reload()
    expect(_choice(page, "Denied")).to_be_checked()
    expect(page.get_by_role("status")).to_have_count(0)  # the message was shown once

    _tab(page, "Audit log").click()
    first = page.get_by_role("row").nth(1)
    expect(first).to_contain_text("Personal API tokens: allowed → denied")
    expect(first).to_contain_text("Olivia Owner")
    expect(first).to_contain_text("Organization changed")
    visit.screenshot("audit-log")

    # Allowing them again needs no confirmation and works at once.
    _tab(page, "Security").click()
    _choice(page, "Allowed").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Personal API tokens: denied → allowed")
    assert browser_world.bearer(token).get(projects).status_code == 200


def test_a_member_sees_the_toggle_disabled_and_who_can_change_it(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    _, owner, slug = _owner_with_organization(browser_world)
    member = browser_world.member(owner, slug, "manager")
    visit.sign_in(member.account)
    page = visit.page
    page.goto(visit.url(f"/settings/{slug}/security/"))
    expect(_choice(page, "Denied")).to_be_disabled()
    expect(_choice(page, "Allowed")).to_be_checked()
    expect(page.get_by_role("button", name="Save changes")).to_be_disabled()
    expect(
        page.get_by_text(re.compile(r"Only owners of .+ can change this setting"))
    ).to_contain_text("Olivia Owner")
    visit.screenshot("security-as-manager")

    # The page's rule is the API's: a forged post is refused, and nothing changes.
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    response = page.request.post(
        visit.url(f"/settings/{slug}/security/"), form={"csrf_token": csrf, "confirmed": "yes"}
    )
    assert response.status == 403
    assert "Only an organization owner may do this." in response.text()
    settings = owner.get(f"/api/0/organizations/{slug}/").json()["settings"]
    assert settings["allow_personal_tokens"] is True


def test_forms_without_the_session_csrf_token_are_refused(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account, owner, slug = _owner_with_organization(browser_world)
    visit.sign_in(account)
    for form in ({}, {"csrf_token": "forged"}):
        response = visit.page.request.post(
            visit.url(f"/settings/{slug}/projects/"), form={**form, "slug": "x", "name": "X"}
        )
        assert response.status == 403
        assert "This form was not sent from a Tokenward page" in response.text()
    assert owner.get(f"/api/0/organizations/{slug}/projects/").json() == []


def test_create_and_revoke_an_organization_token(visit: Visit, browser_world: BrowserWorld) -> None:
    account, owner, slug = _owner_with_organization(browser_world)
    browser_world.project(owner, slug)
    visit.sign_in(account)
    page = visit.page
    visit.goto(f"/settings/{slug}/tokens/")
    page.get_by_label("Token name").fill("deploy bot")
    expect(page.get_by_role("group", name="Projects").get_by_label("Read")).to_be_checked()
    page.get_by_label("30 days").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert")).to_contain_text("will not be shown again")
    secret = page.get_by_label("New token").input_value()
    assert re.fullmatch(r"two_[0-9A-Za-z]{49}", secret)
    visit.screenshot("organization-token-shown-once")

    projects = f"/api/0/organizations/{slug}/projects/"
    assert browser_world.bearer(secret).get(projects).status_code == 200

    visit.goto(f"/settings/{slug}/tokens/")
    assert secret not in page.content()
    row = page.get_by_role("row").filter(has_text="deploy bot")
    expect(row).to_contain_text(f"…{secret[-4:]}")
    expect(row).to_contain_text("Olivia Owner")
    expires = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    expect(row.locator("[data-label=Expires]")).to_contain_text(expires)
    listed = owner.get(f"/api/0/organizations/{slug}/tokens/").json()
    assert listed[0]["expires_at"].startswith(expires) and listed[0]["scopes"] == ["project:read"]

    # A manager is offered only the levels a manager may grant.
    manager = browser_world.member(owner, slug, "manager")
    page.context.clear_cookies()
    visit.sign_in(manager.account)
    visit.goto(f"/settings/{slug}/tokens/")
    organization_access = page.get_by_role("group", name="Organization", exact=True)
    expect(organization_access.get_by_label("Write")).to_have_count(1)
    expect(organization_access.get_by_label("Admin")).to_have_count(0)
    page.context.clear_cookies()
    visit.sign_in(account)
    visit.goto(f"/settings/{slug}/tokens/")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status")).to_contain_text("Token revoked")
    assert_error(browser_world.bearer(secret).get(projects), 401, "invalid-token")

    _tab(page, "Audit log").click()
    expect(page.get_by_role("row").nth(1)).to_contain_text("Organization token revoked")
    expect(page.get_by_role("row").nth(3)).to_contain_text("Organization token created")


def test_members_projects_and_name(visit: Visit, browser_world: BrowserWorld) -> None:
    account, owner, slug = _owner_with_organization(browser_world)
    newcomer = browser_world.user("Nora Newcomer")
    visit.sign_in(account)
    page = visit.page

    visit.goto(f"/settings/{slug}/members/")
    page.get_by_label("Email").fill(newcomer.email)
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("status")).to_contain_text(f"{newcomer.email} added as member")

    page.get_by_label(f"Role of {newcomer.email}").select_option("manager")
    page.get_by_role("row").filter(has_text=newcomer.email).get_by_role(
        "button", name="Change role"
    ).click()
    expect(page.get_by_role("status")).to_contain_text(f"{newcomer.email} is now manager")
    members = owner.get(f"/api/0/organizations/{slug}/members/").json()
    assert {m["user"]["email"]: m["role"] for m in members}[newcomer.email] == "manager"

    # The last owner is offered no role change and no removal, and is told why.
    own_row = page.get_by_role("row").filter(has_text=account.email)
    expect(own_row.get_by_role("button")).to_have_count(0)
    expect(page.get_by_label(f"Role of {account.email}")).to_have_count(0)
    expect(own_row).to_contain_text("The only owner: add another owner")
    # The API's rule stands behind it: a forged post is refused.
    own_id = next(
        m["id"]
        for m in owner.get(f"/api/0/organizations/{slug}/members/").json()
        if m["user"]["email"] == account.email
    )
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    forged = page.request.post(
        visit.url(f"/settings/{slug}/members/{own_id}/role/"),
        form={"csrf_token": csrf, "role": "member"},
    )
    assert forged.status == 409 and "last owner" in forged.text()
    visit.expected_statuses.add(409)

    page.get_by_role("row").filter(has_text=newcomer.email).get_by_role(
        "button", name="Remove"
    ).click()
    page.get_by_role("dialog").get_by_role("button", name="Remove member").click()
    expect(page.get_by_role("status")).to_contain_text(f"{newcomer.email} removed")
    expect(page.get_by_role("row").filter(has_text=newcomer.email)).to_have_count(0)

    _tab(page, "Projects").click()
    page.get_by_label("Project name").fill("Website")
    page.get_by_label("Project slug").fill("website")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("status")).to_contain_text("Project Website created")
    expect(page.get_by_role("row").filter(has_text="website")).to_have_count(1)

    _tab(page, "General").click()
    page.get_by_label("Organization name").fill("Renamed Inc")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("status")).to_have_text("Organization name saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renamed Inc")
    visit.screenshot("organization-general")


def test_error_pages_are_html_while_the_api_keeps_json(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    _, owner, slug = _owner_with_organization(browser_world)
    member = browser_world.member(owner, slug)
    visit.sign_in(member.account)
    page = visit.page
    visit.expected_statuses.update({403, 404})

    response = page.goto(visit.url(f"/settings/{slug}/audit-log/"))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have access to this")
    expect(page.get_by_role("alert")).to_contain_text("Your role in this organization")
    visit.screenshot("error-403")
    # Tabs show what the member may open; the audit log is for managers and owners.
    visit.goto(f"/settings/{slug}/")
    expect(_tab(page, "Security")).to_be_visible()
    expect(_tab(page, "Audit log")).to_have_count(0)

    response = page.goto(visit.url("/settings/no-such-organization/members/"))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")

    api = page.request.get(visit.url("/api/0/organizations/no-such-organization/"))
    assert api.status == 404 and api.json()["detail"]["code"] == "not-found"


def test_every_page_reads_at_phone_width_without_console_errors(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account, owner, slug = _owner_with_organization(browser_world)
    browser_world.member(owner, slug)
    browser_world.project(owner, slug)
    browser_world.organization_token(owner, slug, ["project:read"])
    browser_world.personal_token(owner, ["org:read"])
    page = visit.page
    page.set_viewport_size({"width": 390, "height": 844})
    visit.goto("/login/")
    visit.screenshot("phone-login")
    visit.sign_in(account)
    for path in (
        "/organizations/",
        "/settings/account/tokens/",
        f"/settings/{slug}/",
        f"/settings/{slug}/security/",
        f"/settings/{slug}/members/",
        f"/settings/{slug}/tokens/",
        f"/settings/{slug}/projects/",
        f"/settings/{slug}/audit-log/",
    ):
        visit.goto(path)
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 390, (path, page_width)
        assert page.evaluate("document.styleSheets.length") == 1, path
    visit.screenshot("phone-security")
    page.goto(visit.url(f"/settings/{slug}/security/"))
    visit.screenshot("phone-security")
    assert visit.errors == []
