"""Back office 财务: receivables and aging, transfer vouchers waiting, drivers' cash and
hand-ins, the credit limit on the member form; who may open them; bad input refused."""

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.members.models import Member
from app.ordering import workflow
from app.ordering.models import Order, Payment
from app.ordering.states import PaymentStatus
from app.payments import cash, credit, ledger, vouchers
from app.payments.labels import AGING_LABELS
from app.payments.models import CashHandIn, LedgerEntry, Voucher, VoucherStatus
from app.platform.time import local_date
from tests.conftest import csrf_token, login
from tests.images import image_bytes
from tests.order_factory import World, add_photo

PAGES = ("/admin/receivables/", "/admin/vouchers/", "/admin/cash/", "/admin/cash/hand-ins/",
         "/admin/wechat-pay/")


def _client(app, ref):
    client = app.test_client()
    assert login(client, ref.mobile).status_code == 302
    return client


def _photo(color=(200, 30, 30)):
    return FileStorage(io.BytesIO(image_bytes(color=color)), filename="转账截图.jpg")


def _voucher(world, order, color=(200, 30, 30), amount=None):
    voucher = vouchers.upload(world.user(world.customer), order.order_no, _photo(color),
                              {"amount": str(amount if amount is not None else order.total),
                               "paid_on": local_date().isoformat(), "remark": "工行转账"})
    return voucher.id


def _cod_delivered(world):
    order = world.order("delivering")
    driver = world.user(world.driver)
    add_photo(order, driver)
    workflow.apply(db.session.get(Order, order.id), "complete_delivery", driver,
                   cash_collected=str(order.total))
    return db.session.get(Order, order.id)


def _text(resp):
    return resp.get_data(as_text=True)


@pytest.fixture
def scene(app, make):
    """A bank-transfer order received and owed with a voucher waiting, a 统一结算 member
    with a credit limit and an open order, a driver holding the cash of two orders."""
    with app.app_context():
        world = World(app, make)
        member = db.session.get(Member, world.customer.id)
        member.monthly_settlement = True
        db.session.commit()
        owed = world.order("received", payment="bank")
        voucher_id = _voucher(world, owed)
        world.order("pending", payment="monthly")  # open: counts against the limit
        db.session.get(Member, world.customer.id).credit_limit = Decimal("100000.00")
        db.session.commit()
        one, two = _cod_delivered(world), _cod_delivered(world)
        info = {"order_id": owed.id, "order_no": owed.order_no, "total": owed.total,
                "voucher_id": voucher_id, "member_id": world.customer.id,
                "cod": [one.order_no, two.order_no], "cod_totals": [one.total, two.total]}
    return world, info


# ---- the pages, for customer service and admin, in Chinese and in English -----------------

@pytest.mark.parametrize("who", ["cs", "admin"])
def test_every_finance_page_opens_for_staff_in_both_languages(app, scene, who):
    world, info = scene
    client = _client(app, getattr(world, who))
    with app.app_context():
        cash.record_hand_in(world.user(world.cs), world.driver.id,
                            [cash.held_by(world.driver.id).payments[0].id], "1.00")
    urls = [*PAGES, f"/admin/receivables/member/{info['member_id']}",
            f"/admin/cash/driver/{world.driver.id}", f"/admin/members/show/{info['member_id']}"]
    for lang, words in (("zh", ["订单号", "区域"]), ("en", ["Receivables", "Order no."])):
        client.get(f"/lang/{lang}")
        pages = {}
        for url in urls:
            resp = client.get(url)
            assert resp.status_code == 200, (who, lang, url, resp.status_code)
            pages[url] = _text(resp)
        assert 'href="/admin/receivables/"' in pages["/admin/cash/"]  # the Finance menu
        assert 'href="/admin/vouchers/"' in pages["/admin/cash/"]
        assert any(w in pages[urls[4]] for w in words), (lang, words)
        assert f'data-member="{info["member_id"]}"' in pages["/admin/receivables/"]
        assert info["order_no"] in pages["/admin/vouchers/"]
        assert f'data-driver="{world.driver.id}"' in pages["/admin/cash/"]
        assert info["cod"][1] in pages[f"/admin/cash/driver/{world.driver.id}"]
        assert 'class="explain-form"' in pages["/admin/cash/"]  # a difference to explain
        assert info["order_no"] in pages[f"/admin/receivables/member/{info['member_id']}"]
        assert 'member-account' in pages[f"/admin/members/show/{info['member_id']}"]
    english = client.get("/admin/vouchers/")
    assert "Confirm payment" in _text(english) and "Reject" in _text(english)
    client.get("/lang/zh")
    assert "驳回" in _text(client.get("/admin/vouchers/"))  # an existing msgid, translated


