"""商品 → 商品管理: products, their images and the specs-and-prices editor.

The rules are in app/catalog/services.py; these views translate forms into service calls.
Columns computed for display (a product's cover, its specs) are given to `PifaInterface`,
so the models stay free of screen code.
"""


from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import action, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select
from wtforms import TextAreaField

from app.catalog import services as catalog
from app.catalog.models import Brand, PackUnit, Product, Spec
from app.extensions import db
from app.members.models import MemberLevel
from app.platform import uploads
from app.platform.errors import DomainError
from app.views.admin.base import (
    IMAGE_ACCEPT,
    PifaInterface,
    PifaModelView,
    TallTextArea,
    count_by,
    flag,
    relation_select,
    safe_html,
    thumb,
    yes_no_icon,
)
from app.views.admin.catalog import carton_text, category_select, moq_text

NEW_SPEC_ROWS = 3
MAX_SPEC_ROWS = 200


def _product_specs(product):
    if not product.specs:
        return "—"
    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>¥{}/{}</td><td>{}</td>"
               "<td>{}</td></tr>").format(
            spec, spec.pack_unit.label(), moq_text(spec.pack_unit), spec.base_price,
            spec.pack_unit.base_unit, spec.stock, _("Yes") if spec.active else _("No"))
        for spec in product.specs)
    head = Markup("<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
                  "</tr>").format(_("Spec"), _("Packing"), _("Minimum order"),
                                  _("Base price"), _("Stock"), _("Active"))
    return Markup('<table class="table table-condensed" style="margin:0;white-space:normal">'
                  "{}{}</table>").format(head, rows)


def _product_gallery(product):
    if not product.images:
        return "—"
    return Markup(" ").join(thumb(image.key, 64) for image in product.images)


def _product_name(product):
    return Markup("{}{}").format(
        product.name,
        "" if product.on_shelf else Markup(' <span class="label label-default">{}</span>')
        .format(_("Off shelf")))


