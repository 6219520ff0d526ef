"""Basic settings, regions and staff in the back office."""

import os

from sqlalchemy import select

from app.extensions import db
from app.members.models import Region, StaffProfile
from app.platform import accounts
from app.platform.models import ShopSettings
from app.platform.security import DRIVER, SALESMAN
from tests.conftest import csrf_token, login
from tests.images import image_bytes, upload

GOOD = {"shop_name": "椰城酒店用品", "theme_color": "#1a7f37", "auto_receive_days": "7",
        "cs_phone": "0898-66881234", "intro": "介绍", "bank_account": "工商银行",
        "pickup_address": "金盘路 18 号", "is_open": "y"}


def admin_client(app, make):
    client = app.test_client()
    login(client, make.user("Admin").mobile)
    return client


def post_settings(client, **changes):
    data = dict(GOOD, csrf_token=csrf_token(client, "/admin/settings/"))
    data.update(changes)
    return client.post("/admin/settings/", data=data, content_type="multipart/form-data")


def saved_settings(app):
    with app.app_context():
        return db.session.scalar(select(ShopSettings))


def test_settings_save_and_show_on_the_storefront(app, make):
    client = admin_client(app, make)
    resp = post_settings(client, logo=upload(image_bytes("PNG", (300, 300)), "logo.png"))
    assert resp.status_code == 302
    row = saved_settings(app)
    assert row.shop_name == "椰城酒店用品" and row.theme_color == "#1A7F37"
    assert row.is_open is True and row.auto_receive_days == 7 and row.logo
    home = app.test_client().get("/").get_data(as_text=True)
    assert "椰城酒店用品" in home and "--theme: #1A7F37" in home
    assert app.test_client().get("/media/" + row.logo).status_code == 200


def test_bad_colour_is_refused_and_nothing_changes(app, make):
    client = admin_client(app, make)
    post_settings(client)
    resp = post_settings(client, theme_color="red; } body { display:none", shop_name="改了")
    assert resp.status_code == 400
    assert "#E4393C" in resp.get_data(as_text=True)  # the message shows the expected form
    row = saved_settings(app)
    assert row.shop_name == "椰城酒店用品" and row.theme_color == "#1A7F37"


def test_oversize_logo_is_refused_with_a_message(app, make):
    client = admin_client(app, make)
    post_settings(client)
    big = image_bytes("JPEG", (32, 32)) + os.urandom(11 * 1024 * 1024)
    resp = post_settings(client, logo=upload(big, "big.jpg"), shop_name="改了")
    assert resp.status_code == 400
    assert "10 MB" in resp.get_data(as_text=True)
    row = saved_settings(app)
    assert row.logo is None and row.shop_name == "椰城酒店用品"
    media = app.config["MEDIA_ROOT"]
    assert not os.path.exists(media) or not any(files for _, _, files in os.walk(media))


def test_non_image_logo_is_refused(app, make):
    client = admin_client(app, make)
    resp = post_settings(client, logo=upload(b"%!PS-Adobe-3.0 EPSF-3.0\n", "logo.jpg"))
    assert resp.status_code == 400
    assert saved_settings(app) is None


def test_days_and_phone_and_name_are_validated(app, make):
    client = admin_client(app, make)
    for field, value in (("auto_receive_days", "0"), ("auto_receive_days", "abc"),
                         ("auto_receive_days", "1000"), ("cs_phone", "call me"),
                         ("shop_name", "  "), ("shop_name", "x" * 65)):
        resp = post_settings(client, **{field: value})
        assert resp.status_code == 400, (field, value)
    assert saved_settings(app) is None


def test_customer_service_cannot_change_settings(app, make):
    client = app.test_client()
    login(client, make.user("CustomerService").mobile)
    assert client.get("/admin/settings/").status_code == 403
    resp = client.post("/admin/settings/", data=dict(GOOD, csrf_token=csrf_token(client, "/me")))
    assert resp.status_code == 403
    assert saved_settings(app) is None


