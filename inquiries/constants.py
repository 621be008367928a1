"""Choices, transitions and error codes of the inquiries app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Category(models.TextChoices):
    """What a help request is about (GLOSSARY, "Categories")."""

    HOUSING = "housing", _("housing & rent")
    HEALTHCARE = "healthcare", _("healthcare")
    STUDY = "study", _("study & children's schooling")
    WORK = "work", _("work & business")
    LEGAL = "legal", _("legal, police & visa")
    LANGUAGE = "language", _("language & translation")
    DAILY_LIFE = "daily_life", _("daily life & utilities")
    SAFETY = "safety", _("safety")
    OTHER = "other", pgettext_lazy("help category", "other")


class Urgency(models.TextChoices):
    """How soon the resident needs an answer; decides the first-response target."""

    URGENT = "urgent", _("urgent (today)")
    NORMAL = "normal", _("within a few days")
    LOW = "low", _("no hurry")


class ContactMethod(models.TextChoices):
    """How the resident prefers to be contacted."""

    PHONE = "phone", pgettext_lazy("contact method", "phone")
    EMAIL = "email", pgettext_lazy("contact method", "email")
    WECHAT = "wechat", pgettext_lazy("contact method", "WeChat")


class ContactTime(models.TextChoices):
    """When the resident prefers to be contacted."""

    ANY = "any", _("any time")
    MORNING = "morning", _("mornings (9:00–12:00)")
    AFTERNOON = "afternoon", _("afternoons (12:00–18:00)")
    EVENING = "evening", _("evenings (18:00–21:00)")


class Status(models.TextChoices):
    """Life of a case (GLOSSARY, "Status of a case")."""

    NEW = "new", pgettext_lazy("case status", "new")
    ASSIGNED = "assigned", pgettext_lazy("case status", "assigned")
    IN_PROGRESS = "in_progress", pgettext_lazy("case status", "in progress")
    WAITING = "waiting", pgettext_lazy("case status", "waiting for resident")
    RESOLVED = "resolved", pgettext_lazy("case status", "resolved")
    CLOSED = "closed", pgettext_lazy("case status", "closed")
    REOPENED = "reopened", pgettext_lazy("case status", "reopened")


# The only moves a case may make; `inquiries.services.inquiry_transition` enforces them.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.ASSIGNED, Status.CLOSED}),
    Status.ASSIGNED: frozenset({Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.WAITING, Status.RESOLVED}),
    Status.WAITING: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset(
        {Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED}
    ),
}
# Cases still needing work; the rest are finished.
OPEN_STATUSES = (
    Status.NEW,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.WAITING,
    Status.REOPENED,
)
FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED)


class Source(models.TextChoices):
    """Where a case came from."""

    HELP_FORM = "help_form", _("help request")
    CHECK_IN = "check_in", _("check-in answer")


class EntryKind(models.TextChoices):
    """Kinds of entries in a case's thread. Only replies ever reach the resident."""

    REPLY = "reply", _("reply")
    NOTE = "note", _("internal note")
    EVENT = "event", _("status change")


class Author(models.TextChoices):
    """Who wrote an entry of the thread."""

    STAFF = "staff", _("station officer")
    RESIDENT = "resident", _("resident")
    SYSTEM = "system", pgettext_lazy("author of a case entry", "Linli (automatic)")


class RoundStatus(models.TextChoices):
    """Life of a check-in round: prepared, then sent once (sending again adds only newcomers)."""

    DRAFT = "draft", pgettext_lazy("check-in round status", "draft")
    SENDING = "sending", pgettext_lazy("check-in round status", "sending")
    SENT = "sent", pgettext_lazy("check-in round status", "sent")


class ErrorCode(models.TextChoices):
    """Stable codes of the errors raised by the inquiries services and forms."""

    INVALID_TRANSITION = "invalid_transition", _("This case cannot move to that status.")
    CASE_CLOSED = (
        "case_closed",
        _("This case is closed. Please ask for help again with a new request."),
    )
    NOT_A_MEMBER = "not_a_member", _("This person does not work at the case's station.")
    TOKEN_EXPIRED = "token_expired", _("This link has expired.")
    TOKEN_USED = "token_used", _("This link has already been used.")
    RATE_LIMITED = (
        "rate_limited",
        _("Too many requests from your connection. Please wait an hour or call the station."),
    )
    SPAM = "spam", _("Your request could not be sent. Please try again.")
    CONTACT_MISSING = (
        "contact_missing",
        _("Please give the contact detail for the way you would like us to contact you."),
    )
    UNSAFE_TEXT = "unsafe_text", _("Please remove the HTML tags (such as <script>) from the text.")
    ROUND_NOT_DRAFT = "round_not_draft", _("This check-in round has already been sent.")


# Free-text check-in answers that mean "nothing troubles me" do not raise a case.
NOTHING_TROUBLES_ME = frozenset(
    {
        "",
        "no",
        "none",
        "nothing",
        "n/a",
        "na",
        "-",
        "no thanks",
        "all good",
        "没有",
        "无",
        "没",
        "暂无",
        "没有问题",
    }
)
