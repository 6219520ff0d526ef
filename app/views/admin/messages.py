"""消息: the outbox as a log (retries and templates arrive with the messaging issue)."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from ...models import Message
from .base import PifaModelView


class MessageLogView(PifaModelView):
    route_base = "/admin/messages"
    noun = _l("Message log")
    datamodel = SQLAInterface(Message)
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "event", "channel", "recipient", "body", "status_label",
                    "attempts"]
    show_columns = ["created_at", "event", "channel", "recipient", "body", "template",
                    "params", "status_label", "provider", "attempts", "last_error",
                    "sent_at", "read_at"]
    search_columns = ["status", "channel", "event", "recipient", "created_at"]
    base_order = ("id", "desc")
    page_size = 50
    label_columns = {"created_at": _l("Written at"), "event": _l("Event"),
                     "channel": _l("Channel"), "recipient": _l("Recipient"),
                     "body": _l("Content"), "template": _l("Template"),
                     "params": _l("Parameters"), "status": _l("Status"),
                     "status_label": _l("Status"), "provider": _l("Provider"),
                     "attempts": _l("Attempts"), "last_error": _l("Last error"),
                     "sent_at": _l("Sent at"), "read_at": _l("Read at")}
