"""Shared pieces of the back-office model views."""

from flask_appbuilder import ModelView

from ...extensions import db
from ...services.errors import DomainError


class PifaModelView(ModelView):
    """A ModelView whose hooks call services.

    FAB flashes the message of an exception raised in pre_add/pre_update/pre_delete
    and skips the write; we also roll back, so nothing the form populated or the
    service flushed can be committed later in the request.
    """

    page_size = 25

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except DomainError:
            db.session.rollback()
            raise
