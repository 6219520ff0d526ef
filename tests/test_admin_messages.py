"""Back office for messages: the message log (filters, details, "retry now"), message
templates (edit, preview, restore), the queue state page (inline, Redis down, real Redis)."""

import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.messaging import events, outbox, templates
from app.messaging.jobs import GAVE_UP, NO_ANSWER
from app.messaging.models import Channel, Message, MessageStatus, MessageTemplate
from app.platform.errors import ValidationError
from app.platform.security import ADMIN, CUSTOMER, CUSTOMER_SERVICE, DRIVER, SALESMAN
from tests.conftest import app_config, csrf_token, login


def _client(app, mobile=None):
    client = app.test_client()
    if mobile:
        assert login(client, mobile).status_code == 302
    return client


def _message(app, status=MessageStatus.FAILED, channel=Channel.SMS, event="order_confirmed",
             recipient="13800000001", body=None, created_at=None, last_error=None,
             attempts=1, provider="aliyun"):
    with app.app_context():
        message = Message(channel=channel, recipient=recipient, event=event,
                          template=event, params={"order_no": "20261125000123"},
                          body=body or f"订单确认通知：{uuid.uuid4().hex[:8]}", status=status,
                          attempts=attempts, provider=provider, last_error=last_error)
        if created_at is not None:
            message.created_at = created_at
        db.session.add(message)
        db.session.commit()
        return message.id


def _row(app, message_id):
    with app.app_context():
        row = db.session.get(Message, message_id)
        return (row.status, row.attempts, row.due_at, row.claimed_at, row.updated_at)


def _ids_on(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'<tr data-message="(\d+)"', html)}


# ---- the message log ----------------------------------------------------------------------

def test_filters_return_the_right_rows(app, make):
    failed = _message(app, MessageStatus.FAILED, Channel.SMS, "order_confirmed",
                      recipient="13911110000", body="您的订单A1已确认",
                      created_at=datetime(2026, 3, 1, 17, 0))  # 3-02 01:00 in Shanghai
    sent = _message(app, MessageStatus.SENT, Channel.WECHAT, "order_shipped",
                    recipient="oOpenId123", body="您的订单B2已发货（顺丰）",
                    created_at=datetime(2026, 3, 1, 15, 0))  # 3-01 23:00 in Shanghai
    logged = _message(app, MessageStatus.LOGGED, Channel.SMS, "sms_code",
                      recipient="13922220000", body="您的验证码为386120",
                      created_at=datetime(2026, 3, 5, 2, 0))
    uncertain = _message(app, MessageStatus.UNCERTAIN, Channel.SMS, "order_confirmed",
                         recipient="13933330000", body="您的订单C3已确认",
                         created_at=datetime(2026, 3, 6, 2, 0), last_error=NO_ANSWER)
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    base = "/admin/messages/list/"
    everything = cs.get(base).get_data(as_text=True)
    assert _ids_on(everything) == {failed, sent, logged, uncertain}
    cases = {
        "?status=failed": {failed},
        "?status=uncertain": {uncertain},
        "?_flt_0_status=sent": {sent},  # the former FAB URL still filters
        "?channel=wechat": {sent},
        "?channel=sms&status=logged": {logged},
        "?event=order_confirmed": {failed, uncertain},
        "?from=2026-03-02&until=2026-03-02": {failed},  # days in Asia/Shanghai
        "?from=2026-03-01&until=2026-03-01": {sent},
        "?from=2026-03-05": {logged, uncertain},
        "?until=2026-03-04": {failed, sent},
        "?q=1392222": {logged},  # recipient
        "?q=顺丰": {sent},  # content
        "?_flt_0_recipient=13911110000": {failed},
        "?status=failed&q=nothing-like-this": set(),
        "?status=bogus&channel=fax&event=nope&from=x": {failed, sent, logged, uncertain},
    }
    for query, expected in cases.items():
        html = cs.get(base + query).get_data(as_text=True)
        assert _ids_on(html) == expected, (query, _ids_on(html))
    # Tabs count with the other filters: two SMS order confirmations, one failed.
    html = cs.get(base + "?event=order_confirmed").get_data(as_text=True)
    assert re.search(r'data-status="failed">[^<]*<span class="badge"[^>]*>1<', html)
    assert "已记录未发送" in everything and "结果未知" in everything
    # Our own reason is shown translated; an empty search shows the empty state.
    assert str_zh(app, NO_ANSWER) in everything and NO_ANSWER not in everything
    empty = cs.get(base + "?q=nothing-like-this").get_data(as_text=True)
    assert "没有符合条件的消息" in empty


