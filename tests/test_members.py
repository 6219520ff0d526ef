"""Members: SMS codes, sign-up, reset, profile with private photos, approval, referral."""

import io
import os
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.members.models import Member, MemberLevel, VerificationCode
from app.messaging.models import Message
from app.platform import accounts
from tests.conftest import csrf_token, login
from tests.images import image_bytes


def _messages(app, phone=None, event=None):
    with app.app_context():
        query = select(Message).order_by(Message.id)
        if phone:
            query = query.where(Message.recipient == phone)
        if event:
            query = query.where(Message.event == event)
        return [(m.event, m.channel, m.recipient, m.body) for m in db.session.scalars(query)]


def _send_code(client, phone, purpose="register"):
    page = "/auth/register" if purpose == "register" else "/auth/reset"
    token = csrf_token(client, page)
    return client.post(f"/auth/code?purpose={purpose}", data={"csrf_token": token,
                                                              "mobile": phone})


def _last_code(app, phone):
    bodies = [b for e, c, r, b in _messages(app, phone, "sms_code")]
    return re.search(r"(\d{6})", bodies[-1])[1]


def _register(client, phone, code, password="shop2026a", password2=None, ref=""):  # noqa: S107
    token = csrf_token(client, "/auth/register")
    return client.post("/auth/register", data={
        "csrf_token": token, "mobile": phone, "code": code, "password": password,
        "password2": password2 or password, "ref": ref})


def _age_codes(app, minutes):
    with app.app_context():
        for row in db.session.scalars(select(VerificationCode)):
            row.created_at -= timedelta(minutes=minutes)
            row.expires_at -= timedelta(minutes=minutes)
        db.session.commit()


def test_sign_up_with_sms_code(app, client):
    resp = _send_code(client, "13912345678")
    assert resp.status_code == 302 and "mobile=13912345678" in resp.headers["Location"]
    code = _last_code(app, "13912345678")
    resp = _register(client, "139 1234 5678", code)
    assert resp.status_code == 302 and resp.headers["Location"] == "/me/profile"
    assert client.get("/me/profile").status_code == 200
    with app.app_context():
        user = accounts.find_account("13912345678")
        assert accounts.role_names(user) == {"Customer"}
        member = db.session.scalar(select(Member).where(Member.user_id == user.id))
        assert member.status == "incomplete"


@pytest.mark.parametrize("case", ["wrong", "expired", "reused", "weak", "mismatch", "bad phone"])
def test_sign_up_refusals(app, client, case):
    phone = "13912340001"
    _send_code(client, phone)
    code = _last_code(app, phone)
    if case == "wrong":
        resp = _register(client, phone, "000000" if code != "000000" else "111111")
    elif case == "expired":
        _age_codes(app, 6)
        resp = _register(client, phone, code)
    elif case == "reused":
        assert _register(client, phone, code).status_code == 302
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/profile")})
        resp = _register(client, phone, code, password="other2026b")
    elif case == "weak":
        resp = _register(client, phone, code, password="12345678")
    elif case == "mismatch":
        resp = _register(client, phone, code, password2="different1")
    else:
        resp = _register(client, "1391234", code)
    assert resp.status_code == 400
    assert "form-error" in resp.get_data(as_text=True)
    if case != "reused":
        with app.app_context():
            assert accounts.find_account(phone) is None