def test_empty_pages_say_there_is_nothing(app, make):
    client = _client(app, make.user("CustomerService"))
    client.get("/lang/en")
    expected = {"/admin/receivables/": "No member owes anything.",
                "/admin/vouchers/": "No transfer vouchers are waiting for confirmation.",
                "/admin/cash/": "No driver holds cash",
                "/admin/cash/hand-ins/": "No hand-ins yet.",
                "/admin/wechat-pay/": "No payment has had to go back automatically."}
    for url, words in expected.items():
        resp = client.get(url)
        assert resp.status_code == 200 and words in _text(resp), url


@pytest.mark.parametrize("role", ["Customer", "Driver", "Salesman", None])
def test_people_without_the_back_office_are_refused_and_nothing_changes(app, scene, make,
                                                                         role):
    world, info = scene
    refs = {"Customer": world.customer, "Driver": world.driver, "Salesman": world.salesman}
    client = app.test_client()
    if role:
        login(client, refs[role].mobile)
    token = csrf_token(client, "/me" if role else "/auth/login")
    with app.app_context():
        payment_id = cash.held_by(world.driver.id).payments[0].id
    reads = [*PAGES, f"/admin/receivables/member/{info['member_id']}",
             f"/admin/cash/driver/{world.driver.id}"]
    writes = [(f"/admin/vouchers/{info['voucher_id']}/confirm", {}),
              (f"/admin/vouchers/{info['voucher_id']}/reject", {"reason": "不对"}),
              (f"/admin/cash/driver/{world.driver.id}/hand-in",
               {"payment_id": str(payment_id), "received": "1"}),
              ("/admin/cash/hand-ins/1/explain", {"explanation": "x"})]
    for url in reads:
        resp = client.get(url)
        if role:
            assert resp.status_code == 403, (role, url, resp.status_code)
        else:
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    for url, data in writes:
        resp = client.post(url, data={**data, "csrf_token": token})
        assert resp.status_code == (403 if role else 302), (role, url, resp.status_code)
    with app.app_context():
        assert db.session.get(Voucher, info["voucher_id"]).status == VoucherStatus.PENDING
        assert db.session.scalar(select(func.count(CashHandIn.id))) == 0


def test_salesman_role_keeps_no_back_office_permission(app):
    from app.platform.security import ROLES, SALESMAN

    assert ROLES[SALESMAN] == [("SalesEnd", "can_access")]


