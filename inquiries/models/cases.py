"""Help requests handled as cases: the case, its thread and the resident's feedback."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from core.languages import language_choices
from inquiries.constants import (
    OPEN_STATUSES,
    Author,
    Category,
    ContactMethod,
    ContactTime,
    EntryKind,
    Source,
    Status,
    Urgency,
)
from inquiries.validators import validate_no_markup

SUBJECT_MAX_LENGTH = 120
TEXT_MAX_LENGTH = 4000
SHORT_TEXT_MAX_LENGTH = 2000


def photo_upload_to(instance, filename: str) -> str:
    """Store photos under an unguessable name; the resident's file name is not kept."""
    return f"inquiries/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.jpg"


class InquiryQuerySet(models.QuerySet):
    def for_stations(self, station_ids):
        return self.filter(station_id__in=station_ids)

    def overdue(self, *, now=None):
        """Cases past their first-response target without any reply from staff."""
        return self.filter(
            status__in=OPEN_STATUSES,
            first_responded_at__isnull=True,
            first_response_due__lt=now or timezone.now(),
        )

    def not_overdue(self, *, now=None):
        return self.exclude(pk__in=self.overdue(now=now).values("pk"))


class Inquiry(models.Model):
    """
    A resident's help request, handled by the station's staff as a case.

    The resident follows it through a private link (``/h/<token>/``); only the hash of the
    token is stored. Its thread holds public replies and internal notes.
    """

    reference = models.CharField(
        _("reference number"),
        max_length=20,
        unique=True,
        editable=False,
        help_text=_("Quoted by the resident when they call or visit."),
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        related_name="inquiries",
        verbose_name=_("station"),
        help_text=_("The station that handles this case."),
    )
    resident = models.ForeignKey(
        "registration.Resident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inquiries",
        verbose_name=_("resident"),
        help_text=_("The registered resident, when the request came through their link."),
    )
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=Source.choices,
        default=Source.HELP_FORM,
        help_text=_("Whether the resident asked or a check-in answer raised the case."),
    )
    category = models.CharField(
        _("category"),
        max_length=16,
        choices=Category.choices,
        help_text=_("What the request is about."),
    )
    subject = models.CharField(
        _("subject"),
        max_length=SUBJECT_MAX_LENGTH,
        validators=[validate_no_markup],
        help_text=_("A short summary in a few words."),
    )
    description = models.TextField(
        _("description"),
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_no_markup],
        help_text=_("What happened and what help is needed."),
    )
    urgency = models.CharField(
        _("how urgent"),
        max_length=8,
        choices=Urgency.choices,
        default=Urgency.NORMAL,
        help_text=_("Decides the first-response target."),
    )
    contact_name = models.CharField(
        _("name"),
        max_length=100,
        validators=[validate_no_markup],
        help_text=_("How we should address the resident."),
    )
    contact_method = models.CharField(
        _("preferred contact"),
        max_length=8,
        choices=ContactMethod.choices,
        default=ContactMethod.PHONE,
        help_text=_("How the resident would like to be contacted."),
    )
    contact_time = models.CharField(
        _("preferred time"),
        max_length=12,
        choices=ContactTime.choices,
        default=ContactTime.ANY,
        help_text=_("When the resident would like to be contacted."),
    )
    phone = PhoneNumberField(
        _("phone"), blank=True, region="CN", help_text=_("Mobile phone number.")
    )
    email = models.EmailField(_("email"), blank=True, help_text=_("Email address."))
    wechat_id = models.CharField(
        _("WeChat ID"),
        max_length=64,
        blank=True,
        validators=[validate_no_markup],
        help_text=_("WeChat ID staff can add."),
    )
    language = models.CharField(
        _("preferred language"),
        max_length=15,
        choices=language_choices,
        help_text=_("Language of every message sent to the resident about this case."),
    )
    photo = models.FileField(
        _("photo"),
        upload_to=photo_upload_to,
        blank=True,
        help_text=_("Optional photo, re-encoded without metadata and kept private."),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=Status.choices,
        default=Status.NEW,
        help_text=_("Changed only through the case workflow."),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_inquiries",
        verbose_name=_("assigned to"),
        help_text=_("The staff member of the station who handles the case."),
    )
    token_hash = models.CharField(
        _("private link hash"),
        max_length=64,
        unique=True,
        editable=False,
        help_text=_("SHA-256 of the resident's private link token; the token is not stored."),
    )
    first_response_due = models.DateTimeField(
        _("first response due"),
        help_text=_("When the first reply to the resident is due, from the urgency."),
    )
    first_responded_at = models.DateTimeField(
        _("first response"),
        null=True,
        blank=True,
        help_text=_("When staff first replied to the resident."),
    )
    resolved_at = models.DateTimeField(
        _("resolved"), null=True, blank=True, help_text=_("When the case was last resolved.")
    )
    closed_at = models.DateTimeField(
        _("closed"), null=True, blank=True, help_text=_("When the case was last closed.")
    )
    created_at = models.DateTimeField(
        _("received"), default=timezone.now, help_text=_("When the request arrived.")
    )
    updated_at = models.DateTimeField(
        _("updated"), auto_now=True, help_text=_("Last change of the case.")
    )

    objects = InquiryQuerySet.as_manager()

    class Meta:
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["station", "status"], name="inquiry_station_status"),
            models.Index(
                fields=["first_response_due"],
                condition=models.Q(first_responded_at__isnull=True),
                name="inquiry_awaiting_first_reply",
            ),
            models.Index(fields=["station", "-created_at"], name="inquiry_station_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="inquiry_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=Category.values), name="inquiry_category_valid"
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.subject}"

    @property
    def is_overdue(self) -> bool:
        return (
            self.status in OPEN_STATUSES
            and self.first_responded_at is None
            and self.first_response_due < timezone.now()
        )

    def contact_for(self, method: str) -> str:
        return {
            ContactMethod.PHONE: str(self.phone or ""),
            ContactMethod.EMAIL: self.email,
            ContactMethod.WECHAT: self.wechat_id,
        }.get(method, "")


