"""Payments through the pages: the customer's transfer voucher on the order page, the
account on 我的, the driver's cash, and the salesman deciding a voucher; each refused to
whoever must not see it (404), in Chinese and in English.

No app context stays pushed while requests run; database work opens its own (`db_`).
"""

import contextlib
import io
import os
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.members.models import Member
from app.ordering import workflow
from app.ordering.models import Order, Payment
from app.payments import ledger, vouchers
from app.payments.models import Voucher, VoucherStatus
from app.platform.time import local_date
from app.views import member as member_views
from tests.conftest import csrf_token, login
from tests.images import image_bytes
from tests.order_factory import World, add_photo


@pytest.fixture
def world(app, make):
    with app.app_context():
        return World(app, make)


@pytest.fixture
def db_(app):
    @contextlib.contextmanager
    def opened():
        with app.app_context():
            yield db.session
            db.session.remove()
    return opened


def _client(app, ref, lang=None):
    client = app.test_client()
    login(client, ref.mobile)
    if lang:
        client.get(f"/auth/lang/{lang}?next=/")
    return client


def _order(app, world, state="confirmed", **kw):
    with app.app_context():
        order = world.order(state, **kw)
        return order.id, order.order_no, order.total


def _stored_files(app) -> int:
    root = app.config["MEDIA_ROOT"]
    return sum(len(files) for _, _, files in os.walk(root)) if os.path.isdir(root) else 0


def _flash(html: str) -> str:
    match = re.search(r'class="flash flash-danger"[^>]*>([^<]*)<', html)
    return match[1] if match else ""


def _upload(client, order_no, amount, color=(200, 30, 30), **extra):
    token = csrf_token(client, f"/orders/{order_no}")
    data = {"csrf_token": token, "amount": str(amount), "paid_on": local_date().isoformat(),
            "remark": "工行转账", "photo": (io.BytesIO(image_bytes(color=color)), "转账.jpg"),
            **extra}
    return client.post(f"/orders/{order_no}/voucher", data=data,
                       content_type="multipart/form-data")


def _voucher_by_service(app, world, order_no, amount, color=(200, 30, 30)):
    with app.app_context():
        photo = FileStorage(io.BytesIO(image_bytes(color=color)), filename="v.jpg")
        voucher = vouchers.upload(world.user(world.customer), order_no, photo,
                                  {"amount": str(amount), "paid_on": local_date().isoformat(),
                                   "remark": "微信转账"})
        return voucher.id, voucher.photo


# ---- the customer's order page --------------------------------------------------------

def test_upload_a_voucher_through_the_order_page(app, world, db_):
    order_id, order_no, total = _order(app, world, payment="bank")
    shopper = _client(app, world.customer)
    html = shopper.get(f"/orders/{order_no}").get_data(as_text=True)
    assert "data-voucher-form" in html and 'accept="image/*"' in html
    assert f'name="amount" type="text" inputmode="decimal" maxlength="14" autocomplete="off" ' \
           f'value="{total:.2f}"' in html
    assert f'value="{local_date().isoformat()}"' in html  # the transfer date: today
    resp = _upload(shopper, order_no, total)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/orders/{order_no}#vouchers")
    with db_() as session:
        voucher = session.scalar(select(Voucher).where(Voucher.order_id == order_id))
        assert voucher.status == VoucherStatus.PENDING and voucher.amount == total
        assert voucher.remark == "工行转账"
        photo = voucher.photo
    html = shopper.get(f"/orders/{order_no}").get_data(as_text=True)
    assert 'data-voucher-status="pending"' in html and "工行转账" in html
    assert f'src="/media/{photo[:-4]}_t.jpg"' in html  # the thumbnail
    assert shopper.get(f"/media/{photo}").status_code == 200
    other = _client(app, world.other_customer)
    assert other.get(f"/media/{photo}").status_code == 404


@pytest.mark.parametrize("amount", ["abc", "-5", "0"])
def test_a_bad_amount_is_refused_with_the_message_and_nothing_stored(app, world, db_, amount):
    _order_id, order_no, _total = _order(app, world, payment="wechat_transfer")
    shopper = _client(app, world.customer, lang="en")
    before = _stored_files(app)
    resp = _upload(shopper, order_no, amount, remark="转错了")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert _flash(html) == "Please enter a valid amount."
    assert 'value="转错了"' in html  # what was typed is kept
    assert re.search(r"data-voucher-error>Please enter a valid amount\.<", html)  # by the form
    assert f'action="/orders/{order_no}/voucher#vouchers"' in html
    with db_() as session:
        assert session.scalar(select(func.count(Voucher.id))) == 0
    assert _stored_files(app) == before


