"""The customer's other screens over the API (home, brands, profile, refunds, 常购清单,
messages): each route one call of the same services as the storefront.

Home and brands are open to visitors (as the storefront; a closed shop answers 403
shop_closed). Profile, 常购清单 and messages are the member centre's: a salesman or a
driver gets 403. A refund is asked on one of my own orders (scope.own_order): anyone
else's order is a 404, as on the web.

Forms with files (profile, refund) are multipart/form-data, read by one schema that
bounds the fields and the files together (the location "multipart" below)."""

import re

from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, pre_load, validate

from app.catalog import navigation, storefront
from app.content import home as home_page
from app.content.models import BlockKind
from app.content.services import safe_link
from app.members import services as members
from app.messaging import inbox
from app.ordering import checkout, refunds, returns, scope, workflow
from app.ordering.models import Refund
from app.ordering.states import REFUND_LABELS
from app.platform import ids
from app.platform.errors import ValidationError
from app.platform.ids import MAX_ID, MAX_PAGE
from app.platform.security import MEMBER_CENTRE
from app.platform.settings import get_settings
from app.platform.uploads import media_url
from app.views.api.catalog import (
    BrandSchema,
    ProductPageSchema,
    ProductSchema,
    caller_prices,
    price_fields,
    product_item,
    product_page,
    shop_closed,
)
from app.views.api.errors import error_response, holding
from app.views.api.forms import FileField, accept_multipart, without_blanks
from app.views.api.order_shapes import (
    OrderDetailSchema,
    SignedPhotoSchema,
    order_detail,
    signed_photo,
)

blp = Blueprint("api_customer", __name__, description="Home, brands, my profile, refunds, "
                                                      "frequently bought and messages")
SECURED = [{"bearer": []}]
OPTIONAL = [{}, {"bearer": []}]
members_only = holding(MEMBER_CENTRE)


accept_multipart(blp)


# ---- schemas ---------------------------------------------------------------------------

class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))


class ShopSchema(Schema):
    name = fields.String(required=True)
    logo_url = fields.String(allow_none=True)
    intro = fields.String(allow_none=True)
    cs_phone = fields.String(allow_none=True, metadata={"description": "customer service"})


class SlideSchema(Schema):
    image_url = fields.String(allow_none=True)
    thumb_url = fields.String(allow_none=True)
    label = fields.String(allow_none=True)
    link = fields.String(allow_none=True, metadata={
        "description": "a path in the shop such as /category/3, or none"})


class ArticleLinkSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    cover_url = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class HomeBlockSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(BlockKind.ALL), metadata={
        "description": "banner (carousel), icon_nav, notice, products or articles"})
    title = fields.String(allow_none=True)
    text = fields.String(allow_none=True, metadata={
        "description": "notice: the line of text; without it, the latest announcements"})
    items = fields.List(fields.Nested(SlideSchema), required=True,
                        metadata={"description": "banner slides or icons"})
    articles = fields.List(fields.Nested(ArticleLinkSchema), required=True)
    products = fields.List(fields.Nested(ProductSchema), required=True)
    category_id = fields.Integer(allow_none=True, metadata={
        "description": "products: the category its \"more\" link opens"})
    brand_id = fields.Integer(allow_none=True)


class HomeSchema(Schema):
    shop = fields.Nested(ShopSchema, required=True)
    blocks = fields.List(fields.Nested(HomeBlockSchema), required=True)
    can_order = fields.Boolean(required=True)
    price_note = fields.String(metadata={"description": "why prices are absent"})


class BrandItemSchema(BrandSchema):
    logo_url = fields.String(allow_none=True)