def test_admin_adds_a_driver_and_the_account_is_made(app, make):
    client = admin_client(app, make)
    region = make.region(name="海口")
    token = csrf_token(client, "/admin/staff/add")
    resp = client.post("/admin/staff/add", data={
        "csrf_token": token, "name": "陈师傅", "phone": "138 0000 0999", "kind": "driver",
        "plate": "琼a·5d321", "regions": [str(region.id)], "active": "y",
        "password": "driver2026"})
    assert resp.status_code == 302
    with app.app_context():
        profile = db.session.scalar(select(StaffProfile))
        assert profile.phone == "13800000999" and profile.plate == "琼A·5D321"
        assert accounts.role_names(profile.user) == {DRIVER}
    driver = app.test_client()
    assert login(driver, "13800000999", "driver2026").status_code == 302
    assert driver.get("/driver/").status_code == 200


def test_driver_without_plate_or_region_is_refused(app, make):
    client = admin_client(app, make)
    region = make.region()
    for data in ({"plate": "", "regions": [str(region.id)]}, {"plate": "琼A·12345"}):
        token = csrf_token(client, "/admin/staff/add")
        form = {"csrf_token": token, "name": "司机", "phone": "13800000998", "kind": "driver",
                "password": "driver2026", **data}
        resp = client.post("/admin/staff/add", data={**form, "active": "y"})
        assert resp.status_code == 400  # the form again, with what was typed and the message
        html = resp.get_data(as_text=True)
        assert "13800000998" in html and "alert" in html
    with app.app_context():
        assert db.session.scalar(select(StaffProfile)) is None
        assert accounts.find_account("13800000998") is None


def test_existing_account_gains_a_second_role(app, make):
    client = admin_client(app, make)
    region = make.region()
    salesman = make.staff("salesman", [region])
    token = csrf_token(client, "/admin/staff/add")
    client.post("/admin/staff/add", data={
        "csrf_token": token, "name": "兼职司机", "phone": salesman.mobile, "kind": "driver",
        "plate": "琼A·12345", "regions": [str(region.id)], "active": "y"})
    with app.app_context():
        user = accounts.find_account(salesman.mobile)
        assert accounts.role_names(user) == {SALESMAN, DRIVER}


def test_region_names_are_unique_and_regions_in_use_are_kept(app, make):
    client = admin_client(app, make)
    region = make.region(name="三亚")
    make.staff("salesman", [region])
    token = csrf_token(client, "/admin/regions/add")
    client.post("/admin/regions/add", data={"csrf_token": token, "name": " 三亚 ",
                                            "sort_order": "1"})
    with app.app_context():
        assert db.session.query(Region).count() == 1
    token = csrf_token(client, "/admin/regions/list/")
    client.post(f"/admin/regions/delete/{region.id}", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Region, region.id) is not None


def test_default_member_level_is_a_setting(app, make):
    from app.members.models import MemberLevel

    with app.app_context():
        level = MemberLevel(name="普通", sort_order=1)
        db.session.add(level)
        db.session.commit()
        level_id = level.id
    client = admin_client(app, make)
    assert "普通" in client.get("/admin/settings/").get_data(as_text=True)
    assert post_settings(client, default_level_id=str(level_id)).status_code == 302
    assert saved_settings(app).default_level_id == level_id
    assert post_settings(client, default_level_id="999").status_code == 400
    assert saved_settings(app).default_level_id == level_id


def test_an_active_checkbox_can_be_unticked(app, make):
    client = admin_client(app, make)
    region = make.region(name="儋州")
    token = csrf_token(client, f"/admin/regions/edit/{region.id}")
    resp = client.post(f"/admin/regions/edit/{region.id}", data={
        "csrf_token": token, "name": "儋州", "sort_order": "3"})  # "active" left unticked
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Region, region.id).active is False
