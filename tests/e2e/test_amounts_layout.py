"""Amounts and action buttons on every mobile page that shows money, at 320 px and
375 px, in Chinese and English: an amount (¥123456.78) never breaks over lines, never
shrinks out of its box, and the buttons side by side in one row are equally tall.

The orders carry a very long product name (Chinese with a long Latin run in it), a long
shop name and six-figure amounts, so that a value cell squeezed by its label shows. The
rows are built in their own region with their own customer, salesman and driver, so
the demo data the other browser tests use stays as it was. Screenshots of every page go
to tests/e2e/screenshots/ (80-…)."""

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, Factory
from tests.e2e.test_mobile_shell import assert_fits_phone

pytestmark = pytest.mark.e2e

WIDTHS = (320, 375)
LONG_NAME = ("海南特级椰子鸡火锅底料商用超大桶装配套蘸料组合礼盒"
             "ExtraLargeCommercialEditionWithoutAnySpaces2026款")
SECOND_NAME = "琼州老字号手工黄灯笼辣椒酱（酒店餐饮专用十二瓶整箱批发装）"
SHORT_NAME = "椰树牌椰汁"  # a name that fits: it squeezed the amount beside it (¥12/9.0/0)
SHOP_NAME = "三亚湾海景国际大酒店连锁管理有限公司第一百二十八分店采购部"
SEARCH = "椰子鸡火锅底料"

# Every amount on the page (the `yuan` filter's and shop.js's format) lies on one line,
# inside the screen and inside any box that clips it; an element holding nothing but an
# amount, or a .money/.price/.pprice element, keeps white-space: nowrap and one line box;
# the buttons next to each other in one row are equally tall.
CHECK_JS = r"""
() => {
  const MONEY = /¥\d+\.\d{2}/g;
  const ONLY = /^¥\d+\.\d{2}$/;
  const problems = [];
  let amounts = 0, rows = 0;
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const name = (el) => el.tagName.toLowerCase()
    + (typeof el.className === 'string' && el.className.trim()
       ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const lineHeight = (el) => {
    const style = getComputedStyle(el);
    const lh = parseFloat(style.lineHeight);
    return isNaN(lh) ? 1.25 * parseFloat(style.fontSize) : lh;
  };
  const width = document.documentElement.clientWidth;
  // Text fragments on one line overlap vertically (a smaller "/瓶" sits lower, not apart).
  const lineCount = (rects) => {
    let lines = 0, bottom = -Infinity;
    for (const r of [...rects].sort((a, b) => a.top - b.top)) {
      if (r.top >= bottom - 1) { lines += 1; bottom = r.bottom; }
      else bottom = Math.max(bottom, r.bottom);
    }
    return lines;
  };

  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, template, option, textarea, [hidden]')
        || !shown(parent)) continue;
    for (const m of node.data.matchAll(MONEY)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      if (!rects.length) continue;
      amounts += 1;
      const lines = lineCount(rects);
      if (lines !== 1) problems.push(`${m[0]} in ${name(parent)} breaks over ${lines} lines`);
      const box = range.getBoundingClientRect();
      if (box.left < -0.5 || box.right > width + 0.5)
        problems.push(`${m[0]} in ${name(parent)} sticks out of the screen `
                      + `(${Math.round(box.left)}..${Math.round(box.right)})`);
      for (let up = parent; up && up !== document.body; up = up.parentElement) {
        const style = getComputedStyle(up);
        if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
        const clip = up.getBoundingClientRect();
        if (box.left < clip.left - 0.5 || box.right > clip.right + 0.5)
          problems.push(`${m[0]} is cut off by ${name(up)}`);
        break;
      }
    }
  }

  // The text itself is measured, not the element's box: a cell stretched to the height
  // of the row beside it is fine, its text on two lines is not.
  const nowrap = (el) => ['nowrap', 'pre'].includes(getComputedStyle(el).whiteSpace);
  for (const el of document.body.querySelectorAll('*')) {
    const text = el.textContent.trim();
    const marked = el.matches('.money, .price, .pprice') && /¥\d/.test(text);
    if (!(marked || ONLY.test(text)) || !shown(el) || el.closest('[hidden]')) continue;
    const holder = [el, ...el.querySelectorAll('*')].find(
      (d) => d.textContent.trim() === text && nowrap(d));
    if (!holder)
      problems.push(`${text} in ${name(el)} may wrap `
                    + `(white-space: ${getComputedStyle(el).whiteSpace})`);
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    const lines = lineCount(rects);
    const height = range.getBoundingClientRect().height;
    const inline = getComputedStyle(el).display === 'inline';
    const boxes = inline ? el.getClientRects().length : 1;
    if (lines !== 1 || boxes !== 1 || height > 1.5 * lineHeight(el) + 0.5)
      problems.push(`${text} in ${name(el)}: ${lines} lines, ${boxes} boxes, `
                    + `${height.toFixed(1)}px tall (line-height ${lineHeight(el).toFixed(1)}px)`);
  }

  // A row: the nearest box around a button that holds another button (looked for up
  // to the card, bar or form row around it); side by side: their heights overlap.
  const buttons = [...document.querySelectorAll('button, .btn, .obtn, input[type=submit]')]
    .filter((b) => shown(b) && !b.closest('[hidden]'));
  const seen = new Set();
  for (const b of buttons) {
    let row = null;
    for (let up = b.parentElement; up && up !== document.body; up = up.parentElement) {
      if (buttons.some((o) => o !== b && up.contains(o))) { row = up; break; }
      if (up.matches('.card, .orderbar, .saddbar, .freq, .searchbar, .topbar')) break;
    }
    if (!row || seen.has(row)) continue;
    seen.add(row);
    const inRow = buttons.filter((o) => row.contains(o)).map((o) => [o, o.getBoundingClientRect()]);
    for (const [x, rx] of inRow) for (const [y, ry] of inRow) {
      if (x === y || rx.left >= ry.left) continue;
      if (rx.top >= ry.bottom || ry.top >= rx.bottom) continue;  // different lines
      rows += 1;
      if (Math.abs(rx.height - ry.height) > 1)
        problems.push(`buttons "${x.textContent.trim()}" (${rx.height.toFixed(1)}px) and `
                      + `"${y.textContent.trim()}" (${ry.height.toFixed(1)}px) in ${name(row)} `
                      + 'differ in height');
    }
  }
  return {problems: [...new Set(problems)], amounts, rows};
}
"""


