"""商品: categories (a three-level tree), brands, tags, the spec library, products with
their images and specs, member levels.

The rules are in app/catalog/services.py; these views translate forms into service calls.
Columns computed for display (a category's indented name, a product's cover) are given
to `PifaInterface`, so the models stay free of screen code.
"""

from functools import partial

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import action, expose, has_access
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.validators import Unique
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.file import FileField
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import BooleanField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length

from app.catalog import services as catalog
from app.catalog.models import Brand, Category, PackUnit, Product, Spec, Tag, product_tag
from app.content.services import sanitize_html
from app.extensions import db
from app.members.models import Member, MemberLevel
from app.platform import uploads
from app.platform.errors import DomainError
from app.views.admin.base import PifaModelView

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"
IMAGE_HELP = _l("JPEG, PNG or WebP.")
KEEP_IMAGE_HELP = _l("Leave the field empty to keep the current image.")
HTML_HELP = _l("HTML is allowed (paragraphs, headings, lists, links, images, tables); "
               "scripts, styles and event attributes are removed when saving.")
NEW_SPEC_ROWS = 3
MAX_SPEC_ROWS = 200


# ---- shared pieces (also used by content.py) -------------------------------------------

class PifaInterface(SQLAInterface):
    """SQLAInterface with columns computed by the view: {name: function(item)}.

    Computed columns can be listed and shown; they cannot be sorted (an order on one
    falls back to the view's default order).
    """

    def __init__(self, obj, computed=None, session=None):
        super().__init__(obj, session=session)
        self.computed = dict(computed or {})

    def _get_attr_value(self, item, col):
        if col in self.computed:
            return self.computed[col](item)
        return SQLAInterface._get_attr_value(item, col)

    def query(self, filters=None, order_column="", order_direction="", *args, **kwargs):
        if order_column in self.computed:
            order_column, order_direction = "", ""
        return super().query(filters, order_column, order_direction, *args, **kwargs)


class TallTextArea(widgets.TextArea):
    """A Bootstrap textarea with room for a few paragraphs."""

    def __init__(self, rows=10):
        self.rows = rows

    def __call__(self, field, **kwargs):
        kwargs["class"] = "form-control"
        kwargs.setdefault("rows", self.rows)
        return super().__call__(field, **kwargs)


def image_field(label):
    return FileField(label, description=IMAGE_HELP, render_kw={"accept": IMAGE_ACCEPT})


class AdminModelView(PifaModelView):
    """PifaModelView whose extra form fields also show `description_columns`.

    FAB applies description_columns only to the fields it generates; extra fields
    (selects with readable labels, uploads, checkboxes) would lose their help text.
    """

    def _init_forms(self):
        descriptions = self.description_columns or {}
        for fields in (self.add_form_extra_fields, self.edit_form_extra_fields):
            for name, field in (fields or {}).items():
                if name in descriptions and "description" not in field.kwargs:
                    field.kwargs["description"] = descriptions[name]
        super()._init_forms()


def relation_select(label, model, *order_by, blank=None):
    """A many-to-one select (Select2) whose empty choice says so."""
    return QuerySelectField(
        label, query_func=lambda: db.session.scalars(select(model).order_by(*order_by)).all(),
        get_pk_func=lambda obj: obj.id, allow_blank=blank is not None,
        blank_text=blank if blank is not None else "",
        widget=Select2Widget())


def flag(label, default=True):
    """A checkbox that may be left unticked.

    FAB gives every NOT NULL column InputRequired, which a Boolean column can then
    only pass when ticked; this field replaces the generated one.
    """
    return BooleanField(label, default=default)


def thumb(key, height=48):
    """An <img> of an uploaded image's thumbnail, or a dash."""
    if not key:
        return "—"
    src = "/media/" + uploads.thumb_key_of(key)
    return Markup('<img src="{}" alt="" style="max-height:{}px;max-width:{}px;'
                  'border:1px solid #ddd;border-radius:3px">').format(src, height, height * 2)


def count_by(column):
    """{value: number of rows} for a foreign-key column, counted once per request."""
    cache = g.setdefault("pifa_admin_counts", {})
    key = str(column)
    if key not in cache:
        cache[key] = dict(db.session.execute(
            select(column, func.count()).group_by(column)).all())
    return cache[key]


