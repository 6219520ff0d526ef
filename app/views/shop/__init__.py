"""Storefront blueprint (customers and visitors)."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...models import Member
from ...services import accounts
from ..guards import signed_in

bp = Blueprint("shop", __name__)


@bp.route("/")
def home():
    return render_template("shop/home.html", tab="home")


@bp.route("/me")
@signed_in
def me():
    member = db.session.scalar(select(Member).where(Member.user_id == current_user.id))
    return render_template("shop/me.html", tab="me", member=member,
                           name=accounts.display_name(current_user),
                           entries=accounts.me_entries(current_user))
