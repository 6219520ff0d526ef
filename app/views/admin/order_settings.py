"""设置 for orders: payment methods and delivery options, express freight templates and
the driver-delivery fee of each region. The rules are in app/ordering/options.py and
app/ordering/freight.py.
"""

from flask import flash, redirect, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField

from app.ordering import freight, options
from app.ordering.models import FreightTemplate, RegionDeliveryFee
from app.ordering.states import DELIVERY_LABELS, PAYMENT_LABELS, Delivery, Pay
from app.platform.errors import DomainError
from app.views.admin.base import PifaModelView


class OrderSettingsView(BaseView):
    """Payment methods on/off with "paid before shipping"; delivery options and the
    payment methods each allows."""

    route_base = "/admin/order-settings"
    default_view = "edit"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def edit(self):
        status = 200
        if request.method == "POST":
            form = request.form
            payments = {code: {"enabled": form.get(f"pay_{code}_enabled"),
                               "pay_before_shipping": form.get(f"pay_{code}_first")}
                        for code in Pay.ALL}
            deliveries = {code: {"enabled": form.get(f"del_{code}_enabled"),
                                 "allowed": form.getlist(f"del_{code}_allowed")}
                          for code in Delivery.ALL}
            try:
                options.save_order_settings(payments, deliveries)
            except DomainError as exc:
                flash(str(exc.message), "danger")
                status = 400
            else:
                flash(_("Settings saved."), "success")
                return redirect(request.path)
        return self.render_template(
            "admin/order_settings.html", payments=options.payment_settings(),
            deliveries=options.delivery_settings(), pay_codes=Pay.ALL,
            delivery_codes=Delivery.ALL, pay_labels=PAYMENT_LABELS,
            delivery_labels=DELIVERY_LABELS), status


class FreightTemplateView(PifaModelView):
    route_base = "/admin/freight-templates"
    noun = _l("Express freight templates")
    datamodel = SQLAInterface(FreightTemplate)
    list_columns = ["name", "province_list", "first_kg", "first_fee", "extra_kg_fee",
                    "free_above"]
    add_columns = edit_columns = ["name", "provinces_text", "first_kg", "first_fee",
                                  "extra_kg_fee", "free_above"]
    show_columns = list_columns
    search_columns = ["name"]  # provinces are JSON, amounts numeric: FAB cannot filter them
    label_columns = {"name": _l("Name"), "province_list": _l("Provinces"),
                     "provinces_text": _l("Provinces"), "first_kg": _l("First weight (kg)"),
                     "first_fee": _l("Fee for the first weight"),
                     "extra_kg_fee": _l("Fee per extra kg"),
                     "free_above": _l("Free above (goods total)")}
    description_columns = {"provinces_text": _l("Separated by commas, e.g. 海南省, 广东省. "
                                                "Express is refused for provinces without a "
                                                "template.")}
    add_form_extra_fields = edit_form_extra_fields = {
        "provinces_text": StringField(_l("Provinces"))}

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk)
        form.provinces_text.data = ", ".join(item.provinces or [])

    def pre_add(self, item):
        self._call(freight.validate_freight_template, item,
                   getattr(item, "provinces_text", None))

    pre_update = pre_add


class RegionFeeView(PifaModelView):
    route_base = "/admin/region-fees"
    noun = _l("Delivery fees by region")
    datamodel = SQLAInterface(RegionDeliveryFee)
    list_columns = show_columns = ["region", "fee", "free_above"]
    add_columns = edit_columns = ["region", "fee", "free_above"]
    search_columns = ["region"]  # FAB's amount filters do not work on PostgreSQL
    label_columns = {"region": _l("Region"), "fee": _l("Delivery fee"),
                     "free_above": _l("Free above (goods total)")}

    def pre_add(self, item):
        self._call(freight.validate_region_fee, item)

    pre_update = pre_add