class ProductView(PifaModelView):
    route_base = "/admin/products"
    noun = _l("Products")
    datamodel = PifaInterface(Product, computed={
        "cover_img": lambda p: thumb(p.cover),
        "category_path": lambda p: p.category.path_name() if p.category else "—",
        "spec_count": lambda p: count_by(Spec.product_id).get(p.id, 0),
        "spec_table": _product_specs,
        "gallery": _product_gallery,
        "display_name": _product_name,
    })
    list_columns = ["cover_img", "name", "item_no", "brand", "category_path", "spec_count",
                    "on_shelf", "sort_order"]
    order_columns = ["name", "item_no", "on_shelf", "sort_order"]
    show_columns = ["name", "item_no", "brand", "category_path", "tags", "gallery",
                    "spec_table", "description", "on_shelf", "sort_order", "created_at",
                    "updated_at"]
    add_columns = edit_columns = ["name", "item_no", "brand", "category", "tags",
                                  "description", "on_shelf", "sort_order"]
    search_columns = ["name", "item_no", "brand", "category", "tags", "on_shelf"]
    base_order = ("sort_order", "asc")
    show_template = "admin/catalog/product_show.html"
    edit_template = "admin/catalog/product_edit.html"
    label_columns = {"name": _l("Product name"), "display_name": _l("Product name"),
                     "item_no": _l("Item No."), "brand": _l("Brand"),
                     "category": _l("Category"), "category_path": _l("Category"),
                     "tags": _l("Tags"), "description": _l("Description"),
                     "on_shelf": _l("On shelf"), "sort_order": _l("Sort order"),
                     "cover_img": _l("Cover"), "gallery": _l("Images"),
                     "spec_count": _l("Specs"), "spec_table": _l("Specs and prices"),
                     "created_at": _l("Created at"), "updated_at": _l("Updated at")}
    description_columns = {
        "item_no": _l("货号, free text."),
        "description": _l("Optional; shown under the specs. HTML is allowed (paragraphs, "
                          "headings, lists, links, images, tables); scripts, styles and "
                          "event attributes are removed when saving."),
        "on_shelf": _l("Products off the shelf are hidden in the shop."),
        "sort_order": _l("Smaller numbers come first."),
    }
    formatters_columns = {"on_shelf": yes_no_icon,
                          "tags": lambda tags: ", ".join(map(str, tags)) or "—",
                          "description": safe_html}
    search_form_extra_fields = {
        "brand": relation_select(_l("Brand"), Brand, Brand.sort_order, Brand.name),
        "category": category_select(_l("Category"), _l("— none —")),
    }
    add_template = "admin/catalog/add_with_note.html"
    extra_args = {"form_note": _l("After saving you go on to the product's specs and "
                                  "prices; images are added from the product's page.")}
    add_form_extra_fields = edit_form_extra_fields = {
        "brand": relation_select(_l("Brand"), Brand, Brand.sort_order, Brand.name,
                                 blank=_l("— none —")),
        "category": category_select(_l("Category"), _l("— none —")),
        "description": TextAreaField(_l("Description"), widget=TallTextArea(8)),
        "on_shelf": flag(_l("On shelf")),
    }

    # -- form hooks

    def pre_add(self, item):
        self._call(catalog.save_product, item)

    def pre_update(self, item):
        self._call(catalog.save_product, item)

    def pre_delete(self, item):
        g.pifa_deleted_images = [image.key for image in item.images]

    def post_delete(self, item):
        for key in g.pop("pifa_deleted_images", []):
            uploads.delete_image(key)

    def post_add(self, item):
        g.pifa_new_product_id = item.id

    def post_add_redirect(self):
        """A new product needs specs and prices next: go straight there."""
        new_id = g.pop("pifa_new_product_id", None)
        if new_id is not None:
            return redirect(url_for(f"{self.endpoint}.specs", pk=new_id))
        return super().post_add_redirect()

    # -- bulk actions (FAB-NOTES 6: actions load rows without base_filters; re-check)

    def _visible(self, items):
        if not isinstance(items, list):
            items = [items]
        return [i for i in items
                if i is not None and self.datamodel.get(i.id, self._base_filters)]

    @action("shelf_on", _l("Put on shelf"), _l("Put the selected products on the shelf?"),
            "fa-arrow-up", multiple=True)
    def shelf_on(self, items):
        count = catalog.set_shelf(self._visible(items), True)
        flash(ngettext("%(num)d product put on the shelf.",
                       "%(num)d products put on the shelf.", count), "success")
        return redirect(self.get_redirect())

    @action("shelf_off", _l("Take off shelf"), _l("Take the selected products off the shelf?"),
            "fa-arrow-down", multiple=True)
    def shelf_off(self, items):
        count = catalog.set_shelf(self._visible(items), False)
        flash(ngettext("%(num)d product taken off the shelf.",
                       "%(num)d products taken off the shelf.", count), "success")
        return redirect(self.get_redirect())

    # -- the images and specs pages (covered by the can_edit permission)

    def _product_or_404(self, pk):
        product = self.datamodel.get(pk, self._base_filters)
        if product is None:
            abort(404)
        return product

    def _render_images(self, product, status=200):
        return self.render_template(
            "admin/catalog/product_images.html", product=product,
            title=_("Images: %(name)s", name=product.name), thumb_of=uploads.thumb_key_of,
            accept=IMAGE_ACCEPT), status

    @expose("/<int:pk>/images", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def images(self, pk):
        product = self._product_or_404(pk)
        if request.method == "POST":
            try:
                count = catalog.add_images(product, request.files.getlist("images"))
            except DomainError as exc:
                flash(str(exc.message), "danger")
                return self._render_images(product, 400)
            flash(ngettext("%(num)d image added.", "%(num)d images added.", count), "success")
            return redirect(url_for(f"{self.endpoint}.images", pk=product.id))
        return self._render_images(product)

    @expose("/<int:pk>/images/<int:image_id>/move", methods=["POST"])
    @has_access
    @permission_name("edit")
    def move_image(self, pk, image_id):
        product = self._product_or_404(pk)
        step = request.form.get("step")
        if step not in ("-1", "1"):
            abort(400)
        return self._image_change(product, catalog.move_image, image_id, int(step))

    @expose("/<int:pk>/images/<int:image_id>/remove", methods=["POST"])
    @has_access
    @permission_name("edit")
    def remove_image(self, pk, image_id):
        product = self._product_or_404(pk)
        return self._image_change(product, catalog.remove_image, image_id)

    def _image_change(self, product, fn, *args):
        try:
            fn(product, *args)
        except DomainError as exc:
            flash(str(exc.message), "danger")
            return self._render_images(product, 400)
        return redirect(url_for(f"{self.endpoint}.images", pk=product.id))

    @expose("/<int:pk>/specs", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def specs(self, pk):
        product = self._product_or_404(pk)
        levels = db.session.scalars(
            select(MemberLevel).order_by(MemberLevel.sort_order, MemberLevel.id)).all()
        units = db.session.scalars(select(PackUnit).order_by(
            PackUnit.base_unit, PackUnit.inner_qty, PackUnit.outer_qty)).all()
        if request.method == "POST":
            rows = [row for row in _submitted_rows(request.form, levels)
                    if row["id"] or row["model"] or row["spec"] or row["base_price"]]
            try:
                catalog.save_specs(product, rows, levels)
            except DomainError as exc:
                flash(str(exc.message), "danger")
                return self._render_specs(product, rows, levels, units, 400)
            flash(_("Specs and prices saved."), "success")
            return redirect(url_for(f"{self.endpoint}.specs", pk=product.id))
        rows = [_spec_row(spec, levels) for spec in product.specs]
        return self._render_specs(product, rows, levels, units)

    def _render_specs(self, product, rows, levels, units, status=200):
        rows = list(rows) + [_blank_row(levels) for _i in range(NEW_SPEC_ROWS)]
        by_id = {u.id: u for u in units}

        def unit_of(row):
            try:
                return by_id.get(int(row["pack_unit_id"]))
            except (TypeError, ValueError):
                return None

        return self.render_template(
            "admin/catalog/product_specs.html", product=product, rows=rows, levels=levels,
            units=units, unit_of=unit_of, moq_text=moq_text, carton_text=carton_text,
            title=_("Specs and prices: %(name)s", name=product.name)), status


SPEC_FIELDS = ("id", "model", "spec", "pack_unit_id", "weight_kg", "stock", "base_price",
               "sort_order")


def _submitted_rows(form, levels):
    """The editor's rows as save_specs takes them: r<i>-<field> inputs, row_count rows."""
    try:
        count = min(max(int(form.get("row_count", "0")), 0), MAX_SPEC_ROWS)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        prefix = f"r{i}-"
        row = {key: form.get(prefix + key, "").strip() for key in SPEC_FIELDS}
        row["active"] = bool(form.get(prefix + "active"))
        row["delete"] = bool(form.get(prefix + "delete"))
        for level in levels:
            row[f"price_{level.id}"] = form.get(f"{prefix}price_{level.id}", "").strip()
        rows.append(row)
    return rows


def _spec_row(spec, levels):
    prices = {lp.level_id: lp.price for lp in spec.level_prices}
    row = {"id": str(spec.id), "model": spec.model or "", "spec": spec.spec or "",
           "pack_unit_id": str(spec.pack_unit_id), "weight_kg": _plain(spec.weight_kg),
           "stock": str(spec.stock), "base_price": _plain(spec.base_price, 2),
           "active": spec.active, "sort_order": str(spec.sort_order), "delete": False}
    for level in levels:
        price = prices.get(level.id)
        row[f"price_{level.id}"] = _plain(price, 2) if price is not None else ""
    return row


def _blank_row(levels):
    row = {key: "" for key in SPEC_FIELDS}
    row.update(active=True, delete=False)
    for level in levels:
        row[f"price_{level.id}"] = ""
    return row


def _plain(number, places=None):
    """A Decimal as typed: 0.250 -> 0.25, 10 -> 10.00 for money (places=2)."""
    if number is None:
        return ""
    if places is not None:
        return f"{number:.{places}f}"
    text = format(number.normalize(), "f")
    return text