@dataclass
class Big:
    """The rows this module made: who signs in, and the order numbers by state."""

    customer: str
    salesman: str
    driver: str
    member_id: int
    product_id: int
    orders: dict = field(default_factory=dict)


def _order(customer, specs, delivery="delivery", payment="cod"):
    from app.ordering import cart, checkout

    cart.add_to_cart(customer, specs)
    return checkout.submit(customer, customer, {
        "idempotency_key": uuid.uuid4().hex, "delivery": delivery, "payment": payment,
        "province": "海南省", "city": "三亚市", "district": "天涯区",
        "street": "三亚湾路 188 号海景国际大酒店后勤通道 B 座二楼采购部收货处",
        "contact": "黄经理", "phone": "13912345678"})


@pytest.fixture(scope="module")
def big(live_app):
    from app.catalog import services as catalog
    from app.extensions import db
    from app.members.models import Member
    from app.ordering import cart, workflow
    from app.ordering.models import DeliveryPhoto, Order, RegionDeliveryFee
    from tests import catalog_factory as cf

    make = Factory(live_app)
    region = make.region(name=f"长名测试区{uuid.uuid4().hex[:4]}")
    salesman = make.staff("salesman", [region], name="测试经理")
    driver = make.staff("driver", [region], name="测试司机", plate="琼C·99999")
    member = make.member(region=region, shop=SHOP_NAME)
    with live_app.app_context():
        db.session.add(RegionDeliveryFee(region_id=region.id, fee=Decimal("1234.56")))
        db.session.get(Member, member.id).own_salesman_id = salesman.id
        db.session.commit()
        unit = cf.pack(inner=10, outer=100, base="桶", inner_unit="箱", outer_unit="托")
        long = cf.product(name=LONG_NAME, item_no=f"AMT-{uuid.uuid4().hex[:6]}",
                          price="12345.67", stock=1_000_000, unit=unit,
                          model="XL-20L商用装", specs=2)
        long.specs[1].base_price = Decimal("23456.78")  # two prices: "from ¥12345.67"
        catalog.refresh_derived(long)
        db.session.commit()
        second = cf.product(name=SECOND_NAME, item_no=f"AMT-{uuid.uuid4().hex[:6]}",
                            price="1234.56", stock=1_000_000, unit=unit, model="500g×12")
        short = cf.product(name=SHORT_NAME, item_no=f"AMT-{uuid.uuid4().hex[:6]}",
                           price="12.90", stock=1_000_000, unit=unit, model="1L")
        a, b, c = long.specs[0].id, second.specs[0].id, short.specs[0].id
        sm = live_app.appbuilder.sm
        customer = sm.get_user_by_id(member.user_id)
        sales_user, driver_user = sm.get_user_by_id(salesman.user_id), sm.get_user_by_id(
            driver.user_id)
        made = {}

        def photo(order):
            db.session.add(DeliveryPhoto(order_id=order.id,
                                         key=f"private/delivery/{uuid.uuid4().hex}.jpg",
                                         uploaded_by_id=driver_user.id))
            db.session.commit()

        made["received"] = _order(customer, {a: 10, b: 100, c: 10})  # shipped, received, paid
        workflow.apply(made["received"], "confirm", sales_user)
        workflow.apply(made["received"], "ship", sales_user, ship_method="express",
                       note="顺丰速运 SF1234567890123")
        workflow.apply(made["received"], "confirm_receipt", customer)
        workflow.apply(made["received"], "mark_paid", sales_user, note="工行转账已到账",
                       amount=str(made["received"].total))
        made["shipped"] = _order(customer, {a: 20})
        workflow.apply(made["shipped"], "confirm", sales_user)
        workflow.apply(made["shipped"], "ship", sales_user, ship_method="logistics",
                       note="德邦物流 DB9876543210")
        made["refund"] = _order(customer, {a: 10, b: 10})  # delivered, a refund waiting
        for action, actor, data in (
                ("confirm", sales_user, {}), ("assign_driver", sales_user,
                                             {"driver_id": driver.id}),
                ("start_delivery", driver_user, {})):
            workflow.apply(made["refund"], action, actor, **data)
        photo(made["refund"])
        workflow.apply(made["refund"], "complete_delivery", driver_user,
                       cash_collected=str(made["refund"].total))
        line = made["refund"].lines[0]
        workflow.apply(made["refund"], "request_refund", customer, reason="外箱压坏三箱",
                       lines=[{"line_id": line.id, "quantity": 10}])
        made["delivering"] = _order(customer, {a: 30, b: 100})
        for action, actor, data in (
                ("confirm", sales_user, {}), ("assign_driver", sales_user,
                                             {"driver_id": driver.id}),
                ("start_delivery", driver_user, {})):
            workflow.apply(made["delivering"], action, actor, **data)
        photo(made["delivering"])
        made["assigned"] = _order(customer, {a: 10})
        workflow.apply(made["assigned"], "confirm", sales_user)
        workflow.apply(made["assigned"], "assign_driver", sales_user, driver_id=driver.id)
        made["pending"] = _order(customer, {c: 10, a: 10, b: 100})
        workflow.apply(made["pending"], "edit", sales_user, op="set_price",
                       line_id=made["pending"].lines[1].id, price="1200.00",
                       reason="老客户协议价")
        cart.add_to_cart(customer, {a: 10, b: 100})  # for the cart, checkout, 代客下单
        numbers = {state: db.session.get(Order, o.id).order_no for state, o in made.items()}
        product_id = long.id
        db.session.remove()
    return Big(customer=member.mobile, salesman=salesman.mobile, driver=driver.mobile,
               member_id=member.id, product_id=product_id, orders=numbers)