class BrandPageSchema(Schema):
    items = fields.List(fields.Nested(BrandItemSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class BrandDetailSchema(BrandItemSchema):
    story = fields.String(allow_none=True)


class BrandProductsSchema(ProductPageSchema):
    brand = fields.Nested(BrandDetailSchema, required=True)


class RegionSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ProfileSchema(Schema):
    status = fields.String(required=True, metadata={
        "description": "incomplete, pending, approved or rejected"})
    status_label = fields.String(required=True)
    reject_reason = fields.String(allow_none=True)
    complete = fields.Boolean(required=True, metadata={
        "description": "every required field and both photos are there"})
    shop_name = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    region_id = fields.Integer(allow_none=True)
    wechat_id = fields.String(allow_none=True)
    invoice_title = fields.String(allow_none=True)
    tax_number = fields.String(allow_none=True)
    shop_photo = fields.Nested(SignedPhotoSchema, allow_none=True)
    licence_photo = fields.Nested(SignedPhotoSchema, allow_none=True)
    regions = fields.List(fields.Nested(RegionSchema), required=True,
                          metadata={"description": "the regions to choose from"})


PHOTO_NOTE = "JPEG, PNG or WebP; required the first time, then only to replace it"


class ProfileFormSchema(Schema):
    """The web's profile form; what is required is said by members.save_profile (400)."""

    shop_name = fields.String(validate=validate.Length(max=100))
    contact_name = fields.String(validate=validate.Length(max=64))
    phone = fields.String(validate=validate.Length(max=20))
    address = fields.String(validate=validate.Length(max=255))
    region_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    wechat_id = fields.String(validate=validate.Length(max=64))
    invoice_title = fields.String(validate=validate.Length(max=128))
    tax_number = fields.String(validate=validate.Length(max=32))
    shop_photo = FileField(metadata={"description": PHOTO_NOTE})
    licence_photo = FileField(metadata={"description": PHOTO_NOTE})

    @pre_load
    def _blanks(self, data, **_kwargs):
        return without_blanks(data)


class ReturnableLineSchema(Schema):
    id = fields.Integer(required=True, metadata={"description": "send its quantity as "
                                                                "qty_<id>"})
    product_name = fields.String(required=True)
    model = fields.String(allow_none=True)
    spec = fields.String(allow_none=True)
    base_unit = fields.String(required=True)
    returnable = fields.Integer(required=True, metadata={
        "description": "base units that may still be returned"})


class RefundOptionsSchema(Schema):
    order_no = fields.String(required=True)
    can_request = fields.Boolean(required=True, metadata={
        "description": "a request may be sent now (delivered or received, none waiting)"})
    refund_status = fields.String(allow_none=True)
    refund_status_label = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(ReturnableLineSchema), required=True,
                        metadata={"description": "what may be returned; empty when "
                                                 "can_request is false"})
    max_photos = fields.Integer(required=True)
    reason_max_length = fields.Integer(required=True)


QTY_FIELD = re.compile(r"^qty_([0-9]{1,10})$")
REASON_MAX = Refund.reason.type.length


class RefundRequestFormSchema(Schema):
    """The web's refund form: `reason`, `qty_<line id>` per line (base units), `photos`."""

    class Meta:
        # Documented in words: OpenAPI 3.0 cannot name the qty_<line id> fields.
        description = ("multipart/form-data: `reason`, one field `qty_<line id>` per line "
                       "to return (base units, at most its `returnable`), and up to "
                       f"{returns.MAX_PHOTOS} files `photos`; any other field is refused.")

    reason = fields.String(load_default="", validate=validate.Length(max=REASON_MAX),
                           metadata={"description": "required (the workflow says so)"})
    quantities = fields.Dict(
        keys=fields.Integer(validate=validate.Range(1, MAX_ID)),
        values=fields.Integer(validate=validate.Range(0, 10_000_000)),
        load_default=dict, validate=validate.Length(max=500),
        metadata={"description": "not sent as such: the qty_<line id> fields, gathered"})
    photos = fields.List(FileField(), load_default=list, validate=validate.Length(
        max=returns.MAX_PHOTOS, error=_l("At most %(n)d photos.", n=returns.MAX_PHOTOS)))

    @pre_load
    def _gather_quantities(self, data, **_kwargs):
        # The web names one field per line, qty_<id>; the schema sees them as one dict.
        values, quantities = {}, {}
        for key, value in without_blanks(data).items():
            match = QTY_FIELD.match(key)
            if match:
                quantities[match[1]] = value
            else:
                values[key] = value
        if quantities:
            values["quantities"] = quantities
        return values


class FrequentItemSchema(ProductSchema):
    spec_id = fields.Integer(required=True, metadata={"description": "the spec ordered"})
    times = fields.Integer(required=True, metadata={"description": "times it was ordered"})


class FrequentSchema(Schema):
    items = fields.List(fields.Nested(FrequentItemSchema), required=True, metadata={
        "description": "specs is the one spec ordered, priced as the caller may see it"})
    can_order = fields.Boolean(required=True)
    price_note = fields.String(metadata={"description": "why prices are absent"})


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    unread = fields.Boolean(required=True, metadata={
        "description": "was unread when this page was fetched"})


class MessagePageSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema), required=True)
    next_before = fields.Integer(allow_none=True,
                                 metadata={"description": "cursor of the next page"})


class MessageQuerySchema(Schema):
    before = fields.Integer(validate=validate.Range(1, MAX_ID))


