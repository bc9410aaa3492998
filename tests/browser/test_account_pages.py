"""Signing in, creating an organization, and personal tokens, in a real browser."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_MARKS, BrowserWorld, Visit
from tests.support import assert_error, unique

pytestmark = BROWSER_MARKS


def test_sign_in_with_the_keyboard_shares_the_session_with_the_api(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user("Keyboard Person")
    page = visit.page
    page.goto(visit.url("/"))
    expect(page).to_have_url(visit.url("/login/"))
    page.get_by_label("Password").fill("not the password")
    page.get_by_label("Email").fill(account.email)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    visit.expected_statuses.add(401)

    # The email field has focus on load; Tab reaches the password, Enter submits.
    page.get_by_label("Email").fill("")
    page.get_by_label("Email").focus()
    page.keyboard.type(account.email)
    page.keyboard.press("Tab")
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    page.wait_for_url(visit.url("/organizations/"))
    expect(page.get_by_role("heading", name="Your organizations")).to_be_visible()

    # The page's session cookie is the API's session: the browser can call the API with it.
    me = page.evaluate("fetch('/api/0/users/me/').then(r => r.json())")
    assert me["email"] == account.email
    visit.screenshot("signed-in-organizations")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    status = page.evaluate("fetch('/api/0/users/me/').then(r => r.status)")
    assert status == 401
    visit.expected_statuses.add(401)


def test_the_sign_in_form_refuses_a_post_without_its_token(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user()
    response = visit.page.request.post(
        visit.url("/login/"), form={"email": account.email, "password": account.password}
    )
    assert response.status == 403
    assert "tokenward_session" not in response.headers.get("set-cookie", "")


def test_create_an_organization(visit: Visit, browser_world: BrowserWorld) -> None:
    account = browser_world.user()
    visit.sign_in(account)
    page = visit.page
    slug = unique("web")
    page.get_by_label("Name", exact=True).fill("Web Works")
    page.get_by_label("Slug").fill(slug)
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(visit.url(f"/settings/{slug}/"))
    expect(page.get_by_role("status")).to_have_text("Organization Web Works created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Web Works")

    api = browser_world.login(account)
    organization = api.get(f"/api/0/organizations/{slug}/").json()
    assert (organization["name"], organization["role"]) == ("Web Works", "owner")

    # A taken slug is refused on the form, with the reason announced.
    page.get_by_role("link", name="Organizations", exact=True).first.click()
    page.get_by_label("Name", exact=True).fill("Copycat")
    page.get_by_label("Slug").fill(slug)
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("alert")).to_contain_text("already taken")
    visit.expected_statuses.add(409)
    expect(page.get_by_role("link", name="Web Works")).to_be_visible()


def test_a_personal_token_is_shown_once_works_and_is_revoked_after_confirmation(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user()
    owner = browser_world.login(account)
    slug = browser_world.organization(owner)
    visit.sign_in(account)
    page = visit.page
    page.get_by_role("link", name="Personal API tokens").click()

    page.get_by_label("Token name").fill("laptop")
    projects_access = page.get_by_role("group", name="Projects")
    expect(projects_access).to_contain_text("Write: also create and edit projects")
    projects_access.get_by_label("Write").check()
    # Expiry presets say the last day the token works.
    expires_on = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)
    page.get_by_label("7 days").check()
    last_day = (expires_on - dt.timedelta(days=1)).isoformat()
    expect(page.locator("#expiry-preview")).to_have_text(
        f"Last working day: {last_day} (UTC). It stops at 00:00 UTC on {expires_on.isoformat()}."
    )
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert")).to_contain_text("will not be shown again")
    secret = page.get_by_label("New token").input_value()
    assert re.fullmatch(r"twp_[0-9A-Za-z]{49}", secret)
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-status")).not_to_be_empty()
    visit.screenshot("personal-token-shown-once")

    projects = browser_world.bearer(secret).get(f"/api/0/organizations/{slug}/projects/")
    assert projects.status_code == 200, projects.text

    # Shown once: the list keeps only the name and the last four characters.
    page.goto(visit.url("/settings/account/tokens/"))
    assert secret not in page.content()
    row = page.get_by_role("row").filter(has_text="laptop")
    expect(row).to_contain_text(f"…{secret[-4:]}")
    expect(row).to_contain_text("project:read project:write")
    expect(row.locator("[data-label=Expires]")).to_contain_text(expires_on.isoformat())

    # A second live token of the same name is refused, and nothing is minted.
    page.get_by_label("Token name").fill("Laptop")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#error-name")).to_contain_text("already named")
    visit.expected_statuses.add(400)
    assert len(owner.get("/api/0/users/me/tokens/").json()) == 1
    visit.goto("/settings/account/tokens/")

    row.get_by_role("button", name="Revoke").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("laptop")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert browser_world.bearer(secret).get("/api/0/users/me/").status_code == 200

    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.get_by_role("row").filter(has_text="laptop")).to_have_count(0)
    assert_error(browser_world.bearer(secret).get("/api/0/users/me/"), 401, "invalid-token")


@pytest.mark.parametrize("path", ["/settings/account/tokens/", "/settings/any-org/security/"])
def test_signed_out_visitors_are_sent_to_sign_in_and_back(
    visit: Visit, browser_world: BrowserWorld, path: str
) -> None:
    account = browser_world.user()
    owner = browser_world.login(account)
    slug = browser_world.organization(owner)
    target = path.replace("any-org", slug)
    visit.page.goto(visit.url(target))
    expect(visit.page).to_have_url(re.compile(r"/login/\?next="))
    visit.page.get_by_label("Email").fill(account.email)
    visit.page.get_by_label("Password").fill(account.password)
    visit.page.get_by_role("button", name="Sign in").click()
    visit.page.wait_for_url(visit.url(target))


def test_sign_in_asks_for_the_authenticator_code_when_two_factor_is_on(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user()
    session = browser_world.login(account)
    setup = session.post("/api/0/users/me/2fa/setup/").json()
    totp = pyotp.TOTP(setup["secret"])
    confirmed = session.post("/api/0/users/me/2fa/confirm/", json={"code": totp.now()})
    assert confirmed.status_code == 200, confirmed.text

    page = visit.page
    page.goto(visit.url("/login/"))
    expect(page.get_by_label("Authenticator code")).to_have_count(0)
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    # A second step, not an error: the code field is focused, nothing is red.
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    expect(page.locator("#code-step")).to_contain_text(account.email)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_label("Authenticator code")).to_be_focused()
    expect(page.get_by_label("Password")).to_have_count(0)
    assert page.evaluate("fetch('/api/0/users/me/').then(r => r.status)") == 401
    visit.expected_statuses.add(401)
    visit.screenshot("sign-in-second-step")

    wrong = "000000" if totp.at(time.time() + 30) != "000000" else "111111"
    page.get_by_label("Authenticator code").fill(wrong)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not correct")
    expect(page.get_by_label("Authenticator code")).to_be_focused()
    # The confirmation used this step's code; a code is accepted once, so sign in with the next.
    page.get_by_label("Authenticator code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(visit.url("/organizations/"))
    assert page.evaluate("fetch('/api/0/users/me/').then(r => r.status)") == 200
