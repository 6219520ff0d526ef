"""Roles and their permissions, declared as data, and the security manager.

`flask pifa sync-roles` writes ROLES into the database (idempotent). Admin is FAB's
admin role and receives every back-office permission when permissions are synced;
the other roles get exactly the pairs listed here (anything else is pruned).
Menu entries need `menu_access` on both the category and the item (FAB-NOTES 11).
"""

import logging

from flask import abort, g, has_request_context, redirect, request, url_for
from flask_appbuilder import AppBuilder, expose
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_appbuilder.security.views import AuthDBView
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db, limiter
from app.platform import ids, sessions, tokens

log = logging.getLogger(__name__)

ADMIN = "Admin"
CUSTOMER_SERVICE = "CustomerService"
SALESMAN = "Salesman"
DRIVER = "Driver"
CUSTOMER = "Customer"
ROLE_NAMES = (ADMIN, CUSTOMER_SERVICE, SALESMAN, DRIVER, CUSTOMER)
STAFF_BACK_OFFICE = (ADMIN, CUSTOMER_SERVICE)

# Permission "views" that are not FAB views: the mobile ends.
SALES_END = "SalesEnd"
DRIVER_END = "DriverEnd"
MEMBER_CENTRE = "MemberCentre"
ACCESS = "can_access"


def _view(name, *perms):
    return [(name, p) for p in perms]


def _menus(*names):
    return [(n, "menu_access") for n in names]


ROLES: dict[str, list[tuple[str, str]]] = {
    CUSTOMER_SERVICE: [
        *_view("AdminIndexView", "can_index"),
        *_view("RegionView", "can_list", "can_show"),
        *_view("StaffProfileView", "can_list", "can_show"),
        *_view("MemberView", "can_list", "can_show", "can_edit", "can_review", "can_handover",
               "can_set_active"),
        *_view("MessageLogView", "can_list", "can_show", "can_retry"),
        *_view("OrderListView", "can_list", "can_show", "can_mark_paid", "can_order_action",
               "can_delivery_note"),
        # 财务: receivables, transfer vouchers, drivers' cash (app/views/admin/payments.py).
        *_view("ReceivablesView", "can_list", "can_show"),
        *_view("VoucherView", "can_list", "can_decide"),
        *_view("CashView", "can_list", "can_show", "can_hand_in", "can_explain"),
        *_view("StatementView", "can_list", "can_issue"),
        *_view("WeChatPayRefundView", "can_list", "can_settle"),
        *_menus("Business", "Regions", "Staff", "Members", "Member list", "Pending approval",
                "Hand over customers", "Orders", "Order list", "Finance", "Receivables",
                "Vouchers to confirm", "Drivers' cash", "Statements", "WeChat Pay refunds",
                "Messages", "Message log"),
    ],
    SALESMAN: [(SALES_END, ACCESS)],
    DRIVER: [(DRIVER_END, ACCESS)],
    CUSTOMER: [(MEMBER_CENTRE, ACCESS)],
}


class PifaAppBuilder(AppBuilder):
    """Flask-AppBuilder without its REST APIs.

    FAB registers a JWT sign-in (/api/v1/security/login), /api/v1/menu/ and others even
    with FAB_ADD_SECURITY_API off: a second sign-in door with no rate limit that lets a
    locked-out account in. Pifa serves no FAB API; every sign-in path is ours."""

    def add_api(self, baseview):
        log.debug("Flask-AppBuilder API %s is not served", getattr(baseview, "__name__", baseview))
        return None


class PifaAuthDBView(AuthDBView):
    """FAB's login and logout hand over to the mobile pages at /auth/.

    Only a POST signs out (any page could otherwise sign our users out with an image):
    FAB's GET /logout/ (the back office's menu links to it) goes to /auth/logout, which
    asks first."""

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        nxt = ids.safe_target(request.args.get("next"), "")
        return redirect(url_for("auth.login", next=nxt) if nxt else url_for("auth.login"))

    @expose("/logout/")
    def logout(self):
        return redirect(url_for("auth.logout"))


