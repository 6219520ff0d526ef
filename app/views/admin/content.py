"""应用: home-page decoration (店铺装修), articles and single pages, stores.

The rules are in app/content/services.py; these views translate forms into service calls.
"""

from flask import g
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from wtforms import SelectField, TextAreaField

from app.catalog.models import Brand, Tag
from app.content import services as content
from app.content.models import Article, ArticleKind, BlockKind, HomeBlock, HomeBlockItem, Store
from app.extensions import db
from app.platform import uploads
from app.views.admin.base import (
    HTML_HELP,
    ImageUploadMixin,
    PifaInterface,
    PifaModelView,
    TallTextArea,
    count_by,
    flag,
    image_field,
    relation_select,
    safe_html,
    thumb,
    yes_no_icon,
)
from app.views.admin.catalog import category_select

BLOCK_KINDS = [(BlockKind.BANNER, _l("Banner carousel")),
               (BlockKind.ICON_NAV, _l("Icon navigation")),
               (BlockKind.NOTICE, _l("Notice bar")),
               (BlockKind.PRODUCTS, _l("Product list")),
               (BlockKind.ARTICLES, _l("Article block"))]
ARTICLE_KINDS = [(ArticleKind.ANNOUNCEMENT, _l("Announcement")),
                 (ArticleKind.ARTICLE, _l("Article")),
                 (ArticleKind.PAGE, _l("Single page"))]
WITH_ITEMS = (BlockKind.BANNER, BlockKind.ICON_NAV)


def _label_of(choices, value):
    return next((str(label) for key, label in choices if key == value), value or "—")


def kind_select(label, choices, blank=None):
    options = ([("", blank)] if blank is not None else []) + list(choices)
    return SelectField(label, choices=options, widget=Select2Widget())


# ---- home decoration -------------------------------------------------------------------

def _block_source(block):
    """What a block shows, in a few words."""
    if block.kind == BlockKind.PRODUCTS:
        parts = [str(x) for x in (block.category, block.brand, block.tag) if x is not None]
        return " · ".join(parts) or "—"
    if block.kind == BlockKind.ARTICLES:
        return _label_of(ARTICLE_KINDS, block.article_kind)
    if block.kind == BlockKind.NOTICE:
        return block.text or _("The latest announcements")
    if block.kind in WITH_ITEMS:
        return ngettext("%(num)d entry", "%(num)d entries",
                        count_by(HomeBlockItem.block_id).get(block.id, 0))
    return "—"


class HomeBlockItemView(ImageUploadMixin, PifaModelView):
    """The slides of a banner carousel and the icons of an icon navigation."""

    route_base = "/admin/home-block-items"
    noun = _l("Block entries")
    datamodel = PifaInterface(HomeBlockItem, computed={
        "image_img": lambda i: thumb(i.image, 48),
    })
    list_columns = ["image_img", "label", "link", "position", "block"]
    order_columns = ["label", "link", "position"]
    show_columns = ["block", "image_img", "label", "link", "position"]
    add_columns = edit_columns = ["block", "image_file", "label", "link", "position"]
    search_columns = ["block", "label", "link"]
    base_order = ("position", "asc")
    label_columns = {"block": _l("Block"), "image": _l("Image"), "image_img": _l("Image"),
                     "image_file": _l("Image"), "label": _l("Label"), "link": _l("Link"),
                     "position": _l("Sort order")}
    description_columns = {
        "label": _l("Icon navigation: the text under the icon."),
        "link": _l("A path in the shop, e.g. /category/3 or /product/12 (optional)."),
        "position": _l("Smaller numbers come first."),
    }
    image_fields = {"image_file": ("image", "home")}
    add_form_extra_fields = edit_form_extra_fields = {
        "block": QuerySelectField(
            _l("Block"), widget=Select2Widget(),
            query_func=lambda: db.session.scalars(
                select(HomeBlock).where(HomeBlock.kind.in_(WITH_ITEMS))
                .order_by(HomeBlock.position, HomeBlock.id)).all(),
            get_pk_func=lambda b: b.id,
            get_label=lambda b: f"{_label_of(BLOCK_KINDS, b.kind)} · {b.title or f'#{b.id}'}"),
        "image_file": image_field(_l("Image")),
    }

    def _check(self, item):
        item.link = self._call(content.safe_link, item.link)
        self._store_images(item)

    def pre_add(self, item):
        self._check(item)

    def pre_update(self, item):
        self._check(item)


