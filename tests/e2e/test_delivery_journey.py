"""The whole path in a real browser at 375 px, in Chinese and in English: a customer
orders, the salesman confirms and assigns a driver, the driver starts, uploads a photo
of the signed delivery note (scaled on the phone) and completes, and the customer sees
the order as received with the photo. Screenshots of each step are kept."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.test_mobile_shell import CUSTOMER, DRIVER, SALESMAN, assert_fits_phone, sign_in

pytestmark = pytest.mark.e2e
RECEIVED = {"zh": "已收货", "en": "Received"}


def _person(new_page, mobile, lang):
    page = new_page()
    page.goto(f"/auth/lang/{lang}?next=/auth/login")
    sign_in(page, mobile)
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_order_to_signed_note(new_page, shot, tmp_path, lang):
    customer = _person(new_page, CUSTOMER, lang)
    customer.goto("/search?q=kqs")
    customer.locator("[data-product]").first.click()
    spec = customer.locator(".spec:has(.stepper)").first
    spec.locator('[data-step="1"]').click()
    customer.click("[data-order]")
    customer.goto("/checkout")
    customer.check('input[name="delivery"][value="delivery"]')
    customer.check('input[name="payment"][value="cod"]')
    customer.click("[data-submit-order]")
    expect(customer.locator("[data-state]")).to_have_attribute("data-state", "pending")
    order_no = re.search(r"/orders/(\d+)", customer.url)[1]
    shot(customer, f"40-customer-ordered-{lang}")

    sales = _person(new_page, SALESMAN, lang)
    sales.goto(f"/sales/orders/{order_no}")
    expect(sales.locator("[data-end]")).to_be_visible()
    assert_fits_phone(sales)
    shot(sales, f"41-salesman-order-{lang}")
    sales.click('[data-action="confirm"]')
    sales.locator("label.choice", has_text="陈师傅").click()
    sales.click('[data-action="assign_driver"]')
    expect(sales.locator("body")).to_contain_text("陈师傅")
    shot(sales, f"42-salesman-assigned-{lang}")

    driver = _person(new_page, DRIVER, lang)
    driver.goto(f"/driver/orders/{order_no}")
    assert_fits_phone(driver)
    shot(driver, f"43-driver-order-{lang}")
    driver.click('[data-action="start_delivery"]')
    expect(driver.locator("[data-state]")).to_have_attribute("data-state", "delivering")
    photo = tmp_path / "note.jpg"
    out = io.BytesIO()
    Image.new("RGB", (3000, 4000), (250, 248, 240)).save(out, "JPEG")
    photo.write_bytes(out.getvalue())
    driver.set_input_files("input.dfile", str(photo))
    expect(driver.locator("[data-photo-grid] img")).to_have_count(1, timeout=20000)
    shot(driver, f"44-driver-photo-{lang}")
    driver.click('[data-action="complete_delivery"]')
    expect(driver.locator("[data-state]")).to_have_attribute("data-state", "delivered")
    shot(driver, f"45-driver-delivered-{lang}")

    customer.goto(f"/orders/{order_no}")
    expect(customer.locator("[data-state]")).to_have_text(RECEIVED[lang])
    expect(customer.locator(".photos img")).to_have_count(1)
    assert_fits_phone(customer)
    shot(customer, f"46-customer-received-{lang}")