# ---- what the customer sees -------------------------------------------------------------

def _link(link) -> str | None:
    """A block's link if it is a path in the shop (as the storefront's shop_link filter)."""
    try:
        return safe_link(link)
    except ValidationError:
        return None


def _block(rendered) -> dict:
    block = rendered.block
    return {"id": block.id, "kind": block.kind, "title": block.title, "text": block.text,
            "items": [{"image_url": media_url(item.image),
                       "thumb_url": media_url(item.image, thumb=True), "label": item.label,
                       "link": _link(item.link)} for item in block.items],
            "articles": [{"id": article.id, "title": article.title,
                          "cover_url": media_url(article.cover, thumb=True),
                          "created_at": article.created_at} for article in rendered.articles],
            "products": [product_item(card) for card in rendered.cards],
            "category_id": block.category_id, "brand_id": block.brand_id}


def _brand(brand, thumb=True) -> dict:
    return {"id": brand.id, "name": brand.name, "logo_url": media_url(brand.logo, thumb=thumb)}


def _private_photo(key) -> dict | None:
    """A private photo as signed paths (never its /media/private/ path: the mini
    program's <image> sends no token)."""
    if not key:
        return None
    return signed_photo(key)


def _profile(member) -> dict:
    body = {field: getattr(member, field) for field in (
        "shop_name", "contact_name", "phone", "address", "region_id", "wechat_id",
        "invoice_title", "tax_number")}
    body.update(
        phone=member.phone or current_user.username,  # as the web form fills it in
        status=member.status, status_label=str(member.status_label()),
        reject_reason=member.reject_reason, complete=members.is_complete(member),
        shop_photo=_private_photo(member.shop_photo),
        licence_photo=_private_photo(member.licence_photo),
        regions=[{"id": r.id, "name": r.name} for r in members.active_regions()])
    return body


def _refund_form(order) -> dict:
    can_request = "request_refund" in workflow.allowed_actions(order, current_user)
    lines = []
    if can_request:
        for line in order.lines:
            returnable = refunds.returnable_quantity(order, line)
            if returnable > 0:
                lines.append({"id": line.id, "product_name": line.product_name,
                              "model": line.model, "spec": line.spec_text,
                              "base_unit": line.base_unit, "returnable": returnable})
    status = order.refund_status
    return {"order_no": order.order_no, "can_request": can_request, "refund_status": status,
            "refund_status_label": str(REFUND_LABELS[status]) if status in REFUND_LABELS
            else None, "lines": lines, "max_photos": returns.MAX_PHOTOS,
            "reason_max_length": REASON_MAX}


# ---- routes ----------------------------------------------------------------------------

@blp.route("/home")
class Home(MethodView):
    @jwt_required(optional=True)
    @blp.response(200, HomeSchema)
    @blp.alt_response(403, description="The shop is closed to this caller (shop_closed)")
    @blp.doc(security=OPTIONAL)
    def get(self):
        """The home page (店铺装修): the shop, then the visible blocks in their order
        (carousel, icons, notice, products, articles), prices as the caller may see them."""
        if (closed := shop_closed()) is not None:
            return closed
        access, shop = caller_prices(), get_settings()
        return {"shop": {"name": shop.shop_name, "logo_url": media_url(shop.logo, thumb=True),
                         "intro": shop.intro, "cs_phone": shop.cs_phone},
                "blocks": [_block(b) for b in home_page.home_blocks(access)],
                **price_fields(access)}


@blp.route("/brands")
class Brands(MethodView):
    @jwt_required(optional=True)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, BrandPageSchema)
    @blp.alt_response(403, description="The shop is closed to this caller (shop_closed)")
    @blp.doc(security=OPTIONAL)
    def get(self, query):
        """Every brand, 30 a page."""
        if (closed := shop_closed()) is not None:
            return closed
        found = navigation.brands(query["page"])
        return {"items": [_brand(b) for b in found.items], "total": found.total,
                "page": found.page, "pages": found.pages}


@blp.route("/brands/<int:brand_id>")
class BrandProducts(MethodView):
    @jwt_required(optional=True)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, BrandProductsSchema)
    @blp.alt_response(403, description="The shop is closed to this caller (shop_closed)")
    @blp.alt_response(404, description="No such brand")
    @blp.doc(security=OPTIONAL)
    def get(self, query, brand_id):
        """A brand (logo, story) and its products on the shelf, 20 a page."""
        if (closed := shop_closed()) is not None:
            return closed
        brand = navigation.brand(brand_id)
        if brand is None:
            return error_response(404)
        access = caller_prices()
        body = product_page(storefront.brand_products(brand, query["page"], access), access)
        body["brand"] = {**_brand(brand, thumb=False), "story": brand.story}
        return body


