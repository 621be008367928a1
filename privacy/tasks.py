"""Celery tasks of the privacy app."""

from celery import shared_task

from privacy.retention import retention_apply


@shared_task(name="privacy.retention_apply")
def retention_apply_task():
    """Apply the retention rules (nightly, from beat). Idempotent: a second run finds nothing."""
    outcomes = retention_apply()
    return {o.rule: [o.deleted, o.anonymised, o.files] for o in outcomes}
