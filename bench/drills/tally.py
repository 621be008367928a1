"""
Counting what residents would notice: registrations stored or lost, messages delivered
never, once or twice (the ledger backends' files), in order or not, ERROR lines in logs.

The project's modules are imported inside the functions: they run after ``django.setup()``,
which the command (bench/run.py, bench/drill.py) calls once the environment is set.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bench.drills import LEDGER

ERROR_LINE = re.compile(r"\bERROR\b|\bCRITICAL\b|Traceback \(most recent call last\)")

# Outbox statuses of a message meant to be delivered; any other one (cancelled …) says it
# was dropped on purpose, with a reason, and is not counted as lost.
LIVE_STATUSES = ("created", "sending", "sent", "failed")


def ledger_entries() -> list[dict]:
    """Every delivery the ledger backends wrote (one JSON file each), oldest first."""
    entries = []
    for path in LEDGER.glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            entries.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(entries, key=lambda e: e.get("t", 0))


def message_last_pk() -> int:
    from notifications.models import Message

    return Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@dataclass
class MessageTally:
    made: int = 0
    once: int = 0
    never: int = 0
    twice: int = 0  # delivered two or more times
    extra: int = 0  # deliveries beyond the first
    same_identity: int = 0  # of the repeated ones, sent again with the same Message-ID/key
    dropped: int = 0  # cancelled on purpose (a message that no longer matters)
    pending: int = 0  # still waiting or "sending" when the drill stopped waiting
    failed_recorded: int = 0  # outbox says failed, nothing delivered
    delivered_but_failed: int = 0  # delivered, yet the outbox says it failed
    out_of_order: int = 0
    unmatched: int = 0  # deliveries the ledger could not tie to an outbox row

    @property
    def lost(self) -> int:
        return self.never

    def line(self) -> str:
        parts = [f"{self.made} messages: {self.once} once, {self.never} never, {self.twice} twice"]
        if self.dropped:
            parts.append(f"{self.dropped} dropped on purpose")
        if self.pending:
            parts.append(f"{self.pending} still pending")
        if self.failed_recorded:
            parts.append(f"{self.failed_recorded} recorded failed")
        if self.delivered_but_failed:
            parts.append(f"{self.delivered_but_failed} delivered but recorded failed")
        if self.twice:
            parts.append(f"{self.same_identity} of the repeats with the same identity")
        return ", ".join(parts)


def _identity(entry: dict) -> str:
    return entry.get("message_id") or entry.get("sms_key") or ""


def messages_tally(first_pk: int, *, last_pk: int | None = None) -> MessageTally:
    """Count the fate of the outbox messages after ``first_pk`` in the ledger."""
    from notifications.constants import MessageStatus
    from notifications.models import Message

    rows = Message.objects.filter(pk__gt=first_pk)
    if last_pk is not None:
        rows = rows.filter(pk__lte=last_pk)
    rows = list(
        rows.order_by("pk").values(
            "pk", "status", "to", "concerning_type_id", "concerning_id", "template"
        )
    )
    deliveries: dict[int, list[dict]] = defaultdict(list)
    tally = MessageTally(made=len(rows))
    wanted = {row["pk"] for row in rows}
    for entry in ledger_entries():
        pk = entry.get("outbox_id")
        if pk in wanted:
            deliveries[pk].append(entry)
        elif pk is None:
            tally.unmatched += 1
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        sent = deliveries.get(row["pk"], [])
        status = row["status"]
        if status not in LIVE_STATUSES and not sent:
            tally.dropped += 1  # cancelled, or any status the outbox gives a dropped message
            continue
        if not sent:
            tally.never += 1
            if status in (MessageStatus.CREATED, MessageStatus.SENDING):
                tally.pending += 1
            elif status == MessageStatus.FAILED:
                tally.failed_recorded += 1
        elif len(sent) == 1:
            tally.once += 1
        else:
            tally.twice += 1
            tally.extra += len(sent) - 1
            if len({_identity(e) for e in sent}) == 1 and _identity(sent[0]):
                tally.same_identity += 1
        if sent and status == MessageStatus.FAILED:
            tally.delivered_but_failed += 1
        if row["concerning_id"]:
            key = (row["concerning_type_id"], row["concerning_id"], row["to"])
            groups[key].append({**row, "first": sent[0]["t"] if sent else None})
    # In order: no message arrives after one about the same thing made after it.
    for group in groups.values():
        for index, earlier in enumerate(group):
            if earlier["first"] is None:
                continue
            if any(
                later["first"] is not None and later["first"] < earlier["first"]
                for later in group[index + 1 :]
            ):
                tally.out_of_order += 1
    return tally


def settle(first_pk: int, timeout: float) -> int:
    """Wait until no message after ``first_pk`` waits or is "sending"; return how many do."""
    from notifications.constants import MessageStatus
    from notifications.models import Message

    deadline = time.monotonic() + timeout
    pending = 0
    while time.monotonic() < deadline:
        pending = Message.objects.filter(
            pk__gt=first_pk, status__in=(MessageStatus.CREATED, MessageStatus.SENDING)
        ).count()
        if not pending:
            time.sleep(1)  # a repeat delivery under way would land now
            return 0
        time.sleep(0.5)
    return pending


@dataclass
class RegistrationTally:
    attempted: int = 0  # reached the confirming POST
    confirmed: int = 0  # the confirming POST answered 302
    stored: int = 0
    receipts: int = 0  # the receipt page was shown
    refused: int = 0  # clearly refused (a 4xx page) and nothing stored
    lost: int = 0  # told "done" but not stored, or a server/network error and not stored
    stored_not_told: int = 0  # stored, but the resident never saw the receipt
    statuses: Counter = field(default_factory=Counter)
    failed_at: Counter = field(default_factory=Counter)  # "step answer" of flows cut short

    def line(self) -> str:
        text = (
            f"{self.stored}/{self.attempted} registrations stored, {self.confirmed} confirms "
            f"answered 302, {self.receipts} receipts shown"
        )
        if self.refused:
            text += f", {self.refused} clearly refused"
        if self.stored_not_told:
            text += f", {self.stored_not_told} stored without a receipt shown"
        if self.failed_at:
            text += ", flows cut short at " + ", ".join(
                f"{where}×{n}" for where, n in self.failed_at.most_common()
            )
        return text


def registrations_tally(results: list[tuple[int, object]]) -> RegistrationTally:
    """Compare what each resident saw with what the database holds (by their surname)."""
    from registration.models import Registration

    tally = RegistrationTally()
    names = {f"Bench{n}": n for n, _result in results}
    stored = Counter(
        Registration.objects.filter(resident__surname__in=list(names)).values_list(
            "resident__surname", flat=True
        )
    )
    for n, result in results:
        for status in result.statuses:
            tally.statuses[status] += 1
        reached = result.step in ("submit", "receipt")
        is_stored = stored.get(f"Bench{n}", 0) > 0
        tally.stored += is_stored
        last = result.statuses[-1] if result.statuses else None
        if not result.ok:
            tally.failed_at[f"{result.step} {last}"] += 1
        if not reached:
            continue
        tally.attempted += 1
        tally.confirmed += result.submitted
        tally.receipts += result.ok
        if is_stored:
            if not result.ok:
                tally.stored_not_told += 1
        elif isinstance(last, int) and 400 <= last < 500 and not result.submitted:
            tally.refused += 1
        else:
            tally.lost += 1
    return tally


def server_errors(statuses: Counter) -> int:
    return sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)


def error_lines(text: str) -> int:
    """ERROR (or worse) log lines and tracebacks in ``text`` (JSON or plain log lines)."""
    count = 0
    for line in text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                count += json.loads(line).get("level") in ("ERROR", "CRITICAL")
                continue
        count += bool(ERROR_LINE.search(line))
    return count


def helps_tally(helped) -> tuple[int, int, int]:
    """(stored, lost, stored without the case page shown) of the help requests sent."""
    from inquiries.models import Inquiry

    names = set(
        Inquiry.objects.filter(contact_name__in=[f"Helper{n}" for n, _r in helped]).values_list(
            "contact_name", flat=True
        )
    )
    stored = lost = not_told = 0
    for n, result in helped:
        is_stored = f"Helper{n}" in names
        stored += is_stored
        last = result.statuses[-1] if result.statuses else None
        if is_stored and not result.ok:
            not_told += 1
        elif not is_stored and result.step in ("send", "case"):
            refused = isinstance(last, int) and 400 <= last < 500 and not result.submitted
            lost += not refused
    return stored, lost, not_told
