"""
Writes of the notifications app: record messages, deliver them, retry, cancel, sweep.

Other apps call ``message_queue`` inside their own transaction; everything else is driven by
the Celery tasks in ``notifications.tasks`` and by the admin.

Delivery is at least once, never zero times, and in order within a thread:

- an attempt claims a message (``sending``) for a lease (``NOTIFICATIONS_SENDING_LEASE``);
  if its worker dies, a redelivered task or the sweep takes the message over once the lease
  expired and sends it again, with the same identity (``notifications.identity``: the
  email's Message-ID, the SMS gateway's key) so that a duplicate can be dropped downstream;
  after ``NOTIFICATIONS_MAX_INTERRUPTED`` such attempts the message stops as "may have
  been sent" for staff to decide;
- the result of a successful send is saved with a bounded retry on a fresh database
  connection; a send is never recorded as a failure;
- a message waits for the earlier undelivered messages of its thread, and a message that
  a later one made pointless is dropped (``notifications.ordering``).

One module per job; callers import from here:

- ``queueing``: record messages in the outbox (``message_queue``, ``message_queue_many``);
- ``queueing_sets``: record a set of messages with one ``INSERT … SELECT`` (PostgreSQL;
  ``messages_queue_select``, for the reminder runs over a city's archive);
- ``publishing``: hand their delivery tasks to the broker, never raising when it is away;
- ``delivery``: one delivery attempt (``message_send``) through the ``channels``;
- ``attempts``: what delivery, the sweep and staff share: leases, the end of an attempt,
  waking a thread's followers, saving on a fresh connection;
- ``sweep``: take over attempts whose worker died, publish lost messages again;
- ``staff``: the admin's actions (``message_retry``, ``message_cancel``).
"""

from notifications.services.channels import CHANNEL_SENDERS
from notifications.services.delivery import DeliveryOutcome, message_send
from notifications.services.publishing import (
    message_publish,
    message_publish_many,
    message_publish_many_on_commit,
    message_publish_on_commit,
    messages_publish_each,
)
from notifications.services.queueing import (
    QUEUE_CHUNK,
    MessageSpec,
    message_queue,
    message_queue_many,
    staff_message_spec,
)
from notifications.services.staff import (
    message_cancel,
    message_retry,
    staff_notification_mark_read,
)
from notifications.services.sweep import SweepOutcome, messages_sweep

__all__ = [
    "CHANNEL_SENDERS",
    "QUEUE_CHUNK",
    "DeliveryOutcome",
    "MessageSpec",
    "SweepOutcome",
    "message_cancel",
    "message_publish",
    "message_publish_many",
    "message_publish_many_on_commit",
    "message_publish_on_commit",
    "message_queue",
    "message_queue_many",
    "staff_message_spec",
    "staff_notification_mark_read",
    "message_retry",
    "message_send",
    "messages_publish_each",
    "messages_sweep",
]
