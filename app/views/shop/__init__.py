"""Storefront blueprint (customers and visitors).

Views translate HTTP into calls of the domains (catalog.storefront listings and the gate,
pricing.price_access for what a person sees, cart.add_to_cart for the cart rule) and
render the result; they decide no rule themselves.

Closed mode (对外开放 off): every page of this blueprint shows one landing page unless
storefront.shop_is_open_for(current_user), except the endpoints in OPEN_WHEN_CLOSED.
"""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.catalog import pricing, storefront
from app.content import services as content
from app.extensions import db
from app.members import services as members
from app.members import wechat_accounts
from app.members.models import Member
from app.messaging import inbox
from app.ordering import cart, queries
from app.payments import credit, ledger
from app.platform import accounts, ids, uploads
from app.platform.errors import ValidationError
from app.views.guards import signed_in

bp = Blueprint("shop", __name__)

# Endpoints of this blueprint that stay reachable in closed mode (each still applies
# its own guard, e.g. /me needs a signed-in user). Sign-in, registration and the
# profile form live in other blueprints (auth, member), which this gate does not cover.
OPEN_WHEN_CLOSED = {"shop.me"}


# Pages a signed-in customer reaches only with a complete profile (the profile gate).
NEEDS_PROFILE = {"shop.product", "shop.me", "shop.cart", "shop.checkout", "shop.orders",
                 "shop.order", "shop.pay"}


@bp.before_request
def _closed_mode_gate():
    if request.endpoint in OPEN_WHEN_CLOSED:
        return None
    if storefront.shop_is_open_for(current_user):
        return None
    return render_template("shop/landing.html")


@bp.before_request
def _profile_gate():
    if request.endpoint in NEEDS_PROFILE and current_user.is_authenticated and \
            members.needs_profile(current_user):
        flash(_("Please complete your profile to continue."), "warning")
        return redirect(url_for("member.profile"))
    return None


def price_access() -> pricing.PriceAccess:
    return pricing.price_access(current_user)


def cart_count() -> int:
    """Lines in the cart, counted once per request (the tab bar's badge)."""
    if "pifa_cart_count" not in g:
        g.pifa_cart_count = cart.cart_count(current_user)
    return g.pifa_cart_count


def page_url(number: int) -> str:
    """This page's URL with ?page=number (the other query arguments kept)."""
    values = {**request.args.to_dict(), **(request.view_args or {}), "page": number}
    return url_for(request.endpoint, **values)


def page_arg() -> int:
    return ids.parse_page(request.args.get("page"))


@bp.context_processor
def _shop_context():
    return {"cart_count": cart_count, "page_url": page_url,
            "hidden_price_text": pricing.HIDDEN_TEXT}


@bp.app_template_filter("yuan")
def yuan(value) -> str:
    """A Decimal amount as ¥12.50 (templates only get amounts the pricing service returned)."""
    return f"¥{value:.2f}"


bp.add_app_template_filter(uploads.media_url, "media")


@bp.app_template_filter("shop_link")
def shop_link(link: str | None) -> str | None:
    """A home-block link if it is a path inside the shop (content.safe_link), else None."""
    try:
        return content.safe_link(link)
    except ValidationError:
        return None


@bp.app_template_filter("packing")
def packing(unit) -> str:
    """20 把/盒 · 400 把/箱"""
    return (f"{unit.inner_qty} {unit.base_unit}/{unit.inner_unit} · "
            f"{unit.outer_qty} {unit.base_unit}/{unit.outer_unit}")


@bp.route("/me")
@signed_in
def me():
    member = db.session.scalar(select(Member).where(Member.user_id == current_user.id))
    return render_template("shop/me.html", tab="me", member=member,
                           balance=ledger.balance(member.id) if member else None,
                           available=credit.available(member)
                           if member and member.monthly_settlement else None,
                           name=accounts.display_name(current_user),
                           entries=accounts.me_entries(current_user),
                           unread=inbox.unread_count(current_user),
                           wechat=wechat_accounts.bound_identities(current_user.id),
                           order_counts=queries.customer_tab_counts(current_user) if member else {})


from app.views.shop import browse, ordering, orders, pages, pay  # noqa: E402,F401  (their routes join bp)
