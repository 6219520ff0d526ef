"""Shared pieces of the back-office model views."""

from flask import g
from flask_appbuilder import ModelView, expose, has_access
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, DateTime
from sqlalchemy import inspect as sa_inspect
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired

from app.platform.errors import DomainError


def show_datetime(value):
    """UTC in the database, Asia/Shanghai on screen (BABEL_DEFAULT_TIMEZONE)."""
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else "—"


def show_bool(value):
    return _("Yes") if value else _("No")


def show_optional(value):
    return "—" if value is None or value == "" else value


class PifaModelView(ModelView):
    """A ModelView whose hooks call services, with readable columns and titles.

    FAB flashes the message of an exception raised in pre_add/pre_update/pre_delete
    and skips the write; we also roll back, so nothing the form populated or the
    service flushed can be committed later in the request.
    Set `noun` (a lazy string) and the page titles follow from it.
    """

    page_size = 25
    noun = None

    def __init__(self, **kwargs):
        if self.noun is not None:
            self.list_title = self.noun
            self.show_title = _l("Details: %(noun)s", noun=self.noun)
            self.add_title = _l("Add: %(noun)s", noun=self.noun)
            self.edit_title = _l("Edit: %(noun)s", noun=self.noun)
        super().__init__(**kwargs)
        mapper = sa_inspect(self.datamodel.obj)
        auto = {rel.key: show_optional for rel in mapper.relationships}
        for column in mapper.columns:
            if isinstance(column.type, DateTime):
                auto[column.key] = show_datetime
            elif isinstance(column.type, Boolean):
                auto[column.key] = show_bool
            elif column.nullable:
                auto[column.key] = show_optional
        self.formatters_columns = {**auto, **(self.formatters_columns or {})}

    def _init_forms(self):
        super()._init_forms()
        # FAB gives every NOT NULL column InputRequired, so a Boolean column could only be
        # saved ticked; a checkbox must be allowed to stay unticked.
        for form in (self.add_form, self.edit_form):
            for name in dir(form):
                field = getattr(form, name, None)
                if isinstance(field, UnboundField) and issubclass(field.field_class,
                                                                  BooleanField):
                    field.kwargs["validators"] = [
                        v for v in field.kwargs.get("validators") or []
                        if not isinstance(v, DataRequired | InputRequired)]

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except DomainError as exc:
            g.pifa_form_error = exc
            raise

    # FAB answers a refused add or edit with a redirect, losing what was typed. We keep
    # the form (process_form sees it first) and show it again, with the message, as 400.
    def process_form(self, form, is_created):
        g.pifa_form = form
        super().process_form(form, is_created)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        widget = self._add()
        if widget is None and g.get("pifa_form_error") is not None:
            widget = self._get_add_widget(form=g.pifa_form,
                                          exclude_cols=self._filters.get_relation_cols())
            return self.render_template(self.add_template, title=self.add_title,
                                        widgets=widget), 400
        if widget is None:
            return self.post_add_redirect()
        return self.render_template(self.add_template, title=self.add_title, widgets=widget)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        pk = self._deserialize_pk_if_composite(pk)
        widgets = self._edit(pk)
        if widgets is None and g.get("pifa_form_error") is not None:
            widgets = self._get_edit_widget(form=g.pifa_form,
                                            exclude_cols=self._filters.get_relation_cols())
            return self.render_template(self.edit_template, title=self.edit_title,
                                        widgets=widgets, related_views=[]), 400
        if widgets is None:
            return self.post_edit_redirect()
        return self.render_template(self.edit_template, title=self.edit_title,
                                    widgets=widgets, related_views=self._related_views)