class PifaSecurityManager(SecurityManager):
    authdbview = PifaAuthDBView
    # FAB's "User's Statistics" chart: not a page we offer (it crashed on any group name
    # but a number and loads Google Charts from the internet).
    userstatschartview = None

    def load_user(self, pk):
        """FAB's loader (active accounts only), and only for a cookie issued under the
        account's current session version (platform/sessions.py)."""
        user_id = ids.parse_id(pk)
        if user_id is None:
            return None
        if not has_request_context():
            return super().load_user(user_id)
        return sessions.signed_in_account(user_id)

    def create_jwt_manager(self, app):
        """FAB's JWT manager set-up, with the manager that remembers verified tokens."""
        manager = tokens.VerifiedTokens()
        manager.init_app(app)
        manager.user_lookup_loader(self.load_user_jwt)
        return manager

    def load_user_jwt(self, _jwt_header, jwt_data):
        """An API token's account, while the token's session version is current."""
        user = tokens.user_for(jwt_data)
        if user is not None:
            g.user = user
        return user

    def reset_password(self, userid, password):
        """FAB's own password forms (a person's own, an admin's for someone else): every
        other session of the account ends; the person changing their own keeps this one."""
        if ids.parse_id(userid) is None or self.get_user_by_id(ids.parse_id(userid)) is None:
            abort(404)  # FAB's admin form takes the account from ?pk= and trusts it
        userid = ids.parse_id(userid)
        super().reset_password(userid, password)
        sessions.end_sessions(userid)
        db.session.commit()
        if has_request_context() and getattr(current_user, "id", None) == userid:
            sessions.restamp(current_user)

    def create_limiter(self, app):
        # One Limiter for FAB and our own views (app/extensions.py).
        limiter.init_app(app)
        return limiter

    def exist_permission_on_roles(self, view_name, permission_name, role_ids) -> bool:
        """FAB asks the database once per check, and the back-office menu checks every
        entry on every page (about 40 queries, most of a page's time). Here the roles'
        permissions are read in one query and kept for the rest of the request."""
        if not has_request_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        # Kept in the request's environ, not in g: a test's app context may span requests.
        cache = request.environ.setdefault("pifa.role_permissions", {})
        key = tuple(sorted(role_ids))
        if key not in cache:
            cache[key] = self._role_permissions(key)
        return (view_name, permission_name) in cache[key]

    def _role_permissions(self, role_ids) -> frozenset:
        pv, assoc = self.permissionview_model, assoc_permissionview_role
        rows = self.session.execute(
            select(self.viewmenu_model.name, self.permission_model.name)
            .select_from(pv)
            .join(assoc, assoc.c.permission_view_id == pv.id)
            .join(self.permission_model, self.permission_model.id == pv.permission_id)
            .join(self.viewmenu_model, self.viewmenu_model.id == pv.view_menu_id)
            .where(assoc.c.role_id.in_(role_ids))).all()
        return frozenset((view, permission) for view, permission in rows)


def bootstrap_security(appbuilder) -> None:
    """Create FAB's built-in roles and every view permission (FAB-NOTES section 5)."""
    sm = appbuilder.sm
    for name in [*sm.builtin_roles, sm.auth_role_admin, sm.auth_role_public]:
        sm.add_role(name)
    appbuilder.add_permissions(update_perms=True)


def sync_roles(appbuilder, roles=None, prune=True) -> dict[str, int]:
    """Write the declared roles; running it twice changes nothing. Returns pairs per role."""
    roles = ROLES if roles is None else roles
    bootstrap_security(appbuilder)
    sm = appbuilder.sm
    counts = {}
    for name in ROLE_NAMES:
        role = sm.add_role(name)
        if name == ADMIN:
            counts[name] = len(role.permissions)
            continue
        wanted = [sm.add_permission_view_menu(perm, view) for view, perm in roles.get(name, [])]
        for pv in wanted:
            sm.add_permission_role(role, pv)
        if prune:
            for pv in list(role.permissions):
                if pv not in wanted:
                    sm.del_permission_role(role, pv)
        counts[name] = len(wanted)
    return counts
