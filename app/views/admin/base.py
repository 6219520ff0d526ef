"""Shared pieces of the back-office model views."""

from functools import partial

from flask import g, request
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from markupsafe import Markup
from sqlalchemy import BigInteger, Boolean, DateTime, Integer, Numeric, func, select
from sqlalchemy import inspect as sa_inspect
from wtforms import BooleanField, DecimalField, IntegerField, widgets
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from app.extensions import db
from app.platform import uploads
from app.platform.errors import DomainError
from app.platform.html import sanitize_html


def show_datetime(value):
    """UTC in the database, Asia/Shanghai on screen (BABEL_DEFAULT_TIMEZONE)."""
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else "—"


def show_bool(value):
    return _("Yes") if value else _("No")


def show_optional(value):
    return "—" if value is None or value == "" else value


OUT_OF_RANGE = _l("Please enter a number between %(min)s and %(max)s.")


def _column_limit(column_type):
    """The largest value a number column holds on every database we run on (PostgreSQL's
    integer is 32-bit; NUMERIC(p, s) holds less than 10^(p-s)), or None for no number."""
    if isinstance(column_type, BigInteger):
        return 2 ** 63 - 1
    if isinstance(column_type, Integer):
        return 2 ** 31 - 1
    if isinstance(column_type, Numeric) and column_type.precision:
        return 10 ** (column_type.precision - (column_type.scale or 0)) - 1
    return None


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
        # FAB applies description_columns only to the fields it generates; extra fields
        # (selects with readable labels, uploads, checkboxes) would lose their help text.
        descriptions = self.description_columns or {}
        for fields in (self.add_form_extra_fields, self.edit_form_extra_fields):
            for name, field in (fields or {}).items():
                if name in descriptions and "description" not in field.kwargs:
                    field.kwargs["description"] = descriptions[name]
        super()._init_forms()
        columns = {c.key: c for c in sa_inspect(self.datamodel.obj).columns}
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
                elif isinstance(field, UnboundField) and name in columns:
                    limit = _column_limit(columns[name].type)
                    if limit is not None and issubclass(field.field_class,
                                                        IntegerField | DecimalField):
                        field.kwargs["validators"] = [
                            *(field.kwargs.get("validators") or []),
                            NumberRange(-limit, limit, message=OUT_OF_RANGE)]

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
            db.session.rollback()  # the refused values must not be flushed by the page
            widget = self._get_add_widget(form=g.pifa_form,
                                          exclude_cols=self._filters.get_relation_cols())
            return self.render_template(self.add_template, title=self.add_title,
                                        widgets=widget), 400
        if widget is None:
            return self.post_add_redirect()
        refused = 400 if request.method == "POST" else 200  # the form's own checks failed
        return self.render_template(self.add_template, title=self.add_title,
                                    widgets=widget), refused

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        pk = self._deserialize_pk_if_composite(pk)
        widgets = self._edit(pk)
        if widgets is None and g.get("pifa_form_error") is not None:
            db.session.rollback()  # the refused values must not be flushed by the page
            widgets = self._get_edit_widget(form=g.pifa_form,
                                            exclude_cols=self._filters.get_relation_cols())
            return self.render_template(self.edit_template, title=self.edit_title,
                                        widgets=widgets, related_views=[]), 400
        if widgets is None:
            return self.post_edit_redirect()
        refused = 400 if request.method == "POST" else 200  # the form's own checks failed
        return self.render_template(self.edit_template, title=self.edit_title,
                                    widgets=widgets, related_views=self._related_views), refused


# ---- shared pieces of the model views ------------------------------------------------

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"
IMAGE_HELP = _l("JPEG, PNG or WebP.")
KEEP_IMAGE_HELP = _l("Leave the field empty to keep the current image.")
HTML_HELP = _l("HTML is allowed (paragraphs, headings, lists, links, images, tables); "
               "scripts, styles and event attributes are removed when saving.")


class PifaInterface(SQLAInterface):
    """SQLAInterface with columns computed by the view: {name: function(item)}.

    Computed columns can be listed and shown; they cannot be sorted (an order on one
    falls back to the view's default order).
    """

    def __init__(self, obj, computed=None, session=None):
        super().__init__(obj, session=session)
        self.computed = dict(computed or {})

    def _get_attr_value(self, item, col):
        if col in self.computed:
            return self.computed[col](item)
        return SQLAInterface._get_attr_value(item, col)

    def query(self, filters=None, order_column="", order_direction="", *args, **kwargs):
        if order_column in self.computed:
            order_column, order_direction = "", ""
        return super().query(filters, order_column, order_direction, *args, **kwargs)


