"""The mobile shell in a real browser at 375 px: sign-in, 我的, the ends, languages, 403.

Screenshots go to tests/e2e/screenshots/ (kept as CI artifacts).
"""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "pifa2026"
ADMIN = "13800000001"
CUSTOMER_SERVICE = "13800000002"
SALESMAN = "13800000011"  # 王建国
DRIVER = "13800000021"  # 陈师傅
CUSTOMER = "13900000031"


def sign_in(page, mobile, shot=None, name=None):
    """Sign in on the mobile page; lands on 我的 (/me)."""
    if not page.url.split("?")[0].endswith("/auth/login"):
        page.goto("/auth/login")
    page.fill("#mobile", mobile)
    page.fill("#password", PASSWORD)
    if shot:
        shot(page, name)
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/me$"))


def assert_fits_phone(page):
    """Nothing wider than the 375 px screen: no sideways scrolling."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths[0]}px > {widths[1]}px"


def test_salesman_opens_business_end_in_chinese(page, shot):
    page.goto("/auth/login")
    expect(page.locator("#mobile")).to_be_visible()
    assert_fits_phone(page)
    sign_in(page, SALESMAN, shot, "01-login-zh")

    expect(page.locator("body")).to_contain_text("王建国")
    entry = page.locator('a[data-entry="sales"]')
    expect(entry).to_be_visible()
    assert_fits_phone(page)
    shot(page, "02-me-salesman-zh")

    entry.click()
    expect(page).to_have_url(re.compile(r"/sales/$"))
    expect(page.locator("[data-end]")).to_have_text("业务端")
    assert_fits_phone(page)
    shot(page, "03-sales-end-zh")


def test_salesman_opens_business_end_in_english(page, shot):
    page.goto("/auth/login")
    switch = page.locator(".topbar a", has_text="EN")
    expect(switch).to_have_attribute("href", re.compile(r"^/auth/lang/en\?next="))
    switch.click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".topbar a", has_text="中文")).to_be_visible()
    expect(page.locator("form button[type=submit]")).to_have_text("Sign in")
    sign_in(page, SALESMAN, shot, "01-login-en")

    entry = page.locator('a[data-entry="sales"]')
    expect(entry).to_be_visible()
    assert_fits_phone(page)
    shot(page, "02-me-salesman-en")

    entry.click()
    expect(page).to_have_url(re.compile(r"/sales/$"))
    expect(page.locator("[data-end]")).to_have_text("Business end")
    assert_fits_phone(page)
    shot(page, "03-sales-end-en")

    # And back to Chinese from the end's own top bar, staying on the page.
    page.locator(".topbar a", has_text="中文").click()
    expect(page).to_have_url(re.compile(r"/sales/$"))
    expect(page.locator("[data-end]")).to_have_text("业务端")


def test_driver_opens_driver_end(page, shot):
    sign_in(page, DRIVER)
    expect(page.locator("body")).to_contain_text("陈师傅")
    expect(page.locator('a[data-entry="sales"]')).to_have_count(0)
    entry = page.locator('a[data-entry="driver"]')
    expect(entry).to_be_visible()
    shot(page, "04-me-driver-zh")

    entry.click()
    expect(page).to_have_url(re.compile(r"/driver/$"))
    expect(page.locator("[data-end]")).to_have_text("司机端")
    assert_fits_phone(page)
    shot(page, "05-driver-end-zh")


def test_customer_is_refused_the_business_end(page, shot):
    sign_in(page, CUSTOMER)
    expect(page.locator("a[data-entry]")).to_have_count(0)
    shot(page, "06-me-customer-zh")

    response = page.goto("/sales/")
    assert response.status == 403
    expect(page.locator(".error-page")).to_contain_text("403")
    expect(page.locator(".error-page")).to_contain_text("权限")
    assert_fits_phone(page)
    shot(page, "07-sales-403-customer-zh")


def test_signed_out_salesman_comes_back_to_the_business_end(page):
    response = page.goto("/sales/")
    assert response.ok
    expect(page).to_have_url(re.compile(r"/auth/login\?next=/sales/$"))
    page.fill("#mobile", SALESMAN)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/sales/$"))
    expect(page.locator("[data-end]")).to_have_text("业务端")


def test_admin_sees_back_office_menus(new_page, shot):
    page = new_page(desktop=True)
    sign_in(page, ADMIN)
    response = page.goto("/admin/")
    assert response.status == 200
    menu = page.locator(".navbar")
    expect(menu).to_contain_text("业务管理")
    expect(menu).to_contain_text("设置")
    shot(page, "08-admin-desktop-zh")


def test_customer_service_sees_business_but_not_settings(new_page, shot):
    page = new_page(desktop=True)
    sign_in(page, CUSTOMER_SERVICE)
    response = page.goto("/admin/")
    assert response.status == 200
    menu = page.locator(".navbar")
    expect(menu).to_contain_text("业务管理")
    expect(menu.get_by_text("设置", exact=True)).to_have_count(0)
    shot(page, "09-admin-customer-service-zh")
