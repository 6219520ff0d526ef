"""Flask-AppBuilder's list, sort and filter arguments, checked before FAB reads them.

FAB turns `?page_MemberView=abc` into int() (a 500), sends `_oc_MemberView=password`
or `__class__` to the ORM as a column, and hands filter values such as
`_flt_0_region=abc` or `_flt_0_stock=99999999999999999999` to the database unparsed
(a 500 on PostgreSQL or SQLite). Here every such argument is checked against the view
it names (its own sort columns, its search columns' types); an argument that cannot be
what it claims is dropped, as our own lists ignore unknown values. A `pk` in the path
that is not an id, or an action the view does not have, is a 404.
"""

import re
from decimal import Decimal, InvalidOperation

from flask import abort, current_app, request
from werkzeug.datastructures import ImmutableMultiDict

from app.platform import ids

PAGE_ARG = re.compile(r"^page_(.+)$")
SIZE_ARG = re.compile(r"^psize_(.+)$")
ORDER_ARG = re.compile(r"^_oc_(.+)$")
DIRECTION_ARG = re.compile(r"^_od_(.+)$")
FILTER_ARG = re.compile(r"^_flt_(\d)_(.+)$")
MAX_PAGE_SIZE = 100
MAX_NUMBER = Decimal("1e12")
INT_RANGE = (-(2**31), 2**31 - 1)


def _views() -> dict:
    """FAB's model views by name, collected once per app."""
    found = current_app.extensions.get("pifa.fab_views")
    if found is None:
        found = {view.__class__.__name__: view for view in current_app.appbuilder.baseviews
                 if getattr(view, "datamodel", None) is not None}
        current_app.extensions["pifa.fab_views"] = found
    return found


def _integer(value) -> bool:
    text = str(value).strip()
    if not re.fullmatch(r"-?\d{1,10}", text):
        return False
    return INT_RANGE[0] <= int(text) <= INT_RANGE[1]


def _number(value) -> bool:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return False
    return number.is_finite() and abs(number) < MAX_NUMBER


def _filter_value_ok(view, column: str, value: str) -> bool:
    model = view.datamodel
    if model.is_relation(column):
        return ids.parse_id(value) is not None
    if model.is_integer(column):
        return _integer(value)
    if model.is_float(column):
        return _number(value)
    if model.is_numeric(column) or model.is_json(column):
        # FAB sends these values to the database as text, which PostgreSQL cannot compare
        # with a number or JSON: such a filter could never work, so it is ignored.
        return False
    if model.is_boolean(column):
        return value == "y"  # FAB's only true value; anything else would be sent as text
    return len(value) <= 200


def _argument_ok(name: str, values: list[str], views: dict, own) -> bool:
    if match := PAGE_ARG.match(name):
        return match[1] in views and all(
            v.strip().isdigit() and int(v) <= ids.MAX_PAGE for v in values)
    if match := SIZE_ARG.match(name):
        return match[1] in views and all(
            v.strip().isdigit() and 1 <= int(v) <= MAX_PAGE_SIZE for v in values)
    if match := ORDER_ARG.match(name):
        view = views.get(match[1])
        return view is not None and all(v in (view.order_columns or ()) for v in values)
    if DIRECTION_ARG.match(name):
        return all(v in ("asc", "desc") for v in values)
    if match := FILTER_ARG.match(name):
        index, column = int(match[1]), match[2]
        offered = own._filters.get_search_filters().get(column) or []
        return index < len(offered) and all(_filter_value_ok(own, column, v) for v in values)
    return True


def check_fab_request():
    """before_request: for FAB's model views only."""
    blueprint = request.blueprint
    views = _views()
    own = views.get(blueprint) if blueprint else None
    if own is None:
        return None
    view_args = request.view_args or {}
    pk = view_args.get("pk")
    if pk is not None and ids.parse_id(pk) is None:
        abort(404)
    # FAB looks an action up by name before checking anything, and crashes on a name the
    # view lacks; the rows it acts on must be ids.
    endpoint = request.endpoint or ""
    if endpoint.endswith(".action") and (
            view_args.get("name") not in (own.actions or {})
            or own.datamodel.get(ids.parse_id(pk), own._base_filters) is None):
        abort(404)  # FAB's actions assume the row exists
    if endpoint.endswith(".action_post"):
        if request.form.get("action") not in (own.actions or {}):
            abort(404)
        if any(ids.parse_id(row) is None for row in request.form.getlist("rowid")):
            abort(400)
    args = request.args
    kept = [(name, value) for name in args
            if _argument_ok(name, args.getlist(name), views, own)
            for value in args.getlist(name)]
    if len(kept) != sum(len(args.getlist(name)) for name in args):
        request.args = ImmutableMultiDict(kept)
    return None
