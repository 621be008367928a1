"""Check-in rounds: the station asks its residents, unprompted, whether anything troubles them."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.languages import language_choices
from inquiries.constants import ContactMethod, RoundStatus
from inquiries.models.cases import SHORT_TEXT_MAX_LENGTH, Inquiry
from inquiries.validators import validate_no_markup


class CheckInRound(models.Model):
    """A check-in round: the station asks every active resident whether anything troubles them."""

    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        related_name="check_in_rounds",
        verbose_name=_("station"),
        help_text=_("Residents with an active registration here are invited."),
    )
    title = models.CharField(
        _("title"), max_length=100, help_text=_("For staff, e.g. “Spring 2026 check-in”.")
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=RoundStatus.choices,
        default=RoundStatus.DRAFT,
        help_text=_("Draft until staff send it."),
    )
    valid_days = models.PositiveSmallIntegerField(
        _("answers accepted for (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("How long each personal link can be used after it is sent."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        help_text=_("The manager who prepared the round."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(
        _("sent"), null=True, blank=True, help_text=_("When the invitations were last sent.")
    )

    class Meta:
        verbose_name = _("check-in round")
        verbose_name_plural = _("check-in rounds")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["station", "-created_at"], name="round_station_created")]

    def __str__(self):
        return self.title

    def intro(self, language: str | None = None) -> str:
        """Return the introduction in ``language`` (else the default language, else any)."""
        intros = {i.language: i.text for i in self.intros.all()}
        for candidate in (language, settings.LANGUAGE_CODE):
            if candidate in intros:
                return intros[candidate]
        return next(iter(intros.values()), "")


class CheckInRoundIntro(models.Model):
    """The short introduction of a check-in round in one language."""

    round = models.ForeignKey(
        CheckInRound,
        on_delete=models.CASCADE,
        related_name="intros",
        verbose_name=_("check-in round"),
    )
    language = models.CharField(
        _("language"),
        max_length=15,
        choices=language_choices,
        help_text=_("Language of this introduction."),
    )
    text = models.TextField(
        _("introduction"),
        max_length=SHORT_TEXT_MAX_LENGTH,
        help_text=_("A few friendly sentences shown above the questions and in the message."),
    )

    class Meta:
        verbose_name = _("introduction")
        verbose_name_plural = _("introductions")
        ordering = ["round", "language"]
        constraints = [
            models.UniqueConstraint(fields=["round", "language"], name="round_intro_per_language")
        ]

    def __str__(self):
        return f"{self.round} [{self.language}]"


class CheckInInvitation(models.Model):
    """One resident's personal invitation to a check-in round, with its own link."""

    round = models.ForeignKey(
        CheckInRound,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("check-in round"),
    )
    resident = models.ForeignKey(
        "registration.Resident",
        on_delete=models.CASCADE,
        related_name="check_in_invitations",
        verbose_name=_("resident"),
    )
    token_hash = models.CharField(
        _("link hash"),
        max_length=64,
        unique=True,
        editable=False,
        help_text=_("SHA-256 of the personal link's token."),
    )
    language = models.CharField(
        _("language"),
        max_length=15,
        choices=language_choices,
        help_text=_("The resident's language when invited."),
    )
    channel = models.CharField(
        _("channel"),
        max_length=8,
        blank=True,
        help_text=_("How the invitation was sent (empty: no usable contact)."),
    )
    expires_at = models.DateTimeField(
        _("link valid until"), help_text=_("Answers are accepted until this time.")
    )
    created_at = models.DateTimeField(_("invited"), default=timezone.now)

    class Meta:
        verbose_name = _("check-in invitation")
        verbose_name_plural = _("check-in invitations")
        ordering = ["round", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "resident"], name="one_invitation_per_resident_and_round"
            )
        ]

    def __str__(self):
        return f"{self.round} → {self.resident_id}"


class CheckInAnswer(models.Model):
    """A resident's answer to a check-in round: a rating, any trouble, and a contact wish."""

    invitation = models.OneToOneField(
        CheckInInvitation,
        on_delete=models.CASCADE,
        related_name="answer",
        verbose_name=_("check-in invitation"),
    )
    rating = models.PositiveSmallIntegerField(
        _("how is your life here"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (very hard) to 5 (very good)."),
    )
    troubles = models.TextField(
        _("anything troubling you"),
        max_length=SHORT_TEXT_MAX_LENGTH,
        blank=True,
        validators=[validate_no_markup],
        help_text=_("Free text; anything written here is read by staff."),
    )
    wants_contact = models.BooleanField(
        _("please contact me"), default=False, help_text=_("The resident asked to be contacted.")
    )
    contact_method = models.CharField(
        _("preferred contact"),
        max_length=8,
        choices=ContactMethod.choices,
        blank=True,
        help_text=_("How to contact the resident, if they asked."),
    )
    inquiry = models.OneToOneField(
        Inquiry,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="check_in_answer",
        verbose_name=_("case raised"),
        help_text=_("The case this answer raised, if any."),
    )
    created_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        verbose_name = _("check-in answer")
        verbose_name_plural = _("check-in answers")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__range=(1, 5)), name="check_in_rating_range"
            )
        ]

    def __str__(self):
        return f"{self.invitation} ({self.rating})"
