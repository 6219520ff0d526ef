"""The member's own pages under /me/: the shop profile form, the in-app messages and the
account (what the shop owes: the receivables ledger, its aging and the credit left)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.members import services as members
from app.members import wechat_accounts
from app.members.models import MemberStatus
from app.messaging import inbox
from app.payments import credit, ledger, statement_files, statements
from app.payments.labels import AGING_LABELS, ENTRY_KIND_LABELS, STATEMENT_STATUS_LABELS
from app.platform import ids
from app.platform.errors import DomainError, NotFound
from app.views.downloads import private_attachment
from app.views.guards import signed_in

bp = Blueprint("member", __name__, url_prefix="/me")

ENTRIES_PER_PAGE = 30
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


@bp.route("/account")
@signed_in
def account():
    """我的账户: what my shop owes (or paid ahead), the credit left of 统一结算, how old the
    debt is, and the entries newest first (keyset: ?before=<entry id>). Only the signed-in
    member's own account: there is no id to ask for another."""
    member = members.member_of(current_user)
    if member is None:
        flash(_("Only customer accounts have a balance."), "info")
        return redirect("/me")
    before = ids.parse_cursor(request.args.get("before"))
    rows = ledger.entries(member.id, before, ENTRIES_PER_PAGE + 1)
    more = len(rows) > ENTRIES_PER_PAGE
    rows = rows[:ENTRIES_PER_PAGE]
    balance = ledger.balance(member.id)
    return render_template(
        "member/account.html", member=member, balance=balance, rows=rows,
        entry_labels=ENTRY_KIND_LABELS,
        aging_labels=AGING_LABELS, paged=bool(before),
        next_url=url_for("member.account", before=rows[-1].id) if more else None,
        aging=ledger.agings([member.id])[member.id] if balance > 0 else None,
        available=credit.available(member) if member.monthly_settlement else None)


# ---- 对账单: my monthly statements -------------------------------------------------------

@bp.route("/statements")
@signed_in
def statements_list():
    """My monthly statements, the newest month first."""
    member = members.member_of(current_user)
    if member is None:
        flash(_("Only customer accounts have a balance."), "info")
        return redirect("/me")
    return render_template("member/statements.html", member=member,
                           statements=statements.of_member(member.id),
                           status_labels=STATEMENT_STATUS_LABELS)


@bp.route("/statements/<int:statement_id>", methods=["GET", "POST"])
@signed_in
def statement(statement_id):
    """One of my statements with its lines; confirm it (对账确认) or dispute it."""
    found = _own_statement(statement_id)
    status = 200
    if request.method == "POST":
        confirm = request.form.get("answer") == "confirm"
        try:
            statements.respond(current_user, found.id, confirm, request.form.get("remark"))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            status = exc.status_code
        else:
            flash(_("Thank you: the statement is confirmed.") if confirm else
                  _("Your remark has been sent; we will check the statement and contact "
                    "you."), "info")
            return redirect(url_for("member.statement", statement_id=found.id))
        found = _own_statement(statement_id)
    return render_template("member/statement.html", statement=found,
                           status_labels=STATEMENT_STATUS_LABELS,
                           entry_labels=ENTRY_KIND_LABELS, aging_labels=AGING_LABELS), status


@bp.route("/statements/<int:statement_id>.<fmt>")
@signed_in
def statement_file(statement_id, fmt):
    if fmt not in statement_files.FORMATS:
        abort(404)
    return private_attachment(*statement_files.render(_own_statement(statement_id), fmt))


def _own_statement(statement_id):
    try:
        return statements.own(current_user, statement_id)
    except NotFound:
        abort(404)
