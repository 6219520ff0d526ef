"""Back-office home at /admin/ (Admin and CustomerService only)."""

from flask_appbuilder import IndexView, expose, has_access
from sqlalchemy import func, select

from app.extensions import db
from app.members.models import Member, MemberStatus
from app.messaging import log as message_log


class AdminIndexView(IndexView):
    route_base = "/admin"
    index_template = "admin/index.html"

    @expose("/")
    @has_access
    def index(self):
        pending_members = db.session.scalar(
            select(func.count(Member.id)).where(Member.status == MemberStatus.PENDING))
        failed_messages = message_log.needing_a_person()
        return self.render_template(self.index_template, appbuilder=self.appbuilder,
                                    pending_members=pending_members,
                                    failed_messages=failed_messages)
