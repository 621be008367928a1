"""Reply templates: replies staff pick and edit before sending, per language."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.languages import language_choices
from inquiries.models.cases import TEXT_MAX_LENGTH


class ReplyTemplate(models.Model):
    """A reply staff can pick and edit before sending, kept per language."""

    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reply_templates",
        verbose_name=_("station"),
        help_text=_("Leave empty to offer the template at every station."),
    )
    language = models.CharField(
        _("language"),
        max_length=15,
        choices=language_choices,
        help_text=_("Offered for cases in this language."),
    )
    title = models.CharField(
        _("title"), max_length=100, help_text=_("Short name staff pick the template by.")
    )
    body = models.TextField(
        _("text"), max_length=TEXT_MAX_LENGTH, help_text=_("The reply; staff may edit it.")
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive templates are not offered.")
    )

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["language", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "language", "title"], name="reply_template_unique_title"
            )
        ]

    def __str__(self):
        return f"[{self.language}] {self.title}"