# ---- vouchers ------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["cs", "admin"])
def test_a_voucher_is_confirmed_through_the_page(app, scene, who):
    world, info = scene
    cs = _client(app, getattr(world, who))
    token = csrf_token(cs, "/admin/vouchers/")
    resp = cs.post(f"/admin/vouchers/{info['voucher_id']}/confirm",
                   data={"csrf_token": token, "next": "/admin/vouchers/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/vouchers/")
    with app.app_context():
        voucher = db.session.get(Voucher, info["voucher_id"])
        order = db.session.get(Order, info["order_id"])
        assert voucher.status == VoucherStatus.CONFIRMED
        assert order.payment_status == PaymentStatus.PAID
        payments = db.session.scalar(select(func.count(Payment.id)).where(
            Payment.order_id == order.id))
    # No longer waiting.
    assert f'data-order="{info["order_no"]}"' not in _text(cs.get("/admin/vouchers/"))
    # Decided once: confirming again shows the service's message and adds nothing.
    cs.get("/lang/en")
    again = cs.post(f"/admin/vouchers/{info['voucher_id']}/confirm",
                    data={"csrf_token": token}, follow_redirects=True)
    assert again.status_code == 200
    assert "This voucher is not waiting for a decision." in _text(again)
    with app.app_context():
        assert db.session.scalar(select(func.count(Payment.id)).where(
            Payment.order_id == info["order_id"])) == payments


def test_a_voucher_is_rejected_only_with_a_reason(app, scene):
    world, info = scene
    cs = _client(app, world.cs)
    cs.get("/lang/en")
    token = csrf_token(cs, "/admin/vouchers/")
    page = _text(cs.get("/admin/vouchers/"))
    assert re.search(r'<textarea[^>]*name="reason"[^>]*required', page)
    url = f"/admin/vouchers/{info['voucher_id']}/reject"
    for reason in ("", "   "):
        resp = cs.post(url, data={"csrf_token": token, "reason": reason},
                       follow_redirects=True)
        assert resp.status_code == 200 and 'class="alert alert-danger' in _text(resp)
        with app.app_context():
            assert db.session.get(Voucher, info["voucher_id"]).status == \
                VoucherStatus.PENDING
    resp = cs.post(url, data={"csrf_token": token, "reason": "金额与转账记录不符"})
    assert resp.status_code == 302
    with app.app_context():
        voucher = db.session.get(Voucher, info["voucher_id"])
        assert voucher.status == VoucherStatus.REJECTED
        assert voucher.reject_reason == "金额与转账记录不符"
        assert db.session.get(Order, info["order_id"]).payment_status == PaymentStatus.UNPAID


def test_the_same_image_on_another_order_is_shown_and_must_be_ticked(app, scene):
    world, info = scene
    with app.app_context():
        second = world.order("received", payment="bank")
        twin = _voucher(world, second)  # the same photo as the scene's voucher
        second_no = second.order_no
    cs = _client(app, world.cs)
    page = _text(cs.get("/admin/vouchers/"))
    assert f'data-elsewhere="{second_no}"' in page and \
        f'data-elsewhere="{info["order_no"]}"' in page
    assert 'name="checked_elsewhere"' in page
    token = csrf_token(cs, "/admin/vouchers/")
    resp = cs.post(f"/admin/vouchers/{twin}/confirm", data={"csrf_token": token})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Voucher, twin).status == VoucherStatus.PENDING
    resp = cs.post(f"/admin/vouchers/{twin}/confirm",
                   data={"csrf_token": token, "checked_elsewhere": "1"})
    with app.app_context():
        assert db.session.get(Voucher, twin).status == VoucherStatus.CONFIRMED


def test_the_voucher_photo_links_to_the_private_image(app, scene):
    world, info = scene
    cs = _client(app, world.cs)
    page = _text(cs.get("/admin/vouchers/"))
    with app.app_context():
        key = db.session.get(Voucher, info["voucher_id"]).photo
    assert f'href="/media/{key}"' in page
    thumb = re.search(r'<img src="(/media/[^"]+_t\.[a-z]+)"', page)[1]
    assert cs.get(thumb).status_code == 200 and cs.get(f"/media/{key}").status_code == 200
    visitor = app.test_client()
    assert visitor.get(f"/media/{key}").status_code == 404


# ---- drivers' cash -------------------------------------------------------------------------

