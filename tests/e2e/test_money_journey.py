"""Money at 375 px in a real browser, in Chinese and in English: the customer pays an
online order by WeChat Pay (a Native QR code, paid at the WeChat Pay stand-in), sends the
screenshot of a bank transfer (the salesman confirms it), and the 统一结算 hotel confirms
one monthly statement (对账单) and disputes, then confirms, another. Screenshots of each
key screen are kept (money-*.png)."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.test_mobile_shell import CUSTOMER, SALESMAN, assert_fits_phone, sign_in
from tests.images import image_bytes
from tests.standins.wechatpay import Merchant, WeChatPayStandIn

pytestmark = pytest.mark.e2e

MONTHLY = "13900000034"  # 亚龙湾椰林度假酒店: 统一结算, credit limit ¥8000
MONTHLY_SALESMAN = "13800000012"  # 三亚
PAID = Decimal("8.80")  # paid on last month's order, less than it
MINI, OFFICIAL = "wxminipifa000001", "wxofficialpifa01"
TEXT = {
    "zh": {"pay": "微信支付", "qr": "请用微信扫描二维码付款。", "due": "应付金额",
           "not_yet": "暂未收到微信的付款通知", "arrived": "付款成功，谢谢！",
           "paid": "该订单已付款。", "paid_label": "已付款", "waiting": "待确认",
           "voucher_ok": "已确认收款", "confirmed": "已确认", "disputed": "有异议",
           "issued": "待确认", "thanks": "谢谢，对账单已确认。",
           "remark": "10日那单少了一箱沐浴露", "locked": "该对账单已确认，不能再修改。",
           "limit": "信用额度"},
    "en": {"pay": "Pay with WeChat Pay", "qr": "Scan the QR code with WeChat to pay.",
           "due": "Amount to pay", "not_yet": "WeChat has not told us about a payment yet",
           "arrived": "Thank you, your payment has arrived.", "paid": "This order is paid.",
           "paid_label": "Paid", "waiting": "Waiting to be checked",
           "voucher_ok": "Payment confirmed", "confirmed": "Confirmed",
           "disputed": "Disputed", "issued": "Waiting for confirmation",
           "thanks": "Thank you: the statement is confirmed.",
           "remark": "The order of the 10th was one box short",
           "locked": "This statement is confirmed and can no longer be changed.",
           "limit": "Credit limit"},
}


def _phone(new_page, mobile, lang, path):
    """A 375 px page signed in as `mobile`, in `lang`, open at `path`."""
    page = new_page()
    page.goto(f"/auth/lang/{lang}?next=/auth/login")
    sign_in(page, mobile)
    page.goto(f"/auth/lang/{lang}?next={path}")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(rf"^{lang}"))
    return page


def _looks_right(page, shot, name):
    """No sideways scrolling, nothing overflowing the 375 px screen, then the screenshot."""
    assert_fits_phone(page)
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                     && getComputedStyle(e).position !== 'fixed')
        .map(e => e.tagName + '.' + (e.getAttribute('class') || '')).slice(0, 5)""")
    assert not wide, f"{page.url}: wider than the screen: {wide}"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def _order(live_app, mobile, payment, item="QQ-KQS-550", packs=1):
    """A pending order of the customer's own, made through cart and checkout (the lines
    already in their cart are set aside and put back, so only this spec is ordered)."""
    from sqlalchemy import select

    from app.catalog.models import Product, Spec
    from app.extensions import db
    from app.ordering import cart, checkout
    from app.ordering.models import CartLine
    from app.platform import accounts

    with live_app.app_context():
        customer = accounts.find_account(mobile)
        kept = [dict(spec_id=line.spec_id, quantity=line.quantity, moq_at_add=line.moq_at_add,
                     unit_price_at_add=line.unit_price_at_add, added_at=line.added_at)
                for line in db.session.scalars(select(CartLine).where(
                    CartLine.user_id == customer.id))]
        db.session.query(CartLine).filter(CartLine.user_id == customer.id).delete()
        db.session.commit()
        spec = db.session.scalar(select(Spec).join(Product).where(Product.item_no == item)
                                 .order_by(Spec.id).limit(1))
        cart.add_to_cart(customer, {spec.id: spec.pack_unit.inner_qty * packs})
        order = checkout.submit(customer, customer, {
            "idempotency_key": uuid.uuid4().hex, "delivery": "delivery", "payment": payment,
            "address_id": checkout.addresses(customer)[0].id})
        number, total = order.order_no, Decimal(order.total)
        for values in kept:
            db.session.add(CartLine(user_id=customer.id, **values))
        db.session.commit()
        db.session.remove()
    assert total > 0
    return number, total


