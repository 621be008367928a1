"""Celery tasks of the inquiries app: thin, idempotent wrappers around the services."""

from celery import shared_task

from inquiries.services.check_in import check_in_round_send


@shared_task(name="inquiries.check_in_round_send", acks_late=True)
def check_in_round_send_task(round_id: int) -> int:
    """Invite the round's residents; running it twice invites nobody twice."""
    return check_in_round_send(round_id=round_id)
