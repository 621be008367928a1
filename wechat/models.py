"""A resident's WeChat, linked with their consent: the official account's openid."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.fields import EncryptedCharField
from core.languages import language_choices


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
