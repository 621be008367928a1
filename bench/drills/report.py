"""A drill's row of the table: the five counts every drill is judged by, and its own goals."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.drills.tally import MessageTally


@dataclass
class Row:
    drill: str
    server_errors: int | None = 0
    lost_registrations: int | None = 0
    lost_messages: int | None = 0
    duplicates: int | None = 0
    out_of_order: int | None = 0
    notes: list[str] = field(default_factory=list)
    allowed_5xx: int = 0  # requests in flight on a process the drill killed
    missed_own: list[str] = field(default_factory=list)  # the drill's own goals
    skipped: bool = False
    broken: str = ""  # the drill itself could not run to the end

    def missed(self) -> list[str]:
        if self.skipped:
            return []
        missed = list(self.missed_own)
        if self.broken:
            missed.append(f"drill broke: {self.broken}")
        for name, value in (
            ("lost registrations", self.lost_registrations),
            ("lost messages", self.lost_messages),
            ("duplicates", self.duplicates),
            ("out of order", self.out_of_order),
        ):
            if value:
                missed.append(name)
        if self.server_errors and self.server_errors > self.allowed_5xx:
            missed.append("5xx")
        return missed

    def cells(self) -> list[str]:
        def show(value):
            return "—" if value is None or self.skipped else str(value)

        notes = list(self.notes)
        notes += [f"MISSED: {goal}" for goal in self.missed_own]
        if self.broken:
            notes.append(f"BROKE: {self.broken}")
        return [
            self.drill,
            show(self.server_errors),
            show(self.lost_registrations),
            show(self.lost_messages),
            show(self.duplicates),
            show(self.out_of_order),
            "; ".join(notes),
        ]


def table(rows: list[Row]) -> str:
    header = ["drill", "5xx", "lost registrations", "lost messages", "duplicates", "out of order"]
    lines = [[*header, "notes"], *[row.cells() for row in rows]]
    out = []
    for index, line in enumerate(lines):
        out.append("| " + " | ".join(cell.replace("|", "/") for cell in line) + " |")
        if index == 0:
            out.append("|" + "|".join(["---"] * len(line)) + "|")
    return "\n".join(out)


def messages_into(row: Row, messages: MessageTally) -> None:
    row.lost_messages = messages.lost
    # DESIGN.md's promise: "delivered at worst twice with the same identity, never zero
    # times". A repeat with the same Message-ID / SMS key (a worker killed between the
    # provider's acceptance and the save) is allowed and shown in the notes; a repeat
    # under another identity, or a third delivery, is a duplicate.
    row.duplicates = max(0, messages.extra - messages.same_identity)
    row.out_of_order = messages.out_of_order
    if messages.delivered_but_failed:
        row.missed_own.append(f"delivered but recorded failed: {messages.delivered_but_failed}")
