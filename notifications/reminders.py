"""
The reminder runner: calls every rule in ``settings.REMINDER_RULES`` for one day.

A rule lives in the app that owns its facts (``registration/reminders.py``,
``inquiries/reminders.py``) and is a callable::

    def visa_expiring(*, today: datetime.date, dry_run: bool) -> RuleOutcome: ...

It streams what is due from one set-based query and, unless ``dry_run``, queues the
messages a chunk at a time as a set (``registration.services.reminder_sets``, or
``notifications.services.message_queue_many``), each keyed ``reminder_key(rule, obj, due)``
(``reminder_key_of`` when the rule streams ids). Because of that key, running the rules
twice on the same day (by hand and by beat, or two beat processes) queues each reminder once.
"""

import datetime
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass
class RuleOutcome:
    """What one rule found and did: how many reminders were due and how many were queued."""

    rule: str
    due: int = 0
    queued: int = 0
    details: list[str] = field(default_factory=list)
    error: str = ""


def reminder_key(rule: str, obj, due: datetime.date) -> str:
    """Return the idempotency key of the reminder ``rule`` sends about ``obj`` for ``due``."""
    if hasattr(obj, "_meta"):
        return reminder_key_of(rule, obj._meta.label_lower, obj.pk, due)
    return _key(f"reminder:{rule}:{obj}:{due.isoformat()}")


def reminder_key_of(rule: str, label: str, pk, due: datetime.date) -> str:
    """``reminder_key`` of the record ``pk`` of the model ``label`` (``app.model``), for
    rules that stream ids rather than objects."""
    return _key(f"reminder:{rule}:{label}:{pk}:{due.isoformat()}")


def _key(key: str) -> str:
    if len(key) > 255:
        digest = hashlib.sha256(key.encode()).hexdigest()
        key = f"reminder:{digest}"
    return key


def _rule_name(rule: str | Callable) -> str:
    if isinstance(rule, str):
        return rule
    return f"{rule.__module__}.{getattr(rule, '__qualname__', repr(rule))}"


def reminders_run(
    *,
    today: datetime.date,
    dry_run: bool,
    rules: Iterable[str | Callable] | None = None,
) -> list[RuleOutcome]:
    """
    Run every reminder rule for ``today``; with ``dry_run`` nothing is queued.

    ``rules`` defaults to ``settings.REMINDER_RULES`` and ``STAFF_ALERT_RULES`` (dotted
    paths; callables work too).
    A rule that raises is reported in its outcome's ``error`` and the others still run.
    """
    if rules is None:
        rules = [*settings.REMINDER_RULES, *settings.STAFF_ALERT_RULES]
    outcomes = []
    for rule in rules:
        name = _rule_name(rule)
        try:
            function = import_string(rule) if isinstance(rule, str) else rule
            outcome = function(today=today, dry_run=dry_run)
        except Exception as error:
            logger.exception("Reminder rule %s failed.", name)
            outcome = RuleOutcome(rule=name, error=f"{type(error).__name__}: {error}")
        outcomes.append(outcome)
        logger.info(
            "Reminder rule %s for %s: %s due, %s queued%s.",
            outcome.rule,
            today,
            outcome.due,
            outcome.queued,
            " (dry run)" if dry_run else "",
        )
    return outcomes
