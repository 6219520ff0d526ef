"""Shared pieces of the back-office model views."""

from flask_appbuilder import ModelView
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, DateTime
from sqlalchemy import inspect as sa_inspect

from ...extensions import db
from ...services.errors import DomainError


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

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except DomainError:
            db.session.rollback()
            raise