def _fresh_order(live_app, order_no):
    from sqlalchemy import select

    from app.extensions import db
    from app.ordering.models import Order

    with live_app.app_context():
        order = db.session.scalar(select(Order).where(Order.order_no == order_no))
        found = {"payment_status": order.payment_status,
                 "paid": sum((Decimal(p.amount) for p in order.payments), Decimal("0")),
                 "methods": [p.method for p in order.payments]}
        db.session.remove()
    return found


# ---- 1. 微信支付 against the WeChat Pay stand-in ----------------------------------------

@pytest.fixture
def wxpay(live_app, monkeypatch):
    """WeChat Pay switched on for the live server (read per request), at the stand-in."""
    from app.payments.wechat_pay import gateway

    gateway.reset_clients()
    with WeChatPayStandIn(Merchant(), {MINI, OFFICIAL}) as server:
        settings = {**server.config(), "WECHAT_MINIPROGRAM_APP_ID": MINI,
                    "WECHAT_MINIPROGRAM_APP_SECRET": "mini-secret",
                    "WECHAT_OFFICIAL_APP_ID": OFFICIAL,
                    "WECHAT_OFFICIAL_APP_SECRET": "official-secret", "WECHATPAY_TIMEOUT": 5.0}
        for key, value in settings.items():
            monkeypatch.setitem(live_app.config, key, value)
        yield server
    gateway.reset_clients()


def _attempts(live_app, order_no):
    from sqlalchemy import select

    from app.extensions import db
    from app.ordering.models import Order
    from app.payments.wechat_pay.models import PayAttempt

    with live_app.app_context():
        rows = db.session.execute(
            select(PayAttempt.out_trade_no, PayAttempt.channel, PayAttempt.status,
                   PayAttempt.amount_fen).join(Order, Order.id == PayAttempt.order_id)
            .where(Order.order_no == order_no).order_by(PayAttempt.id)).all()
        db.session.remove()
    return rows


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_customer_pays_by_wechat_pay_with_a_qr_code(live_app, wxpay, new_page, shot, lang):
    text = TEXT[lang]
    order_no, total = _order(live_app, CUSTOMER, "online")
    page = _phone(new_page, CUSTOMER, lang, f"/orders/{order_no}")

    button = page.locator('[data-action="pay_online"]')
    expect(button).to_have_text(text["pay"])
    button.click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_no}/pay$"))
    expect(page.locator("[data-amount]")).to_have_text(f"¥{total:.2f}")
    assert _attempts(live_app, order_no) == []  # only showing the page asks WeChat nothing
    page.click('[data-action="pay"]')

    qr = page.locator('[data-pay-state="qr"]')
    expect(qr).to_be_visible()
    expect(qr).to_contain_text(text["qr"])
    expect(page.locator("[data-pay]")).to_contain_text(text["due"])
    expect(page.locator("[data-amount]")).to_have_text(f"¥{total:.2f}")
    code = page.locator(".qr svg")
    expect(code).to_be_visible()
    box = code.bounding_box()
    assert abs(box["width"] - box["height"]) < 1, f"the QR code is not square: {box}"
    assert box["width"] >= 150 and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    # Outside WeChat: one Native prepay at "WeChat", for the whole amount in fen.
    [attempt] = _attempts(live_app, order_no)
    assert (attempt.channel, attempt.status, attempt.amount_fen) == (
        "native", "open", int(total * 100))
    assert wxpay.calls_to("/v3/pay/transactions/native", "POST") == 1
    assert wxpay.trades[attempt.out_trade_no]["state"] == "NOTPAY"
    _looks_right(page, shot, f"money-01-pay-qr-{lang}")

    # "I have paid" before paying: WeChat says not yet, the code stays.
    check = page.locator("[data-pay-check] button")
    check.click()
    expect(page.locator(".flash")).to_contain_text(text["not_yet"])
    expect(qr).to_be_visible()
    assert _fresh_order(live_app, order_no)["payment_status"] == "unpaid"

    wxpay.pay(attempt.out_trade_no)  # the payer scans and pays in WeChat
    check.click()
    expect(page.locator("[data-pay-state]")).to_have_attribute("data-pay-state", "paid")
    expect(page.locator("[data-pay-state]")).to_have_text(text["paid"])
    expect(page.locator(".flash")).to_contain_text(text["arrived"])
    expect(page.locator(".qr")).to_have_count(0)
    assert _fresh_order(live_app, order_no) == {
        "payment_status": "paid", "paid": total, "methods": ["online"]}
    assert wxpay.trades[attempt.out_trade_no]["state"] == "SUCCESS"
    _looks_right(page, shot, f"money-02-pay-paid-{lang}")

    page.locator("[data-pay] a.btn").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_no}$"))
    expect(page.locator("body")).to_contain_text(text["paid_label"])
    expect(page.locator('[data-action="pay_online"]')).to_have_count(0)