def test_a_hand_in_with_a_difference_is_recorded_and_explained(app, scene):
    world, info = scene
    cs = _client(app, world.cs)
    cs.get("/lang/en")
    url = f"/admin/cash/driver/{world.driver.id}"
    page = _text(cs.get(url))
    payment_ids = re.findall(r'name="payment_id" value="(\d+)"', page)
    assert len(payment_ids) == 2
    total = sum(info["cod_totals"])
    assert f'name="received" value="{total:.2f}"' in page  # prefilled: everything ticked
    token = csrf_token(cs, url)
    short = info["cod_totals"][0] - Decimal("2.50")
    resp = cs.post(f"{url}/hand-in", data={"csrf_token": token, "payment_id": payment_ids[0],
                                           "received": str(short), "note": "周一交款"},
                   follow_redirects=True)
    assert resp.status_code == 200
    assert "Short by ¥2.50" in _text(resp) and 'class="explain-form"' in _text(resp)
    with app.app_context():
        hand_in = db.session.scalar(select(CashHandIn))
        assert (hand_in.expected, hand_in.received) == (info["cod_totals"][0], short)
        assert hand_in.note == "周一交款"
        assert len(cash.held_by(world.driver.id).payments) == 1
        hand_in_id = hand_in.id
    history = _text(cs.get("/admin/cash/hand-ins/"))
    assert f'data-hand-in="{hand_in_id}" class="attention"' in history
    # An empty explanation is refused; a real one is kept and the highlight goes.
    explain = f"/admin/cash/hand-ins/{hand_in_id}/explain"
    refused = cs.post(explain, data={"csrf_token": token, "explanation": " "},
                      follow_redirects=True)
    assert "Please write why the amounts differ." in _text(refused)
    resp = cs.post(explain, data={"csrf_token": token, "explanation": "找零差两元五，司机补交",
                                  "next": "/admin/cash/hand-ins/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/cash/hand-ins/")
    with app.app_context():
        assert db.session.get(CashHandIn, hand_in_id).explanation == "找零差两元五，司机补交"
        assert cash.unexplained() == []
    history = _text(cs.get("/admin/cash/hand-ins/"))
    assert "找零差两元五，司机补交" in history and 'class="attention"' not in history
    # A redirect elsewhere is not followed.
    resp = cs.post(explain, data={"csrf_token": token, "explanation": "x",
                                  "next": "//evil.example/"})
    assert resp.headers["Location"].endswith("/admin/cash/")


@pytest.mark.parametrize("received", ["", "abc", "-3", "1e9", "NaN", "99999999999999999999"])
def test_a_hand_in_with_a_bad_amount_is_refused_and_nothing_changes(app, scene, received):
    world, info = scene
    cs = _client(app, world.cs)
    cs.get("/lang/en")
    url = f"/admin/cash/driver/{world.driver.id}"
    payment_ids = re.findall(r'name="payment_id" value="(\d+)"', _text(cs.get(url)))
    resp = cs.post(f"{url}/hand-in", data={"csrf_token": csrf_token(cs, url),
                                           "payment_id": payment_ids, "received": received,
                                           "note": "留着"})
    assert resp.status_code == 400
    assert "Please enter a valid amount." in _text(resp)
    assert 'value="留着"' in _text(resp)  # what was typed is still there
    with app.app_context():
        assert db.session.scalar(select(func.count(CashHandIn.id))) == 0


def test_a_hand_in_of_no_or_foreign_orders_is_refused(app, scene):
    world, info = scene
    cs = _client(app, world.cs)
    url = f"/admin/cash/driver/{world.driver.id}"
    token = csrf_token(cs, url)
    with app.app_context():
        payment_id = cash.held_by(world.driver.id).payments[0].id
    for data in ({"received": "1"}, {"received": "1", "payment_id": ["abc", "-1"]}):
        assert cs.post(f"{url}/hand-in", data={"csrf_token": token, **data}).status_code \
            == 400
    other = f"/admin/cash/driver/{world.driver2.id}/hand-in"  # not this driver's cash
    assert cs.post(other, data={"csrf_token": token, "payment_id": str(payment_id),
                                "received": "1"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(CashHandIn.id))) == 0


def test_bad_ids_are_not_found(app, scene):
    world, info = scene
    cs = _client(app, world.cs)
    token = csrf_token(cs, "/admin/vouchers/")
    for url in ("/admin/receivables/member/999999", f"/admin/cash/driver/{world.salesman.id}",
                "/admin/cash/driver/999999", "/admin/receivables/member/abc",
                "/admin/cash/driver/99999999999999999999"):
        assert cs.get(url).status_code == 404, url
    for url in ("/admin/vouchers/999999/confirm", "/admin/vouchers/999999/reject",
                "/admin/cash/hand-ins/999999/explain", "/admin/cash/driver/999999/hand-in",
                f"/admin/cash/driver/{world.salesman.id}/hand-in"):
        assert cs.post(url, data={"csrf_token": token, "reason": "x", "received": "1",
                                  "explanation": "x"}).status_code == 404, url
    # Nonsense in the query string is ignored, never a 500.
    for url in ("/admin/receivables/?page=abc&psize=-1&region=x&show=zzz&q=" + "x" * 500,
                "/admin/receivables/?page=99999", "/admin/vouchers/?after=abc&psize=1e9",
                "/admin/cash/hand-ins/?before=-1",
                f"/admin/receivables/member/{info['member_id']}?before=abc&psize=NaN"):
        assert cs.get(url).status_code == 200, url


# ---- receivables ---------------------------------------------------------------------------

def test_receivables_show_balance_credit_and_aging_and_filter_by_region(app, scene, make):
    world, info = scene
    with app.app_context():
        balance = ledger.balance(info["member_id"])
        aging = ledger.agings([info["member_id"]])[info["member_id"]]
        member = db.session.get(Member, info["member_id"])
        available = credit.available(member)
        quiet = make.member(region=world.other_region, shop="不欠款的店")
    assert balance == info["total"] and aging.buckets[0] == balance
    cs = _client(app, world.cs)
    page = _text(cs.get("/admin/receivables/"))
    assert f"¥{balance:.2f}" in page and f"¥{available:.2f}" in page
    assert "¥100000.00" in page
    assert f'data-member="{quiet.id}"' not in page  # owes nothing: not in the default list
    everyone = _text(cs.get("/admin/receivables/?show=all"))
    assert f'data-member="{quiet.id}"' in everyone
    other_region = _text(cs.get(f"/admin/receivables/?show=all&region={world.other_region.id}"))
    assert f'data-member="{quiet.id}"' in other_region
    assert f'data-member="{info["member_id"]}"' not in other_region
    found = _text(cs.get("/admin/receivables/?show=all&q=不欠款"))
    assert f'data-member="{quiet.id}"' in found and \
        f'data-member="{info["member_id"]}"' not in found
    account = _text(cs.get(f"/admin/receivables/member/{info['member_id']}"))
    assert f'href="/admin/orders/show/{info["order_id"]}"' in account
    assert f'data-balance="{balance:.2f}"' in account


def test_the_ledger_pages_newest_first(app, scene):
    world, info = scene
    cs = _client(app, world.cs)
    url = f"/admin/receivables/member/{info['member_id']}"
    with app.app_context():
        entries = ledger.entries(info["member_id"], None, 100)
    assert len(entries) >= 3
    first = _text(cs.get(url + "?psize=25"))
    shown = [int(i) for i in re.findall(r'data-entry="(\d+)"', first)]
    assert shown == [e.id for e in entries][:25]
    # Running balance: the newest entry's is the balance.
    with app.app_context():
        balance = ledger.balance(info["member_id"])
    with app.test_request_context():
        running = ledger.running_balances(info["member_id"], entries)
        assert running[entries[0].id] == balance
        assert running[entries[-1].id] == entries[-1].amount
    older = _text(cs.get(f"{url}?before={entries[1].id}"))
    assert [int(i) for i in re.findall(r'data-entry="(\d+)"', older)] == \
        [e.id for e in entries[2:]]


def test_the_batch_available_credit_agrees_with_the_service(app, scene, make):
    world, info = scene
    with app.app_context():
        members = db.session.scalars(select(Member)).all()
        for i, member in enumerate(members):
            if i % 2:
                member.credit_limit = Decimal("50.00") * i
        db.session.commit()
        balances = ledger.balances([m.id for m in members])
        batch = credit.available_many(members, balances)
        assert batch == {m.id: credit.available(m) for m in members}
        assert any(value is not None for value in batch.values())


def test_aging_labels_follow_the_ledger_buckets():
    assert len(AGING_LABELS) == len(ledger.AGING_BUCKETS)


# ---- the credit limit on the member form ---------------------------------------------------

def _edit_form(page):
    """The member edit form's fields as the page rendered them."""
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page):
        data[name] = value
    for name, body in re.findall(r'<select[^>]*name="([a-z_]+)"[^>]*>(.*?)</select>', page,
                                 re.S):
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', body) or \
            re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', body)
        data[name] = chosen[1] if chosen else ""
    data.pop("monthly_settlement", None)
    return data


