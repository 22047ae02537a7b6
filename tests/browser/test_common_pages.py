"""Pages every user meets: sign in (and its errors), account, sign out, error pages, the
accessibility statement; and the layout's keyboard and script basics in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.support import check_page, sign_in
from tests.conftest import Api, UserFactory


def test_sign_in_error_then_sign_in_and_out(page: Page, sw: Api) -> None:
    page.goto("/sign-in")
    check_page(page, "sign-in")
    page.get_by_label("Username", exact=True).fill(sw.username)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a correct username and password")
    # GOV.UK Frontend's script ran (CSP allows our own module) and focused the summary.
    expect(summary).to_be_focused()
    expect(page).to_have_title("Error: Sign in \u2013 Permanence panels")
    check_page(page, "sign-in-error")
    # The summary links to the field.
    summary.get_by_role("link", name="Enter a correct username and password").click()
    expect(page.get_by_label("Username", exact=True)).to_be_focused()

    sign_in(page, sw.username)
    assert page.url.endswith("/my-work")
    page.goto("/account")
    expect(page.locator("h1")).to_have_text("Your account")
    expect(page.locator(".govuk-summary-list")).to_contain_text("North")
    check_page(page, "account")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".govuk-inset-text")).to_have_text("You have signed out.")
    page.goto("/account")
    assert "/sign-in?next=/account" in page.url


def test_error_pages(page: Page, sw: Api) -> None:
    sign_in(page, sw.username)
    response = page.goto("/director")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("You do not have access to this page")
    check_page(page, "error-403")
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    check_page(page, "error-404")


def test_skip_link_is_first_and_accessibility_statement(page: Page) -> None:
    page.goto("/accessibility")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    check_page(page, "accessibility-statement")


def test_a_sysadmin_lands_on_the_account_page(page: Page, make_user: UserFactory) -> None:
    admin = make_user("it.admin", "sysadmin")
    sign_in(page, admin.username)
    assert page.url.endswith("/account")
    # No navigation to children's pages for a role that sees no child data: only the
    # system administrator's own pages (the care record's import, the teams).
    expect(page.locator(".govuk-service-navigation__list a")).to_have_text(["Imports", "Teams"])