@blp.route("/me/profile")
class Profile(MethodView):
    @members_only
    @blp.response(200, ProfileSchema)
    @blp.alt_response(403, description="Not a customer account")
    @blp.doc(security=SECURED)
    def get(self):
        """My shop profile: its fields, its approval status (and why it was rejected),
        the regions to choose from, the two photos as short-lived signed paths."""
        member = members.member_of(current_user)
        if member is None:  # the words the web and members.save_profile use
            return error_response(403, _("Only customer accounts have a shop profile."))
        return _profile(member)

    @members_only
    @blp.arguments(ProfileFormSchema(), location="multipart")
    @blp.response(200, ProfileSchema)
    @blp.alt_response(400, description="A field refused (errors names it); nothing saved")
    @blp.alt_response(403, description="Not a customer account")
    @blp.doc(security=SECURED, description="multipart/form-data: the profile's fields, "
             "and the files `shop_photo` and `licence_photo` (JPEG, PNG or WebP; both "
             "required the first time, then only to replace one).")
    def post(self, form):
        """Save my shop profile and send it for approval (an approved member's edits
        are saved as they are). All or nothing."""
        files = {name: form.pop(name, None) for name in ("shop_photo", "licence_photo")}
        return _profile(members.save_profile(current_user, form, **files))


@blp.route("/orders/<order_no>/refund")
class RefundRequest(MethodView):
    @jwt_required()
    @blp.response(200, RefundOptionsSchema)
    @blp.alt_response(404, description="Not one of my orders")
    @blp.doc(security=SECURED)
    def get(self, order_no):
        """What I may ask back on one of my orders: each line with the base units that
        may still be returned, whether a request may be sent now, the refund's status."""
        return _refund_form(scope.own_order(current_user, order_no))

    @jwt_required()
    @blp.arguments(RefundRequestFormSchema(), location="multipart")
    @blp.response(201, OrderDetailSchema)
    @blp.alt_response(400, description="Refused by the workflow (the message says why); "
                                       "no photo kept")
    @blp.alt_response(404, description="Not one of my orders")
    @blp.doc(security=SECURED, description="multipart/form-data: `reason`, one "
             "`qty_<line id>` per line to return (base units), and up to "
             f"{returns.MAX_PHOTOS} files `photos`.")
    def post(self, form, order_no):
        """Ask for a refund or a return on a delivered or received order, with photos;
        customer service decides. Answers the order as GET /orders/{order_no} does."""
        order = scope.own_order(current_user, order_no)
        returns.request_refund(order, current_user, form["reason"], form["quantities"],
                               form["photos"])
        return order_detail(order, current_user)


@blp.route("/frequent")
class Frequent(MethodView):
    @members_only
    @blp.response(200, FrequentSchema)
    @blp.alt_response(403, description="Not a customer account, or the shop is closed "
                                       "(shop_closed)")
    @blp.doc(security=SECURED)
    def get(self):
        """常购清单: the specs I order most (at most 12), each as a product list item
        with that one spec, and how many times it was ordered."""
        if (closed := shop_closed()) is not None:
            return closed
        access, rows = caller_prices(), checkout.frequent_specs(current_user)
        prices = storefront.spec_prices([spec for _product, spec, _times in rows], access)
        return {"items": [{**product_item(storefront.ProductCard(product, [price])),
                           "spec_id": spec.id, "times": times}
                          for (product, spec, times), price in zip(rows, prices, strict=True)],
                **price_fields(access)}


@blp.route("/me/messages")
class Messages(MethodView):
    @members_only
    @blp.arguments(MessageQuerySchema(), location="query")
    @blp.response(200, MessagePageSchema)
    @blp.doc(security=SECURED)
    def get(self, query):
        """My in-app messages, newest first, 20 at a time (pass `next_before` back).
        As on the web, opening a page with unread messages marks all of them read:
        `unread` tells which were unread before."""
        rows, next_before = inbox.page(current_user, ids.parse_cursor(query.get("before")))
        body = {"items": [{"id": m.id, "body": m.body, "created_at": m.created_at,
                           "unread": m.read_at is None} for m in rows],
                "next_before": next_before}
        if any(item["unread"] for item in body["items"]):
            inbox.mark_all_read(current_user)
        return body
