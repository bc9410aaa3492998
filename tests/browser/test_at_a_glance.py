"""What owners and members read about their situation, at desktop and phone width: the
security page says only what is true, report-only reads as one state, a member's tokens say
where they work, and every page is photographed at both widths.

These tests share one server whose usage counts are written every 0.1 s, and one owner, member
and organizations made once for the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyotp
import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import BROWSER_MARKS, BrowserWorld, Visit
from tests.support import (
    ApiClient,
    LiveServer,
    Member,
    UserAccount,
    eventually,
    running_server,
)

pytestmark = BROWSER_MARKS

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# The rightmost edge of any control on the page: beyond the screen means hidden off-screen.
RIGHTMOST_CONTROL = """() => Math.max(0, ...Array.from(
  document.querySelectorAll("main button, main select, main input, main a")
).filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== "hidden"
   && !e.closest("dialog:not([open])"))
 .map(e => e.getBoundingClientRect().right + window.scrollX))"""
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("at-a-glance") / "test.db"
    with running_server(f"sqlite+aiosqlite:///{database}", usage_flush_seconds=0.1) as live:
        yield live


@dataclass
class Cast:
    owner_account: UserAccount
    owner: ApiClient
    member: Member
    acme: str  # reports personal tokens; the member's token has used it
    strict: str  # denies personal tokens
    token: str  # the member's personal token


@pytest.fixture(scope="module")
def cast(server: LiveServer) -> Iterator[Cast]:
    world = BrowserWorld(server)
    account = world.user("Olivia Owner")
    owner = world.login(account)
    acme = world.organization(owner)
    strict = world.organization(owner, allow_personal_tokens=False)
    member = world.member(owner, acme)
    world.add_member(owner, strict, member.account, "member")
    token = world.personal_token(member.session, ["org:read"], name="laptop")
    bearer = world.bearer(token)
    for _ in range(7):
        assert bearer.get(f"/api/0/organizations/{acme}/").status_code == 200
    report = {"allow_personal_tokens": False, "personal_token_enforcement": "report"}
    assert owner.put(f"/api/0/organizations/{acme}/", json={"settings": report}).status_code == 200
    for _ in range(3):
        answer = bearer.get(f"/api/0/organizations/{acme}/")
        assert answer.headers["Tokenward-Report-Only"] == "personal-token-denied"
    assert eventually(lambda: _allowed(owner, acme) == 10)
    yield Cast(account, owner, member, acme, strict, token)
    world.close()


def _allowed(owner: ApiClient, slug: str) -> int:
    report = owner.get(f"/api/0/organizations/{slug}/personal-token-usage/").json()
    allowed: int = report["totals"]["requests"]["allowed"]
    return allowed


def _sign_in(visit: Visit, account: UserAccount, size: ViewportSize) -> Page:
    visit.page.set_viewport_size(size)
    visit.sign_in(account)
    return visit.page


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_report_only_reads_as_one_state(visit: Visit, cast: Cast, size: ViewportSize) -> None:
    page = _sign_in(visit, cast.owner_account, size)
    visit.goto(f"/settings/{cast.acme}/security/")
    expect(page.locator("#current-state")).to_contain_text("Currently: report only")
    expect(page.locator("#current-state")).not_to_contain_text("denied")
    expect(page.get_by_role("radio", name="Report only")).to_be_checked()
    expect(page.get_by_role("radio", name="Allowed", exact=True)).not_to_be_checked()
    row = page.get_by_role("row").filter(has_text=f"…{cast.token[-4:]}")
    expect(row.locator(".badge").first).to_have_text("allowed · would be denied")
    expect(row).to_contain_text("10 allowed (3 would be denied), 0 denied")

    # Ten requests are drawn as ten: would-be denials are the top of the allowed bar.
    chart = page.get_by_role("img", name="Personal-token requests to")
    expect(chart.locator("desc")).to_contain_text(
        "10 allowed (3 of them would be denied), 0 denied"
    )
    expect(page.locator(".legend")).to_contain_text("Allowed: 10")
    expect(page.locator(".legend")).to_contain_text("Allowed, would be denied: 3")
    ticks = chart.locator("line.grid")
    expect(ticks).to_have_count(3)
    expect(chart.locator("text.axis").nth(2)).to_have_text("10")
    baseline = float(ticks.nth(0).get_attribute("y1") or 0)
    top = float(ticks.nth(2).get_attribute("y1") or 0)
    bars = chart.locator("g.day rect")
    expect(bars).to_have_count(2)
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(2)]
    assert abs(sum(heights) - (baseline - top)) < 0.1, (heights, baseline, top)
    assert abs(heights[1] / sum(heights) - 0.3) < 0.01  # 3 of 10 would be denied
    # The chart's labels stay legible at phone width (at least 9 CSS pixels tall).
    label_height = chart.locator("text.axis").first.bounding_box()
    assert label_height is not None and label_height["height"] >= 9, label_height
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    visit.screenshot(f"glance-{'phone' if size is PHONE else 'desktop'}-report-only")


def test_the_dialog_and_message_say_only_what_changes(visit: Visit, cast: Cast) -> None:
    world_owner = cast.owner
    slug = cast.strict
    page = _sign_in(visit, cast.owner_account, DESKTOP)
    visit.goto(f"/settings/{slug}/security/")
    expect(page.locator("#current-state")).to_contain_text("Currently: denied")
    # Only the lifetime limit changes while the denial is already enforced.
    page.get_by_label("Maximum personal token lifetime (days)").fill("30")
    page.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(
        f"Limit personal token lifetimes in {slug.title()}?"
    )
    expect(dialog).to_have_attribute("aria-describedby", "rules-dialog-body")
    expect(dialog).to_contain_text("Maximum personal token lifetime: no limit → 30 days")
    expect(dialog).to_contain_text("longer than 30 days, are refused")
    expect(dialog).not_to_contain_text("instead of only being reported")
    expect(dialog).not_to_contain_text("Personal API tokens:")
    visit.screenshot("glance-lifetime-only-dialog")
    dialog.get_by_role("button", name="Set the limit").click()
    status = page.get_by_role("status")
    expect(status).to_have_text("Saved. Maximum personal token lifetime: no limit → 30 days.")
    settings = world_owner.get(f"/api/0/organizations/{slug}/").json()["settings"]
    assert settings["personal_token_max_lifetime_days"] == 30
    assert settings["allow_personal_tokens"] is False

    # Loosening back asks nothing and says just that.
    page.get_by_label("Maximum personal token lifetime (days)").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(status).to_have_text("Saved. Maximum personal token lifetime: 30 days → no limit.")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_member_sees_where_each_token_works(visit: Visit, cast: Cast, size: ViewportSize) -> None:
    page = _sign_in(visit, cast.member.account, size)
    visit.goto("/settings/account/tokens/")
    row = page.get_by_role("row").filter(has_text="laptop")
    expect(row.locator(f"[data-organization='{cast.acme}']")).to_contain_text(
        f"works for now · {cast.acme.title()} would deny it (report only)"
    )
    expect(row.locator(f"[data-organization='{cast.strict}']")).to_contain_text(
        f"denied by {cast.strict.title()}"
    )
    visit.screenshot(f"glance-{'phone' if size is PHONE else 'desktop'}-member-tokens")
    revoke = row.get_by_role("button", name="Revoke")
    expect(revoke).to_be_visible()
    assert page.evaluate(RIGHTMOST_CONTROL) <= size["width"]

    # A token that an organization will refuse is announced before it is minted.
    name = f"ci-{size['width']}"
    page.get_by_label("Token name").fill(name)
    page.get_by_role("button", name="Create token").click()
    warning = page.locator("#token-warning")
    expect(warning).to_contain_text("This token will not work everywhere you are a member")
    expect(warning).to_contain_text(f"denied by {cast.strict.title()}")
    expect(page.get_by_label("New token")).to_have_count(0)
    names = [t["name"] for t in cast.member.session.get("/api/0/users/me/tokens/").json()]
    assert name not in names
    expect(page.get_by_label("Token name")).to_have_value(name)
    page.get_by_role("button", name="Create anyway").click()
    expect(page.get_by_label("New token")).to_have_count(1)
    names = [t["name"] for t in cast.member.session.get("/api/0/users/me/tokens/").json()]
    assert name in names
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


def test_every_page_at_both_widths(visit: Visit, cast: Cast, browser_world: BrowserWorld) -> None:
    """A screenshot of every page at desktop and phone width, none wider than its screen."""
    two_factor = browser_world.user("Tess Twofactor")
    session = browser_world.login(two_factor)
    secret = session.post("/api/0/users/me/2fa/setup/").json()["secret"]
    confirmed = session.post(
        "/api/0/users/me/2fa/confirm/", json={"code": pyotp.TOTP(secret).now()}
    )
    assert confirmed.status_code == 200
    page = visit.page
    owner_pages = [
        "/organizations/",
        "/settings/account/tokens/",
        "/settings/account/security/",
        *(
            f"/settings/{cast.acme}/{tab}"
            for tab in (
                "",
                "security/",
                "members/",
                "tokens/",
                "personal-tokens/",
                "projects/",
                "audit-log/",
            )
        ),
    ]
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.context.clear_cookies()
        visit.goto("/login/")
        visit.screenshot(f"page-{label}-login")
        page.get_by_label("Email").fill(two_factor.email)
        page.get_by_label("Password").fill(two_factor.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_label("Authenticator code")).to_be_focused()
        visit.screenshot(f"page-{label}-login-code")
        page.context.clear_cookies()
        visit.sign_in(cast.owner_account)
        for path in owner_pages:
            visit.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"], (label, path, width)
            # Every action is on screen: wide tables become cards rather than scroll sideways.
            rightmost = page.evaluate(RIGHTMOST_CONTROL)
            assert rightmost <= size["width"], (label, path, rightmost)
            name = path.strip("/").replace(cast.acme, "org").replace("/", "-") or "home"
            visit.screenshot(f"page-{label}-{name}")


def _contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(...)`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_words_for_people_and_an_accessible_page(
    visit: Visit, cast: Cast, browser_world: BrowserWorld
) -> None:
    other = browser_world.organization(cast.owner)
    browser_world.add_member(cast.owner, other, cast.member.account, "member")
    laptop = next(
        t
        for t in cast.member.session.get("/api/0/users/me/tokens/").json()
        if t["name"] == "laptop"
    )
    revoked = cast.owner.delete(f"/api/0/organizations/{other}/personal-tokens/{laptop['id']}/")
    assert revoked.status_code == 204
    page = _sign_in(visit, cast.owner_account, DESKTOP)
    visit.expected_statuses.add(400)

    # A slug error in plain words, with a slug that works.
    page.get_by_label("Name").fill("Acme Corp.")
    page.get_by_label("Slug").fill("Acme Corp")
    page.get_by_role("button", name="Create organization").click()
    expect(page.locator("#error-slug")).to_contain_text("Use only lowercase letters")
    expect(page.locator("main")).not_to_contain_text("pattern")
    expect(page.locator("#slug-suggestion")).to_contain_text("acme-corp")

    # The focus ring stands out from the page (at least 3:1).
    visit.goto("/organizations/")
    for _ in range(20):  # by keyboard, to the first control in the page's content
        page.keyboard.press("Tab")
        if page.evaluate("Boolean(document.activeElement.closest('main'))"):
            break
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert _contrast(ring, "rgb(255, 255, 255)") >= 3, ring

    # The audit log: every event in words, filtered in the page.
    visit.goto(f"/settings/{other}/audit-log/")
    row = page.get_by_role("row").filter(has_text="Personal token revoked for this organization")
    expect(row).to_contain_text(f"“laptop” (…{cast.token[-4:]}) of {cast.member.account.email}")
    expect(page.locator("main")).not_to_contain_text("personal-token.revoke-access")
    page.get_by_label("Event").select_option(label="Member added")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"event=member\.add"))
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Member added")
    visit.screenshot("glance-audit-log-filtered")

    # A confirmation dialog has a real title and a description.
    visit.goto(f"/settings/{other}/members/")
    page.get_by_role("row").filter(has_text=cast.member.account.email).get_by_role(
        "button", name="Remove"
    ).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Remove member?")
    expect(dialog).to_have_attribute("aria-describedby", "confirm-dialog-message")
    expect(page.locator("#confirm-dialog-message")).to_contain_text("They lose access at once")
    dialog.get_by_role("button", name="Cancel").click()


def test_recovery_codes_at_enrolment_then_sign_in_with_one(
    visit: Visit, browser_world: BrowserWorld
) -> None:
    account = browser_world.user("Rita Recovery")
    page = _sign_in(visit, account, PHONE)
    visit.goto("/settings/account/security/")
    page.get_by_role("button", name="Set up an authenticator app").click()
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().strip())
    page.get_by_label("Authenticator code").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("will not be shown again")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    visit.screenshot("glance-phone-recovery-codes")
    visit.goto("/settings/account/security/")
    expect(page.locator("#recovery-codes")).to_have_count(0)  # shown once
    expect(page.locator("#codes-left")).to_contain_text("10 unused recovery codes left")

    # The phone is lost: sign in with a recovery code at the second step.
    page.context.clear_cookies()
    visit.goto("/login/")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#hint-code")).to_contain_text("recovery codes")
    page.get_by_label("Authenticator code").fill(codes[3])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(visit.url("/organizations/"))
    visit.goto("/settings/account/security/")
    expect(page.locator("#codes-left")).to_contain_text("9 unused recovery codes left")
