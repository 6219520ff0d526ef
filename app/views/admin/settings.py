"""Settings (设置): basic settings, one row, edited on one page."""

from flask import flash, redirect, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, FileField, SelectField, StringField, TextAreaField

from app.extensions import db
from app.members.models import MemberLevel
from app.platform import settings as settings_service
from app.platform.errors import DomainError


class SettingsForm(FlaskForm):
    shop_name = StringField(_l("Shop name"))
    logo = FileField(_l("Logo"))
    remove_logo = BooleanField(_l("Remove logo"))
    intro = TextAreaField(_l("Introduction"))
    cs_qr_image = FileField(_l("Customer-service QR code"))
    remove_cs_qr = BooleanField(_l("Remove QR code"))
    cs_phone = StringField(_l("Customer-service phone"))
    is_open = BooleanField(_l("Storefront open to visitors"))
    theme_color = StringField(_l("Theme colour"))
    bank_account = TextAreaField(_l("Bank account (shown for bank transfer)"))
    pickup_address = StringField(_l("Pickup address"))
    auto_receive_days = StringField(_l("Days until a shipped order counts as received"))
    default_level_id = SelectField(_l("Level of newly approved members"), coerce=str,
                                   validate_choice=False)


class SettingsView(BaseView):
    route_base = "/admin/settings"
    default_view = "edit"
    template = "admin/settings.html"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def edit(self):
        current = settings_service.get_settings()
        form = SettingsForm(obj=current)
        levels = db.session.scalars(select(MemberLevel).order_by(MemberLevel.sort_order)).all()
        form.default_level_id.choices = [("", "—")] + [(str(lv.id), lv.name) for lv in levels]
        if request.method == "GET":
            form.default_level_id.data = str(current.default_level_id or "")
        status = 200
        if request.method == "POST" and form.validate_on_submit():
            try:
                settings_service.update_settings(
                    request.form, logo=request.files.get("logo"),
                    cs_qr=request.files.get("cs_qr_image"),
                    remove_logo=form.remove_logo.data, remove_cs_qr=form.remove_cs_qr.data)
            except DomainError as exc:
                flash(str(exc.message), "danger")
                status = 400
            else:
                flash(_("Settings saved."), "success")
                return redirect(request.path)
        elif request.method == "POST":
            flash(_("Please check the form."), "danger")
            status = 400
        return self.render_template(self.template, form=form, current=current), status