def _link(html: str, kind: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" data-page="{kind}"', html)
    return found[1].replace("&amp;", "&") if found else None


def test_list_pages_newest_first_by_links_with_the_filters_kept(app, make):
    ids = [_message(app, MessageStatus.SENT, provider="log") for _ in range(27)]
    failed = [_message(app, MessageStatus.FAILED) for _ in range(3)]
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    first = cs.get("/admin/messages/list/").get_data(as_text=True)
    assert _ids_on(first) == set((ids + failed)[-25:])
    assert _link(first, "newer") is None and _link(first, "newest") is None
    second = cs.get(_link(first, "older")).get_data(as_text=True)
    assert _ids_on(second) == set(ids[:5]) and _link(second, "older") is None
    back = cs.get(_link(second, "newer")).get_data(as_text=True)
    assert _ids_on(back) == _ids_on(first)  # 25 newer than the oldest shown, not fewer
    assert _link(cs.get(_link(second, "newest")).get_data(as_text=True), "older")
    # Only failed: one page, no pager; the filter survives paging with a smaller page.
    only_failed = cs.get("/admin/messages/list/?status=failed").get_data(as_text=True)
    assert _ids_on(only_failed) == set(failed) and _link(only_failed, "older") is None
    big = cs.get("/admin/messages/list/?psize=50").get_data(as_text=True)
    assert _ids_on(big) == set(ids + failed)
    sent = cs.get(f"/admin/messages/list/?status=sent&before={ids[3]}").get_data(as_text=True)
    assert _ids_on(sent) == set(ids[:3]) and "status=sent" in _link(sent, "newer")
    # Nonsense cursors and sizes are ignored, never a 500; past the end is the empty state.
    for query in ("?before=abc", "?after=-4", "?psize=7", "?before=0&after=x"):
        page = cs.get("/admin/messages/list/" + query)
        assert page.status_code == 200 and len(_ids_on(page.get_data(as_text=True))) == 25
    past = cs.get(f"/admin/messages/list/?before={ids[0]}").get_data(as_text=True)
    assert _ids_on(past) == set() and "本页没有消息" in past and _link(past, "newest")


def test_a_whole_mobile_number_finds_the_customers_messages_on_every_channel(app, make):
    customer = make.user(CUSTOMER, mobile="13955550000")
    other = make.user(CUSTOMER, mobile="13955550001")
    with app.app_context():
        rows = [Message(channel=channel, recipient=recipient, user_id=user.id,
                        event="order_confirmed", template="order_confirmed", params={},
                        body=body, status=MessageStatus.SENT)
                for channel, recipient, user, body in (
                    (Channel.SMS, "13955550000", customer, "订单A已确认"),
                    (Channel.INAPP, str(customer.id), customer, "订单A已确认"),
                    (Channel.WECHAT, "oPifa-555", customer, "订单A已确认"),
                    (Channel.INAPP, str(other.id), other, "订单B已确认"),
                    (Channel.SMS, "13955550001", other, "订单B已确认，客户13955550000代收"))]
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.id for row in rows]
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)

    def found(q):
        return _ids_on(cs.get(f"/admin/messages/list/?q={q}").get_data(as_text=True))

    # Every channel of the account (not a content that names the number).
    assert found("13955550000") == {ids[0], ids[1], ids[2]}
    assert found("1395555") == {ids[0], ids[4]}  # the beginning of a recipient
    assert found("oPifa") == {ids[2]}
    assert found("订单B") == {ids[3], ids[4]}
    assert found("5550000") == {ids[4]}  # not the end of a recipient; in a content
    assert found("100%25") == set()  # LIKE wildcards are searched as typed


