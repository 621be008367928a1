"""The registration list's filters: the saved queues and the deletion requests."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registration.constants import QUEUES_BY_DEADLINE, RegistrationQueue
from registration.selectors import registration_queue, registrations_deletion_requested


class QueueFilter(admin.SimpleListFilter):
    """The saved queues of the day's work; the waiting ones list the oldest deadline first."""

    title = _("queue")
    parameter_name = "queue"
    ORDERED_BY_DEADLINE = QUEUES_BY_DEADLINE

    def lookups(self, request, model_admin):
        return RegistrationQueue.choices

    def queryset(self, request, queryset):
        if self.value() in RegistrationQueue.values:
            return queryset.filter(
                registration_queue(queue=self.value(), user=request.user, now=timezone.now())
            )
        return queryset


class DeletionRequestedFilter(admin.SimpleListFilter):
    title = _("deletion requested")
    parameter_name = "deletion"

    def lookups(self, request, model_admin):
        return [("yes", _("the resident asked for deletion"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(registrations_deletion_requested())
        return queryset
