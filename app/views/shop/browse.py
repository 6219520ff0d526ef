"""Browsing the shop: home, categories, brands, product, search."""

from flask import abort, render_template, request

from app.catalog import navigation as lookups
from app.catalog import search, storefront
from app.content import home as home_page
from app.views.shop import bp, page_arg, price_access


@bp.route("/")
def home():
    return render_template("shop/home.html", tab="home",
                           blocks=home_page.home_blocks(price_access()))


@bp.route("/category", defaults={"category_id": None}, endpoint="categories")
@bp.route("/category/<int:category_id>")
def category(category_id):
    nav = lookups.category_nav()
    if category_id is None:
        node = nav.roots[0] if nav.roots else None
    else:
        node = nav.by_id.get(category_id)
        if node is None:
            abort(404)
    listing = storefront.category_products(node.category if node else None, page_arg(),
                                           price_access())
    return render_template("shop/category.html", tab="category", nav=nav, node=node,
                           path=node.path() if node else [], listing=listing)


@bp.route("/brands")
def brands():
    return render_template("shop/brands.html", tab="home", brands=lookups.brands(page_arg()))


@bp.route("/brand/<int:brand_id>")
def brand(brand_id):
    found = lookups.brand(brand_id)
    if found is None:
        abort(404)
    listing = storefront.brand_products(found, page_arg(), price_access())
    return render_template("shop/brand.html", tab="home", brand=found, listing=listing)


@bp.route("/product/<int:product_id>")
def product(product_id):
    card = storefront.product_detail(product_id, price_access())
    if card is None:
        abort(404)
    return product_page(card)


def product_page(card, status: int = 200, quantities: dict | None = None):
    """The product page; also re-rendered (with the posted quantities) after a refused add."""
    return render_template("shop/product.html", tab="home", card=card, access=price_access(),
                           product=card.product, quantities=quantities or {}), status


@bp.route("/search")
def search_page():
    q = (request.args.get("q") or "").strip()[:search.MAX_QUERY]
    listing = storefront.search_products(q, page_arg(), price_access())
    return render_template("shop/search.html", tab="home", q=q, listing=listing)