# ---- 2. 付款凭证: a bank transfer's screenshot ---------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_customer_uploads_a_transfer_voucher_and_the_salesman_confirms(
        live_app, new_page, shot, lang):
    from sqlalchemy import select

    from app.extensions import db
    from app.ordering.models import Order
    from app.payments.models import Voucher
    from app.platform.time import local_date

    text = TEXT[lang]
    order_no, total = _order(live_app, CUSTOMER, "bank", packs=2)
    page = _phone(new_page, CUSTOMER, lang, f"/orders/{order_no}")
    section = page.locator("[data-vouchers]")
    expect(section).to_be_visible()
    expect(section.locator("[data-voucher]")).to_have_count(0)
    form = page.locator("[data-voucher-form]")
    expect(form.locator("#voucher-amount")).to_have_value(f"{total:.2f}")  # prefilled
    expect(form.locator("#voucher-date")).to_have_value(local_date().isoformat())
    photo = image_bytes(size=(360, 640), color=(30, 140, 60) if lang == "zh" else (30, 60, 160))
    form.locator("#voucher-photo").set_input_files(
        {"name": "transfer.jpg", "mimeType": "image/jpeg", "buffer": photo})
    remark = "工行手机银行，尾号 1234" if lang == "zh" else "ICBC mobile banking, ending 1234"
    form.locator("#voucher-remark").fill(remark)
    form.scroll_into_view_if_needed()
    _looks_right(page, shot, f"money-03-voucher-form-{lang}")
    form.locator('[data-action="upload_voucher"]').click()

    expect(page).to_have_url(re.compile(rf"/orders/{order_no}#vouchers$"))
    voucher = section.locator("[data-voucher]")
    expect(voucher).to_have_count(1)
    expect(voucher.locator("[data-voucher-status]")).to_have_attribute(
        "data-voucher-status", "pending")
    expect(voucher.locator("[data-voucher-status]")).to_have_text(text["waiting"])
    expect(voucher.locator("[data-voucher-amount]")).to_have_text(f"¥{total:.2f}")
    expect(voucher.locator("[data-voucher-remark]")).to_have_text(remark)
    thumb = voucher.locator("img")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0"), "no thumbnail"
    with live_app.app_context():
        stored = db.session.scalars(select(Voucher).join(Order).where(
            Order.order_no == order_no)).all()
        assert [(v.status, v.amount, v.paid_on) for v in stored] == [
            ("pending", total, local_date())]
        db.session.remove()
    assert _fresh_order(live_app, order_no)["payment_status"] == "unpaid"
    _looks_right(page, shot, f"money-04-voucher-waiting-{lang}")

    # The salesman of 海口 sees it on the order and confirms that the money arrived.
    sales = _phone(new_page, SALESMAN, lang, f"/sales/orders/{order_no}")
    waiting = sales.locator("[data-vouchers] [data-voucher]")
    expect(waiting).to_have_count(1)
    expect(sales.locator("[data-used-elsewhere]")).to_have_count(0)
    _looks_right(sales, shot, f"money-05-voucher-salesman-{lang}")
    sales.once("dialog", lambda dialog: dialog.accept())
    waiting.locator('[data-action="confirm_voucher"]').click()
    expect(waiting.locator("[data-voucher-status]")).to_have_attribute(
        "data-voucher-status", "confirmed")
    expect(waiting.locator("[data-voucher-status]")).to_have_text(text["voucher_ok"])
    assert _fresh_order(live_app, order_no) == {
        "payment_status": "paid", "paid": total, "methods": ["bank"]}

    page.reload()
    expect(voucher.locator("[data-voucher-status]")).to_have_text(text["voucher_ok"])
    expect(page.locator("[data-voucher-form]")).to_have_count(0)  # nothing left to prove
    expect(page.locator("body")).to_contain_text(text["paid_label"])
    _looks_right(page, shot, f"money-06-voucher-confirmed-{lang}")


