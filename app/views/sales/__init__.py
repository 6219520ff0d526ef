"""Business end 业务端 (salesmen)."""

from flask import Blueprint, render_template
from flask_login import current_user

from ...models import StaffKind
from ...security import SALES_END
from ...services.staff import staff_of
from ..guards import requires

bp = Blueprint("sales", __name__, url_prefix="/sales")


@bp.route("/")
@requires(SALES_END)
def index():
    return render_template("sales/index.html", staff=staff_of(current_user, StaffKind.SALESMAN))