def categories_as_tree():
    """Every category, parents before children, siblings by sort order."""
    rows = db.session.scalars(select(Category)).all()
    return sorted(rows, key=tree_key)


def tree_key(category):
    path, node = [], category
    while node is not None and len(path) <= catalog.MAX_CATEGORY_DEPTH:
        path.append((node.sort_order or 0, node.id or 0))
        node = node.parent
    return list(reversed(path))


def category_select(label, blank):
    return QuerySelectField(label, query_func=categories_as_tree, get_pk_func=lambda c: c.id,
                            get_label=lambda c: c.path_name(), allow_blank=True,
                            blank_text=blank, widget=Select2Widget())


class ImageUploadMixin:
    """Extra upload fields stored by uploads.save_image: {form field: (column, folder)}.

    Call `_store_images(item)` last in pre_add/pre_update, after validation, so that a
    refused row leaves no file behind. A refused upload raises the service's message.
    The image a new upload replaces is deleted once the row is saved.
    """

    image_fields: dict = {}

    def _store_images(self, item):
        stored = []
        try:
            for field, (column, folder) in self.image_fields.items():
                upload = request.files.get(field)
                if upload is None or not upload.filename:
                    continue
                image = self._call(partial(uploads.save_image, upload, folder=folder))
                stored.append(image.key)
                old = getattr(item, column)
                setattr(item, column, image.key)
                if old:
                    g.setdefault("pifa_replaced_images", []).append(old)
        except DomainError:
            for key in stored:
                uploads.delete_image(key)
            g.pop("pifa_replaced_images", None)
            raise

    def _drop_replaced_images(self):
        for key in g.pop("pifa_replaced_images", []):
            uploads.delete_image(key)

    def _remember_images_of(self, item):
        """Before a delete: the files to remove once the row is gone."""
        g.pifa_deleted_images = [getattr(item, column)
                                 for column, _folder in self.image_fields.values()]

    def prefill_form(self, form, pk):
        """On the edit page, show the current image above its upload field."""
        item = self.datamodel.get(pk)
        for field, (column, _folder) in self.image_fields.items():
            key = getattr(item, column, None) if item is not None else None
            if key and field in form:
                form[field].description = Markup("{}<br>{} {}").format(
                    thumb(key, 80), IMAGE_HELP, KEEP_IMAGE_HELP)

    def post_add(self, item):
        self._drop_replaced_images()

    def post_update(self, item):
        self._drop_replaced_images()

    def pre_delete(self, item):
        self._remember_images_of(item)

    def post_delete(self, item):
        for key in g.pop("pifa_deleted_images", []):
            uploads.delete_image(key)


def safe_html(html):
    """Stored rich text, cleaned once more on the way out (it was cleaned when saved)."""
    return Markup(sanitize_html(html)) if html else "—"  # noqa: S704 - nh3-cleaned


def yes_no_icon(value):
    if value:
        return Markup('<span class="label label-success">{}</span>').format(_("Yes"))
    return Markup('<span class="label label-default">{}</span>').format(_("No"))


# ---- categories ------------------------------------------------------------------------

def _category_tree_name(category):
    level = category.level or 1
    marker = Markup("&#9492;&nbsp;") if level > 1 else ""
    return Markup('<span style="padding-left:{}px">{}{}</span>').format(
        (level - 1) * 28, marker, category.name)


class CategoryInterface(PifaInterface):
    """Lists categories as a tree unless the person sorts by a column."""

    TREE = "tree"

    def query(self, filters=None, order_column="", order_direction="", page=None,
              page_size=None, *args, **kwargs):
        if order_column not in ("", self.TREE) and order_column not in self.computed:
            return super().query(filters, order_column, order_direction, page, page_size,
                                 *args, **kwargs)
        count, rows = SQLAInterface.query(self, filters, "", "", None, None, *args, **kwargs)
        rows = sorted(rows, key=tree_key)
        if page_size:
            start = (page or 0) * page_size
            rows = rows[start:start + page_size]
        return count, rows