# ---- 3. 对账单: the 统一结算 hotel answers its monthly statements ----------------------------

@dataclass
class Months:
    last: int  # the statement of last month: confirmed in Chinese
    before: int  # the month before: disputed, then confirmed, in English
    orders: dict  # statement id -> the order numbers on its lines
    totals: dict  # statement id -> (opening, closing)
    flows: dict  # statement id -> (owed this month, paid this month)


def _received(live_app, mobile, salesman_mobile, moment, packs=2, paid=None, paid_at=None):
    """A 统一结算 order of the customer, shipped and received; its ledger entries put at
    `moment` (the payment's at `paid_at`), as the statements tests do: the app itself
    only ever appends at now, so a past month is made by moving the new rows there."""
    from sqlalchemy import select, update

    from app.extensions import db
    from app.ordering import workflow
    from app.ordering.models import Order
    from app.payments.models import EntryKind, LedgerEntry
    from app.platform import accounts

    order_no, total = _order(live_app, mobile, "monthly", item="YD-XF-002", packs=packs)
    with live_app.app_context():
        order = db.session.scalar(select(Order).where(Order.order_no == order_no))
        salesman, customer = (accounts.find_account(m) for m in (salesman_mobile, mobile))
        workflow.apply(order, "confirm", salesman)
        workflow.apply(order, "ship", salesman, ship_method="express", note="顺丰 SF1234")
        workflow.apply(order, "confirm_receipt", customer)
        if paid is not None:
            workflow.apply(order, "mark_paid", salesman, note="对公转账", amount=str(paid))
        for kinds, when in (((EntryKind.DELIVERY,), moment), ((EntryKind.PAYMENT,), paid_at)):
            db.session.execute(update(LedgerEntry).where(
                LedgerEntry.order_id == order.id, LedgerEntry.kind.in_(kinds))
                .values(created_at=when))
        db.session.commit()
        db.session.remove()
    return order_no, total


@pytest.fixture(scope="module")
def months(live_app):
    from sqlalchemy import select

    from app.extensions import db
    from app.members.models import Member
    from app.payments import statements
    from app.payments.models import Statement
    from app.platform import accounts
    from app.platform.time import local_date

    last = statements.previous_month(statements.month_of(local_date()))
    before = statements.previous_month(last)
    a_no, a_total = _received(live_app, MONTHLY, MONTHLY_SALESMAN,
                              datetime(before.year, before.month, 10, 2))
    b_no, b_total = _received(live_app, MONTHLY, MONTHLY_SALESMAN,
                              datetime(last.year, last.month, 5, 2), packs=3, paid=PAID,
                              paid_at=datetime(last.year, last.month, 20, 6))
    with live_app.app_context():
        member = db.session.scalar(select(Member).where(
            Member.user_id == accounts.find_account(MONTHLY).id))
        for period in (before, last):  # in order: each month's opening is the one before
            assert statements.issue(period, [member.id]).statements == 1
        ids = {p: db.session.scalar(select(Statement.id).where(
            Statement.member_id == member.id, Statement.period == p)) for p in (before, last)}
        db.session.remove()
    return Months(last=ids[last], before=ids[before],
                  orders={ids[before]: [a_no], ids[last]: [b_no, b_no]},
                  totals={ids[before]: (Decimal("0"), a_total),  # nothing owed before it
                          ids[last]: (a_total, a_total + b_total - PAID)},
                  flows={ids[before]: (a_total, Decimal("0")), ids[last]: (b_total, PAID)})


