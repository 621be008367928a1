"""Check-in rounds in Django admin: managers prepare and send them; answers are read only."""

from django.conf import settings
from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from inquiries.admin.actions import send_round
from inquiries.constants import RoundStatus
from inquiries.forms import CheckInAnswerForm
from inquiries.models import CheckInAnswer, CheckInRound, CheckInRoundIntro
from inquiries.selectors import round_statistics
from inquiries.services import check_in_round_save
from stations.admin_scoping import StationScopedAdminMixin
from stations.constants import MembershipRole
from stations.selectors import stations_for_user, user_manages


class CheckInRoundIntroInline(admin.StackedInline):
    model = CheckInRoundIntro
    extra = 0
    min_num = 1

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj else max(0, len(settings.LANGUAGES) - 1)

    def get_max_num(self, request, obj=None, **kwargs):
        return len(settings.LANGUAGES)


@admin.register(CheckInRound)
class CheckInRoundAdmin(StationScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "station",
        "status",
        "created_at",
        "sent_at",
        "invited",
        "answered",
        "cases",
    ]
    list_filter = ["status"]
    search_fields = ["title"]
    list_select_related = ["station"]
    inlines = [CheckInRoundIntroInline]
    readonly_fields = ["status", "sent_at", "created_by", "created_at", "statistics", "questions"]
    fields = [
        "station",
        "title",
        "valid_days",
        "questions",
        "status",
        "created_by",
        "created_at",
        "sent_at",
        "statistics",
    ]
    actions = [send_round]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("station")
            .prefetch_related("station__texts")
            .annotate(
                invited_count=Count("invitations", distinct=True),
                answered_count=Count("invitations__answer", distinct=True),
                cases_count=Count("invitations__answer__inquiry", distinct=True),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.status != RoundStatus.DRAFT:
            fields.append("station")
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "station":
            field.queryset = stations_for_user(request.user, role=MembershipRole.MANAGER)
        return field

    def _may_manage(self, request, obj):
        return obj is None or user_manages(request.user, obj.station)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (
            super().has_delete_permission(request, obj)
            and self._may_manage(request, obj)
            and (obj is None or obj.status == RoundStatus.DRAFT)
        )

    def save_model(self, request, obj, form, change):
        check_in_round_save(round=obj, by=request.user)

    @admin.display(description=_("invited"), ordering="invited_count")
    def invited(self, obj):
        return obj.invited_count

    @admin.display(description=_("answered"), ordering="answered_count")
    def answered(self, obj):
        return obj.answered_count

    @admin.display(description=_("cases raised"), ordering="cases_count")
    def cases(self, obj):
        return obj.cases_count

    @admin.display(description=_("questions"))
    def questions(self, obj):
        form = CheckInAnswerForm()
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{}</li>",
                ((form.fields[n].label,) for n in ("rating", "troubles", "wants_contact")),
            ),
        )

    @admin.display(description=_("statistics"))
    def statistics(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        stats = round_statistics(round=obj)
        rows = [
            (_("invited"), stats["invited"]),
            (_("delivered"), stats["delivered"]),
            (_("answered"), stats["answered"]),
            (_("cases raised"), stats["cases"]),
        ] + [(_("rating %(value)s") % {"value": value}, count) for value, count in stats["ratings"]]
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )


@admin.register(CheckInAnswer)
class CheckInAnswerAdmin(StationScopedAdminMixin, admin.ModelAdmin):
    station_field = "invitation__round__station"
    list_display = ["invitation", "rating", "wants_contact", "inquiry", "created_at"]
    list_filter = ["rating", "wants_contact"]
    list_select_related = ["invitation__round", "inquiry"]
    readonly_fields = [
        "invitation",
        "rating",
        "troubles",
        "wants_contact",
        "contact_method",
        "inquiry",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
