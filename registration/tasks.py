"""Celery tasks of the registration app."""

from celery import shared_task

from registration.services import attempts_delete_old


@shared_task(name="registration.attempts_delete_old")
def attempts_delete_old_task() -> int:
    """Delete form attempts never submitted, with their photos (hourly, from beat). Idempotent."""
    return attempts_delete_old()
