"""Stores (门店, for navigation only) and published articles."""

from flask import abort, render_template

from app.content import services as content
from app.views.shop import bp, page_arg


@bp.route("/stores")
def stores():
    listing = content.stores(page_arg())
    return render_template("shop/stores.html", tab="home", listing=listing,
                           map_urls={s.id: content.map_url(s) for s in listing.items})


@bp.route("/articles/<int:article_id>")
def article(article_id):
    found = content.published_article(article_id)
    if found is None:
        abort(404)
    return render_template("shop/article.html", tab="home", article=found)
