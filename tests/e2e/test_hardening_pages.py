"""The pages the hardening added or changed, at 375 px in zh and en, with screenshots:
the lock-out page, the sign-out question, the customer's history of a changed order,
and a photo too large for the profile form refused on the phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_mobile_shell import assert_fits_phone, sign_in

pytestmark = pytest.mark.e2e

LOCKED = "13900000034"  # 亚龙湾椰林度假酒店: not used by the other browser tests
EDITED = "13900000035"  # 琼海万泉河宾馆


def test_the_lock_out_page_says_how_long_and_offers_a_reset(new_page, shot):
    page = new_page()
    for lang in ("zh", "en"):
        page.goto(f"/auth/lang/{lang}?next=/auth/login")
        for _ in range(11 if lang == "zh" else 1):
            page.fill("#mobile", LOCKED)
            page.fill("#password", "wrong-password-1")
            page.click("form button[type=submit]")
        locked = page.locator("[data-locked]")
        expect(locked).to_be_visible()
        expect(locked).to_contain_text("15 分钟后再试" if lang == "zh" else "in 15 minutes")
        expect(page.locator("[data-reset]")).to_have_attribute("href", "/auth/reset")
        assert_fits_phone(page)
        shot(page, f"70-locked-out-{lang}")
        page.goto("/auth/login")


def test_signing_out_asks_first_and_then_ends_the_session(new_page, shot):
    page = new_page()
    sign_in(page, EDITED)
    for lang in ("zh", "en"):
        page.goto(f"/auth/lang/{lang}?next=/auth/logout")
        expect(page.locator("[data-logout]")).to_be_visible()
        assert_fits_phone(page)
        shot(page, f"71-sign-out-asks-{lang}")
    page.goto("/me")
    expect(page).to_have_url(re.compile(r"/me$"))  # the GET signed nobody out
    page.goto("/auth/logout")
    page.locator("[data-logout] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.goto("/me")
    expect(page).to_have_url(re.compile(r"/auth/login"))


def test_the_customer_reads_what_the_salesman_changed(live_app, new_page, shot):
    from app.catalog.models import Spec
    from app.extensions import db
    from app.ordering import cart, checkout, workflow
    from app.ordering.models import Order
    from app.platform import accounts

    with live_app.app_context():
        customer = accounts.find_account(EDITED)
        spec = db.session.query(Spec).filter(Spec.stock > 1000).first()
        cart.add_to_cart(customer, {spec.id: spec.pack_unit.inner_qty * 4})
        order = checkout.submit(customer, customer, {
            "idempotency_key": "e2ehistory0001", "delivery": "delivery", "payment": "cod",
            "province": "海南省", "city": "琼海市", "street": "嘉积镇 1 号",
            "contact": "符经理", "phone": "13912345678"})
        cs = accounts.find_account("13800000002")  # 琼海 has no salesman: customer service
        line = order.lines[0]
        workflow.apply(order, "edit", cs, op="set_quantity", line_id=line.id,
                       quantity=str(line.quantity + line.inner_qty * 2))
        workflow.apply(order, "edit", cs, op="set_price", line_id=line.id,
                       price=str(line.unit_price - line.unit_price / 10),
                       reason="老客户九折")
        workflow.apply(order, "confirm", cs)
        order_no = db.session.get(Order, order.id).order_no
    page = new_page()
    sign_in(page, EDITED)
    for lang in ("zh", "en"):
        page.goto(f"/auth/lang/{lang}?next=/orders/{order_no}")
        timeline = page.locator(".timeline")
        expect(timeline).to_contain_text("数量" if lang == "zh" else "quantity")
        expect(timeline).to_contain_text("老客户九折")
        expect(timeline).to_contain_text("已确认，待发货" if lang == "zh"
                                          else "Confirmed, waiting to ship")
        assert_fits_phone(page)
        shot(page, f"72-customer-history-{lang}")


def test_a_photo_too_large_is_refused_on_the_phone(new_page, shot, tmp_path):
    page = new_page()
    sign_in(page, EDITED)
    big = tmp_path / "huge.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"0" * (11 * 1024 * 1024))
    for lang in ("zh", "en"):
        page.goto(f"/auth/lang/{lang}?next=/me/profile")
        page.set_input_files("#shop_photo", str(big))
        note = page.locator("#shop_photo + [data-file-error]")
        expect(note).to_be_visible()
        expect(note).to_contain_text("10 MB")
        assert page.eval_on_selector("#shop_photo", "el => el.files.length") == 0
        assert_fits_phone(page)
        shot(page, f"73-photo-too-large-{lang}")
