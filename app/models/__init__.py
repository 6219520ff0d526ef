"""All models, imported so that every table is on FAB's metadata before mapping."""

from app.catalog.models import (
    MAX_CATEGORY_DEPTH,
    Brand,
    Category,
    LevelPrice,
    PackUnit,
    Product,
    ProductImage,
    Spec,
    Tag,
    product_tag,
)
from app.content.models import Article, ArticleKind, BlockKind, HomeBlock, HomeBlockItem, Store
from app.members.models import (
    CodePurpose,
    Member,
    MemberLevel,
    MemberStatus,
    Region,
    StaffKind,
    StaffProfile,
    VerificationCode,
    staff_region,
)
from app.messaging.models import Channel, Message, MessageStatus, MessageTemplate
from app.models.orders import (
    Address,
    CartLine,
    DeliveryMethodSetting,
    DeliveryPhoto,
    FreightTemplate,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentMethodSetting,
    Refund,
    RegionDeliveryFee,
)
from app.platform.models import AccountSession, ShopSettings

__all__ = [
    "AccountSession", "MAX_CATEGORY_DEPTH", "Article", "ArticleKind", "BlockKind", "Brand",
    "CartLine",
    "Category", "Channel", "HomeBlock", "HomeBlockItem", "LevelPrice", "Member",
    "MemberLevel", "MemberStatus", "Message", "MessageStatus",
    "MessageTemplate", "PackUnit", "Product",
    "ProductImage", "Region", "ShopSettings", "Spec", "StaffKind", "StaffProfile", "Store",
    "Tag", "product_tag", "staff_region", "CodePurpose", "VerificationCode", "Address",
    "DeliveryMethodSetting", "DeliveryPhoto", "FreightTemplate", "Order", "OrderEvent",
    "OrderLine", "Payment", "PaymentMethodSetting", "Refund", "RegionDeliveryFee",
]
