"""The outbox in the admin: what was sent to whom, what failed, and why."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.constants import (
    RETRYABLE_STATUSES,
    Channel,
    MessageStatus,
    refusal_explain,
)
from notifications.models import Message
from notifications.rendering import message_render
from notifications.selectors import messages_for_user
from notifications.services import message_cancel, message_retry
from stations.admin_scoping import StationListFilter


class TemplateFilter(admin.SimpleListFilter):
    """Filter by message template, listing only templates of messages the user may see."""

    title = _("template")
    parameter_name = "template"

    def lookups(self, request, model_admin):
        templates = (
            model_admin.get_queryset(request)
            .order_by()
            .values("template")
            .annotate(n=Count("pk"))
            .order_by("template")
        )
        return [(row["template"], row["template"]) for row in templates]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(template=self.value())
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only outbox, scoped to the stations of the member of staff."""

    list_display = [
        "created_at",
        "recipient",
        "channel",
        "template",
        "language",
        "status_badge",
        "attempts",
        "next_attempt_at",
        "station",
        "error_summary",
    ]
    list_filter = [
        "status",
        "channel",
        TemplateFilter,
        StationListFilter,
    ]
    search_fields = ["to", "recipient_name", "=idempotency_key"]
    list_select_related = ["station"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    actions = ["retry_messages", "cancel_messages"]
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (
            _("Recipient"),
            {"fields": ["to", "recipient_name", "channel", "language", "station"]},
        ),
        (
            _("Delivery"),
            {
                "fields": [
                    "status",
                    "held_by",
                    "superseded_by",
                    "fallback",
                    "attempts",
                    "uncertain_attempts",
                    "error_explained",
                    "send_after",
                    "next_attempt_at",
                    "first_attempt_at",
                    "sending_started_at",
                    "sent_at",
                    "reference",
                ]
            },
        ),
        (_("Content"), {"fields": ["template", "preview", "concerning_label"]}),
        (
            _("Technical details"),
            {
                "classes": ["collapse"],
                "fields": [
                    "idempotency_key",
                    "thread",
                    "attempt_id",
                    "published_at",
                    "secrets_erased",
                    "created_at",
                    "updated_at",
                ],
            },
        ),
    ]

    def get_queryset(self, request):
        return messages_for_user(request.user).prefetch_related("station__texts")

    def get_object(self, request, object_id, from_field=None):
        """Answer 404 for a message of another station, as for one that does not exist."""
        message = super().get_object(request, object_id, from_field)
        if message is None:
            raise Http404
        return message

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("recipient"), ordering="to")
    def recipient(self, obj):
        if obj.channel == Channel.WECHAT:  # ``to`` is the resident's record, never the openid
            return obj.recipient_name or obj.to
        if obj.recipient_name:
            return f"{obj.recipient_name} <{obj.to}>"
        return obj.to

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        label = obj.get_status_display()
        if obj.status in (MessageStatus.FAILED, MessageStatus.POSSIBLY_SENT):
            return format_html("<strong>⚠ {}</strong>", label)
        if obj.status == MessageStatus.SUPERSEDED and obj.superseded_by_id:
            return _("%(status)s: replaced by message #%(id)s") % {
                "status": label,
                "id": obj.superseded_by_id,
            }
        if obj.status == MessageStatus.FELL_BACK and obj.fallback_id:
            return _("%(status)s: message #%(id)s") % {"status": label, "id": obj.fallback_id}
        if obj.status == MessageStatus.CREATED and obj.held_by_id:
            return _("%(status)s, after message #%(id)s") % {"status": label, "id": obj.held_by_id}
        if obj.may_have_been_sent:
            return format_html("{} <em>({})</em>", label, _("may have been sent"))
        return label

    @admin.display(description=_("last error"))
    def error_summary(self, obj):
        return Truncator(refusal_explain(obj.last_error)).chars(120) if obj.last_error else ""

    @admin.display(description=_("last error"))
    def error_explained(self, obj):
        return refusal_explain(obj.last_error) or "—"

    @admin.display(description=_("concerning"))
    def concerning_label(self, obj):
        if not obj.concerning_type_id:
            return "—"
        return f"{obj.concerning_type.name} #{obj.concerning_id}"

    @admin.display(description=_("preview"))
    def preview(self, obj):
        """Render the message as the recipient reads it, private links masked."""
        try:
            rendered = message_render(obj, mask_secrets=True)
        except (TemplateDoesNotExist, TemplateSyntaxError) as error:
            return format_html(
                '<span class="errornote">{}</span>',
                _("The message cannot be shown: %(error)s") % {"error": error},
            )
        if obj.channel == Channel.SMS:
            return format_html("<div>{}</div>", linebreaksbr(rendered.text))
        return format_html(
            "<p><strong>{}</strong></p><div>{}</div>", rendered.subject, linebreaksbr(rendered.text)
        )

    @admin.action(
        description=_("Send this message again"),
        description_plural=_("Send the selected messages again"),
        permissions=["change"],
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def retry_messages(self, request, queryset):
        # A message that may have reached its recipient would reach them twice: say so and
        # ask first (the copy carries the same Message-ID, but not every client drops it).
        uncertain = [m for m in queryset if m.may_have_been_sent and m.status in RETRYABLE_STATUSES]
        if uncertain and request.POST.get("confirm") != "yes":
            return self._retry_confirmation(request, uncertain)
        done, refused = self._apply(queryset, message_retry)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message will be sent again.",
                    "%(count)d messages will be sent again.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        if uncertain:
            self.message_user(
                request,
                ngettext(
                    "%(count)d of them may have been sent already: its recipient may get it twice.",
                    "%(count)d of them may have been sent already: their recipients may get "
                    "them twice.",
                    len(uncertain),
                )
                % {"count": len(uncertain)},
                messages.WARNING,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was skipped: only failed, cancelled or possibly sent "
                    "messages can be sent again.",
                    "%(count)d messages were skipped: only failed, cancelled or possibly sent "
                    "messages can be sent again.",
                    refused,
                )
                % {"count": refused},
                messages.WARNING,
            )

    def _retry_confirmation(self, request, uncertain):
        """Ask before sending again messages that may have reached their recipients."""
        # The same POST again, confirmed: works from the list and from the change page.
        repost = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in ("csrfmiddlewaretoken", "confirm")
            for value in values
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send again messages that may have been sent?"),
            "opts": self.model._meta,
            "uncertain": uncertain,
            "repost": repost,
        }
        return TemplateResponse(
            request, "admin/notifications/message/retry_confirmation.html", context
        )

    @admin.action(
        description=_("Cancel this message"),
        description_plural=_("Cancel the selected messages"),
        permissions=["change"],
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def cancel_messages(self, request, queryset):
        done, refused = self._apply(queryset, message_cancel)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was cancelled.",
                    "%(count)d messages were cancelled.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was skipped: only messages waiting to be sent can be "
                    "cancelled.",
                    "%(count)d messages were skipped: only messages waiting to be sent can be "
                    "cancelled.",
                    refused,
                )
                % {"count": refused},
                messages.WARNING,
            )

    @staticmethod
    def _apply(queryset, service):
        done = refused = 0
        for message in queryset:
            try:
                service(message=message)
            except ValidationError:
                refused += 1
            else:
                done += 1
        return done, refused
