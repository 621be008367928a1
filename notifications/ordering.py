"""
Order within a thread, and which messages a later one makes pointless.

A *thread* is every message about one record (a registration, a case) to one recipient
through one channel (``thread_key``, stored on the message when it is recorded). Within a
thread, messages are delivered in the order they were recorded (their id): a message waits
while an earlier one of its thread is undelivered (waiting to be sent, or sending), and is
woken when that one is finished (sent, failed, cancelled, dropped, or may have been sent).
A failed earlier message does not hold the later ones for ever: once it is failed they go.

There is no order across threads: an SMS waiting for the morning (quiet hours) does not
hold the email, and a message to an officer does not hold the resident's.

``SUPERSEDED_BY`` below is the one table of messages that no longer matter. A message whose
template is on the left, still undelivered when a later message of its thread has one of
the templates on the right, is not sent late: it is dropped (status "no longer needed",
``superseded_by`` names the later message, which staff see), and messages after it no
longer wait for it. The table holds template names only: this app delivers messages and
knows nothing else of registrations or cases.

Never dropped, whatever comes later: messages that carry a receipt or a private link
(``registration/confirmation``, ``inquiries/received``, ``inquiries/resolved``), decisions
(``registration/registered``, ``rejected``, ``ended``…) and replies. A "registered" made
while the receipt of the same registration is undelivered therefore waits for the
receipt — the resident reads them in the order they happened — instead of dropping it.
"""

import datetime
import hashlib
from dataclasses import dataclass, field

from notifications.constants import UNDELIVERED_STATUSES, MessageStatus

# What ends or decides a registration: its reminders are pointless afterwards.
_REGISTRATION_DECIDED = frozenset(
    {
        "registration/registered",
        "registration/rejected",
        "registration/ended",
        "registration/ended_visa_expired",
    }
)
_REGISTRATION_ENDED = frozenset(
    {"registration/rejected", "registration/ended", "registration/ended_visa_expired"}
)

# template → later templates of the same thread that make it pointless.
SUPERSEDED_BY: dict[str, frozenset[str]] = {
    # Visa reminders: pointless once the registration ended or was refused, and an earlier
    # reminder is replaced by the next one (7 days left replaces 30 days left).
    "registration/visa_expiring": _REGISTRATION_ENDED | {"registration/visa_expiring"},
    # "We still need a correction": pointless once staff decided, asked for a new correction,
    # or the registration ended; a newer reminder replaces it.
    "registration/correction_reminder": _REGISTRATION_DECIDED
    | {"registration/correction_requested", "registration/correction_reminder"},
    # The correction request itself, once the registration was decided or ended.
    "registration/correction_requested": _REGISTRATION_DECIDED,
    # "Have you left?": pointless once the registration ended; a newer question replaces it.
    "registration/departure_check": _REGISTRATION_ENDED | {"registration/departure_check"},
    # A new private link replaces the previous one, which stops working.
    "registration/link_resent": frozenset({"registration/link_resent"}),
    # Staff: a newer "case overdue" to the same manager replaces the older one.
    "inquiries/overdue": frozenset({"inquiries/overdue"}),
}


def thread_key(*, subject: str, channel: str, to: str) -> str:
    """
    Return the thread of messages about ``subject`` (``"app_label.model:pk"``) to ``to``
    through ``channel``. The recipient is hashed: the key is for matching, not reading.
    """
    recipient = hashlib.sha256(to.strip().lower().encode()).hexdigest()[:16]
    key = f"{subject}:{channel}:{recipient}"
    if len(key) > 255:
        key = "thread:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def superseded(template: str, later_template: str) -> bool:
    """Return whether a later ``later_template`` of the same thread makes ``template`` pointless."""
    return later_template in SUPERSEDED_BY.get(template, ())


@dataclass(frozen=True)
class ThreadMessage:
    """What the order of a thread needs to know of one of its messages."""

    pk: int
    template: str
    status: str
    next_attempt_at: datetime.datetime
    sending_started_at: datetime.datetime | None


@dataclass
class ThreadPosition:
    """Where a message stands in its thread when it is about to be sent."""

    # A later message that makes this one pointless.
    superseded_by: int | None = None
    # The earliest undelivered earlier message this one must wait for.
    blocker: ThreadMessage | None = None
    # Earlier messages still waiting that later ones made pointless: (message, replaced by).
    pointless: list[tuple[ThreadMessage, int]] = field(default_factory=list)


def thread_position(*, pk: int, template: str, thread: str) -> ThreadPosition:
    """Return where the message ``pk`` stands in ``thread`` (one query)."""
    from notifications.models import Message  # not at the top: migration 0002 imports this module

    others = [
        ThreadMessage(*row)
        for row in Message.objects.filter(thread=thread)
        .exclude(pk=pk)
        .order_by("pk")
        .values_list("pk", "template", "status", "next_attempt_at", "sending_started_at")
    ]
    me = ThreadMessage(pk, template, MessageStatus.CREATED, None, None)
    everyone = sorted([*others, me], key=lambda m: m.pk)
    position = ThreadPosition()
    position.superseded_by = _replaced_by(me, everyone)
    for earlier in (m for m in others if m.pk < pk and m.status in UNDELIVERED_STATUSES):
        replaced_by = _replaced_by(earlier, everyone)
        if replaced_by is not None and earlier.status == MessageStatus.CREATED:
            position.pointless.append((earlier, replaced_by))
        elif position.blocker is None:
            position.blocker = earlier
    return position


def _replaced_by(message: ThreadMessage, thread: list[ThreadMessage]) -> int | None:
    for later in thread:
        if later.pk > message.pk and superseded(message.template, later.template):
            return later.pk
    return None
