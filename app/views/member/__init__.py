"""The member's own pages under /me/: the shop profile form and the in-app messages."""

from flask import Blueprint, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.members import services as members
from app.members import wechat_accounts
from app.members.models import MemberStatus
from app.messaging import inbox
from app.platform import ids
from app.platform.errors import DomainError
from app.views.guards import signed_in

bp = Blueprint("member", __name__, url_prefix="/me")

PROFILE_FIELDS = ("shop_name", "contact_name", "phone", "address", "region_id", "wechat_id",
                  "invoice_title", "tax_number")


@bp.route("/profile", methods=["GET", "POST"])
@signed_in
def profile():
    member = members.member_of(current_user)
    if member is None:
        flash(_("Only customer accounts have a shop profile."), "info")
        return redirect("/me")
    regions = members.active_regions()
    values = {f: getattr(member, f) for f in PROFILE_FIELDS}
    if not values["phone"]:
        values["phone"] = current_user.username
    error = None
    if request.method == "POST":
        values = {f: request.form.get(f, "") for f in PROFILE_FIELDS}
        try:
            members.save_profile(current_user, request.form,
                                 shop_photo=request.files.get("shop_photo"),
                                 licence_photo=request.files.get("licence_photo"))
        except DomainError as exc:
            error = str(exc.message)
        else:
            flash(_("Saved. Your profile has been sent for approval.")
                  if member.status != MemberStatus.APPROVED else _("Saved."), "info")
            return redirect("/me")
    return render_template("member/profile.html", member=member, values=values,
                           regions=regions, error=error), 400 if error else 200


@bp.route("/messages")
@signed_in
def messages():
    before = ids.parse_cursor(request.args.get("before"))
    rows, next_before = inbox.page(current_user, before)
    unread_ids = {m.id for m in rows if m.read_at is None}
    if unread_ids:
        inbox.mark_all_read(current_user)
    return render_template("member/messages.html", rows=rows, next_before=next_before,
                           unread_ids=unread_ids)


@bp.route("/wechat/<int:identity_id>/unbind", methods=["POST"])
@signed_in
def unbind_wechat(identity_id):
    """Unbind one of my WeChat identities (asked to confirm on 我的 first)."""
    wechat_accounts.unbind(current_user, min(identity_id, ids.MAX_ID))
    flash(_("WeChat unbound: it no longer signs you in or receives your messages."), "info")
    return redirect("/me")
