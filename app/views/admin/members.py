"""会员: member management — list and filters, review (approve / reject), edit (with the
credit limit), disable, and the hand-over of a departing salesman's customers."""

import re
from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import StringField

from app.extensions import db
from app.members import services as members
from app.members.models import Member, MemberLevel, StaffKind, StaffProfile
from app.payments import credit, ledger
from app.platform import accounts
from app.platform.errors import DomainError
from app.platform.settings import get_settings
from app.views.admin.base import PifaModelView


def _review_link(member_id):
    url = url_for("MemberView.review", pk=member_id)
    return Markup('<a class="btn btn-xs btn-default" href="{}">{}</a>').format(
        url, _("Photos and review"))


# Numeric(12, 2): ten digits before the point at most, two after.
_AMOUNT = re.compile(r"^[0-9]{1,10}(?:\.[0-9]{1,2})?$")
CREDIT_LIMIT_HELP = _l("The most this member may owe under monthly settlement: goods "
                       "delivered and not paid plus open orders. Leave it blank for no "
                       "limit; 0 allows no order on account.")
CREDIT_LIMIT_INVALID = _l("Please enter the credit limit as an amount of 0 or more with at "
                          "most two decimals (at most 9999999999.99), or leave it blank "
                          "for no limit.")


class CreditLimitField(StringField):
    """信用额度: blank is no limit (None); otherwise an amount >= 0 with at most two
    decimals that fits Numeric(12, 2). Anything else is refused with a message and the
    member is left unchanged."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip().replace("¥", "").strip()
        if not text:
            self.data = None
            return
        if not _AMOUNT.match(text):
            self.data = None
            raise ValueError(str(CREDIT_LIMIT_INVALID))
        self.data = Decimal(text).quantize(Decimal("0.01"))

    def populate_obj(self, obj, name):
        if self.raw_data:  # not in the posted form at all: the limit stays as it is
            super().populate_obj(obj, name)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:.2f}" if self.data is not None else ""


def _credit_limit(value):
    return _("No limit") if value is None else f"¥{value:.2f}"


class MemberView(PifaModelView):
    route_base = "/admin/members"
    noun = _l("Members")
    datamodel = SQLAInterface(Member)
    base_permissions = ["can_list", "can_show", "can_edit", "can_review", "can_handover",
                        "can_set_active"]
    list_columns = ["shop_name", "contact_name", "phone", "region", "level", "status_label",
                    "own_salesman", "account_state", "created_at", "id"]
    show_columns = ["shop_name", "contact_name", "phone", "address", "region", "level",
                    "wechat_id", "wechat_bindings", "invoice_title", "tax_number",
                    "status_label", "reject_reason", "own_salesman", "referred_by",
                    "monthly_settlement", "credit_limit", "account_state", "created_at",
                    "submitted_at", "approved_at"]
    edit_columns = ["level", "region", "own_salesman", "monthly_settlement", "credit_limit"]
    edit_form_extra_fields = {"credit_limit": CreditLimitField(
        _l("Credit limit (¥)"), description=CREDIT_LIMIT_HELP,
        render_kw={"class": "form-control", "style": "max-width:220px", "inputmode": "decimal",
                   "maxlength": 14, "autocomplete": "off", "placeholder": _l("No limit")})}
    search_columns = ["status", "region", "level", "own_salesman", "shop_name", "contact_name",
                      "phone", "monthly_settlement"]
    edit_form_query_rel_fields = {"own_salesman": [["kind", FilterEqual, StaffKind.SALESMAN]]}
    base_order = ("id", "desc")
    show_template = "admin/member_show.html"
    edit_template = "admin/payments/member_edit.html"  # help texts wrap on a phone
    label_columns = {"shop_name": _l("Shop name"), "contact_name": _l("Contact"),
                     "phone": _l("Mobile"), "address": _l("Address"), "region": _l("Region"),
                     "level": _l("Member level"), "wechat_id": _l("WeChat ID"),
                     "wechat_bindings": _l("WeChat bound"),
                     "invoice_title": _l("Invoice title"), "tax_number": _l("Tax number"),
                     "status": _l("Status"), "status_label": _l("Status"),
                     "reject_reason": _l("Reason for rejection"),
                     "own_salesman": _l("Own salesman"), "referred_by": _l("Brought by"),
                     "monthly_settlement": _l("Monthly settlement allowed"),
                     "credit_limit": _l("Credit limit"),
                     "account_state": _l("Account"), "created_at": _l("Registered at"),
                     "submitted_at": _l("Submitted at"), "approved_at": _l("Approved at"),
                     "id": _l("Review")}
    formatters_columns = {"id": _review_link, "credit_limit": _credit_limit}

    def pre_update(self, item):
        self._call(members.check_member_edit, item)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        pk = self._deserialize_pk_if_composite(pk)
        widgets = self._show(pk)  # 404 outside the view's filters
        member = self.datamodel.get(pk, self._base_filters)
        sm = self.appbuilder.sm
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets,
            related_views=self._related_views, balance=ledger.balance(member.id),
            available=credit.available(member), credit_limit=member.credit_limit,
            can_see_account=sm.has_access("can_show", "ReceivablesView"))

    @expose("/review/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("review")
    def review(self, pk):
        member = self.datamodel.get(pk, self._base_filters)
        if member is None:
            abort(404)
        levels = db.session.scalars(select(MemberLevel).order_by(MemberLevel.sort_order)).all()
        status = 200
        if request.method == "POST":
            try:
                if request.form.get("decision") == "approve":
                    members.approve(member, request.form.get("level_id"), self._actor())
                    flash(_("Approved: %(shop)s. An SMS has been written to the member.",
                            shop=member.shop_name), "success")
                else:
                    members.reject(member, request.form.get("reason"), self._actor())
                    flash(_("Rejected: %(shop)s. The member has been told the reason.",
                            shop=member.shop_name), "info")
            except DomainError as exc:
                flash(str(exc.message), "danger")
                status = 400
            else:
                return redirect(url_for("MemberView.list") + "?_flt_0_status=pending")
        return self.render_template("admin/member_review.html", member=member, levels=levels,
                                    default_level_id=get_settings().default_level_id), status

    @expose("/active/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("set_active")
    def set_active(self, pk):
        member = self.datamodel.get(pk, self._base_filters)
        if member is None:
            abort(404)
        enable = request.form.get("active") == "1"
        accounts.set_active(member.user, enable)
        flash(_("The account is enabled.") if enable else
              _("The account is disabled; its open sessions have ended."), "info")
        return redirect(url_for("MemberView.review", pk=pk))

    @expose("/handover", methods=["GET", "POST"])
    @has_access
    @permission_name("handover")
    def handover(self):
        salesmen = db.session.scalars(select(StaffProfile).where(
            StaffProfile.kind == StaffKind.SALESMAN).order_by(StaffProfile.name)).all()
        status = 200
        if request.method == "POST":
            try:
                moved = members.hand_over_customers(request.form.get("from_id"),
                                                    request.form.get("to_id"))
            except DomainError as exc:
                flash(str(exc.message), "danger")
                status = 400
            else:
                flash(_("%(n)d customers handed over.", n=moved), "success")
                return redirect(url_for("MemberView.list"))
        return self.render_template("admin/member_handover.html", salesmen=salesmen), status

    @staticmethod
    def _actor():
        return current_user
