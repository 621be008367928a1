"""
A real worker process killed with SIGKILL in the middle of a batch: every message is still
delivered, once, after a second worker and the sweep (needs ``REDIS_URL``, like the other
real-worker tests; skipped without it unless ``LINLI_REQUIRE_REDIS=1``).

The workers are separate processes (``celery worker``) on the test's database,
with ``tests/notifications/worker_settings.py``: each email takes a moment to "send" and is
logged to a file as one line with its Message-ID, so the count survives the kill.
"""

import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from notifications.constants import Channel, MessageStatus
from notifications.identity import email_message_id
from notifications.models import Message
from notifications.services import MessageSpec, message_queue_many, messages_sweep
from tests.celery_support import _reset_publishing_pools, redis_required_or_skip

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]

ROOT = Path(settings.BASE_DIR)
MESSAGES = 20


def wait_for(condition, *, timeout: float, what: str, state=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout} s waiting for {what}. {state()}")
        time.sleep(0.1)


class WorkerProcesses:
    """Start real worker processes on the test's database and broker; kill them."""

    def __init__(self, app, tmp_path: Path, redis_url: str):
        self.app = app
        self.tmp_path = tmp_path
        self.mail_log = tmp_path / "mail.log"
        self.mail_log.touch()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
            "CELERY_SKIP_CHECKS": "1",
            "REDIS_URL": redis_url,
            "LINLI_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
            "LINLI_TEST_MAIL_LOG": str(self.mail_log),
            "LINLI_TEST_SEND_DELAY": "0.2",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, *, pool: str = "solo") -> subprocess.Popen:
        name = f"killtest-{uuid.uuid4().hex[:8]}@localhost"
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config.celery_app",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
                "-n",
                name,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log = log
        self.processes.append(process)
        wait_for(
            lambda: (
                process.poll() is None and self.app.control.ping(destination=[name], timeout=0.5)
            ),
            timeout=60,
            what=f"worker {name} to answer (log: {log.name})",
        )
        return process

    @staticmethod
    def pool_child(process: subprocess.Popen) -> int:
        """Return the process id of the (one) pool child of a prefork worker."""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == process.pid:
                return int(stat.parent.name)
        pytest.fail(f"Worker {process.pid} has no pool child.")

    def sent(self) -> list[str]:
        """Return the Message-IDs of the emails sent so far, one per email."""
        lines = self.mail_log.read_text(encoding="utf-8").splitlines()
        return [line.split()[0] for line in lines if line.strip()]

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
            process.log.close()


@pytest.fixture
def workers(transactional_db, tmp_path, settings):
    """
    Worker processes on the test's database, publishing for real to ``REDIS_URL``
    (``transactional_db``: what the test commits is visible to the workers' connections).
    """
    redis_url = redis_required_or_skip()
    from config.celery_app import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    _reset_publishing_pools(app)
    app.control.purge()
    handle = WorkerProcesses(app, tmp_path, redis_url)
    try:
        yield handle
    finally:
        handle.stop_all()  # before the database is flushed: they hold connections to it
        app.control.purge()
        app.conf.task_always_eager = eager
        _reset_publishing_pools(app)


@pytest.mark.parametrize("victim", ["worker", "pool child"])
def test_killed_mid_batch_every_message_is_delivered_once_after_the_sweep(
    workers, settings, victim
):
    """kill -9 of a worker (a second one takes over), or of its pool child (the worker
    forks a new one and the broker hands the lost task out again at once)."""
    # The sweep of this process takes over attempts older than this lease (production:
    # 2 min) and re-publishes tasks lost with the worker after this (production: 5 min).
    settings.NOTIFICATIONS_SENDING_LEASE = 5
    settings.NOTIFICATIONS_SWEEP_AFTER = 5
    first = workers.start(pool="solo" if victim == "worker" else "prefork")
    specs = [
        MessageSpec(
            template="notifications/test",
            language="en",
            channel=Channel.EMAIL,
            to=f"resident{n}@example.org",
            context={"secret_link": f"https://linli.example.org/r/{n}"},
            idempotency_key=f"kill:{n}",
        )
        for n in range(MESSAGES)
    ]
    with transaction.atomic():
        message_queue_many(messages=specs)  # one batch task, published on commit

    wait_for(lambda: len(workers.sent()) >= 5, timeout=60, what="the first emails")
    time.sleep(0.1)  # most likely while the next email waits for its "mail server"
    if victim == "worker":
        first.send_signal(signal.SIGKILL)  # kill -9 in the middle of the batch
        first.wait(10)
    else:
        os.kill(workers.pool_child(first), signal.SIGKILL)
    killed_at = time.monotonic()
    states = collections.Counter(Message.objects.values_list("status", flat=True))
    assert states[MessageStatus.SENT] < MESSAGES  # the kill left work undone
    if victim == "worker":
        workers.start()  # a second worker takes the tasks still queued

    def all_sent() -> bool:
        # Beat runs the sweep every 2 minutes; here every second, once the lease expired.
        if time.monotonic() - killed_at > settings.NOTIFICATIONS_SENDING_LEASE:
            messages_sweep()
        return not Message.objects.exclude(status=MessageStatus.SENT).exists()

    wait_for(
        all_sent,
        timeout=90,
        what="every message to be sent",
        state=lambda: str(list(Message.objects.exclude(status=MessageStatus.SENT).values())),
    )

    sent = collections.Counter(workers.sent())
    expected = {email_message_id(spec.idempotency_key) for spec in specs}
    assert set(sent) == expected  # every message reached its recipient
    interrupted = {
        email_message_id(key)
        for key in Message.objects.filter(uncertain_attempts__gt=0).values_list(
            "idempotency_key", flat=True
        )
    }
    assert len(interrupted) <= 1  # at most the one killed mid-send
    # Once each; only a message killed between the mail server's answer and the save may
    # have gone twice, and then as the same email (same Message-ID).
    assert {mid for mid, count in sent.items() if count > 1} <= interrupted
    assert max(sent.values()) <= 2
    print(  # the drill's numbers, shown with -rP
        f"{victim} killed with {dict(states)}; after the sweep: {len(sent)} of {MESSAGES} delivered, "
        f"{sum(sent.values()) - len(sent)} duplicates, {len(interrupted)} interrupted attempt"
    )