class TallTextArea(widgets.TextArea):
    """A Bootstrap textarea with room for a few paragraphs."""

    def __init__(self, rows=10):
        self.rows = rows

    def __call__(self, field, **kwargs):
        kwargs["class"] = "form-control"
        kwargs.setdefault("rows", self.rows)
        return super().__call__(field, **kwargs)


def image_field(label):
    return FileField(label, description=IMAGE_HELP, render_kw={"accept": IMAGE_ACCEPT})


def relation_select(label, model, *order_by, blank=None):
    """A many-to-one select (Select2) whose empty choice says so."""
    return QuerySelectField(
        label, query_func=lambda: db.session.scalars(select(model).order_by(*order_by)).all(),
        get_pk_func=lambda obj: obj.id, allow_blank=blank is not None,
        blank_text=blank if blank is not None else "",
        widget=Select2Widget())


def flag(label, default=True):
    """A checkbox that may be left unticked.

    FAB gives every NOT NULL column InputRequired, which a Boolean column can then
    only pass when ticked; this field replaces the generated one.
    """
    return BooleanField(label, default=default)


def thumb(key, height=48):
    """An <img> of an uploaded image's thumbnail, or a dash."""
    if not key:
        return "—"
    src = "/media/" + uploads.thumb_key_of(key)
    return Markup('<img src="{}" alt="" style="max-height:{}px;max-width:{}px;'
                  'border:1px solid #ddd;border-radius:3px">').format(src, height, height * 2)


def count_by(column):
    """{value: number of rows} for a foreign-key column, counted once per request."""
    cache = g.setdefault("pifa_admin_counts", {})
    key = str(column)
    if key not in cache:
        cache[key] = dict(db.session.execute(
            select(column, func.count()).group_by(column)).all())
    return cache[key]


class ImageUploadMixin:
    """Extra upload fields stored by uploads.save_image: {form field: (column, folder)}.

    Call `_store_images(item)` last in pre_add/pre_update, after validation, so that a
    refused row leaves no file behind. A refused upload raises the service's message.
    The image a new upload replaces is deleted once the row is saved.
    """

    image_fields: dict = {}

    def _store_images(self, item):
        stored = []
        try:
            for field, (column, folder) in self.image_fields.items():
                upload = request.files.get(field)
                if upload is None or not upload.filename:
                    continue
                image = self._call(partial(uploads.save_image, upload, folder=folder))
                stored.append(image.key)
                old = getattr(item, column)
                setattr(item, column, image.key)
                if old:
                    g.setdefault("pifa_replaced_images", []).append(old)
        except DomainError:
            for key in stored:
                uploads.delete_image(key)
            g.pop("pifa_replaced_images", None)
            raise

    def _drop_replaced_images(self):
        for key in g.pop("pifa_replaced_images", []):
            uploads.delete_image(key)

    def _remember_images_of(self, item):
        """Before a delete: the files to remove once the row is gone."""
        g.pifa_deleted_images = [getattr(item, column)
                                 for column, _folder in self.image_fields.values()]

    def prefill_form(self, form, pk):
        """On the edit page, show the current image above its upload field."""
        item = self.datamodel.get(pk)
        for field, (column, _folder) in self.image_fields.items():
            key = getattr(item, column, None) if item is not None else None
            if key and field in form:
                form[field].description = Markup("{}<br>{} {}").format(
                    thumb(key, 80), IMAGE_HELP, KEEP_IMAGE_HELP)

    def post_add(self, item):
        self._drop_replaced_images()

    def post_update(self, item):
        self._drop_replaced_images()

    def pre_delete(self, item):
        self._remember_images_of(item)

    def post_delete(self, item):
        for key in g.pop("pifa_deleted_images", []):
            uploads.delete_image(key)


def safe_html(html):
    """Stored rich text, cleaned once more on the way out (it was cleaned when saved)."""
    return Markup(sanitize_html(html)) if html else "—"  # noqa: S704 - nh3-cleaned


def yes_no_icon(value):
    if value:
        return Markup('<span class="label label-success">{}</span>').format(_("Yes"))
    return Markup('<span class="label label-default">{}</span>').format(_("No"))
