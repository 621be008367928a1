"""Set the official account's menu: the entry "My registration" (``wechat.menu``)."""

import json

from django.core.management.base import BaseCommand, CommandError

from wechat import client
from wechat.conf import wechat_enabled
from wechat.menu import (
    MY_REGISTRATION_LABEL,
    PARENT_LABEL,
    menu_build,
    menu_problems,
    my_registration_url,
)


class Command(BaseCommand):
    help = (
        'Set the WeChat official account\'s menu to the entry "My registration" '
        "(/wechat/my/ on SITE_URL). It replaces the account's whole menu."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the menu's JSON; send nothing."
        )
        parser.add_argument(
            "--label", default=MY_REGISTRATION_LABEL, help="The entry's label (≤ 60 bytes)."
        )
        parser.add_argument(
            "--parent",
            default=PARENT_LABEL,
            help='The top-level button holding the entry (≤ 16 bytes); "" puts the entry '
            "in the bar itself (its label then ≤ 16 bytes).",
        )

    def handle(self, *args, dry_run=False, label=MY_REGISTRATION_LABEL, parent=PARENT_LABEL, **o):
        menu = menu_build(label=label, parent=parent)
        problems = menu_problems(menu)
        if dry_run:
            self.stdout.write(json.dumps(menu, ensure_ascii=False, indent=2))
            for problem in problems:
                self.stderr.write(f"WeChat would refuse this menu: {problem}")
            return
        if problems:
            raise CommandError("WeChat would refuse this menu: " + "; ".join(problems))
        if not wechat_enabled():
            raise CommandError("WeChat is not configured (WECHAT_APP_ID, _SECRET, _TOKEN).")
        try:
            client.menu_create(menu)
        except client.WeChatUnreachable as error:
            raise CommandError(f"WeChat cannot be reached ({error.message}); try again.") from None
        except client.WeChatError as error:
            raise CommandError(
                f"WeChat refused the menu: errcode {error.code} ({error.message})."
            ) from None
        self.stdout.write(
            f"The account's menu is set: {label!r} opens {my_registration_url()}. Followers "
            "see it the next time they open the account's conversation."
        )
