"""商品: categories (a three-level tree), brands, tags, the spec library, member levels.

The rules are in app/catalog/services.py; these views translate forms into service calls.
Products, with their images and specs, are in products.py.
"""


from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.validators import Unique
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.catalog import services as catalog
from app.catalog.models import Brand, Category, PackUnit, Product, Spec, Tag, product_tag
from app.extensions import db
from app.members.models import Member, MemberLevel
from app.views.admin.base import (
    ImageUploadMixin,
    PifaInterface,
    PifaModelView,
    TallTextArea,
    count_by,
    flag,
    image_field,
    thumb,
    yes_no_icon,
)


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


class CategoryView(ImageUploadMixin, PifaModelView):
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

class BrandView(ImageUploadMixin, PifaModelView):
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


class TagView(PifaModelView):
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


class MemberLevelView(PifaModelView):
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


class PackUnitView(PifaModelView):
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
