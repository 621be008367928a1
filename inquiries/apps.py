"""Help requests, cases, check-in rounds and feedback."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.permissions import group_permissions_on_migrate
from stations.constants import GROUP_CITY_ADMIN, GROUP_MANAGER, GROUP_OFFICER

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
    GROUP_OFFICER: _OFFICER,
    GROUP_MANAGER: _MANAGER,
    GROUP_CITY_ADMIN: [*_MANAGER, "inquiries.delete_checkinround"],
}


class InquiriesConfig(AppConfig):
    name = "inquiries"
    verbose_name = _("Help and outreach")

    def ready(self):
        group_permissions_on_migrate(self, GROUP_PERMISSIONS)
