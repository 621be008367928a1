"""The outbox: every message Linli sends, recorded before it is delivered."""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.constants import MESSAGE_CHANNEL_CHOICES, MESSAGE_CHANNELS, MessageStatus


class MessageQuerySet(models.QuerySet):
    def due(self, now):
        """Return messages waiting to be sent whose time has come."""
        return self.filter(status=MessageStatus.CREATED, next_attempt_at__lte=now)


class Message(models.Model):
    """
    One message to one recipient through one channel, kept in the outbox.

    The owning app records it in its own transaction (``message_queue``); a Celery task
    delivers it after commit. The unique ``idempotency_key`` makes recording the same
    message twice (a reminder rule run twice, two beat processes) create one row, and the
    status, changed under a row lock, makes a task run twice send once. An attempt holds
    the message for a lease (``sending_started_at``): if its worker dies, a later attempt
    takes over and sends it again with the same identity (``notifications.identity``).
    Messages about one record to one recipient form a ``thread``, delivered in the order
    they were recorded (``notifications.ordering``).

    References: the station, the kind of record and the earlier or later messages a message
    points to are kept by the ORM, not by database constraints — as the record it is about
    (``concerning``, a generic relation) always was. Rows are only ever deleted through the
    ORM (retention, erasure, the admin), whose collector clears these references first
    (``on_delete=SET_NULL``); and a reminder run records thousands of messages, for which
    PostgreSQL would check five constraints row by row at each commit — a fifth of the run
    (bench/README.md, issue 19). ``tests/notifications/test_references.py`` deletes each
    kind of target and finds the references cleared.
    """

    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=255,
        # Unique through Meta.constraints, not unique=True: on PostgreSQL that would add a
        # second (LIKE) index that no query uses and every message recorded pays for.
        help_text=_("Unique key of this message: recording it again returns the same message."),
    )
    template = models.CharField(
        _("template"),
        max_length=200,
        help_text=_("Template key, e.g. “registration/confirmation”, under messages/."),
    )
    language = models.CharField(
        _("language"), max_length=15, help_text=_("Language the message is written in.")
    )
    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=MESSAGE_CHANNEL_CHOICES,
        help_text=_("How the message reaches the recipient."),
    )
    to = models.CharField(
        _("recipient"),
        max_length=254,
        help_text=_(
            "Email address or phone number (international format) of the recipient; for "
            "WeChat, the resident's record (resident:<id>), never their WeChat account."
        ),
    )
    recipient_name = models.CharField(
        _("recipient name"),
        max_length=200,
        blank=True,
        help_text=_("Name of the recipient, for staff and for the greeting."),
    )
    context = models.JSONField(
        _("context"),
        default=dict,
        blank=True,
        help_text=_(
            "Values the template is rendered with. Private values (secret_…) are erased "
            "once the message is sent, failed or cancelled."
        ),
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        # message_station_created (station, -created_at) serves lookups by station: a second
        # index would cost every message recorded (a reminder run records thousands).
        db_index=False,
        db_constraint=False,  # kept by the ORM: see "References" in the class docstring
        verbose_name=_("station"),
        help_text=_("Station the message is sent for; its staff see it in the outbox."),
    )
    concerning_type = models.ForeignKey(
        ContentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # message_concerning (type, id) serves it
        db_constraint=False,  # kept by the ORM, as concerning_id always was
        verbose_name=_("concerning (type)"),
        help_text=_("Kind of record the message is about."),
    )
    concerning_id = models.CharField(
        _("concerning (ID)"),
        max_length=64,
        blank=True,
        help_text=_("ID of the record the message is about."),
    )
    concerning = GenericForeignKey("concerning_type", "concerning_id")
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=MessageStatus.choices,
        default=MessageStatus.CREATED,
        help_text=_("Where the message is in its delivery."),
    )
    attempts = models.PositiveIntegerField(
        _("attempts"), default=0, help_text=_("How many times delivery was tried.")
    )
    last_error = models.TextField(
        _("last error"), blank=True, help_text=_("Error of the last failed attempt, if any.")
    )
    send_after = models.DateTimeField(
        _("send after"),
        null=True,
        blank=True,
        help_text=_("Do not send before this time (scheduling, quiet hours)."),
    )
    next_attempt_at = models.DateTimeField(
        _("next attempt"),
        help_text=_("When delivery is tried next, while the message waits to be sent."),
    )
    published_at = models.DateTimeField(
        _("handed to the queue"),
        null=True,
        blank=True,
        help_text=_("When a delivery task was last handed to the task queue."),
    )
    first_attempt_at = models.DateTimeField(
        _("first attempt"),
        null=True,
        blank=True,
        help_text=_("When delivery was first tried; retries stop some hours after it."),
    )
    reference = models.CharField(
        _("channel reference"),
        max_length=100,
        blank=True,
        help_text=_("Reference the email server or SMS gateway gave the message, if any."),
    )
    secrets_erased = models.BooleanField(
        _("private values erased"),
        default=False,
        help_text=_("Whether private values such as private links were erased."),
    )
    thread = models.CharField(
        _("thread"),
        max_length=255,
        blank=True,
        default="",
        help_text=_(
            "Messages about the same record to the same recipient through the same channel: "
            "they are delivered in the order they were made."
        ),
    )
    held_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # message_held_by: only the few messages that wait
        db_constraint=False,
        verbose_name=_("waiting for"),
        help_text=_("Earlier message of the same thread this one waits for, while it does."),
    )
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # message_superseded_by: only the few superseded messages
        db_constraint=False,
        verbose_name=_("no longer needed because of"),
        help_text=_("Later message of the same thread that made this one pointless to send."),
    )
    fallback = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # message_fallback: only the few messages that fell back
        db_constraint=False,
        verbose_name=_("sent instead as"),
        help_text=_(
            "The message that carried this one through the resident's other channel, after "
            "this channel refused it (the last error says why)."
        ),
    )
    attempt_id = models.UUIDField(
        _("current attempt"),
        null=True,
        blank=True,
        help_text=_("Identifies the delivery attempt that holds the message while it is sending."),
    )
    sending_started_at = models.DateTimeField(
        _("sending since"),
        null=True,
        blank=True,
        help_text=_(
            "When the current attempt started; if it is still sending after the lease, its "
            "worker stopped and the message is sent again."
        ),
    )
    uncertain_attempts = models.PositiveIntegerField(
        _("interrupted attempts"),
        default=0,
        help_text=_(
            "Attempts that stopped without a result (worker stopped, result not saved): each "
            "may have reached the recipient. Every attempt carries the same Message-ID."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(
        _("sent"), null=True, blank=True, help_text=_("When the channel accepted the message.")
    )
    read_at = models.DateTimeField(
        _("read"),
        null=True,
        blank=True,
        help_text=_("When the staff member marked a staff-workspace notification as read."),
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="message_status_due"),
            models.Index(fields=["station", "-created_at"], name="message_station_created"),
            models.Index(fields=["concerning_type", "concerning_id"], name="message_concerning"),
            models.Index(fields=["template", "-created_at"], name="message_template_created"),
            models.Index(
                fields=["thread", "id"], condition=~models.Q(thread=""), name="message_thread"
            ),
            models.Index(
                fields=["held_by"],
                condition=models.Q(held_by__isnull=False),
                name="message_held_by",
            ),
            models.Index(
                fields=["superseded_by"],
                condition=models.Q(superseded_by__isnull=False),
                name="message_superseded_by",
            ),
            models.Index(
                fields=["fallback"],
                condition=models.Q(fallback__isnull=False),
                name="message_fallback",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="message_idempotency_key"),
            models.CheckConstraint(
                condition=models.Q(status__in=MessageStatus.values),
                name="message_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=MESSAGE_CHANNELS),
                name="message_channel_valid",
            ),
        ]

    def __str__(self):
        return f"{self.template} → {self.to} ({self.get_status_display()})"

    @property
    def may_have_been_sent(self) -> bool:
        """Whether the recipient may already have this message though it is not recorded sent."""
        return self.status == MessageStatus.POSSIBLY_SENT or (
            self.status != MessageStatus.SENT and self.uncertain_attempts > 0
        )
