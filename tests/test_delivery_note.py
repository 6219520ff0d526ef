"""出库签收单: the delivery-note PDF of one order and of a batch, and who may print it."""

import io
import os

import pytest
import reportlab
from pypdf import PdfReader

from app.extensions import db
from app.ordering import delivery_note, workflow
from app.ordering.models import OrderLine
from app.platform.models import ShopSettings
from tests.conftest import csrf_token, login
from tests.order_factory import World

SHOP = "椰城酒店用品批发"


@pytest.fixture
def world(app, make):
    with app.app_context():
        db.session.add(ShopSettings(shop_name=SHOP, theme_color="#E4393C", is_open=True,
                                    auto_receive_days=7))
        db.session.commit()
        return World(app, make)


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def _client(app, ref):
    client = app.test_client()
    login(client, ref.mobile)
    return client


def test_render_has_the_shop_the_lines_and_the_order_number(app, world):
    with app.test_request_context():
        order = world.order("assigned")
        order.remark = "请放前台 <b>勿压</b>"  # markup in a remark stays plain text
        db.session.commit()
        pdf = delivery_note.render([order])
        order_no, driver = order.order_no, order.driver
        pages, text = _text(pdf)
        assert pdf.startswith(b"%PDF")
        assert pages == 1
        assert SHOP in text and "矿泉水" in text and order_no in text
        assert "2 盒" in text and "40 把" in text  # packs and base units
        # STSong-Light has no U+00B7: the plate's middle dot is printed as U+30FB.
        assert driver.name in text and driver.plate.replace("·", "・") in text
        assert "请放前台 <b>勿压</b>" in text
        assert "黄经理" in text and "海甸二东路 25 号" in text


def test_packs_text():
    assert delivery_note.packs_text(60, 20, "盒", "把") == "3 盒"
    assert delivery_note.packs_text(65, 20, "盒", "把") == "3 盒 5 把"
    assert delivery_note.packs_text(5, 20, "盒", "把") == "5 把"
    assert delivery_note.packs_text(7, 1, "个", "个") == "7 个"


def test_a_long_order_runs_over_pages_and_a_true_type_font_can_be_set(app, world):
    font = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")
    with app.test_request_context():
        order = world.order("pending")
        first = order.lines[0]
        for n in range(60):
            order.lines.append(OrderLine(
                product_name=f"Item {n}", base_unit=first.base_unit,
                inner_unit=first.inner_unit, inner_qty=first.inner_qty,
                outer_unit=first.outer_unit, outer_qty=first.outer_qty,
                unit_price=first.unit_price, quantity=first.quantity, amount=first.amount))
        db.session.flush()
        pages, text = _text(delivery_note.render([order]))
        assert pages >= 2 and "Item 59" in text
        db.session.rollback()  # back to the one line
        app.config["PDF_FONT_PATH"] = font
        try:
            pages, text = _text(delivery_note.render([order]))
        finally:
            app.config.pop("PDF_FONT_PATH")
        assert pages == 1 and order.order_no in text
        app.config["PDF_FONT_PATH"] = "/nonexistent/font.ttf"  # logged; the CID font prints
        try:
            pages, text = _text(delivery_note.render([order]))
        finally:
            app.config.pop("PDF_FONT_PATH")
        assert pages == 1 and SHOP in text


def test_the_pdf_route_and_the_batch_action(app, world):
    with app.app_context():
        orders = [world.order(state) for state in ("pending", "confirmed", "assigned")]
        ids = [o.id for o in orders]
        numbers = [o.order_no for o in orders]
    cs = _client(app, world.cs)
    resp = cs.get(f"/admin/orders/note/{ids[0]}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("inline") and numbers[0] in disposition
    pages, text = _text(resp.data)
    assert pages == 1 and numbers[0] in text and SHOP in text
    token = csrf_token(cs, "/admin/orders/list/")
    resp = cs.post("/admin/orders/action_post", data={
        "csrf_token": token, "action": "print_notes", "rowid": [str(i) for i in ids]})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("inline")
    pages, text = _text(resp.data)
    assert pages == 3
    readers = PdfReader(io.BytesIO(resp.data)).pages
    for page, number in zip(readers, numbers, strict=True):  # one page each, in order
        assert number in page.extract_text()
    resp = cs.post("/admin/orders/action_post", data={
        "csrf_token": token, "action": "print_notes", "rowid": ["999999"]})
    assert resp.status_code == 302  # nothing printable: back to the list
    assert cs.get("/admin/orders/note/999999.pdf").status_code == 404


@pytest.mark.parametrize("who", ["salesman", "driver", "customer"])
def test_non_staff_cannot_print(app, world, who):
    with app.app_context():
        order = world.order("assigned")
        workflow.apply(order, "start_delivery", world.user(world.driver))
        order_id = order.id
    client = _client(app, {"salesman": world.salesman, "driver": world.driver,
                           "customer": world.customer}[who])
    resp = client.get(f"/admin/orders/note/{order_id}.pdf")
    assert resp.status_code == 403 and resp.mimetype != "application/pdf"
    anonymous = app.test_client().get(f"/admin/orders/note/{order_id}.pdf")
    assert anonymous.status_code == 302 and "login" in anonymous.headers["Location"]