def test_the_credit_limit_is_set_on_the_member_form_and_bad_values_are_refused(app, scene):
    world, info = scene
    admin = _client(app, world.admin)
    admin.get("/lang/en")
    url = f"/admin/members/edit/{info['member_id']}"
    page = _text(admin.get(url))
    assert 'name="credit_limit"' in page and 'value="100000.00"' in page
    data = _edit_form(page)
    data["monthly_settlement"] = "y"
    for bad in ("abc", "-1", "1.234", "12345678901", "1e5", "NaN", "１２", "1,000"):
        resp = admin.post(url, data={**data, "credit_limit": bad})
        assert resp.status_code == 400, bad
        assert "Please enter the credit limit as an amount" in _text(resp), bad
        with app.app_context():
            assert db.session.get(Member, info["member_id"]).credit_limit == \
                Decimal("100000.00"), bad
    resp = admin.post(url, data={**data, "credit_limit": "5000.5"})
    assert resp.status_code == 302
    with app.app_context():
        member = db.session.get(Member, info["member_id"])
        assert member.credit_limit == Decimal("5000.50") and member.monthly_settlement
    show = _text(admin.get(f"/admin/members/show/{info['member_id']}"))
    assert "¥5000.50" in show and "Available credit" in show
    assert f'href="/admin/receivables/member/{info["member_id"]}"' in show
    resp = admin.post(url, data={**data, "credit_limit": "9999999999.99"})
    assert resp.status_code == 302
    without = {k: v for k, v in data.items() if k != "credit_limit"}
    assert admin.post(url, data=without).status_code == 302  # a form without the field
    with app.app_context():  # ... leaves the limit as it was
        assert db.session.get(Member, info["member_id"]).credit_limit == \
            Decimal("9999999999.99")
    resp = admin.post(url, data={**data, "credit_limit": ""})  # blank: no limit
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Member, info["member_id"]).credit_limit is None
    assert "No limit" in _text(admin.get(f"/admin/members/show/{info['member_id']}"))


