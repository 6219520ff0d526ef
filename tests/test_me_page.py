"""我的 (/me): who the person is (the shop, or a prompt to complete it), the mobile once,
the approval status, and the shop's details, for members in each status and for staff.

Assertions look at data attributes and the rows' own values, not the Chinese wording of
new texts (the catalogs are filled in after extraction).
"""

import re

import flask_login
import pytest
from flask import render_template

from app.extensions import db
from app.members.models import Member
from app.platform.security import CUSTOMER_SERVICE, DRIVER
from tests.conftest import login


def _named_by_mobile(app, ref):
    """Sign-up names the account by its mobile (members.register): so does this one."""
    with app.app_context():
        user = app.appbuilder.sm.get_user_by_id(ref.user_id)
        user.first_name, user.last_name = user.username, ""
        db.session.commit()


def _me(app, ref):
    client = app.test_client()
    assert login(client, ref.mobile).status_code == 302
    resp = client.get("/me")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _head(html):
    """The first card: who this is."""
    return html.split("data-me-head", 1)[1].split('class="card', 1)[0]


@pytest.mark.parametrize("status", ["pending", "approved", "rejected"])
def test_a_member_sees_the_shop_name_and_the_mobile_once(app, make, status):
    member = make.member(status=status, shop="三亚湾海景民宿")
    _named_by_mobile(app, member)
    if status == "rejected":
        with app.app_context():
            db.session.get(Member, member.id).reject_reason = "营业执照照片不清晰"
            db.session.commit()
    html = _me(app, member)
    assert html.count(member.mobile) == 1, html
    assert re.search(r'data-me-mobile>\s*' + member.mobile, html)
    assert '<span data-shop-name>三亚湾海景民宿</span>' in _head(html)
    assert html.count("三亚湾海景民宿") == 1  # the head names the shop; the card does not
    assert f'data-status="{status}"' in _head(html)
    assert "data-complete-profile" not in html
    assert "data-my-shop" in html and "联系人" in html.split("data-my-shop", 1)[1]
    assert ("data-reject-reason" in _head(html)) == (status == "rejected")
    if status == "rejected":
        assert "营业执照照片不清晰" in _head(html)
    assert 'data-tab="to_confirm"' in html  # the order counts are there for every member


def test_a_profile_mobile_other_than_the_sign_in_one_shows_as_its_own_row(app, make):
    member = make.member(status="approved")
    with app.app_context():
        db.session.get(Member, member.id).phone = "13611112222"
        db.session.commit()
    html = _me(app, member)
    assert html.count(member.mobile) == 1 and html.count("13611112222") == 1
    assert "13611112222" in html.split("data-my-shop", 1)[1]


def test_a_member_without_a_complete_profile_is_sent_to_the_form(app, make):
    member = make.member(status="incomplete")
    client = app.test_client()
    assert login(client, member.mobile).status_code == 302
    resp = client.get("/me")
    assert resp.status_code == 302 and resp.headers["Location"] == "/me/profile"


def test_without_a_shop_name_the_page_asks_for_the_profile(app, make):
    """A member row without a shop name (the gate normally sends a customer to the form
    first): the head is a link to the profile form, with the mobile once and no empty
    shop card."""
    member = make.member(status="incomplete")
    _named_by_mobile(app, member)
    with app.app_context():
        row = db.session.get(Member, member.id)
        row.shop_name = None
        db.session.commit()
        user = app.appbuilder.sm.get_user_by_id(member.user_id)
        with app.test_request_context("/me"):
            flask_login.login_user(user)
            html = render_template("shop/me.html", tab="me", member=row,
                                   name=user.username, entries=[], unread=0,
                                   order_counts={})
        db.session.remove()
    head = _head(html)
    assert 'href="/me/profile" data-complete-profile' in head
    assert "data-shop-name" not in html and "data-my-shop" not in html
    assert html.count(member.mobile) == 1


@pytest.mark.parametrize("roles,entry", [((CUSTOMER_SERVICE,), "admin"), ((DRIVER,), "driver")])
def test_staff_without_a_member_see_their_name_and_mobile_once(app, make, roles, entry):
    person = make.user(*roles, name="客服小陈")
    html = _me(app, person)
    head = _head(html)
    assert "<h2>客服小陈</h2>" in head and html.count(person.mobile) == 1
    assert "data-shop-name" not in html and "data-my-shop" not in html
    assert "data-complete-profile" not in html and 'data-tab="to_confirm"' not in html
    assert f'data-entry="{entry}"' in html


def test_staff_named_by_their_mobile_see_it_once(app, make):
    person = make.user(CUSTOMER_SERVICE)
    _named_by_mobile(app, person)
    html = _me(app, person)
    assert html.count(person.mobile) == 1 and "<h2>" not in _head(html)
