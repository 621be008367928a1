"""A resident's WeChat, linked with their consent: the official account's openid."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.fields import EncryptedCharField
from core.languages import language_choices
from wechat.constants import ArrivalPhotoStatus, ArrivalRefusal


class WeChatBinding(models.Model):
    """
    The official account's openid of a resident, given through WeChat's web authorisation.

    The openid is stored encrypted and found through its blind index (``openid_index``); it
    is never shown, logged or exported, and the history leaves it out. One binding per
    resident and per openid: binding again moves it (``wechat.services.binding_create``).
    """

    resident = models.ForeignKey(
        "registration.Resident",
        on_delete=models.CASCADE,
        related_name="wechat_bindings",
        verbose_name=_("resident"),
    )
    openid = EncryptedCharField(_("openid"), max_length=64, editable=False)
    openid_index = models.CharField(_("openid index"), max_length=64, unique=True, editable=False)
    language = models.CharField(
        _("language"),
        max_length=15,
        choices=language_choices,
        default=settings.LANGUAGE_CODE,
        help_text=_("Language the resident used in WeChat when linking."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords(
        verbose_name=_("historical WeChat link"), excluded_fields=["openid", "openid_index"]
    )

    class Meta:
        verbose_name = _("WeChat link")
        verbose_name_plural = _("WeChat links")
        constraints = [
            models.UniqueConstraint(fields=["resident"], name="wechat_binding_one_per_resident")
        ]

    def __str__(self):
        # Never the openid.
        return str(_("WeChat link #%(id)s") % {"id": self.pk})


class ArrivalPhoto(models.Model):
    """
    A photo of an entry stamp that a bound resident sent to the official account, on its
    way to a return from abroad the resident confirms (``wechat.arrivals``).

    One row per WeChat message (``msg_id``), so a message WeChat sends again is recorded
    once. The photo itself is a form attempt's document (``attempt``), cleaned and
    encrypted like any upload; a refused file is never kept. The page of the reply is found
    by the hash of its random token.
    """

    msg_id = models.CharField(
        _("WeChat message ID"),
        max_length=64,
        unique=True,
        help_text=_("MsgId of the WeChat message: a message sent again is recorded once."),
    )
    registration = models.ForeignKey(
        "registration.Registration",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("registration"),
        help_text=_("The active registration the resident returns to."),
    )
    media_id = models.CharField(
        _("WeChat media ID"), max_length=256, help_text=_("WeChat keeps the media for 3 days.")
    )
    token_hash = models.CharField(
        _("link hash"),
        max_length=64,
        unique=True,
        help_text=_("SHA-256 of the token in the link sent back in WeChat."),
    )
    attempt = models.ForeignKey(
        "registration.SubmissionAttempt",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("form attempt"),
        help_text=_("Holds the cleaned photo until the resident confirms."),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ArrivalPhotoStatus.choices,
        default=ArrivalPhotoStatus.RECEIVED,
    )
    refusal = models.CharField(
        _("refusal"), max_length=16, choices=ArrivalRefusal.choices, blank=True, default=""
    )
    refusal_told = models.BooleanField(
        _("refusal told"),
        default=False,
        help_text=_("Whether the resident's next WeChat reply said why the photo was refused."),
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    fetched_at = models.DateTimeField(_("downloaded"), null=True, blank=True)

    class Meta:
        verbose_name = _("photo sent in WeChat")
        verbose_name_plural = _("photos sent in WeChat")
        ordering = ["-created_at"]

    def __str__(self):
        return str(_("Photo sent in WeChat #%(id)s") % {"id": self.pk})
