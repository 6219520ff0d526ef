"""消息: the message log (filters, details, "retry now"), message templates, queue state.

Every decision is in app/messaging/ (what may be resent, what a template may
say, what a preview shows) and app/jobs/state.py (what the queue is doing); these views
read forms, call them and show what they say.
"""

import re
from datetime import UTC, timedelta

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.jobs.state import queue_state
from app.messaging import events, outbox, templates
from app.messaging import log as message_log
from app.messaging.jobs import GAVE_UP, NO_ANSWER
from app.messaging.models import Channel, Message, MessageStatus
from app.messaging.providers import provider_name
from app.platform import ids
from app.platform.accounts import display_name
from app.platform.errors import DomainError
from app.platform.time import utcnow

SHORT_BODY = 60  # characters of the content shown in the list

# Our own reasons (app/messaging/jobs.py keeps them in English in `last_error`), written
# out here so that pybabel extracts them; tests check they match the constants.
OWN_REASONS = {
    NO_ANSWER: _l("The worker stopped while sending; the outcome is unknown."),
    GAVE_UP: _l("Not sent after the maximum number of attempts."),
}
STATUS_STYLES = {MessageStatus.PENDING: "info", MessageStatus.SENDING: "primary",
                 MessageStatus.SENT: "success", MessageStatus.LOGGED: "default",
                 MessageStatus.FAILED: "danger", MessageStatus.UNCERTAIN: "warning"}
PROVIDER_LABELS = {"log": _l("Log only (not sent)"), "aliyun": _l("Aliyun SMS"),
                   "tencent": _l("Tencent Cloud SMS"), "wechat": _l("WeChat"),
                   "inapp": _l("In-app")}
WECHAT_KINDS = {"subscribe": _l("mini-program subscription messages"),
                "template": _l("official-account template messages")}


def status_labels() -> dict:
    """Status -> label, as the model words them (Message.status_label)."""
    return {status: Message(status=status).status_label() for status in MessageStatus.ALL}


def event_label(event: str):
    spec = events.EVENTS.get(event)
    return spec.label if spec else event


def channel_label(channel: str):
    return events.CHANNEL_LABELS.get(channel, channel)


def provider_label(name: str | None):
    return PROVIDER_LABELS.get(name, name) if name else "—"


# What our providers write (app/messaging/providers), in the reader's language; a gateway's
# own code and words ("isv.MOBILE_NUMBER_ILLEGAL: ...") are shown as they came.
PROVIDER_REASONS = [
    (re.compile(r"(?:Aliyun|Tencent) SMS is not configured: (?P<key>\w+) is empty"),
     _l("The SMS provider is not set up: %(key)s is empty.")),
    (re.compile(r"(?P<key>WECHAT_\w+) (?:is not set|must .*)"),
     _l("WeChat is not set up: check %(key)s.")),
    (re.compile(r"(?:Aliyun|Tencent) SMS is not configured: the message has no template \w+"
                r"|no WeChat template id for this message"),
     _l("No provider template code for this message: fill it in under Message templates.")),
    (re.compile(r"(?:Aliyun|Tencent) SMS: the message has no recipient phone number"),
     _l("The message has no phone number.")),
    (re.compile(r"the customer has no WeChat openid"),
     _l("The customer has no WeChat account linked.")),
    (re.compile(r"no connection to the gateway within (?P<s>[\d.]+) s"),
     _l("No connection to the provider within %(s)s s: not sent, tried again later.")),
    (re.compile(r"no answer within (?P<s>[\d.]+) s; the SMS may have been sent"),
     _l("No answer from the provider within %(s)s s: the SMS may have been sent.")),
    (re.compile(r"could not connect to the gateway: (?P<why>.*)|"
                r"(?:could not connect|access token request failed|token storage "
                r"unavailable), nothing sent \((?P<kind>\w+)\)"),
     _l("Could not reach the provider: not sent, tried again later.")),
    (re.compile(r"no usable answer from the gateway \((?P<kind>\w+)\).*|"
                r"(?:connection lost|no answer) after sending \((?P<kind2>\w+)\)|"
                r"answer is not JSON|HTTP (?P<status>\d+); the message may have been delivered"),
     _l("The provider's answer was lost or unreadable: the message may have been sent.")),
]


