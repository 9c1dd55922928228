"""Active infusions: every patient now infusing or under observation, for handoff."""

from __future__ import annotations

import math
from datetime import timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bedside.core import infusion as inf
from bedside.core.clock import local_tz

from ..palette import HEADER_ICON
from ..text import literal
from ..widgets.keys import Keys
from .monitor import clock_hm, hm_only


def minutes_left(left: timedelta | None) -> str:
    """The time left as ``H:MM``, a part-minute counted as a whole one (``0:01`` until it is
    over, never ``0:00`` early). A handoff board needs minutes: its cells then change once a
    minute, not every second (the monitor has the seconds); ``open`` where no end is set."""
    if left is None:
        return "open"
    return hm_only(timedelta(minutes=math.ceil(max(left.total_seconds(), 0) / 60)))


class BoardScreen(Screen):
    BINDINGS = [Binding("enter", "open", "Open monitor", show=True), Binding("escape", "back", "Back")]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static("Active infusions (handoff board)", classes="screen-title")
        yield DataTable(id="board", cursor_type="row")
        yield Static("", id="board-count", classes="hint")
        yield Keys()

    def on_mount(self) -> None:
        t = self.query_one("#board", DataTable)
        t.add_columns("Patient", "Dose", "Phase", "Left h:mm", "Ends", "Next due")
        self.rows: dict[str, tuple] = {}
        self.fill()
        self._timer = self.set_interval(1, self.tick)
        self.set_focus(t)

    def on_screen_suspend(self) -> None:
        self._timer.pause()  # a hidden board costs nothing (and repaints nothing)

    def on_screen_resume(self) -> None:
        self._timer.resume()
        self.fill()

    def data(self):
        """Active doses now. Which patients have a dose started and not closed comes from the
        ward's index (core/wardindex.py), kept from each new event: no other patient's events are
        read. The tick reads those patients' projections (each dose folded once per projection,
        its timers advanced to the clock: core/infusion/projection.py)."""
        ledger = self.app.ledger
        if getattr(self, "_candidates_seq", None) != ledger.last_seq:
            self._candidates = sorted({pid for pid, _dose in ledger.open_doses()})
            self._candidates_seq = ledger.last_seq
        views = [ledger.view(pid) for pid in self._candidates]
        return inf.active_doses(views, ledger.clock.now(), inf.MonitorSettings(tz=local_tz()))

    def row_for(self, pid: str, dose: str, st: inf.MonitorState) -> tuple:
        p = self.app.ledger.entry(pid)
        nxt = next((v for v in st.vitals_due if v.status in ("due", "overdue")), None)
        n = len(st.alerts)
        alert = f"! {n} alert{'' if n == 1 else 's'}" if n else ""
        due = " · ".join(x for x in (f"vitals {nxt.status}" if nxt else "", alert) if x)
        return (
            f"{p.name} {p.mrn}",
            inf.dose_label(dose),
            st.phase,
            minutes_left(st.phase_left),
            clock_hm(st.phase_ends_at, st.now),
            due,
        )

    def fill(self) -> None:
        t = self.query_one("#board", DataTable)
        t.clear()
        self.rows = {}
        for pid, dose, st in self.data():
            key = f"{pid}|{dose}"
            row = self.row_for(pid, dose, st)
            self.rows[key] = row
            t.add_row(*(literal(c) for c in row), key=key)
        self.query_one("#board-count", Static).update(f"{len(self.rows)} active · Enter opens the monitor")

    def tick(self) -> None:
        items = self.data()
        keys = [f"{pid}|{dose}" for pid, dose, _ in items]
        if keys != list(self.rows):
            self.fill()
            return
        t = self.query_one("#board", DataTable)
        cols = list(t.columns)
        for pid, dose, st in items:
            key = f"{pid}|{dose}"
            row = self.row_for(pid, dose, st)
            for i, (old, new) in enumerate(zip(self.rows[key], row, strict=True)):
                if old != new:
                    t.update_cell(key, cols[i], literal(new))
            self.rows[key] = row

    def ledger_changed(self) -> None:
        self.fill()

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        await self.run_action("open")  # through the app's fault handling

    def action_open(self) -> None:
        from .monitor import MonitorScreen

        t = self.query_one("#board", DataTable)
        if not t.row_count:
            return
        pid, dose = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value.split("|")
        self.app.push_screen(MonitorScreen(pid, dose))

    def action_back(self) -> None:
        self.app.pop_screen()
