"""The catalog over the API: categories (3 levels), products with every spec.

Prices are what catalog.pricing decides for the caller: a visitor, an unapproved member
or a driver gets no price field at all, not an empty one."""

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, post_dump, validate

from app.catalog import navigation, pricing, storefront
from app.platform.ids import MAX_PAGE
from app.platform.uploads import media_url
from app.views.api.errors import error_response

blp = Blueprint("api_catalog", __name__, description="Categories and products")


class CategorySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    icon_url = fields.String(allow_none=True)
    children = fields.List(fields.Nested(lambda: CategorySchema()), required=True)


class PackingSchema(Schema):
    base_unit = fields.String(required=True, metadata={"example": "把"})
    inner_unit = fields.String(required=True, metadata={"example": "盒"})
    inner_qty = fields.Integer(required=True, metadata={
        "description": "base units per inner pack: the MOQ and the step of a quantity"})
    outer_unit = fields.String(required=True, metadata={"example": "箱"})
    outer_qty = fields.Integer(required=True)


class SpecSchema(Schema):
    id = fields.Integer(required=True)
    model = fields.String(allow_none=True)
    spec = fields.String(allow_none=True)
    packing = fields.Nested(PackingSchema, required=True)
    stock = fields.Integer(required=True)
    unit_price = fields.Decimal(as_string=True, metadata={
        "description": "per base unit; absent when the caller may not see prices"})
    pack_price = fields.Decimal(as_string=True, metadata={"description": "per inner pack"})

    @post_dump
    def _no_hidden_prices(self, data, **_kwargs):
        for key in ("unit_price", "pack_price"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class BrandSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ProductSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    item_no = fields.String(allow_none=True)
    cover_url = fields.String(allow_none=True)
    brand = fields.Nested(BrandSchema, allow_none=True)
    specs = fields.List(fields.Nested(SpecSchema), required=True)


class ProductDetailSchema(ProductSchema):
    image_urls = fields.List(fields.String(), required=True)
    tags = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True, metadata={"description": "cleaned HTML"})


class ProductPageSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    can_order = fields.Boolean(required=True)
    price_note = fields.String(metadata={"description": "why prices are absent"})


class ProductQuerySchema(Schema):
    category_id = fields.Integer(validate=validate.Range(1, 2 ** 31 - 1))
    q = fields.String(validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))


def _category(node) -> dict:
    return {"id": node.id, "name": node.name,
            "icon_url": media_url(node.category.icon, thumb=True),
            "children": [_category(child) for child in node.children]}


def _spec(price: storefront.SpecPrice) -> dict:
    spec, unit = price.spec, price.spec.pack_unit
    return {"id": spec.id, "model": spec.model, "spec": spec.spec, "stock": spec.stock,
            "packing": {"base_unit": unit.base_unit, "inner_unit": unit.inner_unit,
                        "inner_qty": unit.inner_qty, "outer_unit": unit.outer_unit,
                        "outer_qty": unit.outer_qty},
            "unit_price": price.unit_price, "pack_price": price.pack_price}


def product_item(card: storefront.ProductCard) -> dict:
    """A product card as the product lists show it (ProductSchema)."""
    product = card.product
    return {"id": product.id, "name": product.name, "item_no": product.item_no,
            "cover_url": media_url(product.cover, thumb=True),
            "brand": {"id": product.brand.id, "name": product.brand.name}
            if product.brand else None,
            "specs": [_spec(price) for price in card.specs]}


def price_fields(access: pricing.PriceAccess) -> dict:
    """Whether the caller may order, and why prices are absent when they are."""
    body = {"can_order": access.can_order}
    if not access.visible:
        body["price_note"] = str(pricing.HIDDEN_TEXT)
    return body


def product_page(found, access: pricing.PriceAccess) -> dict:
    """A page of product cards (ProductPageSchema)."""
    return {"items": [product_item(card) for card in found.items], "total": found.total,
            "page": found.page, "pages": found.pages, **price_fields(access)}


def caller_prices() -> pricing.PriceAccess:
    return pricing.price_access(current_user) if current_user else pricing.NO_PRICES


def shop_closed():
    """A 403 (code shop_closed) while the shop is closed to this caller, else None."""
    if not storefront.shop_is_open_for(current_user):
        return error_response(403, code="shop_closed")
    return None


@blp.route("/categories")
class Categories(MethodView):
    @jwt_required(optional=True)
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """The active category tree (up to three levels)."""
        return shop_closed() or [_category(root) for root in navigation.category_nav().roots]


@blp.route("/products")
class Products(MethodView):
    @jwt_required(optional=True)
    @blp.arguments(ProductQuerySchema(), location="query")
    @blp.response(200, ProductPageSchema)
    @blp.doc(security=[{}, {"bearer": []}])
    def get(self, query):
        """Products on the shelf: in a category (and its subcategories), or matching a
        search (name, item number, model, pinyin and its initials), 20 a page."""
        if (closed := shop_closed()) is not None:
            return closed
        access, page = caller_prices(), query["page"]
        if query.get("q"):
            found = storefront.search_products(query["q"], page, access)
        elif query.get("category_id"):
            node = navigation.category_nav().by_id.get(query["category_id"])
            if node is None:
                return error_response(404)
            found = storefront.category_products(node.category, page, access)
        else:
            found = storefront.category_products(None, page, access)
        return product_page(found, access)


@blp.route("/products/<int:product_id>")
class ProductDetail(MethodView):
    @jwt_required(optional=True)
    @blp.response(200, ProductDetailSchema)
    @blp.alt_response(404, description="Not on the shelf, or no such product")
    @blp.doc(security=[{}, {"bearer": []}])
    def get(self, product_id):
        """One product with every spec, its pictures, tags and description."""
        if (closed := shop_closed()) is not None:
            return closed
        card = storefront.product_detail(product_id, caller_prices())
        if card is None:
            return error_response(404)
        body = product_item(card)
        body.update(image_urls=[media_url(image.key) for image in card.product.images],
                    tags=[tag.name for tag in card.product.tags],
                    description=card.product.description)
        return body
