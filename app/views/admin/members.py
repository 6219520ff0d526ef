"""会员: the member list (approval and editing arrive with the members issue)."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from ...models import Member
from .base import PifaModelView


class MemberView(PifaModelView):
    route_base = "/admin/members"
    noun = _l("Members")
    datamodel = SQLAInterface(Member)
    base_permissions = ["can_list", "can_show"]
    list_columns = ["shop_name", "contact_name", "phone", "region", "status_label",
                    "own_salesman", "created_at"]
    show_columns = ["shop_name", "contact_name", "phone", "address", "region", "wechat_id",
                    "invoice_title", "tax_number", "status_label", "reject_reason",
                    "own_salesman", "created_at", "approved_at"]
    search_columns = ["shop_name", "contact_name", "phone", "region", "status",
                      "own_salesman"]
    base_order = ("id", "desc")
    label_columns = {"shop_name": _l("Shop name"), "contact_name": _l("Contact"),
                     "phone": _l("Mobile"), "address": _l("Address"), "region": _l("Region"),
                     "wechat_id": _l("WeChat ID"), "invoice_title": _l("Invoice title"),
                     "tax_number": _l("Tax number"), "status": _l("Status"),
                     "status_label": _l("Status"), "reject_reason": _l("Reason for rejection"),
                     "own_salesman": _l("Own salesman"), "created_at": _l("Registered at"),
                     "approved_at": _l("Approved at")}