def test_a_salesman_cannot_reach_the_member_form(app, scene):
    world, info = scene
    salesman = _client(app, world.salesman)
    assert salesman.get(f"/admin/members/edit/{info['member_id']}").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(LedgerEntry.id))) > 0


# ---- statements ------------------------------------------------------------------------

def test_statements_are_listed_issued_on_demand_and_downloaded(app, scene, make):
    from app.payments import statements
    from app.payments.models import Statement

    world, info = scene
    cs = _client(app, world.cs)
    cs.get("/lang/en")
    assert "No statements yet" in _text(cs.get("/admin/statements/"))
    page = _text(cs.get("/admin/statements/"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    with app.app_context():
        last = statements.previous_month(statements.month_of(local_date()))
        this = statements.month_of(local_date())
    refused = cs.post("/admin/statements/issue", data={"csrf_token": token,
                                                       "month": f"{this:%Y-%m}"})
    assert refused.status_code == 302
    assert "month that is over" in _text(cs.get("/admin/statements/"))
    done = cs.post("/admin/statements/issue", data={"csrf_token": token,
                                                    "month": f"{last:%Y-%m}"})
    assert done.status_code == 302
    listed = _text(cs.get(f"/admin/statements/?month={last:%Y-%m}"))
    with app.app_context():
        statement = db.session.scalar(select(Statement))
    assert statement.member_id == info["member_id"]  # the 统一结算 member only
    assert statement.number in listed and "Waiting for confirmation" in listed
    pdf = cs.get(f"/admin/statements/{statement.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert cs.get(f"/admin/statements/{statement.id}.xlsx").status_code == 200
    assert cs.get(f"/admin/statements/{statement.id}.doc").status_code == 404
    assert cs.get("/admin/statements/99999999.pdf").status_code == 404
    assert cs.get("/admin/statements/?status=disputed").status_code == 200
    assert cs.get("/admin/statements/?month=nonsense").status_code == 200
    for who in (world.customer, world.salesman, world.driver):
        other = _client(app, who)
        assert other.get("/admin/statements/").status_code in (302, 403)
        assert other.get(f"/admin/statements/{statement.id}.pdf").status_code in (302, 403)
        assert other.post("/admin/statements/issue", data={
            "csrf_token": token, "month": f"{last:%Y-%m}"}).status_code in (302, 400, 403)
    with app.app_context():
        assert db.session.scalar(select(func.count(Statement.id))) == 1
