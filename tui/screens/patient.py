"""One patient: the two identifiers always on top, intake by section, history and corrections."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from bedside.core import intake

from ..palette import HEADER_ICON
from ..text import literal, shown, when
from ..widgets.keys import Keys
from .base import PatientView, room_of, set_table


class PatientScreen(PatientView):
    BINDINGS = [
        Binding("enter", "record", "Record", show=True),
        Binding("x", "correct", "Correct"),
        Binding("t", "timeline", "Timeline"),
        Binding("v", "warnings", "Warnings"),
        Binding("a", "audit", "Audit"),
        Binding("w", "boxed_warning", "Boxed warning"),
        Binding("P", "print_record", "Print", show=False),
        Binding("escape", "back", "Back"),
        Binding("ctrl+l", "app.lock", "Lock", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(id="identity", classes="identity")
        yield DataTable(id="sections", cursor_type="row")
        yield Static(id="detail", classes="detail")
        yield Keys()

    #: The rows: identity, then the intake sections in the order they are usually recorded.
    ROWS = ("identity", *intake.INTAKE_ORDER)

    def on_mount(self) -> None:
        table = self.query_one("#sections", DataTable)
        self.refill()
        self.move_to_missing()  # a new patient: Enter opens the first form still to do
        self.set_focus(table)

    def fill(self) -> None:
        p = self.patient
        table = self.query_one("#sections", DataTable)
        keep = table.cursor_row
        rows = []
        for name in self.ROWS:
            hist = p.history(name)
            if hist:
                status = "✓ recorded" + (" ✎" if hist[-1].corrections else "")
                text = literal(intake.summary(name, hist[-1].data))  # cut to the column; whole in the detail
            else:
                status, text = "✗ missing", Text("—", style="dim")
            rows.append((name, (intake.SECTIONS[name].title, status, text)))
        # Section and Status as wide as their words; Latest takes the rest of the width.
        set_table(table, ("Section", "Status", "Latest"), rows, room_of(table, padding=1), flex=2)
        table.move_cursor(row=max(keep, 0))
        self.show_detail()

    def missing_after(self, name: str | None) -> str | None:
        """The next section still to record after ``name`` (from the top if none after it)."""
        missing = [n for n in self.ROWS if n != "identity" and not self.patient.history(n)]
        later = [n for n in missing if name is None or self.ROWS.index(n) > self.ROWS.index(name)]
        return (later or missing or [None])[0]

    def move_to_missing(self, after: str | None = None) -> None:
        """Put the cursor on the next section still to record (if any), so Enter opens it."""
        name = self.missing_after(after)
        if name is not None:
            self.query_one("#sections", DataTable).move_cursor(row=self.ROWS.index(name))

    def current_section(self) -> str:
        table = self.query_one("#sections", DataTable)
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.run_action("record")  # through the app's fault handling

    def show_detail(self) -> None:
        table = self.query_one("#sections", DataTable)
        if table.row_count == 0:
            return
        name = self.current_section()
        sec = intake.SECTIONS[name]
        hist = self.patient.history(name)
        t = Text()
        t.append(f"{sec.title}", style="bold")
        if sec.rule:
            t.append(f"  [{sec.rule}]", style="dim")
        t.append("\n")
        if not hist:
            t.append("Not recorded yet. Enter records it.\n")
        for e in reversed(hist[-3:]):
            t.append(f"{when(e.at)} by {e.actor}: ", style="dim")
            t.append(intake.summary(name, e.data))
            t.append("\n")
            if name == "measurement":
                t.append("  " + intake.measurement_bsa(e.data).explain + "  [CONV-BSA-2]\n")
            for c in e.corrections:
                t.append(f"  corrected {when(c.at)} by {c.actor}, reason: ", style="italic")
                t.append(c.reason)
                t.append("\n  was: ", style="dim")
                t.append(intake.summary(name, c.old))
                t.append("\n")
        if len(hist) > 3:
            t.append(f"… {len(hist) - 3} older entries in the audit view (a)\n", style="dim")
        t.append("P prints the administration record (80 columns)", style="dim")
        self.query_one("#detail", Static).update(shown(t))

    def action_record(self) -> None:
        from .intake_form import FormScreen

        name = self.current_section()
        if name == "identity":
            self.notify("Identity is set at registration; use x to correct it.", severity="warning")
            return

        def saved(pid: str | None) -> None:
            if pid is not None:  # recorded: on to the next section still to do
                self.refill()
                self.move_to_missing(after=name)

        self.app.push_screen(FormScreen(name, self.pid), saved)

    def action_correct(self) -> None:
        from .intake_form import FormScreen

        name = self.current_section()
        hist = self.patient.history(name)
        if not hist:
            self.notify("Nothing recorded to correct yet.", severity="warning")
            return
        self.app.push_screen(FormScreen(name, self.pid, correcting=hist[-1]))

    def action_audit(self) -> None:
        from .audit import AuditScreen

        self.app.push_screen(AuditScreen(self.pid))

    def action_boxed_warning(self) -> None:
        from .dialogs import boxed_warning_screen

        self.app.push_screen(boxed_warning_screen())

    def action_timeline(self) -> None:
        from .timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(self.pid))

    def action_warnings(self) -> None:
        from .warnings import WarningsScreen

        self.app.push_screen(WarningsScreen(self.pid))

    def action_print_record(self) -> None:
        from rich.text import Text

        from bedside.core import records
        from bedside.core.clock import local_tz

        from .dialogs import TextScreen

        ledger = self.app.ledger
        text = records.record_for(ledger.view(self.pid), tz=local_tz(), now=ledger.clock.now())
        self.app.push_screen(TextScreen("Medication administration record (also: bedside print record MRN)", Text(text)))

    def action_back(self) -> None:
        self.app.pop_screen()
