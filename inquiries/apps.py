"""Help requests, cases, check-in rounds and feedback."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

_OFFICER = [
    "inquiries.view_inquiry",
    "inquiries.change_inquiry",
    "inquiries.view_inquiryentry",
    "inquiries.add_inquiryentry",
    "inquiries.view_replytemplate",
    "inquiries.view_inquiryfeedback",
    "inquiries.view_checkinround",
    "inquiries.view_checkinroundintro",
    "inquiries.view_checkininvitation",
    "inquiries.view_checkinanswer",
]
_MANAGER = [
    *_OFFICER,
    "inquiries.add_replytemplate",
    "inquiries.change_replytemplate",
    "inquiries.delete_replytemplate",
    "inquiries.add_checkinround",
    "inquiries.change_checkinround",
    "inquiries.add_checkinroundintro",
    "inquiries.change_checkinroundintro",
    "inquiries.delete_checkinroundintro",
]
GROUP_PERMISSIONS = {
    "Station officer": _OFFICER,
    "Station manager": _MANAGER,
    "City administrator": [*_MANAGER, "inquiries.delete_checkinround"],
}


def grant_group_permissions(sender, **kwargs):
    from stations.services import group_permissions_grant

    for group_name, permissions in GROUP_PERMISSIONS.items():
        group_permissions_grant(group_name=group_name, permissions=permissions)


class InquiriesConfig(AppConfig):
    name = "inquiries"
    verbose_name = _("Help and outreach")

    def ready(self):
        post_migrate.connect(grant_group_permissions, sender=self)