def test_a_photo_over_the_size_limit_is_refused_on_the_form(app, world, db_, monkeypatch):
    _order_id, order_no, total = _order(app, world, payment="bank")
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 2048)  # the photo is cut past it
    shopper = _client(app, world.customer, lang="en")
    big = image_bytes(size=(400, 400), quality=100)
    assert len(big) > 2048
    resp = _upload(shopper, order_no, total, photo=(io.BytesIO(big), "big.jpg"))
    assert resp.status_code == 400
    assert _flash(resp.get_data(as_text=True)).startswith("The image is too large")
    assert 'data-max-bytes="2048"' in resp.get_data(as_text=True)  # forms.js checks first
    with db_() as session:
        assert session.scalar(select(func.count(Voucher.id))) == 0


def test_a_refused_voucher_shows_the_message_in_chinese(app, world, db_):
    _order_id, order_no, _total = _order(app, world, payment="bank")
    shopper = _client(app, world.customer, lang="zh")
    resp = _upload(shopper, order_no, "100", photo=(io.BytesIO(b"not an image"), "x.jpg"))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and _flash(html)
    assert _flash(html) != "This file is not a JPEG, PNG or WebP image."  # translated
    with db_() as session:
        assert session.scalar(select(func.count(Voucher.id))) == 0


def test_another_customer_gets_404_on_the_voucher_route(app, world, db_):
    _order_id, order_no, total = _order(app, world, payment="bank")
    before = _stored_files(app)
    for ref in (world.other_customer, world.salesman):
        client = _client(app, ref)
        assert client.get(f"/orders/{order_no}").status_code == 404
        assert _upload(client, order_no, total).status_code == 404
    visitor = app.test_client()
    resp = visitor.post(f"/orders/{order_no}/voucher", data={
        "csrf_token": csrf_token(visitor), "amount": "1"})
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
    with db_() as session:
        assert session.scalar(select(func.count(Voucher.id))) == 0
    assert _stored_files(app) == before


def test_no_voucher_form_where_no_transfer_is_due(app, world, db_):
    _id, cod_no, total = _order(app, world, payment="cod")
    shopper = _client(app, world.customer)
    assert "data-voucher-form" not in shopper.get(f"/orders/{cod_no}").get_data(as_text=True)
    resp = _upload(shopper, cod_no, total)
    assert resp.status_code == 400 and _flash(resp.get_data(as_text=True))
    with db_() as session:
        assert session.scalar(select(func.count(Voucher.id))) == 0


def test_a_rejected_voucher_shows_the_customer_why(app, world, db_):
    order_id, order_no, total = _order(app, world, payment="alipay_transfer")
    voucher_id, _photo = _voucher_by_service(app, world, order_no, total)
    with app.app_context():
        vouchers.decide(world.user(world.cs), db.session.get(Order, order_id), voucher_id,
                        approve=False, reason="金额与到账不符")
    for lang, again in (("zh", None), ("en", "Upload another voucher")):
        html = _client(app, world.customer, lang).get(f"/orders/{order_no}").get_data(
            as_text=True)
        assert 'data-voucher-status="rejected"' in html
        assert re.search(r"data-reject-reason>[^<]*金额与到账不符", html)
        assert "data-voucher-form" in html  # still unpaid: another voucher may follow
        if again:
            assert again in html and "Not accepted" in html


# ---- 我的 account ---------------------------------------------------------------------

def test_the_account_page_shows_the_balance_after_a_delivery(app, world, db_):
    order_id, order_no, total = _order(app, world, "delivered", payment="bank")
    with db_():
        assert ledger.balance(world.customer.id) == total > 0
    for lang, owed in (("zh", None), ("en", "Balance owed")):
        shopper = _client(app, world.customer, lang)
        me = shopper.get("/me").get_data(as_text=True)
        assert "data-account-card" in me and f'data-balance="{total}"' in me
        resp = shopper.get("/me/account")
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert f'data-balance="{total}"' in html and total.__format__(".2f") in html
        assert 'data-entry-kind="delivery"' in html and f"/orders/{order_no}" in html
        assert f'data-amount="{total}"' in html and "data-aging" in html
        if owed:
            assert owed in html and "Goods delivered" in html and "0–30 days" in html
        else:
            assert '<html lang="zh-CN">' in html
    # Paid by a voucher, the account is settled and shows the payment.
    voucher_id, _photo = _voucher_by_service(app, world, order_no, total)
    with app.app_context():
        vouchers.decide(world.user(world.salesman), db.session.get(Order, order_id),
                        voucher_id, approve=True)
    html = _client(app, world.customer).get("/me/account").get_data(as_text=True)
    assert 'data-balance="0' in html and 'data-entry-kind="payment"' in html
    assert "data-aging" not in html
    # Another customer sees only their own (empty) account.
    other = _client(app, world.other_customer).get("/me/account").get_data(as_text=True)
    assert order_no not in other and "data-empty" in other and 'data-balance="0' in other