def test_a_date_filter_pages_by_time_written(app, make):
    """Under a date filter the newest written come first, even when written out of id
    order (a backdated import), ties broken by id; paging loses and repeats nothing."""
    day = datetime(2026, 3, 2, 2, 0)  # 3-02 10:00 in Shanghai
    ids = [_message(app, MessageStatus.SENT, provider="log",
                    created_at=day - timedelta(minutes=n // 2)) for n in range(31)]
    _message(app, MessageStatus.SENT, provider="log", created_at=day + timedelta(days=3))
    # Two messages a minute: later minutes first, the higher id first within a minute.
    newest_first = sorted(ids, key=lambda i: (ids.index(i) // 2, -i))
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    first = cs.get("/admin/messages/list/?from=2026-03-02&until=2026-03-02")
    html = first.get_data(as_text=True)
    assert _ordered_ids(html) == newest_first[:25]
    second = cs.get(_link(html, "older")).get_data(as_text=True)
    assert _ordered_ids(second) == newest_first[25:] and _link(second, "older") is None
    again = cs.get(_link(second, "newer")).get_data(as_text=True)
    assert _ordered_ids(again) == newest_first[:25] and _link(again, "newer") is None
    assert "from=2026-03-02" in _link(second, "newer")


def _ordered_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-message="(\d+)"', html)]


def test_customer_service_never_reads_a_code_and_admins_read_one_not_sent(app, make):
    """A code in the log would let customer service take over an account (ask for a
    password reset, read the code); admins read codes the `log` provider kept."""
    with app.app_context():
        outbox.send_code("13966660000", "583920")
        db.session.commit()
        message_id = db.session.scalar(select(Message.id).where(Message.event == "sms_code"))
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    admin = _client(app, make.user(ADMIN).mobile)
    for url in ("/admin/messages/list/", f"/admin/messages/show/{message_id}",
                "/admin/messages/list/?q=13966660000"):
        shown_to_cs = cs.get(url).get_data(as_text=True)
        assert "583920" not in shown_to_cs and "您的验证码为******" in shown_to_cs, url
        assert "583920" in admin.get(url).get_data(as_text=True), url
    # Nor found by guessing it in a search of the content.
    assert _ids_on(cs.get("/admin/messages/list/?q=583920").get_data(as_text=True)) == set()
    assert _ids_on(admin.get("/admin/messages/list/?q=583920").get_data(as_text=True)) == \
        {message_id}


@pytest.mark.parametrize("query", [
    "?from=0001-01-01", "?until=9999-12-31", "?from=2026-02-30", "?before=1" + "0" * 20,
    "?after=99999999999999999999999", "?psize=1" + "0" * 30,
    "?before=" + "9" * 5000, "?q=" + "x" * 5000, "?channel=xx&event=yy&status=zz",
])
def test_nonsense_in_the_query_string_is_ignored_never_a_500(app, make, query):
    _message(app, MessageStatus.FAILED)
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    page = cs.get("/admin/messages/list/" + query)
    assert page.status_code == 200, query


def test_a_nul_character_anywhere_is_a_clear_400(app, make):
    """PostgreSQL refuses NUL in text: every page refuses it first (app/views)."""
    failed = _message(app, MessageStatus.FAILED)
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    for url in ("/admin/messages/list/?q=%00", "/admin/messages/list/?q=a%00b",
                "/admin/messages/list/?q=ok&q=%00",
                "/search?q=%E7%B1%B3%00", "/orders/2026%00"):
        page = cs.get(url)
        assert page.status_code == 400, url
        assert "无法识别该请求" in page.get_data(as_text=True)
    token = csrf_token(cs, f"/admin/messages/show/{failed}")
    refused = cs.post(f"/admin/messages/retry/{failed}",
                      data={"csrf_token": token, "next": "/admin/messages/\x00"})
    assert refused.status_code == 400
    assert _row(app, failed)[0] == MessageStatus.FAILED  # nothing changed


def test_unknown_or_absurd_message_ids_are_404(app, make):
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    for pk in ("999999", "9" * 30):
        assert cs.get(f"/admin/messages/show/{pk}").status_code == 404
    failed = _message(app, MessageStatus.FAILED)
    token = csrf_token(cs, f"/admin/messages/show/{failed}")
    assert cs.post("/admin/messages/retry/" + "9" * 30,
                   data={"csrf_token": token}).status_code == 404


def test_our_own_reasons_are_translated_and_extracted(app, make):
    from app.views.admin.messages import OWN_REASONS, shown_error

    assert set(OWN_REASONS) == {NO_ANSWER, GAVE_UP}
    with app.test_request_context("/?_l_=en"):
        for constant, label in OWN_REASONS.items():
            assert str(label) == constant  # the msgid is the constant itself
    with app.test_request_context("/?_l_=zh"):
        assert shown_error(NO_ANSWER) != NO_ANSWER
        shown = shown_error(f"{GAVE_UP} HTTP 503 throttled")
        assert shown.endswith("HTTP 503 throttled") and not shown.startswith(GAVE_UP)
        assert shown_error("isv.MOBILE_NUMBER_ILLEGAL") == "isv.MOBILE_NUMBER_ILLEGAL"
    uncertain = _message(app, MessageStatus.UNCERTAIN, last_error=NO_ANSWER)
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    for url in ("/admin/messages/list/", f"/admin/messages/show/{uncertain}"):
        html = cs.get(url).get_data(as_text=True)
        assert NO_ANSWER not in html and str_zh(app, NO_ANSWER) in html


@pytest.mark.parametrize("error, zh", [
    ("Aliyun SMS is not configured: ALIYUN_SMS_SIGN_NAME is empty",
     "短信服务商未配置：ALIYUN_SMS_SIGN_NAME 为空。"),
    ("Tencent SMS is not configured: the message has no template id", "没有服务商模板编号"),
    ("no WeChat template id for this message", "没有服务商模板编号"),
    ("no connection to the gateway within 5 s", "5 秒内连不上服务商"),
    ("no answer within 10 s; the SMS may have been sent", "短信可能已发出"),
    ("could not connect to the gateway: [Errno 111] Connection refused", "连不上服务商"),
    ("access token request failed, nothing sent (ConnectTimeout)", "连不上服务商"),
    ("HTTP 502; the message may have been delivered", "可能已发出"),
    ("the customer has no WeChat openid", "没有绑定微信"),
    ("WECHAT_MINIPROGRAM_APP_SECRET is not set", "WECHAT_MINIPROGRAM_APP_SECRET"),
    (f"{GAVE_UP} could not connect to the gateway: refused", "连不上服务商"),
])
def test_our_providers_reasons_are_shown_in_chinese_with_the_original(app, error, zh):
    from app.views.admin.messages import shown_error

    with app.test_request_context("/?_l_=zh"):
        shown = shown_error(error)
    assert zh in shown, shown
    assert error.split(" ", 1)[-1][-12:] in shown  # the original stays, to look it up
    with app.test_request_context("/?_l_=zh"):
        assert shown_error("isv.MOBILE_NUMBER_ILLEGAL: 非法手机号") == \
            "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"  # a gateway's own words, as they came


def str_zh(app, constant):
    from app.views.admin.messages import OWN_REASONS

    with app.test_request_context("/?_l_=zh"):
        return str(OWN_REASONS[constant])


def test_show_page_has_every_field(app, make):
    message_id = _message(app, MessageStatus.FAILED, last_error="isv.BUSINESS_LIMIT_CONTROL")
    with app.app_context():
        row = db.session.get(Message, message_id)
        row.provider_ref = "BIZ-REF-778899"
        db.session.commit()
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    html = cs.get(f"/admin/messages/show/{message_id}").get_data(as_text=True)
    for text in ("BIZ-REF-778899", "isv.BUSINESS_LIMIT_CONTROL", "20261125000123",
                 "{order_no}", "订单确认", "重新发送"):
        assert text in html, text
    assert cs.get("/admin/messages/show/999999").status_code == 404


def test_customer_service_retries_a_failed_message(app, make):
    message_id = _message(app, MessageStatus.FAILED, attempts=6, last_error="HTTP 500")
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    page = f"/admin/messages/show/{message_id}"
    html = cs.get("/admin/messages/list/?status=failed").get_data(as_text=True)
    assert f"/admin/messages/retry/{message_id}" in html  # the button is on the list
    resp = cs.post(f"/admin/messages/retry/{message_id}",
                   data={"csrf_token": csrf_token(cs, page),
                         "next": "/admin/messages/list/?status=failed"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/admin/messages/list/?status=failed")
    with app.app_context():
        row = db.session.get(Message, message_id)
        # Sent again after commit (inline, no Redis) through the default log provider.
        assert row.status == MessageStatus.LOGGED and row.attempts == 1
        assert row.provider == "log" and row.last_error is None
    assert "正在重新发送" in cs.get(page).get_data(as_text=True)


def test_uncertain_is_resent_only_when_the_person_confirms_they_checked(app, make):
    message_id = _message(app, MessageStatus.UNCERTAIN, last_error=NO_ANSWER)
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    listing = cs.get("/admin/messages/list/?status=uncertain").get_data(as_text=True)
    # The list sends nobody straight to a resend: its button opens the message's page.
    assert f'action="/admin/messages/retry/{message_id}"' not in listing
    assert f'href="/admin/messages/show/{message_id}#retry"' in listing
    html = cs.get(f"/admin/messages/show/{message_id}").get_data(as_text=True)
    assert re.search(r'<input type="checkbox" name="confirm" value="1" required>', html)
    assert "可能会收到两次" in html  # the customer may receive it twice
    token = csrf_token(cs, f"/admin/messages/show/{message_id}")
    refused = cs.post(f"/admin/messages/retry/{message_id}", data={"csrf_token": token},
                      follow_redirects=True)
    assert "请勾选" in refused.get_data(as_text=True)
    assert _row(app, message_id)[0] == MessageStatus.UNCERTAIN
    resp = cs.post(f"/admin/messages/retry/{message_id}",
                   data={"csrf_token": token, "confirm": "1"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/admin/messages/show/{message_id}")
    assert _row(app, message_id)[0] == MessageStatus.LOGGED


def test_two_people_retrying_at_once_send_it_once(app, make):
    """The second press finds the message no longer failed: one resend, a clear refusal."""
    message_id = _message(app, MessageStatus.FAILED, last_error="isv.BUSINESS_LIMIT_CONTROL")
    with app.test_request_context("/?_l_=en"):
        # The second person's page was loaded while the message was still failed.
        seen_by_second = Message(id=message_id, status=MessageStatus.FAILED)
        outbox.retry_message(db.session.get(Message, message_id), None)
        assert db.session.get(Message, message_id).status == MessageStatus.LOGGED
        with pytest.raises(ValidationError) as refused:
            outbox.retry_message(seen_by_second, None)
        assert "just sent this message again" in str(refused.value.message)
        assert db.session.get(Message, message_id).attempts == 1  # no second send


@pytest.mark.parametrize("status", [MessageStatus.SENT, MessageStatus.LOGGED,
                                    MessageStatus.PENDING, MessageStatus.SENDING])
def test_retry_of_a_message_that_is_not_failed_is_refused(app, make, status):
    message_id = _message(app, status)
    before = _row(app, message_id)
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    html = cs.get(f"/admin/messages/show/{message_id}").get_data(as_text=True)
    assert f"/admin/messages/retry/{message_id}" not in html  # no button
    token = _token_from_any(cs, app)
    resp = cs.post(f"/admin/messages/retry/{message_id}",
                   data={"csrf_token": token, "next": "https://evil.example/"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/admin/messages/show/{message_id}")
    assert _row(app, message_id) == before
    flashed = cs.get(f"/admin/messages/show/{message_id}").get_data(as_text=True)
    assert "只有发送失败或结果未知的消息可以重新发送" in flashed


def _token_from_any(client, app):
    """A CSRF token from a page with a form this client may open."""
    other = _message(app, MessageStatus.FAILED)
    return csrf_token(client, f"/admin/messages/show/{other}")


def test_get_or_no_token_changes_nothing(app, make):
    message_id = _message(app, MessageStatus.FAILED)
    before = _row(app, message_id)
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    assert cs.get(f"/admin/messages/retry/{message_id}").status_code == 405
    assert cs.post(f"/admin/messages/retry/{message_id}").status_code == 400  # no CSRF token
    assert _row(app, message_id) == before


@pytest.mark.parametrize("roles", [(SALESMAN,), (DRIVER,), (CUSTOMER,), ()])
def test_others_are_refused_everything_and_change_nothing(app, make, roles):
    message_id = _message(app, MessageStatus.FAILED, body="秘密内容")
    before = _row(app, message_id)
    client = _client(app, make.user(*roles).mobile if roles else None)
    token = _csrf_of_session(app, client)
    urls = ["/admin/messages/list/", f"/admin/messages/show/{message_id}",
            "/admin/message-templates/", "/admin/message-templates/edit/order_confirmed/sms",
            "/admin/queues/"]
    for url in urls:
        resp = client.get(url)
        _refused(resp, url, roles)
    posts = [(f"/admin/messages/retry/{message_id}", {}),
             ("/admin/message-templates/edit/order_confirmed/sms",
              {"do": "save", "text": "被改了{order_no}", "template_code": "X",
               "param_map": ""}),
             ("/admin/message-templates/reset/order_confirmed/sms", {})]
    for url, data in posts:
        resp = client.post(url, data={**data, "csrf_token": token})
        _refused(resp, url, roles)
    assert _row(app, message_id) == before
    with app.app_context():
        assert db.session.scalar(select(MessageTemplate)) is None


def _refused(resp, url, roles):
    assert resp.status_code in (302, 403), (roles, url, resp.status_code)
    body = resp.get_data(as_text=True)
    assert "秘密内容" not in body and "订单确认通知" not in body, (roles, url)
    if resp.status_code == 302:
        location = resp.headers["Location"]
        assert "/login" in location or location == "/admin/", (roles, url, location)


def _csrf_of_session(app, client):
    """The client's session CSRF token (from a page anyone may open)."""
    html = client.get("/auth/login").get_data(as_text=True)
    if "csrf" not in html:
        html = client.get("/me").get_data(as_text=True)
    found = re.search(r'csrf[-_]token"[^>]*(?:value|content)="([^"]+)"', html)
    return found[1] if found else ""


def test_customer_service_is_refused_templates_and_queues(app, make):
    cs = _client(app, make.user(CUSTOMER_SERVICE).mobile)
    message_id = _message(app, MessageStatus.FAILED)
    token = csrf_token(cs, f"/admin/messages/show/{message_id}")
    for url in ("/admin/message-templates/", "/admin/message-templates/edit/order_confirmed/sms",
                "/admin/queues/"):
        assert cs.get(url).status_code == 403, url
    for url in ("/admin/message-templates/edit/order_confirmed/sms",
                "/admin/message-templates/reset/order_confirmed/sms"):
        resp = cs.post(url, data={"csrf_token": token, "do": "save", "text": "改{order_no}"})
        assert resp.status_code == 403, url
    with app.app_context():
        assert db.session.scalar(select(MessageTemplate)) is None
    menu = cs.get("/admin/messages/list/").get_data(as_text=True)
    assert "/admin/message-templates/" not in menu and "/admin/queues/" not in menu


# ---- templates -----------------------------------------------------------------------------

def test_admin_lists_every_template(app, make):
    admin = _client(app, make.user(ADMIN).mobile)
    html = admin.get("/admin/message-templates/").get_data(as_text=True)
    expected = [f"{e}:{c}" for e, spec in events.EVENTS.items() for c in spec.channels]
    assert re.findall(r'<tr data-template="([a-z_]+:[a-z]+)"', html) == expected
    assert "验证码" in html and "订单确认通知" in html


def test_admin_edits_a_template_and_new_messages_use_it(app, make):
    admin = _client(app, make.user(ADMIN).mobile)
    url = "/admin/message-templates/edit/order_confirmed/sms"
    page = admin.get(url).get_data(as_text=True)
    assert "{order_no}" in page and "20261125000123" in page  # placeholder and sample
    assert "SMS_PROVIDER" in page  # the configured provider is named
    resp = admin.post(url, data={"csrf_token": csrf_token(admin, url), "do": "save",
                                 "text": "【批发】订单{order_no}已确认，明天送货。",
                                 "template_code": "SMS_2026001",
                                 "param_map": "no=order_no\ncontent=text"})
    assert resp.status_code == 302
    with app.app_context():
        template = templates.get_template("order_confirmed", Channel.SMS)
        assert template.saved and template.template_code == "SMS_2026001"
        assert template.param_map == "no=order_no\ncontent=text"
        message = outbox.write_message("order_confirmed", Channel.SMS, "13800000009",
                                          {"order_no": "NO42"})
        db.session.commit()
        assert message.body == "【批发】订单NO42已确认，明天送货。"
        # The other channels of the event keep their defaults.
        assert not templates.get_template("order_confirmed", Channel.WECHAT).saved
    listing = admin.get("/admin/message-templates/").get_data(as_text=True)
    assert "SMS_2026001" in listing and "已自定义" in listing


def test_invalid_template_is_refused_keeps_the_form_and_saves_nothing(app, make):
    admin = _client(app, make.user(ADMIN).mobile)
    url = "/admin/message-templates/edit/order_confirmed/sms"
    token = csrf_token(admin, url)
    for do in ("save", "preview"):
        resp = admin.post(url, data={"csrf_token": token, "do": do,
                                     "text": "订单{order_no}已确认{foo}",
                                     "template_code": "SMS_1", "param_map": "a=order_no"})
        assert resp.status_code == 400, do
        html = resp.get_data(as_text=True)
        assert "{foo}" in html and "不是这条消息的参数" in html
        assert "订单{order_no}已确认{foo}" in html  # what was typed is kept
    resp = admin.post(url, data={"csrf_token": token, "do": "save", "text": "订单{order_no}",
                                 "template_code": "", "param_map": "x=nope"})
    assert resp.status_code == 400 and "nope" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(MessageTemplate)) is None


def test_preview_shows_sample_values_without_saving(app, make):
    admin = _client(app, make.user(ADMIN).mobile)
    url = "/admin/message-templates/edit/order_shipped/wechat"
    resp = admin.post(url, data={"csrf_token": csrf_token(admin, url), "do": "preview",
                                 "text": "订单{order_no}已发货：{ship}",
                                 "template_code": "TPL-abc",
                                 "param_map": "character_string1=order_no\nthing2=text"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="preview"' in html
    assert "订单20261125000123已发货：快递发货：顺丰 SF1234567890" in html
    assert "character_string1" in html and "thing2" in html and "TPL-abc" in html
    with app.app_context():
        assert db.session.scalar(select(MessageTemplate)) is None


def test_restore_default(app, make):
    admin = _client(app, make.user(ADMIN).mobile)
    url = "/admin/message-templates/edit/member_rejected/inapp"
    admin.post(url, data={"csrf_token": csrf_token(admin, url), "do": "save",
                          "text": "审核未通过：{reason}"})
    with app.app_context():
        assert templates.get_template("member_rejected", Channel.INAPP).saved
    page = admin.get(url).get_data(as_text=True)
    assert "/admin/message-templates/reset/member_rejected/inapp" in page
    assert admin.get("/admin/message-templates/reset/member_rejected/inapp").status_code == 405
    resp = admin.post("/admin/message-templates/reset/member_rejected/inapp",
                      data={"csrf_token": csrf_token(admin, url)})
    assert resp.status_code == 302
    with app.app_context():
        template = templates.get_template("member_rejected", Channel.INAPP)
        assert not template.saved
        assert template.text == events.EVENTS["member_rejected"].text


def test_unknown_event_or_channel_is_404(app, make):
    admin = _client(app, make.user(ADMIN).mobile)
    for path in ("edit/nope/sms", "edit/sms_code/wechat", "edit/sms_code/fax"):
        assert admin.get(f"/admin/message-templates/{path}").status_code == 404, path
    token = csrf_token(admin, "/admin/message-templates/edit/sms_code/sms")
    assert admin.post("/admin/message-templates/reset/sms_code/inapp",
                      data={"csrf_token": token}).status_code == 404


# ---- queue state ---------------------------------------------------------------------------

def test_queue_page_without_redis(app, make):
    _message(app, MessageStatus.PENDING)
    _message(app, MessageStatus.FAILED, channel=Channel.WECHAT)
    admin = _client(app, make.user(ADMIN).mobile)
    resp = admin.get("/admin/queues/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-rq="inline"' in html
    assert "/admin/messages/list/?status=failed&amp;channel=wechat" in html
    assert "最早的待发送消息" in html


def test_queue_page_with_redis_unreachable(app, make, tmp_path_factory):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    down = create_app(app_config(tmp_path_factory, DATABASE_URL=uri,
                                 REDIS_URL="redis://127.0.0.1:1/0"))
    user = make.user(ADMIN)
    client = down.test_client()
    login(client, user.mobile)
    resp = client.get("/admin/queues/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-rq="unreachable"' in html and "Redis 无法连接" in html


def test_state_reads_nothing_without_redis(app):
    from app.jobs.state import queue_state

    with app.app_context():
        assert queue_state() == {"configured": False, "reachable": False, "error": None,
                                 "queue": None, "failed_jobs": [], "workers": []}


@pytest.mark.redis
def test_queue_page_with_real_redis(app, make, tmp_path_factory, redis_url):
    from rq import Queue, SimpleWorker, Worker

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    name = f"pifa-test-{uuid.uuid4().hex[:8]}"
    live = create_app(app_config(tmp_path_factory, DATABASE_URL=uri, REDIS_URL=redis_url,
                                 RQ_QUEUE=name))
    user = make.user(ADMIN)
    with live.app_context():
        from app import jobs
        from app.jobs import redis_connection
        from app.jobs.state import queue_state

        saved_app = jobs._worker_app

        connection = redis_connection()
        queue = Queue(name, connection=connection)
        watcher = Worker([queue], connection=connection, name=f"w-{name}")
        try:
            queue.enqueue("app.jobs.run_job", "tests.jobs_probe.no_such_job", 77)
            SimpleWorker([queue], connection=connection).work(burst=True)
            queue.enqueue("app.jobs.run_job", "tests.jobs_probe.record", 1)  # left queued
            watcher.register_birth()
            # (the in-process worker above pinned its app for run_job; put it back below)
            state = queue_state()
            assert state["reachable"] and state["queue"]["name"] == name
            assert state["queue"]["queued"] == 1 and state["queue"]["failed"] == 1
            failed = state["failed_jobs"][0]
            assert failed["call"] == "tests.jobs_probe.no_such_job(77)"
            assert "no_such_job" in failed["error"] and failed["ended_at"] is not None
            assert [w["name"] for w in state["workers"]] == [f"w-{name}"]
            client = live.test_client()
            login(client, user.mobile)
            resp = client.get("/admin/queues/")
            assert resp.status_code == 200
            html = resp.get_data(as_text=True)
            assert 'data-rq="ok"' in html and "tests.jobs_probe.no_such_job(77)" in html
            assert f"w-{name}" in html
        finally:
            jobs.set_worker_app(saved_app)
            watcher.register_death()
            queue.empty()
            keys = connection.keys(f"rq:*{name}*")
            if keys:
                connection.delete(*keys)