def test_five_tries_then_a_new_code_is_needed(app, client):
    phone = "13912340002"
    _send_code(client, phone)
    code = _last_code(app, phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert _register(client, phone, wrong).status_code == 400
    resp = _register(client, phone, code)  # right code, but too late
    assert resp.status_code == 400 and "错误次数过多" in resp.get_data(as_text=True)


def test_resend_waits_a_minute_and_sending_is_rate_limited(app, client):
    phone = "13912340003"
    _send_code(client, phone)
    _send_code(client, phone)  # within a minute: refused with a message
    assert len(_messages(app, phone, "sms_code")) == 1
    statuses = []
    for _ in range(6):
        _age_codes(app, 2)
        statuses.append(_send_code(client, phone).status_code)
    assert 429 in statuses  # per-phone limit (5 per hour)
    assert len(_messages(app, phone, "sms_code")) <= 5


def test_answers_do_not_reveal_whether_a_phone_is_registered(app, client, make):
    known = make.user("Customer").mobile
    unknown = "13912340004"
    pages = []
    for phone in (known, unknown):
        resp = _send_code(client, phone)
        html = client.get(resp.headers["Location"]).get_data(as_text=True)
        html = re.sub(r'(csrf[-_]token"[^>]*(?:value|content)=")[^"]+', r"\1", html)
        pages.append((resp.status_code, html.replace(phone, "PHONE")))  # tokens are timed
    assert pages[0] == pages[1]
    # the owner of the registered phone is told, privately
    assert _messages(app, known, "account_exists")
    before = len(_messages(app, unknown, "sms_code"))
    resp_known = _send_code(app.test_client(), known, "reset")
    resp_unknown = _send_code(app.test_client(), unknown, "reset")
    assert resp_known.status_code == resp_unknown.status_code == 302
    assert len(_messages(app, unknown, "sms_code")) == before  # nothing to reset: no SMS


def test_password_reset_with_the_same_code_flow(app, client, make):
    user = make.user("Customer")
    _send_code(client, user.mobile, "reset")
    code = _last_code(app, user.mobile)
    token = csrf_token(client, "/auth/reset")
    resp = client.post("/auth/reset", data={"csrf_token": token, "mobile": user.mobile,
                                            "code": code, "password": "newpass2026",
                                            "password2": "newpass2026"})
    assert resp.status_code == 302
    assert login(app.test_client(), user.mobile, "newpass2026").status_code == 302
    assert login(app.test_client(), user.mobile).status_code == 400


def test_failed_sign_ins_are_rate_limited_per_account(app, make):
    user = make.user("Customer")
    statuses = [login(app.test_client(), user.mobile, "wrong-pass1").status_code
                for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    assert "尝试次数过多" in login(app.test_client(), user.mobile).get_data(as_text=True)


# ---- profile and photos -------------------------------------------------------------------

def _phone_photo(size=(4000, 3000)) -> bytes:
    """A 12-megapixel phone JPEG, rotated by EXIF, with GPS."""
    im = Image.new("RGB", size, (90, 140, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (20.0, 2.0, 0.0), 3: "E", 4: (110.0, 20.0, 0.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), quality=80)
    return out.getvalue()


def _signed_up(app, make, region=None):
    ref = make.member(region=region, status="incomplete")
    with app.app_context():
        member = db.session.get(Member, ref.id)
        member.shop_name = member.contact_name = member.address = None
        db.session.commit()
    client = app.test_client()
    login(client, ref.mobile)
    return client, ref


def _profile(client, region_id, **files):
    data = {"csrf_token": csrf_token(client, "/me/profile"), "shop_name": "椰风酒店",
            "contact_name": "黄经理", "phone": "13912349999", "region_id": str(region_id),
            "address": "海口市美兰区 1 号"}
    for name, payload in files.items():
        data[name] = (io.BytesIO(payload), f"{name}.jpg")
    return client.post("/me/profile", data=data, content_type="multipart/form-data")


def test_profile_needs_both_photos_and_stores_them_clean(app, make):
    region = make.region(name="海口")
    client, ref = _signed_up(app, make, region)
    resp = _profile(client, region.id, shop_photo=image_bytes())
    assert resp.status_code == 400 and "营业执照" in resp.get_data(as_text=True)
    resp = _profile(client, region.id, shop_photo=_phone_photo(),
                    licence_photo=image_bytes("PNG", (800, 600)))
    assert resp.status_code == 302
    with app.app_context():
        member = db.session.get(Member, ref.id)
        assert member.status == "pending" and member.shop_photo.startswith("private/")
        from app.platform.uploads import get_storage, thumb_key_of

        data = get_storage().read(member.shop_photo)
        photo = Image.open(io.BytesIO(data))
        assert photo.size[0] < photo.size[1]  # upright (rotated by its EXIF tag)
        assert not photo.getexif()
        assert get_storage().exists(thumb_key_of(member.shop_photo))


@pytest.mark.parametrize("payload", [b"<svg onload=alert(1)>", b"%!PS-Adobe-3.0 EPSF-3.0",
                                     image_bytes("JPEG", (300, 300))[:500]])
def test_hostile_profile_photo_is_refused_and_nothing_stored(app, make, payload):
    region = make.region()
    client, ref = _signed_up(app, make, region)
    resp = _profile(client, region.id, shop_photo=payload, licence_photo=image_bytes())
    assert resp.status_code == 400
    with app.app_context():
        member = db.session.get(Member, ref.id)
        assert member.shop_photo is None and member.licence_photo is None
        assert member.status == "incomplete"
    import os

    root = app.config["MEDIA_ROOT"]
    assert not any(f for _, _, f in os.walk(root))


def _pending_member(app, make, region, salesman=None):
    client, ref = _signed_up(app, make, region)
    assert _profile(client, region.id, shop_photo=image_bytes(),
                    licence_photo=image_bytes()).status_code == 302
    if salesman:
        with app.app_context():
            member = db.session.get(Member, ref.id)
            member.own_salesman_id = salesman.id
            db.session.commit()
    with app.app_context():
        member = db.session.get(Member, ref.id)
        return client, ref, member.shop_photo, member.licence_photo


def test_private_photos_only_for_the_member_and_staff_who_may_see_them(app, make):
    haikou, sanya = make.region(name="海口"), make.region(name="三亚")
    _, ref, shop, licence = _pending_member(app, make, haikou)
    owner = app.test_client()
    login(owner, ref.mobile)
    viewers = {
        "member": (owner, 200),
        "visitor": (app.test_client(), 404),
        "other customer": (_signed_up(app, make, haikou)[0], 404),
        "salesman in region": (make.staff("salesman", [haikou]), 200),
        "salesman elsewhere": (make.staff("salesman", [sanya]), 404),
        "driver in region": (make.staff("driver", [haikou]), 404),
        "customer service": (make.user("CustomerService"), 200),
        "admin": (make.user("Admin"), 200),
    }
    from app.platform.uploads import thumb_key_of

    for who, (subject, expected) in viewers.items():
        if not hasattr(subject, "get"):
            client = app.test_client()
            login(client, subject.mobile)
        else:
            client = subject
        for key in (shop, licence, thumb_key_of(shop)):
            assert client.get("/media/" + key).status_code == expected, (who, key)
    assert app.test_client().get("/media/private/member/202601/guess.jpg").status_code == 404


def test_approval_writes_the_sms_and_the_member_sees_prices(app, make):
    region = make.region()
    client, ref, _, _ = _pending_member(app, make, region)
    with app.app_context():
        level = MemberLevel(name="银牌", sort_order=2)
        db.session.add(level)
        db.session.commit()
        level_id = level.id
    cs = app.test_client()
    login(cs, make.user("CustomerService").mobile)
    page = cs.get(f"/admin/members/review/{ref.id}")
    assert page.status_code == 200 and "/media/private/" in page.get_data(as_text=True)
    resp = cs.post(f"/admin/members/review/{ref.id}", data={
        "csrf_token": csrf_token(cs, f"/admin/members/review/{ref.id}"),
        "decision": "approve", "level_id": str(level_id)})
    assert resp.status_code == 302
    with app.app_context():
        member = db.session.get(Member, ref.id)
        assert member.status == "approved" and member.level_id == level_id
    sms = [m for m in _messages(app, event="member_approved") if m[1] == "sms"]
    assert sms == [("member_approved", "sms", "13912349999",
                    "您的账号已通过审核，请刷新小程序，可获得内部批发价格。")]
    inbox = client.get("/me/messages").get_data(as_text=True)
    assert "您的账号已通过审核" in inbox


def test_rejection_with_reason_then_resubmission(app, make):
    region = make.region()
    client, ref, _, _ = _pending_member(app, make, region)
    cs = app.test_client()
    login(cs, make.user("CustomerService").mobile)
    url = f"/admin/members/review/{ref.id}"
    resp = cs.post(url, data={"csrf_token": csrf_token(cs, url), "decision": "reject",
                              "reason": ""})
    assert resp.status_code == 400  # a reason is required
    cs.post(url, data={"csrf_token": csrf_token(cs, url), "decision": "reject",
                       "reason": "营业执照不清晰"})
    with app.app_context():
        assert db.session.get(Member, ref.id).status == "rejected"
    assert any("营业执照不清晰" in m[3] for m in _messages(app, event="member_rejected"))
    assert "营业执照不清晰" in client.get("/me/profile").get_data(as_text=True)
    assert _profile(client, region.id).status_code == 302  # photos kept, resubmitted
    with app.app_context():
        member = db.session.get(Member, ref.id)
        assert member.status == "pending" and member.reject_reason is None


@pytest.mark.parametrize("role", ["Customer", "Salesman", "Driver"])
def test_approval_screens_refuse_non_staff(app, make, role):
    region = make.region()
    _, ref, _, _ = _pending_member(app, make, region)
    client = app.test_client()
    login(client, make.user(role).mobile)
    for url in (f"/admin/members/review/{ref.id}", "/admin/members/list/",
                "/admin/members/handover"):
        resp = client.get(url)
        assert resp.status_code == 403 and "椰风酒店" not in resp.get_data(as_text=True)
    resp = client.post(f"/admin/members/review/{ref.id}", data={
        "csrf_token": csrf_token(client, "/me"), "decision": "approve"})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.get(Member, ref.id).status == "pending"


def test_qr_referral_tags_the_member_and_hand_over_moves_them(app, make):
    region = make.region()
    salesman = make.staff("salesman", [region])
    other = make.staff("salesman", [region])
    sales = app.test_client()
    login(sales, salesman.mobile)
    page = sales.get("/sales/qr").get_data(as_text=True)
    link = re.search(r"(http://localhost/auth/register\?ref=[\w-]+)", page)[1]
    assert sales.get("/sales/qr.png").mimetype == "image/png"
    assert sales.get("/sales/qr.svg").mimetype == "image/svg+xml"
    ref_code = link.split("ref=")[1]
    visitor = app.test_client()
    assert visitor.get(link).status_code == 200
    _send_code(visitor, "13912340077")
    assert _register(visitor, "13912340077", _last_code(app, "13912340077"),
                     ref=ref_code).status_code == 302
    with app.app_context():
        user = accounts.find_account("13912340077")
        member = db.session.scalar(select(Member).where(Member.user_id == user.id))
        assert member.own_salesman_id == salesman.id == member.referred_by_id
        member.region_id = make.region().id  # a new region keeps the own salesman
        db.session.commit()
        assert db.session.get(Member, member.id).own_salesman_id == salesman.id
        member_id = member.id
    cs = app.test_client()
    login(cs, make.user("CustomerService").mobile)
    resp = cs.post("/admin/members/handover", data={
        "csrf_token": csrf_token(cs, "/admin/members/handover"),
        "from_id": str(salesman.id), "to_id": str(other.id)})
    assert resp.status_code == 302
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert member.own_salesman_id == other.id
        assert member.referred_by_id == salesman.id  # who brought them stays recorded


def test_qr_page_is_for_salesmen_only(app, make):
    for role in ("Customer", "Driver"):
        client = app.test_client()
        login(client, make.user(role).mobile)
        assert client.get("/sales/qr").status_code == 403
        assert client.get("/sales/qr.png").status_code == 403


def test_disabling_a_member_ends_their_session(app, make):
    region = make.region()
    client, ref, _, _ = _pending_member(app, make, region)
    cs = app.test_client()
    login(cs, make.user("CustomerService").mobile)
    url = f"/admin/members/active/{ref.id}"
    cs.post(url, data={"csrf_token": csrf_token(cs, f"/admin/members/review/{ref.id}"),
                       "active": "0"})
    assert client.get("/me").status_code == 302
    resp = login(app.test_client(), ref.mobile)
    assert resp.status_code == 400 and "停用" in resp.get_data(as_text=True)


@pytest.mark.parametrize("megabytes", [25, 40])
def test_an_oversized_photo_is_refused_on_the_form_with_what_was_typed(app, make, megabytes):
    region = make.region()
    client, ref = _signed_up(app, make, region)
    big = image_bytes() + os.urandom(megabytes * 1024 * 1024)
    data = {"csrf_token": csrf_token(client, "/me/profile"), "shop_name": "椰风大酒店",
            "contact_name": "黄经理", "phone": "13912349999", "region_id": str(region.id),
            "address": "海口市美兰区 8 号", "wechat_id": "yefeng-888",
            "shop_photo": (io.BytesIO(big), "huge.jpg"),
            "licence_photo": (io.BytesIO(image_bytes()), "licence.jpg")}
    resp = client.post("/me/profile", data=data, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "图片过大" in html or "10 MB" in html
    for typed in ("椰风大酒店", "黄经理", "海口市美兰区 8 号", "yefeng-888", "13912349999"):
        assert typed in html, typed
    with app.app_context():
        member = db.session.get(Member, ref.id)
        assert member.shop_photo is None and member.shop_name is None
    media = app.config["MEDIA_ROOT"]
    assert not os.path.exists(media) or not any(files for _, _, files in os.walk(media))