class InquiryEntry(models.Model):
    """
    One entry of a case's thread: a public reply, an internal note or a status change.

    Only replies are shown or sent to the resident; notes and events never leave the admin.
    """

    inquiry = models.ForeignKey(
        Inquiry,
        on_delete=models.CASCADE,
        related_name="entries",
        verbose_name=_("help request"),
    )
    kind = models.CharField(
        _("kind"),
        max_length=8,
        choices=EntryKind.choices,
        help_text=_("Replies reach the resident; internal notes and status changes do not."),
    )
    author_kind = models.CharField(
        _("written by"),
        max_length=8,
        choices=Author.choices,
        help_text=_("Staff, the resident, or Linli itself."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
        help_text=_("The staff member who wrote it, if any."),
    )
    body = models.TextField(
        _("text"),
        max_length=TEXT_MAX_LENGTH,
        help_text=_("The text of the entry."),
    )
    created_at = models.DateTimeField(
        _("written"), default=timezone.now, help_text=_("When the entry was written.")
    )

    class Meta:
        verbose_name = _("thread entry")
        verbose_name_plural = _("thread entries")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["inquiry", "kind", "created_at"], name="entry_thread")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=EntryKind.values), name="entry_kind_valid"
            ),
        ]

    def __str__(self):
        return (
            f"{self.inquiry.reference} {self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
        )

    def text(self) -> str:
        """Return the entry as read in the active language (events are stored as codes)."""
        if self.kind != EntryKind.EVENT:
            return self.body
        code, _sep, rest = self.body.partition(":")
        if code == "status":
            previous, _sep, target = rest.partition(":")
            labels = dict(Status.choices)
            return _("Status: %(previous)s → %(target)s") % {
                "previous": labels.get(previous, previous),
                "target": labels.get(target, target),
            }
        if code == "assigned":
            return _("Assigned to %(name)s") % {"name": rest}
        if code == "not_helped":
            rating, _sep, comment = rest.partition(":")
            text = _("Feedback: not helped (%(rating)s/5).") % {"rating": rating}
            return f"{text}\n{comment}" if comment else str(text)
        return self.body


class InquiryFeedback(models.Model):
    """The resident's answer to "did this help?", asked through a link when a case is resolved."""

    inquiry = models.ForeignKey(
        Inquiry,
        on_delete=models.CASCADE,
        related_name="feedback",
        verbose_name=_("help request"),
    )
    token_hash = models.CharField(
        _("link hash"),
        max_length=64,
        unique=True,
        editable=False,
        help_text=_("SHA-256 of the feedback link's token."),
    )
    expires_at = models.DateTimeField(
        _("link valid until"), help_text=_("The link cannot be used after this time.")
    )
    answered_at = models.DateTimeField(
        _("answered"), null=True, blank=True, help_text=_("When the resident answered.")
    )
    helped = models.BooleanField(
        _("helped"), null=True, blank=True, help_text=_("Whether the resident was helped.")
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (poor) to 5 (very good)."),
    )
    comment = models.TextField(
        _("comment"),
        max_length=SHORT_TEXT_MAX_LENGTH,
        blank=True,
        help_text=_("Anything the resident wants to add."),
    )
    created_at = models.DateTimeField(
        _("asked"), default=timezone.now, help_text=_("When the link was sent.")
    )

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__range=(1, 5)),
                name="feedback_rating_range",
            )
        ]

    def __str__(self):
        return f"{self.inquiry.reference} {self.rating or '—'}"