@pytest.fixture
def monthly_page(new_page, live_app, monkeypatch):
    """The hotel's manager signed in. test_hardening_pages locks this very account out
    (eleven wrong passwords) earlier in the session; that lock-out is its subject, not
    ours, so the per-account limit is raised here (the limit is read per request)."""
    monkeypatch.setitem(live_app.config, "LIMIT_SIGN_IN_PER_ACCOUNT", "1000 per 15 minutes")

    def make(lang, path):
        return _phone(new_page, MONTHLY, lang, path)

    return make


def _statement_status(live_app, statement_id):
    from app.extensions import db
    from app.payments.models import Statement

    with live_app.app_context():
        found = db.session.get(Statement, statement_id)
        values = (found.status, found.member_remark, found.responded_at is not None)
        db.session.remove()
    return values


def _open_statement(page, months, statement_id, lang, shot):
    """From 我的账户 to the statements, then one of them: its figures, lines and files."""
    text = TEXT[lang]
    expect(page.locator("[data-credit-limit]")).to_contain_text(text["limit"])
    expect(page.locator("[data-credit-limit]")).to_contain_text("¥8000.00")
    _looks_right(page, shot, f"money-07-account-{lang}")
    page.click("[data-statements-link]")
    expect(page).to_have_url(re.compile(r"/me/statements$"))
    listing = page.locator("[data-statements]")
    expect(listing.locator("[data-statement]")).to_have_count(2)
    row = listing.locator(f'[data-statement="{statement_id}"]')
    expect(row).to_contain_text(text["issued"])
    opening, closing = months.totals[statement_id]
    expect(row).to_contain_text(f"¥{closing:.2f}")
    _looks_right(page, shot, f"money-08-statements-{lang}")
    row.click()
    expect(page).to_have_url(re.compile(rf"/me/statements/{statement_id}$"))
    card = page.locator(f'.card[data-statement="{statement_id}"]')
    expect(card).to_have_attribute("data-status", "issued")
    expect(page.locator("[data-statement-locked]")).to_have_count(0)
    owed, paid = months.flows[statement_id]
    figures = card.locator(".row .v")  # no., status, opening, owed, paid, closing
    for i, amount in ((2, opening), (3, owed), (4, paid), (5, closing)):
        expect(figures.nth(i)).to_have_text(f"¥{amount:.2f}")
    expect(card.locator("[data-closing]")).to_have_text(f"¥{closing:.2f}")
    lines = page.locator("[data-lines] .entry-row")
    expect(lines).to_have_count(len(months.orders[statement_id]))
    for i, order_no in enumerate(months.orders[statement_id]):
        expect(lines.nth(i).locator("a.ono")).to_have_text(order_no)
    expect(lines.last).to_contain_text(f"¥{closing:.2f}")  # the running balance ends there
    for fmt, magic in (("pdf", b"%PDF"), ("xlsx", b"PK")):
        link = card.locator(f'a[href$="/me/statements/{statement_id}.{fmt}"]')
        expect(link).to_be_visible()
        answer = page.request.get(link.get_attribute("href"))
        assert answer.status == 200 and answer.body().startswith(magic), (fmt, answer.status)
    return card


def test_the_hotel_confirms_last_months_statement_in_chinese(live_app, months, monthly_page,
                                                             shot):
    text = TEXT["zh"]
    page = monthly_page("zh", "/me/account")
    card = _open_statement(page, months, months.last, "zh", shot)
    expect(page.locator("[data-aging]")).to_be_visible()
    _looks_right(page, shot, "money-09-statement-zh")

    page.click("[data-confirm-statement]")
    expect(page).to_have_url(re.compile(rf"/me/statements/{months.last}$"))
    expect(page.locator(".flash")).to_have_text(text["thanks"])
    expect(card).to_have_attribute("data-status", "confirmed")
    expect(card.locator("[data-status-label]")).to_have_text(text["confirmed"])
    expect(page.locator("[data-answer]")).to_have_count(0)  # locked: nothing to answer
    expect(page.locator("[data-statement-locked]")).to_have_text(text["locked"])
    assert _statement_status(live_app, months.last) == ("confirmed", None, True)
    _looks_right(page, shot, "money-11-statement-confirmed-zh")

    page.goto("/me/statements")
    expect(page.locator(f'[data-statement="{months.last}"]')).to_contain_text(
        text["confirmed"])


