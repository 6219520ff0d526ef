"""Whole journeys in a real browser at 375 px, with screenshots kept under
tests/e2e/screenshots/: the storefront and its MOQ stepper (zh and en), sign-up with
an SMS code read from the back-office message log, the profile with two photos,
approval by customer service, wholesale prices, checkout and the order centre."""

import io
import re
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.test_mobile_shell import (
    ADMIN,
    CUSTOMER,
    CUSTOMER_SERVICE,
    assert_fits_phone,
    sign_in,
)

pytestmark = pytest.mark.e2e


def test_storefront_and_the_stepper_in_chinese_and_english(new_page, shot):
    page = new_page()
    for lang in ("zh", "en"):
        page.goto(f"/auth/lang/{lang}?next=/")
        expect(page.locator(".tabbar")).to_be_visible()
        assert_fits_phone(page)
        shot(page, f"10-home-{lang}")
        page.goto("/category")
        expect(page.locator("[data-product]").first).to_be_visible()
        assert_fits_phone(page)
        shot(page, f"11-category-{lang}")
    page.goto("/auth/lang/zh?next=/auth/login")
    sign_in(page, CUSTOMER)
    page.goto("/search?q=kqs")
    page.locator("[data-product]").first.click()
    spec = page.locator(".spec:has(.stepper)").first
    moq = int(spec.get_attribute("data-moq"))
    box = spec.locator("input[type=number]")
    expect(box).to_have_value("0")
    spec.locator('[data-step="1"]').click()
    spec.locator('[data-step="1"]').click()
    expect(box).to_have_value(str(2 * moq))  # two presses: two minimum order quantities
    expect(spec.locator(".price").first).to_contain_text("¥")
    assert_fits_phone(page)
    shot(page, "12-product-stepper-zh")
    page.goto(f"/auth/lang/en?next={urlsplit(page.url).path}")
    expect(page.locator("[data-order]")).to_have_text("Order")
    shot(page, "13-product-en")


def _photo(tmp_path, name, color):
    path = tmp_path / name
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), color).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def _code_from_message_log(new_page, mobile):
    """With the embedded `log` provider nothing is sent: an admin reads the code in the
    log (customer service sees it masked)."""
    staff = new_page(desktop=True)
    staff.goto("/auth/login")
    sign_in(staff, ADMIN)
    staff.goto(f"/admin/messages/list/?_flt_0_recipient={mobile}")
    text = staff.locator("body").inner_text()
    staff.context.close()
    return re.findall(r"验证码为(\d{6})", text)[0]


def test_sign_up_profile_approval_and_prices(new_page, shot, tmp_path):
    mobile = "13766660001"
    page = new_page()
    page.goto("/auth/register")
    page.fill("#mobile", mobile)
    page.click("[data-send-code]")
    expect(page.locator(".flash")).to_be_visible()
    shot(page, "20-sign-up-code-sent-zh")
    code = _code_from_message_log(new_page, mobile)
    page.fill("#code", code)
    page.fill("#password", "shop2026abc")
    page.fill("#password2", "shop2026abc")
    page.click("form button[type=submit]:not([data-send-code])")
    expect(page).to_have_url(re.compile(r"/me/profile$"))
    page.fill("#shop_name", "海口测试宾馆")
    page.fill("#contact_name", "测试经理")
    page.select_option("#region_id", label="海口")
    page.fill("#address", "海口市龙华区滨海大道 100 号")
    page.set_input_files("#shop_photo", _photo(tmp_path, "shop.jpg", (200, 80, 60)))
    page.set_input_files("#licence_photo", _photo(tmp_path, "licence.jpg", (60, 80, 200)))
    assert_fits_phone(page)
    shot(page, "21-profile-filled-zh")
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(page.locator(".badge-pending")).to_be_visible()
    shot(page, "22-me-pending-zh")

    staff = new_page(desktop=True)
    staff.goto("/auth/login")
    sign_in(staff, CUSTOMER_SERVICE)
    staff.goto("/admin/members/list/?_flt_0_status=pending")
    row = staff.locator("tr", has_text="海口测试宾馆")
    row.locator("a", has_text="审核").click()
    expect(staff.locator("img[src*='/media/private/']")).to_have_count(2)
    shot(staff, "23-review-in-back-office-zh")
    staff.select_option("#level_id", label="金牌")
    staff.click("form button.btn-success")
    expect(staff.locator(".alert")).to_contain_text("海口测试宾馆")
    staff.context.close()

    page.goto("/search?q=kqs")
    page.locator("[data-product]").first.click()
    expect(page.locator(".spec .price").first).to_contain_text("¥")
    shot(page, "24-member-sees-wholesale-prices-zh")


def _add_first_spec(page, query):
    page.goto(f"/search?q={query}")
    page.locator("[data-product]").first.click()
    spec = page.locator(".spec:has(.stepper)").first
    spec.locator('[data-step="1"]').click()
    page.click("[data-order]")
    expect(page.locator(".flash")).to_be_visible()


def test_checkout_with_delivery_and_cash_on_delivery_then_cancel(new_page, shot):
    page = new_page()
    page.goto("/auth/login")
    sign_in(page, CUSTOMER)
    _add_first_spec(page, "kqs")
    _add_first_spec(page, "yashua")  # 一次性牙刷套装, by pinyin
    page.goto("/cart")
    expect(page.locator("[data-cart-line]")).to_have_count(2)
    assert_fits_phone(page)
    shot(page, "30-cart-zh")
    page.click("[data-checkout]")
    page.check('input[name="delivery"][value="delivery"]')
    page.check('input[name="payment"][value="cod"]')
    assert_fits_phone(page)
    shot(page, "31-checkout-zh")
    page.click("[data-submit-order]")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "pending")
    expect(page.locator("[data-state]")).to_have_text("等待业务经理确认中")
    shot(page, "32-order-pending-zh")
    page.goto("/orders?tab=to_confirm")
    expect(page.locator("[data-order]").first).to_be_visible()
    shot(page, "33-orders-to-confirm-zh")

    _add_first_spec(page, "kqs")  # a second order, cancelled
    page.goto("/checkout")
    page.click("[data-submit-order]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-action="cancel"]')
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "closed")
    shot(page, "34-order-cancelled-zh")