class HomeBlockView(PifaModelView):
    route_base = "/admin/home-blocks"
    noun = _l("Home decoration")
    datamodel = PifaInterface(HomeBlock, computed={
        "kind_label": lambda b: _label_of(BLOCK_KINDS, b.kind),
        "source": _block_source,
        "article_kind_label": lambda b: _label_of(ARTICLE_KINDS, b.article_kind),
    })
    related_views = [HomeBlockItemView]
    list_columns = ["position", "kind_label", "title", "source", "visible"]
    order_columns = ["position", "title", "visible"]
    show_columns = ["kind_label", "title", "position", "visible", "source", "limit"]
    add_columns = edit_columns = ["kind", "title", "position", "visible", "text",
                                  "category", "brand", "tag", "article_kind", "limit"]
    search_columns = ["kind", "title", "visible"]
    base_order = ("position", "asc")
    label_columns = {"kind": _l("Kind"), "kind_label": _l("Kind"), "title": _l("Title"),
                     "position": _l("Sort order"), "visible": _l("Visible"),
                     "text": _l("Notice text"), "category": _l("Category"),
                     "brand": _l("Brand"), "tag": _l("Tag"),
                     "article_kind": _l("Articles shown"),
                     "article_kind_label": _l("Articles shown"), "limit": _l("Entries shown"),
                     "source": _l("Content")}
    description_columns = {
        "kind": _l("Banner carousel and icon navigation: add their images on the block's "
                   "page after saving (tab “Block entries”)."),
        "title": _l("Shown above the block (optional)."),
        "position": _l("Blocks are shown from the smallest position down; change the "
                       "numbers to reorder them."),
        "visible": _l("Untick to hide the block without deleting it."),
        "text": _l("Notice bar: one line of text. Empty: the latest announcements."),
        "category": _l("Product list: the products of the chosen category (with its "
                       "subcategories), brand and tag; choose at least one."),
        "article_kind": _l("Article block: which articles it lists."),
        "limit": _l("Product lists and article blocks: how many entries (1 to 20)."),
    }
    formatters_columns = {"visible": yes_no_icon}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": kind_select(_l("Kind"), BLOCK_KINDS),
        "article_kind": kind_select(_l("Articles shown"), ARTICLE_KINDS, "—"),
        "category": category_select(_l("Category"), _l("— none —")),
        "brand": relation_select(_l("Brand"), Brand, Brand.sort_order, Brand.name,
                                 blank=_l("— none —")),
        "tag": relation_select(_l("Tag"), Tag, Tag.name, blank=_l("— none —")),
        "visible": flag(_l("Visible")),
    }
    search_form_extra_fields = {"kind": kind_select(_l("Kind"), BLOCK_KINDS)}

    def pre_delete(self, item):
        g.pifa_deleted_images = [entry.image for entry in item.items]

    def post_delete(self, item):
        for key in g.pop("pifa_deleted_images", []):
            uploads.delete_image(key)

    def _check(self, item):
        item.article_kind = item.article_kind or None
        item.text = item.text or None
        self._call(content.validate_block, item)

    def pre_add(self, item):
        self._check(item)

    def pre_update(self, item):
        self._check(item)


# ---- articles --------------------------------------------------------------------------

class ArticleView(ImageUploadMixin, PifaModelView):
    route_base = "/admin/articles"
    noun = _l("Articles")
    datamodel = PifaInterface(Article, computed={
        "kind_label": lambda a: _label_of(ARTICLE_KINDS, a.kind),
        "cover_img": lambda a: thumb(a.cover),
    })
    list_columns = ["cover_img", "title", "kind_label", "published", "sort_order",
                    "updated_at"]
    order_columns = ["title", "published", "sort_order", "updated_at"]
    show_columns = ["title", "kind_label", "cover_img", "body", "published", "sort_order",
                    "created_at", "updated_at"]
    add_columns = edit_columns = ["kind", "title", "cover_file", "body", "published",
                                  "sort_order"]
    search_columns = ["kind", "title", "published"]
    base_order = ("sort_order", "asc")
    label_columns = {"kind": _l("Kind"), "kind_label": _l("Kind"), "title": _l("Title"),
                     "cover": _l("Cover"), "cover_img": _l("Cover"), "cover_file": _l("Cover"),
                     "body": _l("Body"), "published": _l("Published"),
                     "sort_order": _l("Sort order"), "created_at": _l("Created at"),
                     "updated_at": _l("Updated at")}
    description_columns = {
        "kind": _l("Announcements feed the notice bar; single pages are pages such as "
                   "“About us” or the terms."),
        "body": HTML_HELP,
        "published": _l("Only published articles are shown in the shop."),
        "sort_order": _l("Smaller numbers come first; then the newest."),
    }
    formatters_columns = {"published": yes_no_icon,
                          "body": safe_html}
    image_fields = {"cover_file": ("cover", "article")}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": kind_select(_l("Kind"), ARTICLE_KINDS),
        "cover_file": image_field(_l("Cover")),
        "body": TextAreaField(_l("Body"), widget=TallTextArea(14)),
        "published": flag(_l("Published"), default=False),
    }
    search_form_extra_fields = {"kind": kind_select(_l("Kind"), ARTICLE_KINDS)}

    def pre_add(self, item):
        self._call(content.validate_article, item)
        self._store_images(item)

    def pre_update(self, item):
        self._call(content.validate_article, item)
        self._store_images(item)


# ---- stores ------------------------------------------------------------------------------

class StoreView(PifaModelView):
    route_base = "/admin/stores"
    noun = _l("Stores")
    datamodel = PifaInterface(Store)
    list_columns = ["name", "address", "phone", "hours", "sort_order", "active"]
    order_columns = ["name", "sort_order", "active"]
    show_columns = ["name", "address", "phone", "hours", "latitude", "longitude",
                    "sort_order", "active"]
    add_columns = edit_columns = show_columns
    search_columns = ["name", "address", "phone", "active"]
    base_order = ("sort_order", "asc")
    label_columns = {"name": _l("Store"), "address": _l("Address"), "phone": _l("Phone"),
                     "hours": _l("Opening hours"), "latitude": _l("Latitude"),
                     "longitude": _l("Longitude"), "sort_order": _l("Sort order"),
                     "active": _l("Active")}
    description_columns = {
        "hours": _l("e.g. 08:30–18:00"),
        "latitude": _l("Optional, for the map link, e.g. 20.0440 (Haikou)."),
        "longitude": _l("Optional, for the map link, e.g. 110.1999 (Haikou)."),
        "active": _l("Inactive stores are hidden in the shop."),
    }
    formatters_columns = {"active": yes_no_icon}
    add_form_extra_fields = edit_form_extra_fields = {"active": flag(_l("Active"))}

    def pre_add(self, item):
        self._call(content.validate_store, item)

    def pre_update(self, item):
        self._call(content.validate_store, item)