def test_the_hotel_disputes_then_confirms_a_statement_in_english(live_app, months,
                                                                 monthly_page, shot):
    text = TEXT["en"]
    page = monthly_page("en", "/me/account")
    card = _open_statement(page, months, months.before, "en", shot)
    _looks_right(page, shot, "money-09-statement-en")

    page.locator("[data-answer] summary").click()
    page.fill("#remark", text["remark"])
    page.click("[data-dispute-statement]")
    expect(card).to_have_attribute("data-status", "disputed")
    expect(card.locator("[data-status-label]")).to_have_text(text["disputed"])
    expect(page.locator("[data-remark]")).to_have_text(text["remark"])
    assert _statement_status(live_app, months.before) == ("disputed", text["remark"], True)
    expect(page.locator("[data-statement-locked]")).to_have_count(0)  # still open
    _looks_right(page, shot, "money-10-statement-disputed-en")

    page.click("[data-confirm-statement]")  # checked with the office: it was right after all
    expect(page.locator(".flash")).to_have_text(text["thanks"])
    expect(card).to_have_attribute("data-status", "confirmed")
    expect(card.locator("[data-status-label]")).to_have_text(text["confirmed"])
    expect(page.locator("[data-answer]")).to_have_count(0)
    expect(page.locator("[data-remark]")).to_have_text(text["remark"])  # kept
    expect(page.locator("[data-statement-locked]")).to_have_text(text["locked"])
    assert _statement_status(live_app, months.before) == ("confirmed", text["remark"], True)
    _looks_right(page, shot, "money-11-statement-confirmed-en")


# ---- 4. 退款登记: money paid by transfer goes back by hand -------------------------------

PAYBACK_TEXT = {
    "zh": {"title": "退款登记", "owed": "应退客户", "cash": "现金",
           "done": "已登记：款项已退还客户。",
           "label": "已退回", "customer": "款项已退还给您"},
    "en": {"title": "Record a payback", "owed": "Owed back to the customer", "cash": "Cash",
           "done": "Recorded: the money went back to the customer.", "label": "paid back",
           "customer": "Money paid back to you"},
}


def _paid_then_closed(live_app, mobile):
    """A bank-transfer order of `mobile`, paid in full, then closed by customer service."""
    from sqlalchemy import select

    from app.extensions import db
    from app.ordering import workflow
    from app.ordering.models import Order
    from app.platform import accounts

    number, total = _order(live_app, mobile, "bank")
    with live_app.app_context():
        cs = accounts.find_account("13800000002")
        order = db.session.scalar(select(Order).where(Order.order_no == number))
        workflow.apply(order, "mark_paid", cs, note="工行到账")
        workflow.apply(db.session.get(Order, order.id), "close", cs, reason="客户电话取消")
        order_id = order.id
        db.session.remove()
    return number, order_id, total


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_customer_service_records_money_paid_back_by_hand(live_app, new_page, shot,
                                                           monkeypatch, lang):
    monkeypatch.setitem(live_app.config, "LIMIT_SIGN_IN_PER_ACCOUNT", "1000 per 15 minutes")
    text = PAYBACK_TEXT[lang]
    number, order_id, total = _paid_then_closed(live_app, CUSTOMER)
    for desktop in (True, False):
        staff = new_page(desktop=desktop)
        staff.goto(f"/auth/lang/{lang}?next=/auth/login")
        sign_in(staff, "13800000002")
        staff.goto(f"/admin/orders/show/{order_id}")
        form = staff.locator("#pay-back")
        expect(form).to_contain_text(text["title"])
        expect(form).to_contain_text(f"{text['owed']}")
        expect(form.locator("[name=amount]")).to_have_value(f"{total:.2f}")
        form.scroll_into_view_if_needed()
        if desktop:
            shot(staff, f"money-12-payback-form-desktop-{lang}")
            staff.context.close()
            continue
        assert_fits_phone(staff)
        shot(staff, f"money-13-payback-form-phone-{lang}")
        form.locator("[name=method]").select_option(label=text["cash"])
        form.locator("[name=note]").fill("现金退回 黄经理签收")
        staff.once("dialog", lambda dialog: dialog.accept())
        form.locator("button[type=submit]").click()
        expect(staff.locator(".alert-success")).to_contain_text(text["done"])
        expect(staff.locator("#pay-back")).to_have_count(0)  # nothing owed any more
        expect(staff.locator("#payments")).to_contain_text(text["label"])
        expect(staff.locator("#payments")).to_contain_text("现金退回 黄经理签收")
        staff.locator("#payments").scroll_into_view_if_needed()
        assert_fits_phone(staff)
        shot(staff, f"money-14-payback-recorded-phone-{lang}")
        staff.context.close()
    found = _fresh_order(live_app, number)
    assert found["payment_status"] == "refunded" and found["paid"] == 0
    assert found["methods"] == ["bank", "cod"]
    page = _phone(new_page, CUSTOMER, lang, f"/orders/{number}")
    expect(page.locator("body")).to_contain_text(text["customer"])
    _looks_right(page, shot, f"money-15-payback-customer-{lang}")