class CategoryView(ImageUploadMixin, AdminModelView):
    route_base = "/admin/categories"
    noun = _l("Categories")
    datamodel = CategoryInterface(Category, computed={
        "tree_name": _category_tree_name,
        "path": lambda c: c.path_name(),
        "icon_img": lambda c: thumb(c.icon, 32),
        "product_count": lambda c: count_by(Product.category_id).get(c.id, 0),
    })
    list_columns = ["tree_name", "icon_img", "level", "sort_order", "active", "product_count"]
    order_columns = ["level", "sort_order", "active"]
    show_columns = ["name", "path", "parent", "level", "icon_img", "sort_order", "active",
                    "product_count"]
    add_columns = edit_columns = ["name", "parent", "icon_file", "sort_order", "active"]
    search_columns = ["name", "parent", "level", "active"]
    base_order = (CategoryInterface.TREE, "asc")
    page_size = 100
    label_columns = {"name": _l("Category name"), "tree_name": _l("Category"),
                     "path": _l("Path"),
                     "parent": _l("Parent category"), "level": _l("Level"),
                     "icon": _l("Icon"), "icon_img": _l("Icon"), "icon_file": _l("Icon"),
                     "sort_order": _l("Sort order"), "active": _l("Active"),
                     "product_count": _l("Products")}
    description_columns = {
        "parent": _l("Empty for a top-level category. Categories have at most three "
                     "levels."),
        "sort_order": _l("Smaller numbers come first among siblings."),
        "active": _l("Inactive categories are hidden in the shop."),
    }
    formatters_columns = {"active": yes_no_icon}
    image_fields = {"icon_file": ("icon", "category")}
    add_form_extra_fields = edit_form_extra_fields = {
        "parent": category_select(_l("Parent category"), _l("— none (top level) —")),
        "icon_file": image_field(_l("Icon")),
        "active": flag(_l("Active")),
    }

    def pre_add(self, item):
        self._call(catalog.validate_category, item)
        self._store_images(item)

    def pre_update(self, item):
        self._call(catalog.validate_category, item)
        self._store_images(item)

    def pre_delete(self, item):
        self._call(catalog.check_category_deletable, item)
        super().pre_delete(item)


# ---- brands, tags, member levels ---------------------------------------------------------

class BrandView(ImageUploadMixin, AdminModelView):
    route_base = "/admin/brands"
    noun = _l("Brands")
    datamodel = PifaInterface(Brand, computed={
        "logo_img": lambda b: thumb(b.logo),
        "product_count": lambda b: count_by(Product.brand_id).get(b.id, 0),
    })
    list_columns = ["logo_img", "name", "sort_order", "product_count"]
    order_columns = ["name", "sort_order"]
    show_columns = ["name", "logo_img", "story", "sort_order", "product_count"]
    add_columns = edit_columns = ["name", "logo_file", "story", "sort_order"]
    search_columns = ["name", "story"]
    base_order = ("sort_order", "asc")
    label_columns = {"name": _l("Brand"), "logo": _l("Brand logo"),
                     "logo_img": _l("Brand logo"), "logo_file": _l("Brand logo"),
                     "story": _l("Brand story"),
                     "sort_order": _l("Sort order"), "product_count": _l("Products")}
    description_columns = {"story": _l("Shown on the brand's page above its products."),
                           "sort_order": _l("Smaller numbers come first.")}
    image_fields = {"logo_file": ("logo", "brand")}
    add_form_extra_fields = edit_form_extra_fields = {
        "logo_file": image_field(_l("Brand logo")),
        "story": TextAreaField(_l("Brand story"), widget=TallTextArea(8)),
    }

    def pre_add(self, item):
        self._call(catalog.validate_brand, item)
        self._store_images(item)

    def pre_update(self, item):
        self._call(catalog.validate_brand, item)
        self._store_images(item)

    def post_update(self, item):
        super().post_update(item)
        catalog.after_brand_change(item)
        db.session.commit()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class TagView(AdminModelView):
    route_base = "/admin/tags"
    noun = _l("Tags")
    datamodel = PifaInterface(Tag, computed={
        "product_count": lambda t: count_by(product_tag.c.tag_id).get(t.id, 0),
    })
    list_columns = ["name", "product_count"]
    order_columns = ["name"]
    show_columns = ["name", "product_count"]
    add_columns = edit_columns = ["name"]
    search_columns = ["name"]
    base_order = ("name", "asc")
    label_columns = {"name": _l("Tag"), "product_count": _l("Products")}
    description_columns = {"name": _l("e.g. 新品, 热卖. Home-page blocks can list the "
                                      "products of a tag.")}
    add_form_extra_fields = edit_form_extra_fields = {
        "name": StringField(_l("Tag"), filters=[_strip], validators=[
            DataRequired(), Length(max=32),
            Unique(datamodel, "name", _l("A tag with this name already exists."))]),
    }


