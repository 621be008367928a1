"""The reminder runner and `manage.py send_due_reminders`, with fake rules."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from notifications.models import Message
from notifications.reminders import RuleOutcome, reminder_key, reminders_run
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.django_db

RULE = "tests.notifications.rules.station_anniversary"
BROKEN = "tests.notifications.rules.broken"
DAY = datetime.date(2026, 11, 25)


@pytest.fixture
def stations():
    return [StationFactory(code="shipai"), StationFactory(code="linhe")]


def test_reminder_key_names_rule_object_and_day(stations):
    assert reminder_key("visa_expiry_30", stations[0], DAY) == (
        f"reminder:visa_expiry_30:stations.station:{stations[0].pk}:2026-11-25"
    )


def test_reminder_key_stays_within_the_column(stations):
    key = reminder_key("r" * 300, stations[0], DAY)
    assert len(key) <= 255
    assert key == reminder_key("r" * 300, stations[0], DAY)
    assert key != reminder_key("r" * 300, stations[0], DAY + datetime.timedelta(days=1))


def test_rules_run_twice_on_the_same_day_queue_each_reminder_once(
    stations, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = reminders_run(today=DAY, dry_run=False, rules=[RULE])
        second = reminders_run(today=DAY, dry_run=False, rules=[RULE])
    assert (first[0].due, first[0].queued) == (2, 2)
    assert (second[0].due, second[0].queued) == (2, 0)
    assert Message.objects.count() == 2
    assert len(mail.outbox) == 2


def test_next_day_queues_new_reminders(stations):
    reminders_run(today=DAY, dry_run=False, rules=[RULE])
    reminders_run(today=DAY + datetime.timedelta(days=1), dry_run=False, rules=[RULE])
    assert Message.objects.count() == 4


def test_dry_run_queues_nothing(stations):
    outcomes = reminders_run(today=DAY, dry_run=True, rules=[RULE])
    assert outcomes == [
        RuleOutcome(
            rule="tests.station_anniversary",
            due=2,
            queued=0,
            details=["linhe <linhe@example.org>", "shipai <shipai@example.org>"],
        )
    ]
    assert not Message.objects.exists()


def test_a_broken_rule_is_reported_and_the_others_still_run(stations):
    outcomes = reminders_run(today=DAY, dry_run=False, rules=[BROKEN, RULE])
    assert "this rule is broken" in outcomes[0].error
    assert outcomes[1].queued == 2
    assert Message.objects.count() == 2


def test_runner_uses_the_reminder_rules_setting(stations, settings):
    settings.REMINDER_RULES, settings.STAFF_ALERT_RULES = [RULE], []
    assert [o.rule for o in reminders_run(today=DAY, dry_run=True)] == ["tests.station_anniversary"]


def test_every_configured_rule_can_be_imported(settings):
    from django.utils.module_loading import import_string

    for path in settings.REMINDER_RULES + settings.STAFF_ALERT_RULES:
        assert callable(import_string(path))


def test_command_dry_run_prints_each_rule_and_sends_nothing(stations, settings):
    settings.REMINDER_RULES = [RULE]
    out = StringIO()
    call_command("send_due_reminders", "--dry-run", "--today", "2026-11-25", stdout=out)
    text = out.getvalue()
    assert "tests.station_anniversary: 2 due, would queue 2" in text
    assert "shipai <shipai@example.org>" in text
    assert "(dry run)" in text
    assert not Message.objects.exists()


def test_command_queues_reminders_for_the_given_day(stations, settings):
    settings.REMINDER_RULES = [RULE]
    out = StringIO()
    call_command("send_due_reminders", "--today", "2026-11-25", stdout=out)
    assert "tests.station_anniversary: 2 due, queued 2" in out.getvalue()
    assert set(Message.objects.values_list("idempotency_key", flat=True)) == {
        reminder_key("tests.station_anniversary", station, DAY) for station in stations
    }


def test_command_fails_when_a_rule_fails(stations, settings):
    settings.REMINDER_RULES = [BROKEN, RULE]
    with pytest.raises(CommandError, match="1 rule"):
        call_command("send_due_reminders", stdout=StringIO(), stderr=StringIO())
    assert Message.objects.count() == 2


def test_command_refuses_a_bad_date():
    with pytest.raises(CommandError, match="--today"):
        call_command("send_due_reminders", "--today", "25/11/2026", stdout=StringIO())


def test_daily_task_runs_the_rules_for_the_local_date(stations, settings):
    import time_machine

    from notifications.tasks import reminders_send_due

    settings.REMINDER_RULES = [RULE]
    # 17:00 UTC on the 24th is already the 25th in Shanghai.
    with time_machine.travel(datetime.datetime(2026, 11, 24, 17, 0, tzinfo=datetime.UTC)):
        result = reminders_send_due.apply().get()
    assert result[0]["queued"] == 2
    assert Message.objects.filter(idempotency_key__endswith="2026-11-25").count() == 2


def test_beat_schedules_the_sweep_and_the_daily_reminders(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"notifications.messages_sweep", "notifications.reminders_send_due"} <= tasks


def test_send_test_message_command_queues_and_delivers(django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "send_test_message", "--to", "ops@example.org", "--language", "zh-hans", stdout=out
        )
    assert "Queued message" in out.getvalue()
    assert mail.outbox[0].to == ["ops@example.org"]
    assert "邻里测试消息" in mail.outbox[0].subject
