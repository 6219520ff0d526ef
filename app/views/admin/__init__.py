"""The back office (Flask-AppBuilder) under /admin/, menus in SPEC.md's groups."""

from flask_babel import lazy_gettext as _l

# Menu categories in the order they appear. Later issues add 商品, 订单 and 应用.
CATALOG = ("Catalog", _l("Catalog"))
MEMBERS = ("Members", _l("Members"))
ORDERS = ("Orders", _l("Orders"))
BUSINESS = ("Business", _l("Business"))
APPS = ("Apps", _l("Apps"))
MESSAGES = ("Messages", _l("Messages"))
SETTINGS = ("Settings", _l("Settings"))


def add(appbuilder, view, name, label, category, icon=None):
    appbuilder.add_view(view, name, label=label, icon=icon, category=category[0],
                        category_label=category[1])


def register(appbuilder) -> None:
    from .members import MemberView
    from .messages import MessageLogView
    from .regions import RegionView, StaffProfileView
    from .settings import SettingsView

    add(appbuilder, MemberView, "Member list", _l("Member list"), MEMBERS, "fa-users")
    appbuilder.add_link("Pending approval", label=_l("Pending approval"),
                        href="/admin/members/list/?_flt_0_status=pending", icon="fa-user-plus",
                        category=MEMBERS[0], category_label=MEMBERS[1])
    appbuilder.add_link("Hand over customers", label=_l("Hand over customers"),
                        href="/admin/members/handover", icon="fa-exchange",
                        category=MEMBERS[0], category_label=MEMBERS[1])
    add(appbuilder, RegionView, "Regions", _l("Regions"), BUSINESS, "fa-map-marker")
    add(appbuilder, StaffProfileView, "Staff", _l("Staff"), BUSINESS, "fa-id-badge")
    add(appbuilder, MessageLogView, "Message log", _l("Message log"), MESSAGES, "fa-envelope")
    add(appbuilder, SettingsView, "Basic settings", _l("Basic settings"), SETTINGS, "fa-cog")
