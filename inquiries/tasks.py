"""Celery tasks of the inquiries app: thin, idempotent wrappers around the services."""

from celery import shared_task
from django.utils import timezone

from inquiries.services.check_in import check_in_round_send
from notifications.reminders import reminders_run


@shared_task(name="inquiries.check_in_round_send", acks_late=True)
def check_in_round_send_task(round_id: int) -> int:
    """Invite the round's residents; running it twice invites nobody twice."""
    return check_in_round_send(round_id=round_id)


@shared_task(name="inquiries.inquiries_overdue_remind")
def inquiries_overdue_remind() -> dict:
    """Remind managers of cases past their first-response target (beat, hourly)."""
    outcome = reminders_run(
        today=timezone.localdate(),
        dry_run=False,
        rules=["inquiries.reminders.inquiries_overdue"],
    )[0]
    return {"due": outcome.due, "queued": outcome.queued, "error": outcome.error}
