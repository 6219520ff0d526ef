"""Driver end 司机端."""

from flask import Blueprint, render_template
from flask_login import current_user

from ...models import StaffKind
from ...security import DRIVER_END
from ...services.staff import staff_of
from ..guards import requires

bp = Blueprint("driver", __name__, url_prefix="/driver")


@bp.route("/")
@requires(DRIVER_END)
def index():
    return render_template("driver/index.html", staff=staff_of(current_user, StaffKind.DRIVER))