def test_money_paid_ahead_shows_as_paid_in_advance(app, world, db_):
    order_id, order_no, total = _order(app, world, payment="bank")  # not delivered yet
    voucher_id, _photo = _voucher_by_service(app, world, order_no, total)
    with app.app_context():
        vouchers.decide(world.user(world.cs), db.session.get(Order, order_id), voucher_id,
                        approve=True)
    html = _client(app, world.customer, "en").get("/me/account").get_data(as_text=True)
    assert f'data-balance="-{total}"' in html and "Paid in advance" in html
    assert re.search(rf'data-ahead>¥{total:.2f}<', html) and "data-aging" not in html
    assert 'data-entry-kind="payment"' in html and f"−¥{total:.2f}" in html


def test_account_entries_page_by_keyset(app, world, monkeypatch):
    numbers = [_order(app, world, "delivered")[1] for _ in range(3)]
    monkeypatch.setattr(member_views, "ENTRIES_PER_PAGE", 2)
    shopper = _client(app, world.customer)
    html = shopper.get("/me/account").get_data(as_text=True)
    assert numbers[2] in html and numbers[1] in html and numbers[0] not in html
    more = re.search(r'href="([^"]+)" data-more', html)[1].replace("&amp;", "&")
    html = shopper.get(more).get_data(as_text=True)
    assert numbers[0] in html and numbers[1] not in html and "data-more" not in html
    assert shopper.get("/me/account?before=abc").status_code == 200  # a bad cursor: page 1


def test_a_monthly_settlement_member_sees_the_credit_left(app, world, db_):
    with db_() as session:
        member = session.get(Member, world.customer.id)
        member.monthly_settlement, member.credit_limit = True, Decimal("5000.00")
        session.commit()
    _id, _no, total = _order(app, world, "delivered", payment="monthly")
    shopper = _client(app, world.customer, "en")
    html = shopper.get("/me/account").get_data(as_text=True)
    assert "data-credit-limit" in html and "¥5000.00" in html
    assert f"¥{Decimal('5000.00') - total:.2f}" in html
    assert "Credit available" in shopper.get("/me").get_data(as_text=True)


def test_staff_without_a_member_have_no_account(app, world):
    resp = _client(app, world.salesman).get("/me/account")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/me")
    assert app.test_client().get("/me/account").status_code == 302  # sign in first


# ---- the driver's cash --------------------------------------------------------------

def _cod_delivered(app, world):
    with app.app_context():
        order = world.order("delivering")
        driver = world.user(world.driver)
        add_photo(order, driver)
        workflow.apply(db.session.get(Order, order.id), "complete_delivery", driver,
                       cash_collected=str(order.total))
        return order.order_no, order.total


def test_the_drivers_cash_page_lists_the_drivers_own_cash_only(app, world):
    first, second = _cod_delivered(app, world), _cod_delivered(app, world)
    for lang, heading in (("zh", None), ("en", "My cash")):
        driver = _client(app, world.driver, lang)
        home = driver.get("/driver/").get_data(as_text=True)
        assert 'href="/driver/cash" data-entry="cash" data-held-count="2"' in home
        html = driver.get("/driver/cash").get_data(as_text=True)
        assert f'data-cash-total="{first[1] + second[1]}"' in html
        assert f'data-held="{first[0]}"' in html and f'data-held="{second[0]}"' in html
        assert "测试酒店" in html  # the shop
        if heading:
            assert heading in html and "To hand in" in html
        else:
            assert '<html lang="zh-CN">' in html
    for ref in (world.driver2, world.other_driver):
        html = _client(app, ref).get("/driver/cash").get_data(as_text=True)
        assert first[0] not in html and second[0] not in html and "data-empty" in html
    assert _client(app, world.salesman).get("/driver/cash").status_code == 403
    assert _client(app, world.customer).get("/driver/cash").status_code == 403


# ---- the business end ----------------------------------------------------------------

def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/sales/"), **data})


