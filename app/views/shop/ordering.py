"""订货: the product page's form posts here; the cart rule is cart.add_to_cart's."""

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.catalog import storefront
from app.ordering import cart
from app.platform import ids
from app.platform.errors import DomainError
from app.views.shop import bp, price_access
from app.views.shop.browse import product_page

QTY_FIELD = re.compile(r"^qty_(\d{1,9})$")


def _posted_quantities() -> dict[int, str]:
    """{spec id: raw quantity} from the form's qty_<spec id> fields; a blank field is
    a spec left unchosen. The raw text goes to the service, which parses and checks it."""
    quantities = {}
    for key, value in request.form.items():
        match = QTY_FIELD.match(key)
        if match and value.strip() != "":
            quantities[int(match[1])] = value
    return quantities


@bp.route("/cart/add", methods=["POST"])
def cart_add():
    product_id = ids.parse_id(request.form.get("product_id"))
    back = url_for("shop.product", product_id=product_id) if product_id else url_for("shop.home")
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=back))
    quantities = _posted_quantities()
    try:
        cart.add_to_cart(current_user, quantities)
    except DomainError as exc:  # add_to_cart left nothing behind (platform.transactions)
        card = storefront.product_detail(product_id, price_access()) if product_id else None
        if card is None:  # no product page to go back to (or it went off the shelf)
            return render_template("error.html", code=exc.status_code,
                                   message=str(exc.message)), exc.status_code
        flash(str(exc.message), "danger")
        return product_page(card, exc.status_code, quantities)
    flash(_("Added to the cart."), "success")
    # e.g. the frequently-bought list adds and stays
    return redirect(ids.safe_target(request.form.get("back"), back))