SETTLE_TEXT = {
    "zh": {"button": "已线下退款", "done": "已登记：款项已通过其他方式退还付款人。",
           "empty": "通过微信支付的退款都已退回或正在退回。"},
    "en": {"button": "Settled another way",
           "done": "Recorded: the money went back to the payer another way.",
           "empty": "Every refund through WeChat Pay went through or is still on its way."},
}


def _refund_wechat_refused(live_app, mobile):
    """An order of `mobile` paid by transfer, then paid again with WeChat Pay: the second
    payment's automatic refund was refused by WeChat (it needs a person)."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.extensions import db
    from app.ordering import workflow
    from app.ordering.models import Order
    from app.payments.wechat_pay.models import OnlineRefund, PayAttempt
    from app.platform import accounts
    from app.platform.time import utcnow

    number, total = _order(live_app, mobile, "bank")
    with live_app.app_context():
        order = db.session.scalar(select(Order).where(Order.order_no == number))
        workflow.apply(order, "mark_paid", accounts.find_account("13800000002"), note="工行到账")
        suffix = uuid.uuid4().hex[:8]
        attempt = PayAttempt(order_id=order.id, out_trade_no=f"{number}{suffix}"[:32],
                             appid=MINI, channel="miniprogram", trade_type="JSAPI",
                             amount_fen=int(total * 100), status="paid",
                             transaction_id=f"4200{suffix}",
                             expires_at=utcnow() + timedelta(hours=2))
        db.session.add(attempt)
        db.session.flush()
        row = OnlineRefund(kind="automatic", reason="already_paid", order_id=order.id,
                           attempt_id=attempt.id, amount_fen=attempt.amount_fen,
                           out_refund_no=attempt.out_trade_no + "-A", status="failed",
                           error="USER_ACCOUNT_ABNORMAL 退款请求失败")
        db.session.add(row)
        db.session.commit()
        row_id = row.id
        db.session.remove()
    return row_id


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_customer_service_settles_a_refund_wechat_refused_on_a_phone(live_app, new_page, shot,
                                                                   monkeypatch, lang):
    monkeypatch.setitem(live_app.config, "LIMIT_SIGN_IN_PER_ACCOUNT", "1000 per 15 minutes")
    text = SETTLE_TEXT[lang]
    row_id = _refund_wechat_refused(live_app, CUSTOMER)
    staff = new_page()
    staff.goto(f"/auth/lang/{lang}?next=/auth/login")
    sign_in(staff, "13800000002")
    staff.goto("/admin/wechat-pay/")
    form = staff.locator(f"[data-settle='{row_id}']")
    expect(form.locator("button")).to_contain_text(text["button"])
    assert_fits_phone(staff)
    form.scroll_into_view_if_needed()
    shot(staff, f"money-16-wechat-refund-to-settle-phone-{lang}")
    form.locator("[name=note]").fill("微信转账退回 付款人")
    staff.once("dialog", lambda dialog: dialog.accept())
    form.locator("button").click()
    expect(staff.locator(".alert-success")).to_contain_text(text["done"])
    expect(staff.locator(f"[data-settle='{row_id}']")).to_have_count(0)
    expect(staff.locator(f"[data-online-refund='{row_id}'] [data-handled]")).to_contain_text(
        "微信转账退回 付款人")
    assert_fits_phone(staff)
    shot(staff, f"money-17-wechat-refund-settled-phone-{lang}")
