"""The patient list: search by name or MRN, open a patient, register a new one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bedside.core import auth, intake

from ..palette import HEADER_ICON
from ..text import literal
from ..widgets.field import Field
from ..widgets.keys import Keys
from .base import room_of, set_table

#: Rows the list draws at most (the count says how many more match; the search narrows them).
MAX_ROWS = 200
SEXES = dict(intake.SECTIONS["identity"].field("sex").choices)


def search_text(raw: str) -> str:
    """What the search matches: the text typed, or the identifier a scanned wristband carries (a GS1
    code's AI 8018 GSRN, a scanner's AIM prefix dropped; issue 20), matched whole with the stored one."""
    from bedside.core.scan import read_identifier  # biip is imported only for a GS1 code

    scan = read_identifier(raw.strip())
    return (scan.identifier if not scan.error and scan.identifier else raw.strip()).casefold()


class PatientListScreen(Screen):
    BINDINGS = [
        # priority: resolved in the order keys arrive, so "/naka" typed at once lands in the field
        # (otherwise the letters can reach the list first: "n" registers a new patient)
        Binding("slash", "search", "Search", priority=True),
        Binding("n", "register", "New"),
        Binding("i", "board", "Infusions"),
        Binding("a", "audit", "Audit"),
        Binding("u", "users", "Users"),
        Binding("s", "settings", "Settings"),
        Binding("l", "lab_inbox", "Labs", tooltip="the Lab inbox: laboratory messages not applied (admins)"),
        Binding(
            "r", "app.integrity", "Report", show=False, tooltip="the integrity report: what is wrong with the record (admins)"
        ),
        Binding("ctrl+l", "app.lock", "Lock", show=False),
        Binding("f5", "app.sign_out", "Sign out"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static("Patients", classes="screen-title")
        yield Field(placeholder="/ search name or MRN", id="search", max_length=60)
        yield DataTable(id="patients", cursor_type="row", zebra_stripes=False)
        yield Static("", id="patients-count", classes="hint")
        yield Keys()

    def on_mount(self) -> None:
        self.fill()
        self.set_focus(self.query_one("#patients", DataTable))

    def on_resize(self) -> None:
        if self.is_mounted:
            self.call_after_refresh(self.fill)  # the columns fit the new width

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search" and self.focused is not None and self.focused.id == "search":
            return False  # already in the field: "/" is typed there
        if action in ("users", "settings", "lab_inbox"):
            return True if self.app.user and auth.may_administer(self.app.user.role) else None
        return True

    def fill(self) -> None:
        self._seen = self.app.ledger.last_seq
        table = self.query_one("#patients", DataTable)
        query = search_text(self.query_one("#search", Field).value)
        keep = table.cursor_row if query == getattr(self, "_query", query) else 0  # a new search starts at its first match
        self._query = query
        rows = []
        entries = self.app.ledger.patients()  # the ward's index (core/wardindex.py): no patient's events are read
        matched = 0
        for p in entries:
            if query and query not in p.name.casefold() and query not in p.mrn.casefold() and query != p.wristband.casefold():
                continue
            matched += 1
            if len(rows) == MAX_ROWS:
                continue  # counted, not drawn: the list's cost is its rows on screen, not the ward's years
            status = "complete" if not p.missing else f"{len(p.missing)} to do"
            sex = SEXES.get(p.sex, "")
            # literal: a str cell would be markup; a long name is cut with "…", never pushing the rest off
            rows.append((p.id, (literal(p.mrn), literal(p.name), literal(p.dob), sex, status)))
        set_table(table, ("MRN", "Name", "DOB", "Sex", "Intake"), rows, room_of(table, padding=1), flex=None)
        shown = len(rows)
        total = len(entries)
        more = f" (the first {shown} of {matched}: type more to narrow)" if matched > shown else ""
        self.query_one("#patients-count", Static).update(
            f"{shown} of {total} patients"
            + (" match" if query else "")
            + more
            + " · Enter opens · n registers a new patient · ctrl+l locks"
        )
        if shown:
            table.move_cursor(row=min(max(keep, 0), shown - 1))

    def ledger_changed(self) -> None:
        self.fill()

    def on_screen_resume(self) -> None:
        if getattr(self, "_seen", None) != self.app.ledger.last_seq:  # redraw only what changed
            self.fill()

    def on_input_changed(self, event: Field.Changed) -> None:
        self.fill()

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()  # the field already moved the focus on to the table

    def action_search(self) -> None:
        field = self.query_one("#search", Field)
        self.set_focus(field)
        field.select_all()  # "/" starts a new search: what is typed replaces the last one

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the first row of what the search says now, not the row the event names: keys typed
        in one burst ("/naka⏎⏎") can select before the search has filtered the list."""
        from .patient import PatientScreen

        table = self.query_one("#patients", DataTable)
        if self._query != search_text(self.query_one("#search", Field).value):
            self.fill()  # the search's own Changed message has not arrived yet
        if not table.row_count:
            return
        self.app.push_screen(PatientScreen(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def action_register(self) -> None:
        from .intake_form import FormScreen

        def opened(pid: str | None) -> None:
            if pid:
                from .patient import PatientScreen

                self.app.push_screen(PatientScreen(pid))

        self.app.push_screen(FormScreen("identity"), opened)

    def action_board(self) -> None:
        from .board import BoardScreen

        self.app.push_screen(BoardScreen())

    def action_audit(self) -> None:
        from .audit import AuditScreen

        self.app.push_screen(AuditScreen())

    def action_users(self) -> None:
        from .admin import UsersScreen

        self.app.push_screen(UsersScreen())

    def action_settings(self) -> None:
        from .admin import SettingsScreen

        self.app.push_screen(SettingsScreen())

    def action_lab_inbox(self) -> None:
        from .labinbox import LabInboxScreen

        self.app.push_screen(LabInboxScreen())
