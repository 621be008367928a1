"""Choices of the wechat app, with their translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ArrivalPhotoStatus(models.TextChoices):
    """Where a photo sent to the official account stands on its way to a re-entry."""

    RECEIVED = "received", _("received, not yet downloaded")
    READY = "ready", _("ready for the resident to confirm")
    REFUSED = "refused", _("refused")
    CONFIRMED = "confirmed", _("return confirmed")


class ArrivalRefusal(models.TextChoices):
    """Why a photo sent to the official account was not kept: the code and what we say."""

    NOT_AN_IMAGE = "not_an_image", _("it is not a photo we can read")
    TOO_LARGE = "too_large", _("it is too large")
    UNAVAILABLE = "unavailable", _("WeChat no longer had it")
    UNREACHABLE = "unreachable", _("WeChat could not be reached for a long time")
