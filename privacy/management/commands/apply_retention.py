"""Delete or anonymise personal data past its retention period."""

from django.core.management.base import BaseCommand

from privacy.retention import retention_apply


class Command(BaseCommand):
    help = "Delete or anonymise records (and their files) past their retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be done; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        outcomes = retention_apply(dry_run=dry_run)
        verb = "would" if dry_run else "did"
        for outcome in outcomes:
            self.stdout.write(
                f"{outcome.rule}: {verb} delete {outcome.deleted}, anonymise "
                f"{outcome.anonymised}, remove {outcome.files} files"
            )