class MemberLevelView(AdminModelView):
    route_base = "/admin/member-levels"
    noun = _l("Member levels")
    datamodel = PifaInterface(MemberLevel, computed={
        "member_count": lambda lv: count_by(Member.level_id).get(lv.id, 0),
    })
    list_columns = ["name", "sort_order", "member_count"]
    order_columns = ["name", "sort_order"]
    show_columns = ["name", "sort_order", "member_count"]
    add_columns = edit_columns = ["name", "sort_order"]
    search_columns = ["name"]
    base_order = ("sort_order", "asc")
    label_columns = {"name": _l("Level"), "sort_order": _l("Sort order"),
                     "member_count": _l("Members")}
    description_columns = {
        "name": _l("e.g. 普通, 银牌, 金牌. Each spec may have a price per level; a "
                   "level without a price pays the spec's base price."),
        "sort_order": _l("Order of the levels' price columns and choices."),
    }

    def pre_add(self, item):
        self._call(catalog.validate_member_level, item)

    def pre_update(self, item):
        self._call(catalog.validate_member_level, item)

    def pre_delete(self, item):
        self._call(catalog.check_member_level_deletable, item)


# ---- spec library ------------------------------------------------------------------------

def moq_text(unit):
    """e.g. 起订 20 把（1 盒）: the inner pack is the minimum and the step."""
    if unit is None:
        return ""
    return _("MOQ %(qty)d %(unit)s (1 %(pack)s)", qty=unit.inner_qty, unit=unit.base_unit,
             pack=unit.inner_unit)


def carton_text(unit):
    return _("%(qty)d %(unit)s per %(pack)s", qty=unit.outer_qty, unit=unit.base_unit,
             pack=unit.outer_unit)


class PackUnitView(AdminModelView):
    route_base = "/admin/pack-units"
    noun = _l("Spec library")
    datamodel = PifaInterface(PackUnit, computed={
        "spec_count": lambda u: count_by(Spec.pack_unit_id).get(u.id, 0),
        "moq": moq_text,
    })
    list_columns = ["label", "moq", "spec_count"]
    order_columns = ["base_unit"]  # none of the listed columns sorts
    show_columns = ["label", "base_unit", "inner_unit", "inner_qty", "outer_unit",
                    "outer_qty", "moq", "spec_count"]
    add_columns = edit_columns = ["base_unit", "inner_unit", "inner_qty", "outer_unit",
                                  "outer_qty"]
    search_columns = ["base_unit", "inner_unit", "outer_unit", "inner_qty", "outer_qty"]
    base_order = ("base_unit", "asc")
    add_template = "admin/catalog/add_with_note.html"
    edit_template = "admin/catalog/edit_with_note.html"
    extra_args = {"form_note": _l(
        "A packing is written once and used by many specs. The inner pack (e.g. a box of "
        "20) is the minimum order quantity and the step of every quantity; the outer pack "
        "(e.g. a carton of 400) holds a whole number of inner packs. Editing an entry "
        "changes every spec that uses it from then on; orders keep the packing they were "
        "placed with.")}
    label_columns = {"label": _l("Packing"), "base_unit": _l("Base unit"),
                     "inner_unit": _l("Inner pack"), "inner_qty": _l("Base units per inner pack"),
                     "outer_unit": _l("Outer pack"), "outer_qty": _l("Base units per outer pack"),
                     "moq": _l("Minimum order"), "spec_count": _l("Specs using it")}
    description_columns = {
        "base_unit": _l("The unit prices and stock are counted in, e.g. 把, 瓶, 卷."),
        "inner_unit": _l("e.g. 盒. One inner pack is the minimum order quantity."),
        "inner_qty": _l("e.g. 20 (把 per 盒)."),
        "outer_unit": _l("e.g. 箱, bought with the “whole carton” shortcut."),
        "outer_qty": _l("Base units, not inner packs: e.g. 400 (把 per 箱)."),
    }

    def pre_add(self, item):
        self._call(catalog.validate_pack_unit, item)

    def pre_update(self, item):
        self._call(catalog.validate_pack_unit, item)

    def pre_delete(self, item):
        self._call(catalog.check_pack_unit_deletable, item)


# ---- products ------------------------------------------------------------------------

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


class ProductView(AdminModelView):
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
