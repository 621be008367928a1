"""
Create the demo stations and staff. Safe to run again: it changes nothing the second time.

Where staff need two-step verification (``LINLI_REQUIRE_2FA``), each new account also gets
a one-time enrolment code (``manage.py otp_enroll``, called by name: stations does not
import the workspace), printed once; never an authenticator secret.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from stations.constants import MembershipRole
from stations.services import station_create_or_update, station_membership_set

DEMO_STATIONS = [
    {
        "code": "shipai",
        "district": "Tianhe District",
        "phone": "020-0000-0000",
        "wechat_id": "shipai-expat",
        "languages_spoken": "中文, English",
        "texts": {
            "en": {
                "name": "Shipai Street Expat Service Station",
                "address": "Shipai Street, Tianhe District, Guangzhou",
                "opening_hours": "Monday–Friday 9:00–12:00, 14:00–17:30",
                "area_served": "Shipai Street and the university quarter",
                "address_help": "Building, unit and room, e.g. “Building 3, Unit 2, Room 501, "
                "12 Shipai East Road”.",
            },
            "zh-hans": {
                "name": "石牌街境外人员服务站",
                "address": "广州市天河区石牌街",
                "opening_hours": "周一至周五 9:00–12:00，14:00–17:30",
                "area_served": "石牌街及周边高校片区",
                "address_help": "请按“路名门牌号、栋、单元、房号”填写，例如“石牌东路12号3栋2单元501房”。",
            },
        },
    },
    {
        "code": "linhe",
        "district": "Tianhe District",
        "phone": "020-0000-0001",
        "languages_spoken": "中文, English",
        "texts": {
            "en": {
                "name": "Linhe Street Expat Service Station",
                "address": "Linhe Street, Tianhe District, Guangzhou",
                "opening_hours": "Monday–Friday 9:00–12:00, 14:00–17:30",
            },
            "zh-hans": {
                "name": "林和街境外人员服务站",
                "address": "广州市天河区林和街",
                "opening_hours": "周一至周五 9:00–12:00，14:00–17:30",
            },
        },
    },
]

# (username, station code, role)
DEMO_STAFF = [
    ("officer", "shipai", MembershipRole.OFFICER),
    ("manager", "shipai", MembershipRole.MANAGER),
    ("linhe-officer", "linhe", MembershipRole.OFFICER),
]


class Command(BaseCommand):
    help = "Create the demo stations (shipai, linhe), their staff and an admin superuser."

    def handle(self, *args, **options):
        User = get_user_model()
        created_passwords = []
        created_users = []
        with transaction.atomic():
            stations = {}
            for data in DEMO_STATIONS:
                data = dict(data)
                code = data.pop("code")
                texts = data.pop("texts")
                stations[code] = station_create_or_update(code=code, texts=texts, **data)
            for username, code, role in DEMO_STAFF:
                user, created = User.objects.get_or_create(
                    username=username, defaults={"is_staff": True}
                )
                if created:
                    created_users.append(username)
                    password = secrets.token_urlsafe(12)
                    user.set_password(password)
                    user.save()
                    created_passwords.append((username, password))
                station_membership_set(user=user, station=stations[code], role=role)
            if not User.objects.filter(username="admin").exists():
                created_users.append("admin")
                password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
                User.objects.create_superuser("admin", "admin@linli.localhost", password)
                if not os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
                    created_passwords.append(("admin", password))
        for username, password in created_passwords:
            self.stdout.write(f"Created user {username!r} with password {password!r} (shown once).")
        if settings.LINLI_REQUIRE_2FA:
            for username in created_users:
                call_command("otp_enroll", username, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: stations {', '.join(stations)}."))
