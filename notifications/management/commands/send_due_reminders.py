"""``manage.py send_due_reminders [--dry-run] [--today YYYY-MM-DD]``: run every reminder rule."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications.reminders import reminders_run


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--today must be a date like 2026-11-25, not {value!r}.") from error


class Command(BaseCommand):
    help = "Queue the reminders due today (every rule in REMINDER_RULES); --dry-run sends nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be sent; send nothing."
        )
        parser.add_argument(
            "--today", type=str, default=None, help="Run as if today were this date (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--rule", action="append", default=None, help="Run only this rule (dotted path)."
        )

    def handle(self, *args, dry_run=False, today=None, rule=None, **options):
        day = _date(today) if today else timezone.localdate()
        outcomes = reminders_run(today=day, dry_run=dry_run, rules=rule)
        verb = "would queue" if dry_run else "queued"
        failed = []
        for outcome in outcomes:
            line = f"{outcome.rule}: {outcome.due} due, {verb} {outcome.queued if not dry_run else outcome.due}"
            if outcome.error:
                failed.append(outcome.rule)
                self.stderr.write(f"{line} — ERROR {outcome.error}")
            else:
                self.stdout.write(line)
            if dry_run or options["verbosity"] > 1:
                for detail in outcome.details:
                    self.stdout.write(f"  {detail}")
        self.stdout.write(
            f"{day.isoformat()}: {len(outcomes)} rules, "
            f"{sum(o.due for o in outcomes)} due, {sum(o.queued for o in outcomes)} queued"
            + (" (dry run)" if dry_run else "")
        )
        if failed:
            raise CommandError(f"{len(failed)} rule(s) failed: {', '.join(failed)}")
