"""Money over the API: a transfer voucher on my order, the salesman's decision, my account
and credit, my statements (read, download, confirm), a driver's cash; each refused to
the people the web refuses."""

import io
from datetime import datetime
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select, update

from app.extensions import db
from app.members.models import Member
from app.ordering import workflow
from app.ordering.models import Order
from app.payments import statements
from app.payments.models import LedgerEntry, Statement, Voucher
from app.platform.time import local_date
from tests import test_api as api_tests
from tests.order_factory import add_photo
from tests.test_api_customer import EN, auth, image

world = api_tests.world


def test_a_voucher_sent_over_the_api_and_confirmed_by_the_salesman(app, client, world):
    with app.app_context():
        order = world.order("confirmed", payment="bank")
        order_no, total = order.order_no, str(order.total)
    headers = auth(client, world.customer, **EN)
    url = f"/api/v1/orders/{order_no}/vouchers"
    bad = client.post(url, headers=headers, data={"photo": image(), "amount": "abc",
                                                  "paid_on": local_date().isoformat()})
    assert bad.status_code == 400 and bad.get_json()["errors"] == {
        "amount": ["Please enter a valid amount."]}
    no_photo = client.post(url, headers=headers, data={"amount": total})
    assert no_photo.status_code == 400 and no_photo.get_json()["errors"] == {
        "image": ["Please choose an image."]}
    sent = client.post(url, headers=headers, data={
        "photo": image(), "amount": total, "paid_on": local_date().isoformat(),
        "remark": "工行尾号 1234"})
    assert sent.status_code == 201, sent.get_json()
    [voucher] = sent.get_json()["vouchers"]
    assert voucher["status"] == "pending" and voucher["amount"] == total
    assert voucher["photo"]["url"].startswith("/media/signed/")
    assert "used_on_other_orders" not in voucher  # staff only
    # Someone else's order does not exist for another customer.
    other = auth(client, world.other_customer)
    assert client.post(url, headers=other, data={"photo": image(), "amount": "1",
                                                 "paid_on": local_date().isoformat()}
                       ).status_code == 404

    staff = auth(client, world.salesman, **EN)
    detail = client.get(f"/api/v1/sales/orders/{order_no}", headers=staff).get_json()
    assert detail["vouchers"][0]["used_on_other_orders"] == []
    assert "confirm_voucher" in detail["actions"]
    action = f"/api/v1/sales/orders/{order_no}/actions"
    far = auth(client, world.other_salesman)
    assert client.post(action, headers=far, json={"action": "confirm_voucher",
                                                  "voucher_id": voucher["id"]}
                       ).status_code == 404
    done = client.post(action, headers=staff, json={"action": "confirm_voucher",
                                                    "voucher_id": voucher["id"]})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["payment_status"] == "paid"
    again = client.post(action, headers=staff, json={"action": "reject_voucher",
                                                     "voucher_id": voucher["id"],
                                                     "reason": "重复"})
    assert again.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Voucher.status)) == "confirmed"


def test_my_account_shows_what_i_owe_and_my_credit(app, client, world):
    with app.app_context():
        member = db.session.get(Member, world.customer.id)
        member.monthly_settlement, member.credit_limit = True, Decimal("500.00")
        db.session.commit()
        order = world.order("received", payment="monthly")
        total = order.total
    headers = auth(client, world.customer, **EN)
    body = client.get("/api/v1/me/account", headers=headers).get_json()
    assert body["balance"] == str(total) and body["credit_limit"] == "500.00"
    assert body["available"] == str(Decimal("500.00") - total)
    assert body["aging"]["buckets"][0] == str(total)
    assert [e["kind"] for e in body["entries"]] == ["delivery"]
    assert body["entries"][0]["kind_label"] == "Goods delivered (owed)"
    assert client.get("/api/v1/me/account",
                      headers=auth(client, world.driver)).status_code == 403
    quote = client.get("/api/v1/checkout?delivery=delivery&payment=monthly",
                       headers=headers).get_json()
    assert quote["credit_available"] == body["available"]
    assert client.get("/api/v1/checkout?delivery=delivery&payment=cod",
                      headers=headers).get_json()["credit_available"] is None


def test_my_statements_read_downloaded_and_confirmed(app, client, world):
    with app.app_context():
        db.session.get(Member, world.customer.id).monthly_settlement = True
        db.session.commit()
        order = world.order("received", payment="monthly")
        db.session.execute(update(LedgerEntry).values(created_at=datetime(2026, 9, 9, 3)))
        db.session.commit()
        statements.issue(statements.parse_period("2026-09"))
        statement_id = db.session.scalar(select(Statement.id))
        order_no = order.order_no
    headers = auth(client, world.customer, **EN)
    [item] = client.get("/api/v1/me/statements", headers=headers).get_json()["items"]
    assert item["month"] == "2026-09" and item["status_label"] == "Waiting for confirmation"
    url = f"/api/v1/me/statements/{statement_id}"
    detail = client.get(url, headers=headers).get_json()
    assert [line["order_no"] for line in detail["lines"]] == [order_no]
    pdf = client.get(url + "/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    xlsx = client.get(url + "/xlsx", headers=headers)
    assert load_workbook(io.BytesIO(xlsx.data)).active["B2"].value == item["number"]
    other = auth(client, world.other_customer)
    for path in ("", "/pdf", "/xlsx"):
        assert client.get(url + path, headers=other).status_code == 404
    assert client.post(url, headers=other, json={"confirm": True}).status_code == 404
    disputed = client.post(url, headers=headers, json={"confirm": False})
    assert disputed.status_code == 400
    done = client.post(url, headers=headers, json={"confirm": True})
    assert done.status_code == 200 and done.get_json()["status"] == "confirmed"
    assert client.post(url, headers=headers, json={"confirm": False, "remark": "x"}
                       ).status_code == 400


def test_a_driver_sees_the_cash_they_hold(app, client, world):
    with app.app_context():
        order = world.order("delivering")
        driver = world.user(world.driver)
        add_photo(order, driver)
        workflow.apply(db.session.get(Order, order.id), "complete_delivery", driver,
                       cash_collected=str(order.total))
        order_no, total = order.order_no, str(order.total)
    body = client.get("/api/v1/driver/cash", headers=auth(client, world.driver)).get_json()
    assert body["total"] == total and [i["order_no"] for i in body["items"]] == [order_no]
    assert client.get("/api/v1/driver/cash", headers=auth(client, world.driver2)
                      ).get_json()["items"] == []
    assert client.get("/api/v1/driver/cash",
                      headers=auth(client, world.customer)).status_code == 403
