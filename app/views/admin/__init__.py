"""The back office (Flask-AppBuilder) under /admin/, menus in SPEC.md's groups."""

from flask_babel import lazy_gettext as _l

from app.views.admin.catalog import (
    BrandView,
    CategoryView,
    MemberLevelView,
    PackUnitView,
    TagView,
)
from app.views.admin.content import ArticleView, HomeBlockItemView, HomeBlockView, StoreView
from app.views.admin.members import MemberView
from app.views.admin.messages import MessageLogView, MessageTemplateView, QueueStateView
from app.views.admin.order_settings import (
    FreightTemplateView,
    OrderSettingsView,
    RegionFeeView,
)
from app.views.admin.orders import OrderListView
from app.views.admin.payments import CashView, ReceivablesView, StatementView, VoucherView
from app.views.admin.products import ProductView
from app.views.admin.regions import RegionView, StaffProfileView
from app.views.admin.settings import SettingsView
from app.views.admin.wechat_pay import WeChatPayRefundView

# Menu categories in the order they appear.
CATALOG = ("Catalog", _l("Catalog"))
MEMBERS = ("Members", _l("Members"))
ORDERS = ("Orders", _l("Orders"))
FINANCE = ("Finance", _l("Finance"))
BUSINESS = ("Business", _l("Business"))
APPS = ("Apps", _l("Apps"))
MESSAGES = ("Messages", _l("Messages"))
SETTINGS = ("Settings", _l("Settings"))


def add(appbuilder, view, name, label, category, icon=None):
    appbuilder.add_view(view, name, label=label, icon=icon, category=category[0],
                        category_label=category[1])


def register(appbuilder) -> None:
    add(appbuilder, ProductView, "Products", _l("Products"), CATALOG, "fa-cube")
    add(appbuilder, CategoryView, "Categories", _l("Categories"), CATALOG, "fa-sitemap")
    add(appbuilder, BrandView, "Brands", _l("Brands"), CATALOG, "fa-copyright")
    add(appbuilder, TagView, "Tags", _l("Tags"), CATALOG, "fa-tag")
    add(appbuilder, PackUnitView, "Spec library", _l("Spec library"), CATALOG, "fa-cubes")
    add(appbuilder, MemberLevelView, "Member levels", _l("Member levels"), CATALOG,
        "fa-signal")
    add(appbuilder, MemberView, "Member list", _l("Member list"), MEMBERS, "fa-users")
    appbuilder.add_link("Pending approval", label=_l("Pending approval"),
                        href="/admin/members/list/?_flt_0_status=pending", icon="fa-user-plus",
                        category=MEMBERS[0], category_label=MEMBERS[1])
    appbuilder.add_link("Hand over customers", label=_l("Hand over customers"),
                        href="/admin/members/handover", icon="fa-exchange",
                        category=MEMBERS[0], category_label=MEMBERS[1])
    add(appbuilder, OrderListView, "Order list", _l("Order list"), ORDERS, "fa-list-alt")
    add(appbuilder, ReceivablesView, "Receivables", _l("Receivables"), FINANCE, "fa-book")
    add(appbuilder, VoucherView, "Vouchers to confirm", _l("Vouchers to confirm"), FINANCE,
        "fa-file-image-o")
    add(appbuilder, CashView, "Drivers' cash", _l("Drivers' cash"), FINANCE, "fa-money")
    add(appbuilder, StatementView, "Statements", _l("Statements"), FINANCE, "fa-file-text-o")
    add(appbuilder, WeChatPayRefundView, "WeChat Pay refunds", _l("WeChat Pay refunds"),
        FINANCE, "fa-undo")
    add(appbuilder, RegionView, "Regions", _l("Regions"), BUSINESS, "fa-map-marker")
    add(appbuilder, StaffProfileView, "Staff", _l("Staff"), BUSINESS, "fa-id-badge")
    add(appbuilder, HomeBlockView, "Home decoration", _l("Home decoration"), APPS,
        "fa-th-large")
    appbuilder.add_view_no_menu(HomeBlockItemView)
    add(appbuilder, ArticleView, "Articles", _l("Articles"), APPS, "fa-file-text-o")
    add(appbuilder, StoreView, "Stores", _l("Stores"), APPS, "fa-map-pin")
    add(appbuilder, MessageLogView, "Message log", _l("Message log"), MESSAGES, "fa-envelope")
    add(appbuilder, MessageTemplateView, "Message templates", _l("Message templates"),
        MESSAGES, "fa-file-text")
    add(appbuilder, QueueStateView, "Queue state", _l("Queue state"), MESSAGES, "fa-tasks")
    add(appbuilder, SettingsView, "Basic settings", _l("Basic settings"), SETTINGS, "fa-cog")
    add(appbuilder, OrderSettingsView, "Payment and delivery", _l("Payment and delivery"),
        SETTINGS, "fa-truck")
    add(appbuilder, FreightTemplateView, "Express freight", _l("Express freight"), SETTINGS,
        "fa-balance-scale")
    add(appbuilder, RegionFeeView, "Delivery fees", _l("Delivery fees"), SETTINGS, "fa-money")