def shown_error(error: str | None) -> str:
    """`last_error` as shown: our own reasons and our providers' in the reader's language
    (the original after it, for whoever looks it up), a gateway's words as they came."""
    if not error:
        return ""
    if error in OWN_REASONS:
        return str(OWN_REASONS[error])
    for own, label in OWN_REASONS.items():
        if error.startswith(own + " "):
            return f"{label} {shown_error(error[len(own) + 1:])}"
    for pattern, label in PROVIDER_REASONS:
        found = pattern.fullmatch(error)
        if found:
            values = {k: v for k, v in found.groupdict().items() if v is not None}
            return f"{str(label) % values} ({error})"
    return error


def _labels() -> dict:
    """What the message templates need to show codes as words."""
    return {"status_labels": status_labels(), "status_styles": STATUS_STYLES,
            "event_label": event_label, "channel_label": channel_label,
            "provider_label": provider_label, "shown_error": shown_error,
            "retryable": MessageStatus.RETRYABLE_BY_HAND, "display_name": display_name,
            "MessageStatus": MessageStatus}


class MessageLogView(BaseView):
    """消息记录: every outbox row, filtered; failed and uncertain ones can be resent."""

    route_base = "/admin/messages"
    default_view = "list"
    list_title = _l("Message log")
    # can_read_codes: a verification code shown unmasked (platform/security.py: Admin only).
    base_permissions = ["can_list", "can_show", "can_retry", "can_read_codes"]

    @expose("/list/")
    @has_access
    def list(self):
        reveal = outbox.may_read_secrets(current_user)
        filters = message_log.LogFilters.from_args(request.args, read_secrets=reveal)
        page = message_log.log_page(filters, before=request.args.get("before"),
                                    after=request.args.get("after"),
                                    size=request.args.get("psize"))
        counts = message_log.attention_counts(filters)
        return self.render_template(
            "admin/message_list.html", title=self.list_title, messages=page.messages,
            page=page, paged=bool(request.args.get("before") or request.args.get("after")),
            filters=filters, active=filters.values(),
            size=page.size,
            page_sizes=message_log.PAGE_SIZES, status_counts=counts,
            statuses=MessageStatus.ALL, events=events.EVENTS, channels=Channel.ALL,
            short_body=SHORT_BODY,
            body_of=lambda message: outbox.shown(message, reveal)[0],
            can_retry=self.appbuilder.sm.has_access("can_retry", "MessageLogView"),
            list_url=self._list_url, here=request.full_path.rstrip("?"), **_labels())

    @staticmethod
    def _list_url(**changes):
        """The list's URL with the current filters and page size, some changed (None
        removes one); a new filter starts again at the newest page."""
        values = {**message_log.LogFilters.from_args(request.args).values(), **changes}
        if request.args.get("psize"):
            values.setdefault("psize", request.args.get("psize"))
        return url_for("MessageLogView.list",
                       **{k: v for k, v in values.items() if v not in (None, "")})

    def _message(self, pk) -> Message:
        message = db.session.get(Message, pk) if 0 < pk < 2 ** 63 else None
        if message is None:
            abort(404)
        return message

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        message = self._message(pk)
        body, params = outbox.shown(message, outbox.may_read_secrets(current_user))
        return self.render_template(
            "admin/message_show.html", title=_("Message #%(id)s", id=message.id),
            message=message, body=body, params=params,
            spec=events.EVENTS.get(message.event), route=outbox.ROUTES.get(message.route),
            can_retry=self.appbuilder.sm.has_access("can_retry", "MessageLogView"),
            here=request.full_path.rstrip("?"), **_labels())

    @expose("/retry/<int:pk>", methods=["POST"])
    @has_access
    def retry(self, pk):
        message = self._message(pk)
        try:
            outbox.retry_message(message, current_user,
                                    confirmed=request.form.get("confirm") == "1")
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("Message #%(id)s is being sent again.", id=pk), "success")
        return redirect(ids.safe_target(request.form.get("next"),
                                        url_for("MessageLogView.show", pk=pk),
                                        prefix=self.route_base + "/"))


# ---- 消息模板 -------------------------------------------------------------------------------

