"""Business end 业务端 (salesmen)."""

import io

import segno
from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user

from ...models import StaffKind
from ...security import SALES_END
from ...services import members
from ...services.staff import staff_of
from ..guards import requires

bp = Blueprint("sales", __name__, url_prefix="/sales")


@bp.route("/")
@requires(SALES_END)
def index():
    return render_template("sales/index.html", staff=staff_of(current_user, StaffKind.SALESMAN))


def _my_signup_link() -> str:
    salesman = staff_of(current_user, StaffKind.SALESMAN)
    if salesman is None:
        abort(404)
    code = members.ensure_referral_code(salesman)
    return url_for("auth.register", ref=code, _external=True)


@bp.route("/qr")
@requires(SALES_END)
def qr():
    """My personal QR code: customers who sign up through it become my customers."""
    return render_template("sales/qr.html", link=_my_signup_link(),
                           staff=staff_of(current_user, StaffKind.SALESMAN))


@bp.route("/qr.<fmt>")
@requires(SALES_END)
def qr_image(fmt):
    if fmt not in ("png", "svg"):
        abort(404)
    code = segno.make(_my_signup_link(), error="m")
    out = io.BytesIO()
    if fmt == "png":
        code.save(out, kind="png", scale=10, border=2)
        mime = "image/png"
    else:
        code.save(out, kind="svg", scale=10, border=2, xmldecl=False)
        mime = "image/svg+xml"
    resp = Response(out.getvalue(), mimetype=mime)
    if request.args.get("download"):
        resp.headers["Content-Disposition"] = f"attachment; filename=pifa-qr.{fmt}"
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp
