"""The driver's order page and its three forms: start delivery, photos, complete.

An order is found only through scope.get_order (outside the scope: 404). Start and
complete go through workflow.apply, which decides whether this driver may; photos go
through delivery.add_delivery_photos. A refused step changes nothing, is flashed, and
the page is shown again with the error's status; the photo upload also answers JSON
to driver.js (which sends `Accept: application/json`).
"""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.ordering import delivery, scope, workflow
from app.ordering.lines import held_quantity
from app.platform import maps
from app.platform.errors import DomainError, NotFound
from app.platform.security import DRIVER_END
from app.platform.uploads import thumb_key_of
from app.views.driver import bp
from app.views.guards import requires


def _order(order_no):
    try:
        return scope.get_order(current_user, order_no=order_no)
    except NotFound:
        abort(404)


def _order_page(order, status=200, failed="", form=None):
    address = order.address_line()
    return render_template(
        "driver/order.html", order=order, failed=failed, form=form or {},
        actions=workflow.allowed_actions(order, current_user),
        can_photo=delivery.may_add_photos(order, current_user),
        mine=delivery.is_my_order(order, current_user),
        held=held_quantity, cash=delivery.driver_money(order, current_user),
        map_url=maps.address_link(address) if address else None,
        max_photos=delivery.MAX_PHOTOS_PER_ORDER,
        door_open=failed == "complete" and any(
            (v or "").strip() for k, v in (form or {}).items() if k.startswith("refused_"))
        ), status


def _refused(order, form) -> tuple[list[dict], str | None]:
    """Refused or short quantities from the complete form, as workflow wants them."""
    refused = []
    for line in order.lines:
        qty = (form.get(f"refused_{line.id}") or "").strip()
        if qty and qty != "0":
            refused.append({"line_id": line.id, "quantity": qty,
                            "reason": form.get(f"reason_{line.id}") or ""})
    cash = (form.get("cash_collected") or "").strip().lstrip("¥￥").replace(",", "")
    return refused, cash or None


def _refuse(order_no, exc, failed):
    """A DomainError: nothing changed; flash it and show the page again."""
    if isinstance(exc, NotFound):
        abort(404)
    flash(str(exc.message), "danger")
    return _order_page(_order(order_no), exc.status_code, failed, request.form)


@bp.route("/orders/<order_no>")
@requires(DRIVER_END)
def order(order_no):
    return _order_page(_order(order_no))


@bp.route("/orders/<order_no>/start", methods=["POST"])
@requires(DRIVER_END)
def start(order_no):
    found = _order(order_no)
    try:
        workflow.apply(found, "start_delivery", current_user)
    except DomainError as exc:
        return _refuse(order_no, exc, "start")
    flash(_("Delivery started. Drive safely!"), "info")
    return redirect(url_for("driver.order", order_no=order_no))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/orders/<order_no>/photos", methods=["POST"])
@requires(DRIVER_END)
def photos(order_no):
    found = _order(order_no)
    try:
        added = delivery.add_delivery_photos(found, request.files.getlist("photos"),
                                             current_user)
    except DomainError as exc:
        if _wants_json():
            if isinstance(exc, NotFound):
                abort(404)
            return jsonify(ok=False, error=str(exc.message)), exc.status_code
        return _refuse(order_no, exc, "photos")
    if _wants_json():
        return jsonify(ok=True, count=len(found.photos),
                       photos=[{"url": f"/media/{p.key}", "thumb": f"/media/{thumb_key_of(p.key)}"}
                               for p in added])
    flash(ngettext("%(num)d photo of the signed note uploaded.",
                   "%(num)d photos of the signed note uploaded.", len(added)), "info")
    return redirect(url_for("driver.order", order_no=order_no) + "#photos")


@bp.route("/orders/<order_no>/complete", methods=["POST"])
@requires(DRIVER_END)
def complete(order_no):
    found = _order(order_no)
    refused, cash = _refused(found, request.form)
    try:
        workflow.apply(found, "complete_delivery", current_user, refused=refused,
                       cash_collected=cash)
    except DomainError as exc:
        return _refuse(order_no, exc, "complete")
    flash(_("Delivery completed. The customer sees the order as received."), "info")
    return redirect(url_for("driver.order", order_no=order_no))