def test_a_salesman_confirms_a_voucher_and_another_regions_gets_404(app, world, db_):
    order_id, order_no, total = _order(app, world, payment="bank")
    voucher_id, photo = _voucher_by_service(app, world, order_no, total)
    other = _client(app, world.other_salesman)
    assert other.get(f"/sales/orders/{order_no}").status_code == 404
    assert _post(other, f"/sales/orders/{order_no}/confirm_voucher",
                 voucher_id=voucher_id).status_code == 404
    assert other.get(f"/media/{photo}").status_code == 404
    with db_() as session:
        assert session.get(Voucher, voucher_id).status == VoucherStatus.PENDING
    for lang, button in (("zh", None), ("en", "Confirm the payment")):
        salesman = _client(app, world.salesman, lang)
        html = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
        assert f'data-voucher="{voucher_id}"' in html and "微信转账" in html
        assert 'data-action="confirm_voucher"' in html and 'data-action="reject_voucher"' in html
        assert f'name="voucher_id" value="{voucher_id}"' in html
        if button:
            assert button in html and "Transfer vouchers" in html
    assert salesman.get(f"/media/{photo}").status_code == 200
    resp = _post(salesman, f"/sales/orders/{order_no}/confirm_voucher", voucher_id=voucher_id)
    assert resp.status_code == 302
    html = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert re.search(r'class="flash flash-info"[^>]*>Payment confirmed: the voucher is '
                     r'recorded as a payment\.<', html)
    assert 'data-voucher-status="confirmed"' in html
    assert 'data-action="confirm_voucher"' not in html
    with db_() as session:
        assert session.get(Voucher, voucher_id).status == VoucherStatus.CONFIRMED
        assert session.get(Order, order_id).payment_status == "paid"
        assert session.scalar(select(func.count(Payment.id))) == 1
    # Decided once: a second confirmation is refused with a message and adds nothing.
    resp = _post(salesman, f"/sales/orders/{order_no}/confirm_voucher", voucher_id=voucher_id)
    assert resp.status_code == 400 and _flash(resp.get_data(as_text=True))
    with db_() as session:
        assert session.scalar(select(func.count(Payment.id))) == 1


def test_a_salesman_rejects_a_voucher_only_with_a_reason(app, world, db_):
    order_id, order_no, total = _order(app, world, payment="wechat_transfer")
    voucher_id, _photo = _voucher_by_service(app, world, order_no, total)
    salesman = _client(app, world.salesman, "en")
    resp = _post(salesman, f"/sales/orders/{order_no}/reject_voucher", voucher_id=voucher_id,
                 reason="  ")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert _flash(html) == "Please give a reason."
    assert re.search(r'<details class="sedit" open>\s*<summary>Reject</summary>', html)
    with db_() as session:
        assert session.get(Voucher, voucher_id).status == VoucherStatus.PENDING
    resp = _post(salesman, f"/sales/orders/{order_no}/reject_voucher", voucher_id=voucher_id,
                 reason="没有收到这笔转账")
    assert resp.status_code == 302
    with db_() as session:
        voucher = session.get(Voucher, voucher_id)
        assert (voucher.status, voucher.reject_reason) == (VoucherStatus.REJECTED,
                                                           "没有收到这笔转账")
        assert session.get(Order, order_id).payment_status == "unpaid"
    html = salesman.get(f"/sales/orders/{order_no}").get_data(as_text=True)
    assert "The customer is told the reason." in html and "没有收到这笔转账" in html


def test_the_same_image_on_two_orders_is_flagged_to_the_salesman(app, world, db_):
    _id, first_no, total = _order(app, world, payment="bank")
    _id2, second_no, _t = _order(app, world, payment="bank")
    _voucher_by_service(app, world, first_no, total)
    _voucher_by_service(app, world, second_no, total)
    html = _client(app, world.salesman, "en").get(f"/sales/orders/{second_no}").get_data(
        as_text=True)
    warning = re.search(r"data-used-elsewhere>([^<]*)<", html)[1]
    assert first_no in warning and "same image" in warning
    assert 'name="checked_elsewhere"' in html
    salesman = _client(app, world.salesman, "en")
    voucher_id = int(re.search(r'name="voucher_id" value="(\d+)"', html)[1])
    unchecked = _post(salesman, f"/sales/orders/{second_no}/confirm_voucher",
                      voucher_id=voucher_id)
    assert unchecked.status_code == 400 and "Check the bank record" in unchecked.get_data(
        as_text=True)
    assert _post(salesman, f"/sales/orders/{second_no}/confirm_voucher",
                 voucher_id=voucher_id, checked_elsewhere="1").status_code == 302
    with db_() as session:
        assert session.get(Voucher, voucher_id).status == VoucherStatus.CONFIRMED


# ---- lists scale: the same queries whatever the number of rows ---------------------------

def test_account_and_cash_pages_run_the_same_queries_whatever_the_rows(app, world):
    from tests.test_storefront import count_queries

    shopper, driver = _client(app, world.customer), _client(app, world.driver)
    counts = {"/me/account": [], "/driver/cash": []}
    for more in (1, 3):
        for _ in range(more):
            _cod_delivered(app, world)
        for url, client in (("/me/account", shopper), ("/driver/cash", driver)):
            client.get(url)  # warm up
            with count_queries(app) as statements:
                assert client.get(url).status_code == 200
            counts[url].append(len(statements))
    assert all(len(set(n)) == 1 for n in counts.values()), counts