def _sign_in(new_page, mobile, lang):
    page = new_page()
    page.goto(f"/auth/lang/{lang}?next=/auth/login")
    page.fill("#mobile", mobile)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/me$"))
    return page


def _check(page, shot, name, lang, prepare=None, expect_amounts=True, buttons=False):
    """Check the page open in `page` at each width; a list of what is wrong. `buttons`:
    the page has buttons side by side at one width at least (so that their check is not
    empty; at 320 px they may go one under the other)."""
    problems, side_by_side = [], 0
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 720})
        if prepare:
            prepare(page)
        page.wait_for_timeout(50)
        found = page.evaluate(CHECK_JS)
        where = f"{name} {lang} {width}px ({urlpath(page)})"
        if expect_amounts and not found["amounts"]:
            problems.append(f"{where}: no amount on the page")
        side_by_side += found["rows"]
        problems += [f"{where}: {p}" for p in found["problems"]]
        try:
            assert_fits_phone(page)
        except AssertionError as exc:
            problems.append(f"{where}: {exc}")
        page.evaluate("window.scrollTo(0, 0)")  # a full-page shot draws sticky bars in place
        shot(page, f"80-{name}-{lang}-{width}")
    if buttons and not side_by_side:
        problems.append(f"{name} {lang} ({urlpath(page)}): no buttons side by side")
    return problems


