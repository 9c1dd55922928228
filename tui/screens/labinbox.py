"""The Lab inbox (issue 20; admins: l on the patient list, or the palette): the laboratory messages
that were not applied (unmatched patient, a duplicate id with other content, a unit not known,
an unusual value, a message that cannot be read …), each with the reason, when and from where.

An admin assigns one to a named patient by MRN with a reason (a: the results then go to that
patient's labs record, marked as assigned from the inbox) or rejects it with a reason (r). Both are
recorded, by whom and when; a handled entry stays in the list of all (H) and is never changed
again. Nothing here decides: the screen sends :class:`AssignQuarantined`,
:class:`ResolveQuarantine` (core/labs/commands.py) and shows the refusal's words.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bedside.core.commands import Refused
from bedside.core.labs import AssignQuarantined, Held, ResolveQuarantine

from ..palette import HEADER_ICON
from ..text import literal, when
from ..widgets.keys import Keys
from .base import room_of, set_table

#: The lines of a held message shown under the list (its start: the admin reads who it names).
RAW_LINES = 8


def _outcome(h: Held) -> str:
    if h.pending:
        return "PENDING"
    return h.resolved.outcome  # by whom and why: under the list


class LabInboxScreen(Screen):
    BINDINGS = [
        Binding("a", "assign", "Assign"),
        Binding("r", "reject", "Reject"),
        Binding("H", "show_all", "All/pending"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_handled = False

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static("Lab inbox: laboratory messages not applied", classes="screen-title")
        yield Static("", id="inbox-folder", classes="hint")
        yield DataTable(id="inbox", cursor_type="row")
        with VerticalScroll(id="inbox-detail-box"):
            yield Static("", id="inbox-detail")
        yield Keys()

    def on_mount(self) -> None:
        folder = getattr(self.app, "lab_folder", None)
        self.query_one("#inbox-folder", Static).update(
            literal(
                f"Drop folder watched by this terminal: {folder}"
                if folder
                else "This terminal watches no drop folder (bedside --watch-labs DIR, or bedside import labs)."
            )
        )
        self.fill()
        self.set_focus(self.query_one("#inbox", DataTable))

    def entries(self) -> list[Held]:
        held = list(self.app.ledger.lab_inbox())
        shown = held if self.show_handled else [h for h in held if h.pending]
        return list(reversed(shown))  # the newest first

    def fill(self) -> None:
        table = self.query_one("#inbox", DataTable)
        keep = table.cursor_row
        self._held = {str(h.entry): h for h in self.entries()}
        rows = [
            (
                key,
                (
                    key,
                    when(h.at),
                    literal(h.message.sender or "?"),
                    literal(h.message.message_id or "?"),
                    _outcome(h),
                    literal(h.message.reason),
                ),
            )
            for key, h in self._held.items()
        ]
        set_table(table, ("#", "Received", "From", "Message", "Status", "Reason"), rows, room_of(table, padding=1), flex=5)
        if rows:
            table.move_cursor(row=min(max(keep, 0), len(rows) - 1))
        self.show_detail()

    def selected(self) -> Held | None:
        table = self.query_one("#inbox", DataTable)
        if not table.row_count:
            return None
        return self._held.get(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def show_detail(self) -> None:
        h = self.selected()
        box = self.query_one("#inbox-detail", Static)
        if h is None:
            pending = "" if self.show_handled else "pending "
            box.update(literal(f"No {pending}messages: every result that arrived was applied. H shows the handled ones too."))
            return
        m = h.message
        lines = [
            f"Entry {h.entry} · received {when(h.at)} by {h.actor} from {m.source} · {m.format}",
            f"Reason: {m.reason}" + (f" ({', '.join(m.rules)})" if m.rules else ""),
        ]
        if not h.pending:
            r = h.resolved
            target = f" to {self._mrn_of(r.patient)}" if r.patient else ""
            lines.append(f"{r.outcome.capitalize()}{target} by {h.resolved_by} at {when(h.resolved_at)}: {r.reason}")
        else:
            lines.append("Assign it to a patient by MRN (a), or reject it (r); each needs a reason.")
        segments = [s for s in m.raw.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s][:RAW_LINES]
        lines.append("Message" + (" (its start only was kept)" if m.cut else "") + ":")
        lines.extend("  " + s for s in segments)
        box.update(literal("\n".join(lines), multiline=True))

    def _mrn_of(self, pid: str) -> str:
        try:
            return f"MRN {self.app.ledger.entry(pid).mrn}"
        except KeyError:
            return "a patient no longer on this ward"

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def ledger_changed(self) -> None:
        self.fill()

    def action_show_all(self) -> None:
        self.show_handled = not self.show_handled
        self.fill()
        self.notify("Showing every message kept, handled ones too." if self.show_handled else "Showing the pending messages.")

    def _pending_selected(self) -> Held | None:
        h = self.selected()
        if h is None:
            self.notify("No message is selected.")
            return None
        if not h.pending:
            self.notify(f"Entry {h.entry} was {h.resolved.outcome} already: it is kept as it is.")
            return None
        return h

    @work(exclusive=True)
    async def action_assign(self) -> None:
        from .dialogs import FieldsDialog

        h = self._pending_selected()
        if h is None:
            return
        by_mrn = {p.mrn: p for p in self.app.ledger.patients()}
        values: dict = {}
        while True:

            def validate(raw: dict) -> tuple[dict, dict]:
                errors = {}
                if raw["mrn"].strip() not in by_mrn:
                    errors["mrn"] = "MRN: no patient on this ward has this MRN (type it exactly)."
                if not raw["reason"].strip():
                    errors["reason"] = "Reason: required (why this message belongs to this patient)."
                return raw, errors

            ans = await self.app.push_screen_wait(
                FieldsDialog(
                    f"Assign message {h.message.message_id or h.entry} to a patient",
                    [("mrn", "Patient's MRN", "text"), ("reason", "Reason", "text")],
                    validate,
                    note="Check the message's name and date of birth against the patient first. Recorded with your name.",
                    values=values,
                )
            )
            if not ans:
                return
            values = ans
            entry = by_mrn[ans["mrn"].strip()]
            try:
                self.app.ledger.execute(AssignQuarantined(h.entry, entry.id, ans["reason"]), self.app.actor)
                self.app.ledger.execute(ResolveQuarantine(h.entry, "assigned", ans["reason"], entry.id), self.app.actor)
            except Refused as exc:
                self.notify(f"Refused: {exc}", severity="error", timeout=15)
                continue  # the dialog again, with what was typed
            self.notify(f"Entry {h.entry} assigned to {entry.mrn} ({entry.name}): its results are in their labs record.")
            self.fill()
            return

    @work(exclusive=True)
    async def action_reject(self) -> None:
        from .dialogs import FieldsDialog

        h = self._pending_selected()
        if h is None:
            return
        values: dict = {}
        while True:

            def validate(raw: dict) -> tuple[dict, dict]:
                return raw, ({} if raw["reason"].strip() else {"reason": "Reason: required (why it is not applied)."})

            ans = await self.app.push_screen_wait(
                FieldsDialog(
                    f"Reject message {h.message.message_id or h.entry}",
                    [("reason", "Reason", "text")],
                    validate,
                    note="It stays in the inbox's list of all, marked rejected, with your name and reason.",
                    values=values,
                )
            )
            if not ans:
                return
            values = ans
            try:
                self.app.ledger.execute(ResolveQuarantine(h.entry, "rejected", ans["reason"]), self.app.actor)
            except Refused as exc:
                self.notify(f"Refused: {exc}", severity="error", timeout=15)
                continue
            self.notify(f"Entry {h.entry} rejected.")
            self.fill()
            return

    def action_back(self) -> None:
        self.app.pop_screen()
