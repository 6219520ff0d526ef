"""The back office's message screens in a real browser: the log with its filters and
"retry now", a template edited with a preview, and the queue state; zh and en, at a
phone's width and on a desktop. Screenshots go to tests/e2e/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_mobile_shell import ADMIN, CUSTOMER_SERVICE, assert_fits_phone, sign_in

pytestmark = pytest.mark.e2e

FAILED_RECIPIENT = "13912340001"
UNCERTAIN_RECIPIENT = "13912340002"


@pytest.fixture(scope="module")
def troubled_messages(live_app):
    """One SMS the gateway refused and one it never answered, as a real gateway leaves them."""
    from app.extensions import db
    from app.messaging.jobs import NO_ANSWER
    from app.messaging.models import Channel, Message, MessageStatus

    with live_app.app_context():
        rows = [
            Message(event="order_confirmed", channel=Channel.SMS, recipient=FAILED_RECIPIENT,
                    template="order_confirmed", params={"order_no": "20261201000777"},
                    body="订单确认通知：您的订单20261201000777已确认，我们会尽快为您发货。",
                    status=MessageStatus.FAILED, provider="aliyun", attempts=1,
                    last_error="isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"),
            Message(event="new_order", channel=Channel.SMS, recipient=UNCERTAIN_RECIPIENT,
                    template="new_order", params={"order_no": "20261201000778"},
                    body="有新订单20261201000778，请尽快登录小程序业务管理查看处理。",
                    status=MessageStatus.UNCERTAIN, provider="tencent", attempts=1,
                    last_error=NO_ANSWER),
            Message(event="order_shipping", channel=Channel.SMS, recipient=UNCERTAIN_RECIPIENT,
                    template="order_shipping", params={"order_no": "20261201000779"},
                    body="您的订单20261201000779正在发货中，司机或物流信息可在“待发货”中查看。",
                    status=MessageStatus.UNCERTAIN, provider="tencent", attempts=1,
                    last_error=NO_ANSWER),
        ]
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.id for row in rows]
        db.session.remove()
    return ids


def _row(page, message_id):
    return page.locator(f"tr[data-message='{message_id}']")


def test_customer_service_finds_a_failed_sms_and_sends_it_again(new_page, shot,
                                                               troubled_messages):
    failed_id, _uncertain_id, resent_id = troubled_messages
    page = new_page()
    sign_in(page, CUSTOMER_SERVICE)
    page.goto("/admin/messages/list/")
    expect(page.locator("h2")).to_contain_text("消息记录")
    assert_fits_phone(page)
    shot(page, "60-message-log-phone-zh")

    page.locator("a[data-status='failed']").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(_row(page, failed_id)).to_contain_text("非法手机号")
    assert_fits_phone(page)
    shot(page, "61-message-log-failed-phone-zh")

    _row(page, failed_id).locator("a", has_text="详情").click()
    expect(page.locator(".alert-danger")).to_contain_text("没有发出")
    assert_fits_phone(page)
    shot(page, "62-message-failed-phone-zh")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form.retry-form button").click()
    expect(page.locator(".alert-success")).to_contain_text(f"#{failed_id}")
    # With the embedded `log` provider the resent message is kept, not sent.
    expect(page.locator("h2 [data-status]")).to_have_attribute("data-status", "logged")
    expect(page.locator("form.retry-form")).to_have_count(0)
    shot(page, "63-message-retried-phone-zh")

    # An uncertain one may already have arrived: its button in the list opens its page,
    # where it is sent again only once the box saying one checked is ticked.
    page.goto("/admin/messages/list/?status=uncertain")
    _row(page, resent_id).locator(f"a[data-retry='{resent_id}']").click()
    expect(page).to_have_url(re.compile(rf"/admin/messages/show/{resent_id}#retry$"))
    assert_fits_phone(page)
    shot(page, "63b-message-uncertain-phone-zh")
    page.locator("form.retry-form button").click()  # not ticked: the browser holds it
    expect(page.locator("h2 [data-status]")).to_have_attribute("data-status", "uncertain")
    page.locator("input[name=confirm]").check()
    page.locator("form.retry-form button").click()
    expect(page.locator(".alert-success")).to_contain_text(f"#{resent_id}")
    expect(page.locator("h2 [data-status]")).to_have_attribute("data-status", "logged")

    # Customer service reads the log but is refused the templates.
    page.goto("/admin/message-templates/edit/order_confirmed/sms")
    expect(page.locator("form#template-form")).to_have_count(0)


def test_admin_edits_an_sms_template_with_a_preview(new_page, shot):
    page = new_page()
    sign_in(page, ADMIN)
    page.goto("/admin/message-templates/")
    assert_fits_phone(page)
    shot(page, "64-message-templates-phone-zh")

    page.goto("/admin/message-templates/edit/order_confirmed/sms")
    page.fill("#template_code", "SMS_480000123")
    page.fill("#param_map", "order_no=order_no\ncontent=text")
    page.click("button[value=preview]")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("20261125000123")  # the sample order number
    expect(preview).to_contain_text("SMS_480000123")
    expect(page.locator("#template_code")).to_have_value("SMS_480000123")  # kept, not saved
    assert_fits_phone(page)
    shot(page, "65-message-template-preview-phone-zh")

    page.fill("#text", "订单{order_no}已确认，{driver}")  # not a parameter of this message
    page.click("button[value=save]")
    expect(page.locator(".has-error")).to_contain_text("{driver}")
    expect(page.locator("#text")).to_have_value("订单{order_no}已确认，{driver}")
    shot(page, "66-message-template-refused-phone-zh")

    page.fill("#text", "订单确认通知：您的订单{order_no}已确认。")
    page.click("button[value=save]")
    expect(page.locator(".alert-success")).to_be_visible()
    row = page.locator("tr", has_text="SMS_480000123")
    expect(row).to_contain_text("订单确认通知：您的订单{order_no}已确认。")
    page.goto("/admin/message-templates/edit/order_confirmed/sms")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reset-form button")
    expect(page.locator("#template_code")).to_have_value("")


def test_admin_reads_the_queue_state(new_page, shot):
    page = new_page()
    sign_in(page, ADMIN)
    page.goto("/admin/queues/")
    expect(page.locator("body")).to_contain_text("队列状态")
    assert_fits_phone(page)
    shot(page, "67-queue-state-phone-zh")


def test_message_screens_in_english_and_on_a_desktop(new_page, shot, troubled_messages):
    page = new_page(desktop=True)
    sign_in(page, ADMIN)
    page.goto("/auth/lang/en?next=/admin/messages/list/")
    expect(page.locator("h2")).to_contain_text("Message log")
    expect(page.locator("body")).not_to_contain_text("消息记录")
    shot(page, "68-message-log-desktop-en")
    page.goto(f"/admin/messages/show/{troubled_messages[1]}")  # still uncertain
    expect(page.locator(".alert-warning")).to_contain_text("never resent automatically")
    expect(page.locator("body")).to_contain_text("The worker stopped while sending")
    shot(page, "69-message-uncertain-desktop-en")
    page.goto("/admin/message-templates/edit/driver_assigned/sms")
    page.click("button[value=preview]")
    expect(page.locator("#preview")).to_contain_text("Preview with sample values")
    shot(page, "70-message-template-desktop-en")
    page.goto("/admin/queues/")
    expect(page.locator("body")).to_contain_text("Queue state")
    shot(page, "71-queue-state-desktop-en")

    phone = new_page()
    sign_in(phone, ADMIN)
    phone.goto("/auth/lang/en?next=/admin/messages/list/")
    expect(phone.locator("h2")).to_contain_text("Message log")
    assert_fits_phone(phone)
    shot(phone, "72-message-log-phone-en")
    phone.goto("/admin/message-templates/")
    assert_fits_phone(phone)
    shot(phone, "73-message-templates-phone-en")
