"""订单 and 设置: the order list with "mark paid", payment methods and delivery options,
freight templates and the driver-delivery fee of each region. The fuller order screens
(detail, override, drivers, refunds, PDFs) come with the staff-ends issue."""

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField

from ...models import FreightTemplate, Order, RegionDeliveryFee
from ...services import checkout_rules, workflow
from ...services.errors import DomainError
from ...services.orders_common import (
    DELIVERY_LABELS,
    PAYMENT_LABELS,
    PAYMENT_STATUS_LABELS,
    STAFF_LABELS,
    Delivery,
    Pay,
)
from .base import PifaModelView


class OrderListView(PifaModelView):
    route_base = "/admin/orders"
    noun = _l("Orders")
    datamodel = SQLAInterface(Order)
    base_permissions = ["can_list", "can_show", "can_mark_paid"]
    list_columns = ["order_no", "created_at", "member", "region", "state", "total",
                    "delivery_method", "payment_method", "payment_status"]
    show_columns = ["order_no", "created_at", "member", "region", "state", "goods_total",
                    "freight", "total", "delivery_method", "payment_method",
                    "payment_status", "contact", "phone", "province", "city", "district",
                    "street", "remark", "driver"]
    search_columns = ["order_no", "state", "region", "payment_method", "payment_status",
                      "delivery_method", "created_at", "phone"]
    base_order = ("id", "desc")
    show_template = "admin/order_show.html"
    label_columns = {"order_no": _l("Order no."), "created_at": _l("Placed at"),
                     "member": _l("Customer"), "region": _l("Region"), "state": _l("Status"),
                     "goods_total": _l("Goods"), "freight": _l("Freight"),
                     "total": _l("Total"), "delivery_method": _l("Delivery"),
                     "payment_method": _l("Payment"), "payment_status": _l("Payment status"),
                     "contact": _l("Contact"), "phone": _l("Mobile"),
                     "province": _l("Province"), "city": _l("City"),
                     "district": _l("District"), "street": _l("Street"),
                     "remark": _l("Remark"), "driver": _l("Driver")}
    formatters_columns = {
        "state": lambda v: STAFF_LABELS.get(v, v),
        "delivery_method": lambda v: DELIVERY_LABELS.get(v, v),
        "payment_method": lambda v: PAYMENT_LABELS.get(v, v),
        "payment_status": lambda v: PAYMENT_STATUS_LABELS.get(v, v),
    }

    @expose("/mark-paid/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("mark_paid")
    def mark_paid(self, pk):
        order = self.datamodel.get(pk, self._base_filters)
        if order is None:
            abort(404)
        try:
            workflow.apply(order, "mark_paid", current_user, note=request.form.get("note"),
                           amount=request.form.get("amount") or None)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("Payment recorded."), "success")
        return redirect(url_for("OrderListView.show", pk=pk))


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
                checkout_rules.save_order_settings(payments, deliveries)
            except DomainError as exc:
                flash(str(exc.message), "danger")
                status = 400
            else:
                flash(_("Settings saved."), "success")
                return redirect(request.path)
        return self.render_template(
            "admin/order_settings.html", payments=checkout_rules.payment_settings(),
            deliveries=checkout_rules.delivery_settings(), pay_codes=Pay.ALL,
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
        self._call(checkout_rules.validate_freight_template, item,
                   getattr(item, "provinces_text", None))

    pre_update = pre_add


class RegionFeeView(PifaModelView):
    route_base = "/admin/region-fees"
    noun = _l("Delivery fees by region")
    datamodel = SQLAInterface(RegionDeliveryFee)
    list_columns = show_columns = ["region", "fee", "free_above"]
    add_columns = edit_columns = ["region", "fee", "free_above"]
    label_columns = {"region": _l("Region"), "fee": _l("Delivery fee"),
                     "free_above": _l("Free above (goods total)")}

    def pre_add(self, item):
        self._call(checkout_rules.validate_region_fee, item)

    pre_update = pre_add
