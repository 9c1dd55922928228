"""The audit trail: every event with who, what and when, in time order, its fields in words (core's
``records.audit``); filter by keyboard; either order; the highlighted event in full below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bedside.core import intake
from bedside.core.clock import fmt_local
from bedside.core.records import audit as words

from ..palette import HEADER_ICON
from ..text import literal
from ..text import shown as shown_text
from ..widgets.field import Field
from ..widgets.keys import Keys
from .base import cell_width, room_of, set_table
from .dialogs import TextScreen

if TYPE_CHECKING:
    from bedside.core.events import Event  # an annotation only: the tui imports no event classes

SECONDS_FROM = 100  # cells across from which the table's times show their seconds (the pane always does)
MIN_DETAILS = 16  # cells the Details column needs to be worth showing (the pane below shows it all)


def describe(ev: Event) -> str:
    """The event in a few words (core: ``records.audit.what``)."""
    return words.what(ev)


def details(ev: Event) -> str:
    """The event's fields on one line, at display precision (core: ``records.audit.summary``)."""
    return words.summary(ev)


def event_text(ev: Event, full: bool = False) -> Text:
    """The event in words with the whole stored value of each field (in the pane one after the
    other, wrapped; ``full``: one a line, and where it is stored: sequence, reference, UTC, hash)."""
    t = Text()
    t.append(f"{describe(ev)}", style="bold")
    t.append(f" · {ev.actor} · {fmt_local(ev.at, seconds=True)}\n")
    for i, f in enumerate(words.event_fields(ev)):
        if i and not full:
            t.append(" · ", style="dim")
        t.append(f"{f.label}: ", style="bold")
        t.append(f.full + ("\n" if full else ""))
    if full:
        t.append("\n")
        for label, value in (
            ("Event", f"{ev.seq} ({ev.ref})"),
            ("Kind", ev.kind),
            ("When (UTC)", ev.at.isoformat()),
            ("Hash", ev.hash[:16] + "…"),
        ):
            t.append(f"{label}: ", style="dim")
            t.append(f"{value}\n", style="dim")
    return shown_text(t)


class AuditScreen(Screen):
    BINDINGS = [
        # priority: resolved in the order keys arrive, so what is typed after "/" lands in the field
        Binding("slash", "filter", "Filter", priority=True),
        Binding("o", "order", "Oldest/newest first"),
        Binding("enter", "show", "Details", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, pid: str | None = None):
        super().__init__()
        self.pid = pid
        self.newest_first = True

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(id="audit-title", classes="screen-title")
        yield Field(placeholder="/ filter: user, event, MRN, text", id="audit-filter", max_length=60)
        yield DataTable(id="audit", cursor_type="row")
        with VerticalScroll(id="audit-detail-box", classes="detail"):
            yield Static(id="audit-detail")
        yield Keys()

    def on_mount(self) -> None:
        self.fill()
        self.set_focus(self.query_one("#audit", DataTable))

    def events(self) -> list[Event]:
        """The patient's events (their projection, ``ledger.view``), or the whole log, in time order
        (the order they were stored where two share a time)."""
        ledger = self.app.ledger
        evs = list(ledger.view(self.pid).events) if self.pid else list(ledger.events)
        return sorted(evs, key=lambda e: (e.at, e.seq))

    def _mrn(self, ev: Event) -> str:
        if not ev.stream.startswith(intake.PATIENT_PREFIX):
            return ""
        try:
            return self.app.ledger.patient(ev.stream[len(intake.PATIENT_PREFIX) :]).mrn
        except KeyError:
            return "?"

    def fill(self) -> None:
        table = self.query_one("#audit", DataTable)
        query = self.query_one("#audit-filter", Field).value.strip().casefold()
        room = room_of(table) - table.styles.scrollbar_size_vertical  # room for a scrollbar
        seconds = room >= SECONDS_FROM
        evs = self.events()
        if self.newest_first:
            evs.reverse()
        labels = ["When (local)", "Who", "What"] + ([] if self.pid else ["Patient"]) + ["Details"]
        rows = []
        for ev in evs:
            cells = [fmt_local(ev.at, seconds=seconds), ev.actor, describe(ev)] + ([] if self.pid else [self._mrn(ev)])
            det = details(ev)
            if query and not any(query in c.casefold() for c in [*cells, det, fmt_local(ev.at, seconds=True)]):
                continue
            rows.append((str(ev.seq), [literal(c) for c in cells] + [literal(det)]))
        fixed = sum(max([cell_width(label)] + [cell_width(r[1][i]) for r in rows]) + 2 for i, label in enumerate(labels[:-1]))
        if room - fixed < MIN_DETAILS + 2:  # too narrow for the fields: the pane below shows them
            labels, rows = labels[:-1], [(key, cells[:-1]) for key, cells in rows]
        keep = table.cursor_row
        set_table(table, labels, rows, room, flex=len(labels) - 1 if labels[-1] == "Details" else None)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        self._title(len(rows), len(evs))
        self.show_detail()

    def _title(self, shown: int, total: int) -> None:
        patient = self.app.ledger.view(self.pid).patient if self.pid else None
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("Audit · ")
        title.append("whole database" if patient is None else f"{patient.name} · {patient.mrn}")
        order = "newest first" if self.newest_first else "oldest first"
        title.append(f" · {shown} of {total} events, {order}")
        self.query_one("#audit-title", Static).update(shown_text(title))

    def selected(self) -> Event | None:
        table = self.query_one("#audit", DataTable)
        if not table.row_count:  # the row under the cursor now (a filter may have run since)
            return None
        seq = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return next((e for e in self.app.ledger.events if e.seq == seq), None)

    def show_detail(self) -> None:
        ev = self.selected()
        text = event_text(ev) if ev is not None else Text("No event matches the filter.")
        self.query_one("#audit-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_resize(self) -> None:
        if self.is_mounted:
            self.call_after_refresh(self.fill)

    def ledger_changed(self) -> None:
        self.fill()

    def on_input_changed(self, event: Field.Changed) -> None:
        self.fill()

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()  # the field already moved the focus on to the table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # already in the field: "/" is typed there
        return not (action == "filter" and self.focused is not None and self.focused.id == "audit-filter")

    def action_filter(self) -> None:
        self.set_focus(self.query_one("#audit-filter", Field))

    def action_order(self) -> None:
        self.newest_first = not self.newest_first
        self.fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        ev = self.selected()
        if ev is not None:
            self.app.push_screen(TextScreen(f"Event {ev.seq}: {describe(ev)}", event_text(ev, full=True)))

    def action_back(self) -> None:
        self.app.pop_screen()