def urlpath(page):
    return re.sub(r"^https?://[^/]+", "", page.url)


def _visit(page, shot, url, name, lang, **kw):
    response = page.goto(url)
    assert response.status == 200, f"{url}: {response.status}"
    return _check(page, shot, name, lang, **kw)


def _step_once(page):
    """One more inner pack of the first spec, so the running totals (shop.js) show."""
    box = page.locator(".spec:has(.stepper) input[type=number]").first
    if box.input_value() == "0":
        page.locator('.spec:has(.stepper) [data-step="1"]').first.click()
        expect(page.locator("[data-osum]")).to_contain_text("¥")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_customer_pages(new_page, shot, big, lang):
    page = _sign_in(new_page, big.customer, lang)
    problems = []
    problems += _visit(page, shot, "/", "home", lang)
    problems += _visit(page, shot, "/category", "category", lang)
    problems += _visit(page, shot, f"/search?q={SEARCH}", "search", lang)
    expect(page.locator("[data-product]").first).to_contain_text("椰子鸡")
    problems += _visit(page, shot, f"/product/{big.product_id}", "product", lang,
                       prepare=_step_once)
    problems += _visit(page, shot, "/cart", "cart", lang)
    expect(page.locator("[data-cart-line]")).to_have_count(2)
    problems += _visit(page, shot, "/checkout", "checkout", lang)
    problems += _visit(page, shot, "/orders", "orders", lang)
    problems += _visit(page, shot, "/frequent", "frequent", lang, expect_amounts=False)
    expect(page.locator("form.freq")).to_have_count(3)
    for state, order_no in big.orders.items():
        problems += _visit(page, shot, f"/orders/{order_no}", f"order-{state}", lang,
                           buttons=state in ("pending", "shipped", "received"))  # 2 actions
    expect(page.locator(".card.actions .btn")).to_have_count(2)  # pending: cancel, again
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_business_end_pages(new_page, shot, big, lang):
    page = _sign_in(new_page, big.salesman, lang)
    problems = []
    problems += _visit(page, shot, "/sales/", "sales-orders", lang)
    problems += _visit(page, shot, "/sales/?tab=all", "sales-orders-all", lang)
    problems += _visit(page, shot, "/sales/customers", "sales-customers", lang,
                       expect_amounts=False)
    problems += _visit(page, shot, f"/sales/customers/{big.member_id}/order", "sales-order-for",
                       lang)
    expect(page.locator("[data-cart-line]")).to_have_count(2)
    problems += _visit(page, shot, f"/sales/customers/{big.member_id}/order?q={SEARCH}",
                       "sales-order-for-search", lang, prepare=_step_once)
    problems += _visit(page, shot, "/sales/performance", "sales-performance", lang)
    for state, order_no in big.orders.items():
        problems += _visit(page, shot, f"/sales/orders/{order_no}", f"sales-order-{state}",
                           lang, buttons=state == "refund")  # approve, reject
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_driver_end_pages(new_page, shot, big, lang):
    page = _sign_in(new_page, big.driver, lang)
    problems = []
    problems += _visit(page, shot, "/driver/", "driver-to-load", lang)
    problems += _visit(page, shot, "/driver/?tab=delivering", "driver-delivering", lang)
    problems += _visit(page, shot, "/driver/?tab=today", "driver-today", lang,
                       expect_amounts=False)  # delivered and paid: nothing to collect
    problems += _visit(page, shot, "/driver/loading", "driver-loading", lang)
    for state in ("assigned", "delivering", "refund"):
        problems += _visit(page, shot, f"/driver/orders/{big.orders[state]}",
                           f"driver-order-{state}", lang)
    assert not problems, "\n".join(problems)
