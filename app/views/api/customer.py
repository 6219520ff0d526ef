"""The customer's other screens over the API (home, brands, profile, refunds, 常购清单,
messages): each route one call of the same services as the storefront."""

from flask_smorest import Blueprint

blp = Blueprint("api_customer", __name__, description="Home, brands, my profile, refunds, "
                                                      "frequently bought and messages")