class MessageTemplateView(BaseView):
    """The wording and provider template of each event on each channel (Admin only)."""

    route_base = "/admin/message-templates"
    default_view = "list"

    @expose("/")
    @has_access
    def list(self):
        rows = []
        for event, spec in events.EVENTS.items():
            for n, channel in enumerate(spec.channels):
                rows.append({"event": event, "spec": spec, "channel": channel,
                             "template": templates.get_template(event, channel),
                             "first": n == 0, "span": len(spec.channels)})
        return self.render_template(
            "admin/message_templates.html", title=_("Message templates"), rows=rows,
            providers=_providers(), **_labels())

    @staticmethod
    def _spec(event, channel):
        spec = events.EVENTS.get(event)
        if spec is None or channel not in spec.channels:
            abort(404)
        return spec

    @expose("/edit/<event>/<channel>", methods=["GET", "POST"])
    @has_access
    def edit(self, event, channel):
        spec = self._spec(event, channel)
        saved = templates.get_template(event, channel)
        form = {"text": saved.text, "template_code": saved.template_code,
                "param_map": saved.param_map}
        status, error, preview = 200, None, None
        if request.method == "POST":
            form = {key: request.form.get(key, "") for key in form}
            try:
                if request.form.get("do") == "save":
                    templates.save_template(event, channel, form["text"],
                                            form["template_code"], form["param_map"],
                                            current_user)
                    flash(_("Template saved: %(event)s · %(channel)s",
                            event=spec.label, channel=channel_label(channel)), "success")
                    return redirect(url_for("MessageTemplateView.list"))
                preview = templates.preview(event, channel, form["text"],
                                            form["template_code"], form["param_map"])
            except DomainError as exc:
                error, status = exc, 400
        return self.render_template(
            "admin/message_template_edit.html",
            title=_("Message template: %(event)s · %(channel)s", event=spec.label,
                    channel=channel_label(channel)),
            event=event, channel=channel, spec=spec, saved=saved, form=form, error=error,
            preview=preview, provider=_providers().get(channel),
            text_param=events.TEXT_PARAM, **_labels()), status

    @expose("/reset/<event>/<channel>", methods=["POST"])
    @has_access
    def reset(self, event, channel):
        spec = self._spec(event, channel)
        templates.reset_template(event, channel)
        flash(_("Default restored: %(event)s · %(channel)s", event=spec.label,
                channel=channel_label(channel)), "success")
        return redirect(url_for("MessageTemplateView.edit", event=event, channel=channel))


def _providers() -> dict:
    """Channel -> {name, label, note} of the provider configured for it."""
    config = current_app.config
    found = {}
    for channel in Channel.ALL:
        name = provider_name(channel, config)
        note = None
        if name == "log":
            note = _("Not sent: messages are only kept in the message log (set %(key)s to "
                     "send them).", key=f"{channel.upper()}_PROVIDER")
        elif name == "wechat":
            kind = config.get("WECHAT_MESSAGE_KIND") or "subscribe"
            note = _("Sent as %(kind)s.", kind=WECHAT_KINDS.get(kind, kind))
        found[channel] = {"name": name, "label": provider_label(name), "note": note}
    return found


# ---- 队列状态 -------------------------------------------------------------------------------

class QueueStateView(BaseView):
    """The outbox by status and channel, and the RQ queue and its workers (Admin only)."""

    route_base = "/admin/queues"
    default_view = "list"

    @expose("/")
    @has_access
    def list(self):
        now = utcnow()
        summary = message_log.outbox_summary(current_app.config["MESSAGE_SWEEP_AFTER"], now)
        oldest = summary["oldest"]
        return self.render_template(
            "admin/queue_state.html", title=_("Queue state"), summary=summary,
            channels=Channel.ALL, waiting_statuses=message_log.ATTENTION,
            delivered_statuses=message_log.DELIVERED,
            recent_minutes=int(message_log.RECENT.total_seconds() // 60),
            oldest=oldest, oldest_age=_age(now, oldest.created_at) if oldest else None,
            overdue=summary["overdue"], rq=queue_state(), providers=_providers(),
            queue_name=current_app.config.get("RQ_QUEUE"), age=lambda t: _age(now, t),
            **_labels())


def _age(now, then) -> str:
    """How long ago `then` was (naive UTC from the database, aware UTC from RQ)."""
    if then is None:
        return ""
    if then.tzinfo is not None:
        then = then.astimezone(UTC).replace(tzinfo=None)
    return format_timedelta(max(now - then, timedelta(0)), threshold=1.1)
