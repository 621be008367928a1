"""Choices and codes of the stations app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MembershipRole(models.TextChoices):
    OFFICER = "officer", _("station officer")
    MANAGER = "manager", _("station manager")


# Names of the auth groups created by the data migration. They are data, not copy: the
# admin shows them translated through GROUP_LABELS.
GROUP_OFFICER = "Station officer"
GROUP_MANAGER = "Station manager"
GROUP_CITY_ADMIN = "City administrator"
GROUP_LABELS = {
    GROUP_OFFICER: _("station officer"),
    GROUP_MANAGER: _("station manager"),
    GROUP_CITY_ADMIN: _("city administrator"),
}

# Codes are printed on billboards for years: lowercase letters, digits and hyphens.
STATION_CODE_REGEX = r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$"
STATION_LABEL = pgettext_lazy("expat service station", "Station")


class BillboardSize(models.TextChoices):
    """Paper sizes of the printable billboard (portrait)."""

    A4 = "A4", "A4"
    A3 = "A3", "A3"
    A2 = "A2", "A2"


class BillboardPurpose(models.TextChoices):
    """What the QR codes on a billboard open."""

    BOTH = "both", _("Registration form (large) and help form (small)")
    STATION = "station", _("Station page only")
    REGISTER = "register", _("Registration form only")
    HELP = "help", _("Help form only")


class QrTarget(models.TextChoices):
    """The stable station URLs a QR code can open (``/s/<code>/``, ``register/``, ``help/``)."""

    STATION = "station", _("station page")
    REGISTER = "register", _("registration form")
    HELP = "help", _("help form")


# URL names of the stable station URLs. The journeys belong to other apps: the stations
# app links to them by name only, never by import.
QR_TARGET_URL_NAMES = {
    QrTarget.STATION: "stations:station",
    QrTarget.REGISTER: "registration:register",
    QrTarget.HELP: "inquiries:help",
}

# PNG QR codes: pixel sizes a visitor may ask for with ?size=…; anything else is a 400.
QR_PNG_DEFAULT_SIZE = 512
QR_PNG_MIN_SIZE = 64
QR_PNG_MAX_SIZE = 2048
# A requested size is drawn at the next of these: every size from 64 to 2048 kept for a
# week would let anyone fill the cache (a few drawings per station instead).
QR_PNG_SIZES = (64, 128, 256, 512, 1024, 2048)
# How long browsers and proxies may keep a QR image or billboard (seconds).
QR_MAX_AGE = 24 * 60 * 60

# Languages a billboard prints unless its station chooses others, and the most it may hold:
# with five, the smallest text of an A4 sheet falls under 6 pt (stations.models'
# validate_billboard_languages; measured in tests/stations/test_billboards.py).
BILLBOARD_DEFAULT_LANGUAGES = ("zh-hans", "en")
BILLBOARD_MAX_LANGUAGES = 4

# The WeChat poster: phone-screen proportions.
POSTER_SIZE = (1080, 1920)

# Emergency and public-service numbers shown on every station page: (number, label).
EMERGENCY_NUMBERS = [
    ("110", _("Police")),
    ("119", _("Fire")),
    ("120", _("Ambulance")),
    ("12345", _("City service hotline")),
    ("12367", _("Immigration service hotline")),
]

# How many active stations an inactive station's page suggests instead.
NEAREST_STATIONS_SHOWN = 3
