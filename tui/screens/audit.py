"""The audit trail: every event with who, what and when, in the order the log holds them, its
fields in words (core's ``records.audit``); filter by keyboard; either order; the highlighted event
in full below.

It reads the store a page at a time (``EventStore.audit_page``: keyset pages, the filter in SQL),
never the whole log, so it opens as fast on a decade's log as on a day's (issue 19): a page on
opening, the next when the cursor nears the last row loaded, and on a change from another terminal
only the events after the newest one searched. A filter over the whole log searches it a window
of events at a time (one short query each, the next on a timer), so no key waits for a search of
the whole log.

Rows are in seq order, the order the events were stored, not by their ``at``: seq is the log's own
order (the hash chain) and its primary key, unique and gap-free, so a keyset page is one index
range. ``at`` is the writing terminal's clock: two terminals' clocks can disagree and an imported
or demo log holds past times, so by ``at`` a late-stored event could fall between pages already
shown and never be seen, and equal times would need a tie-breaker.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bedside.core import intake
from bedside.core.clock import fmt_local
from bedside.core.records import audit as words
from bedside.core.text import printable

from ..palette import HEADER_ICON
from ..text import literal
from ..text import shown as shown_text
from ..widgets.field import Field
from ..widgets.keys import Keys
from .base import CELL_PADDING, cell_width, fit_widths, room_of
from .dialogs import TextScreen

if TYPE_CHECKING:
    from bedside.core.events import Event  # an annotation only: the tui imports no event classes

SECONDS_FROM = 100  # cells across from which the table's times show their seconds (the pane always does)
MIN_DETAILS = 16  # cells the Details column needs to be worth showing (the pane below shows it all)
PAGE = 60  # rows read at a time: a little over two screens of the table at 120x40 (five at 80x24)
NEAR_END = 10  # the next page is read when the cursor is this near the last row loaded
WINDOW = 50_000  # events a filter over the whole log reads in one query (about 10 ms on SQLite)
STEP_SECONDS = 0.01  # between two windows of a search (keys typed meanwhile are handled first)
REFUSED = "REFUSED (not authentic)"  # an event the ledger refused (core/logcheck.py): never its words alone


def describe(ev: Event) -> str:
    """The event in a few words (core: ``records.audit.what``)."""
    return words.what(ev)


def details(ev: Event) -> str:
    """The event's fields on one line, at display precision (core: ``records.audit.summary``)."""
    return words.summary(ev)


def event_text(ev: Event, full: bool = False, refused: bool = False) -> Text:
    """The event in words with the whole stored value of each field (in the pane one after the
    other, wrapped; ``full``: one a line, and where it is stored: sequence, reference, UTC, hash).
    ``refused``: an event that is not authentic, said first: what follows is only what it claims."""
    t = Text()
    if refused:
        t.append(f"{REFUSED}: never applied; it claims: ", style="bold reverse")
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


class _When(Text):
    """The When cell, which knows its event's seq: the rows of new events are put in place among
    those shown by ``DataTable.sort`` (the table cannot insert a row above others)."""

    __slots__ = ("seq",)


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
        self._loaded: dict[int, Event] = {}  # seq -> event, every row in the table
        self._order: list[int] = []  # the rows' seqs, top to bottom
        self._cells: dict[int, list[Text]] = {}
        self._layout: tuple[list[str], list[int]] = ([], [])  # the table's columns and widths
        self._match: dict[str, Any] = {}  # the filter as audit_page's arguments
        self._edge = 0  # the keyset bound of the next page (before= newest first, after= oldest first)
        self._top = 0  # newest first: the newest seq searched (new events are those after it)
        self._last = 0  # the log's (or the patient's) newest seq when the search began
        self._wanted = PAGE  # rows to load before the search rests
        self._done = False  # nothing more to read in the order shown
        self._run = 0  # the search under way (a newer filter or order ends the older one)
        self._stepping = False
        self._mrns: dict[str, str] = {}
        self._names: dict[str, tuple[str, str]] = {}
        self._filter_streams: list[tuple[str, str, str]] = []
        self._filtered = False

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(id="audit-title", classes="screen-title")
        yield Field(placeholder="/ filter: user, event, MRN, text", id="audit-filter", max_length=60)
        yield DataTable(id="audit", cursor_type="row")
        with VerticalScroll(id="audit-detail-box", classes="detail"):
            yield Static(id="audit-detail")
        yield Keys()

    def on_mount(self) -> None:
        self._index_patients()
        self.reload()
        self.set_focus(self.query_one("#audit", DataTable))

    def _index_patients(self) -> None:
        """MRN by stream, from the ledger's index (never by loading a patient), once per change."""
        entries = self.app.ledger.patients()
        self._mrns = {p.stream: p.mrn for p in entries}
        self._names = {p.stream: (p.id, p.name) for p in entries}
        self._filter_streams = [(p.stream, p.mrn.casefold(), p.name.casefold()) for p in entries]

    def _filter(self) -> dict[str, Any]:
        """The filter field as ``audit_page``'s filters: its text in the actor or the stored data, the
        kinds whose words hold it, the patients whose MRN or name does (one of them is enough)."""
        query = self.query_one("#audit-filter", Field).value.strip()
        match: dict[str, Any] = {} if self.pid is None else {"stream": intake.PATIENT_PREFIX + self.pid}
        self._filtered = bool(query)
        if query:
            folded = query.casefold()
            match.update(actor_like=query, text_like=query, kinds=words.kinds_matching(query))
            if self.pid is None:
                match["streams"] = [s for s, mrn, name in self._filter_streams if folded in mrn or folded in name]
        return match

    # -- reading the store -------------------------------------------------------------------------
    def reload(self) -> None:
        """Start again from the newest (or oldest) event: a new filter or order, or on opening."""
        self._run += 1
        self._match = self._filter()
        self._last = self.app.ledger.last_seq  # no further: what the ledger has not checked yet is not shown
        self._top = self._last
        self._edge = self._last + 1 if self.newest_first else 0
        self._done, self._wanted, self._stepping = False, PAGE, False
        self._loaded, self._order, self._cells = {}, [], {}
        self._layout = ([], [])
        self._step(self._run)

    @property
    def _windowed(self) -> bool:
        """A text filter over the whole log: each query reads one window of it."""
        return "stream" not in self._match and "text_like" in self._match

    def _step(self, run: int) -> None:
        """Read the next page (or, searching, the next window), show it, and go on later if the
        page is not full yet."""
        if run != self._run or not self.is_attached:
            return
        self._stepping = False
        need = self._wanted - len(self._order)
        if not self._done and need > 0:
            got = self._next(need)
            self._show(got, at_top=False)
            if not self._done and len(self._order) < self._wanted:
                self._stepping = True
                self.set_timer(STEP_SECONDS, partial(self._step, run))
        self._title()
        self.show_detail()

    def _next(self, need: int) -> list[Event]:
        """At most ``need`` matching events beyond the edge, moving the edge past what was read."""
        store, window = self.app.ledger.store, self._windowed
        if self.newest_first:
            low = max(0, self._edge - 1 - WINDOW) if window else 0
            got = store.audit_page(before=self._edge, after=low, limit=need, oldest_first=False, **self._match)
            if len(got) == need:
                self._edge = got[-1].seq
            else:
                self._edge, self._done = low + 1, low == 0
        else:
            high = min(self._edge + 1 + WINDOW, self._last + 1) if window else self._last + 1
            got = store.audit_page(after=self._edge, before=high, limit=need, oldest_first=True, **self._match)
            if len(got) == need:
                self._edge = got[-1].seq
            else:
                self._edge, self._done = high - 1, high == self._last + 1
        return got

    def ledger_changed(self) -> None:
        """Another terminal (or this one) wrote: show only what is new, never read the rows again."""
        self._index_patients()
        store = self.app.ledger.store
        last = self.app.ledger.last_seq
        if last <= self._last:
            self._title()
            return
        if self.newest_first:  # the new events go on top
            got = store.audit_page(after=self._top, before=last + 1, limit=PAGE + 1, oldest_first=False, **self._match)
            if len(got) > PAGE:  # more than a page arrived: start again from the newest
                self.reload()
                return
            self._top = self._last = last
            self._show(got, at_top=True)
        else:  # they go at the end: read on if the end was reached
            self._last = last
            if self._done:
                self._done = False
                self._wanted = max(self._wanted, len(self._order) + PAGE)
                if not self._stepping:
                    self._step(self._run)
                return
        self._title()
        self.show_detail()

    def on_screen_resume(self) -> None:
        if self._order or self._done:  # back from the full text, or another screen: what was written meanwhile
            self.ledger_changed()

    # -- the table -------------------------------------------------------------------------------
    def _row(self, ev: Event, seconds: bool) -> list[Text]:
        when = _When(fmt_local(ev.at, seconds=seconds), no_wrap=True, overflow="ellipsis")
        when.seq = ev.seq
        what = literal(REFUSED, style="bold reverse") if self._rejected(ev) else literal(describe(ev))
        cells = [when, literal(ev.actor), what]
        if self.pid is None:
            cells.append(literal(self._mrn(ev.stream)))
        cells.append(literal(details(ev)))
        for c in cells:
            c.no_wrap, c.overflow = True, "ellipsis"
        return cells

    def _mrn(self, stream: str) -> str:
        if stream in self._mrns:
            return self._mrns[stream]
        return "?" if stream.startswith(intake.PATIENT_PREFIX) else ""

    def _room(self) -> int:
        table = self.query_one("#audit", DataTable)
        return room_of(table) - table.styles.scrollbar_size_vertical  # room for a scrollbar

    def _fit(self) -> tuple[list[str], list[int]]:
        """The columns for the rows loaded (their content and the width), the Details column
        left out when too narrow for it (the pane below shows the fields)."""
        labels = ["When (local)", "Who", "What"] + ([] if self.pid else ["Patient"]) + ["Details"]
        rows = [self._cells[s] for s in self._order]
        natural = [max([cell_width(label)] + [cell_width(r[i]) for r in rows]) for i, label in enumerate(labels)]
        room = self._room()
        fixed = sum(w + CELL_PADDING for w in natural[:-1])
        if room - fixed < MIN_DETAILS + CELL_PADDING:
            return labels[:-1], fit_widths(natural[:-1], room)
        return labels, fit_widths(natural, room, flex=len(labels) - 1)

    def _show(self, got: Sequence[Event], at_top: bool) -> None:
        """Add ``got`` (in the order read) to the rows: at the end, or on top; the table is made
        again only when a column must change (a wider cell, a new width)."""
        seconds = self._room() >= SECONDS_FROM
        new = [ev for ev in got if ev.seq not in self._loaded]
        for ev in new:
            self._loaded[ev.seq] = ev
            self._cells[ev.seq] = self._row(ev, seconds)
        seqs = [ev.seq for ev in new]
        self._order = (seqs[::-1] + self._order) if at_top else (self._order + seqs)
        table = self.query_one("#audit", DataTable)
        layout = self._fit()
        if layout != self._layout or not table.columns:
            self._rebuild(layout)
            return
        if not new:
            return
        keep = self._cursor_seq()
        for seq in seqs:
            table.add_row(*self._cells[seq][: len(layout[0])], key=str(seq))
        if at_top:
            rank = {seq: i for i, seq in enumerate(self._order)}
            table.sort(key=lambda cells: rank[cells[0].seq])
            if keep is not None:
                table.move_cursor(row=rank[keep])

    def _rebuild(self, layout: tuple[list[str], list[int]]) -> None:
        """The table made again from the rows loaded (a page or a few: never the log)."""
        table = self.query_one("#audit", DataTable)
        keep = self._cursor_seq()
        labels, widths = layout
        self._layout = layout
        table.clear(columns=True)
        for label, width in zip(labels, widths, strict=True):
            table.add_column(label, width=width)
        for seq in self._order:
            table.add_row(*self._cells[seq][: len(labels)], key=str(seq))
        if keep in self._loaded:
            table.move_cursor(row=self._order.index(keep))

    def _cursor_seq(self) -> int | None:
        table = self.query_one("#audit", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def fill(self) -> None:
        """Lay the rows loaded out again for the width (a resize): no read of the store."""
        seconds = self._room() >= SECONDS_FROM
        self._cells = {seq: self._row(ev, seconds) for seq, ev in self._loaded.items()}
        self._rebuild(self._fit())
        self._title()
        self.show_detail()

    def _title(self) -> None:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("Audit · ")
        if self.pid is None:
            title.append("whole database")
            total = self._last
        else:
            name, mrn = self._patient_words()
            title.append(f"{printable(name)} · {printable(mrn)}")
            total = self.app.ledger.store.stream_version(self._match["stream"])
        n, order = len(self._order), "newest first" if self.newest_first else "oldest first"
        if not self._filtered:  # the rows shown of all
            title.append(f" · {n} of {total} events, {order}")
        elif self._done:  # the whole log searched: the count is exact
            title.append(f" · {n} of {total} events match, {order}")
        elif self._stepping:
            title.append(f" · {n} matching so far, searching {total} events…, {order}")
        else:
            title.append(f" · first {n} matching of {total} events shown, {order}")
        self.query_one("#audit-title", Static).update(shown_text(title))

    def _patient_words(self) -> tuple[str, str]:
        stream = self._match.get("stream", "")
        entry = self._names.get(stream)
        return (entry[1] if entry else "(not in the index)"), self._mrns.get(stream, "?")

    def selected(self) -> Event | None:
        seq = self._cursor_seq()  # the row under the cursor now (a filter may have run since)
        return None if seq is None else self._loaded.get(seq)

    def _rejected(self, ev: Event) -> bool:
        return self.app.ledger.refused(ev)

    def show_detail(self) -> None:
        ev = self.selected()
        if ev is not None:
            text = event_text(ev, refused=self._rejected(ev))
        elif self._stepping:
            text = Text("Searching…")
        else:
            text = Text("No event matches the filter.")
        self.query_one("#audit-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one("#audit", DataTable)
        if not self._done and not self._stepping and table.cursor_row >= table.row_count - NEAR_END:
            self._wanted = len(self._order) + PAGE
            self._step(self._run)
        self.show_detail()

    def on_resize(self) -> None:
        if self.is_mounted:
            self.call_after_refresh(self.fill)

    def on_input_changed(self, event: Field.Changed) -> None:
        self.reload()

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()  # the field already moved the focus on to the table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # already in the field: "/" is typed there
        return not (action == "filter" and self.focused is not None and self.focused.id == "audit-filter")

    def action_filter(self) -> None:
        self.set_focus(self.query_one("#audit-filter", Field))

    def action_order(self) -> None:
        self.newest_first = not self.newest_first
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        ev = self.selected()
        if ev is not None:
            head = f"Event {ev.seq}: {REFUSED if self._rejected(ev) else describe(ev)}"
            self.app.push_screen(TextScreen(head, event_text(ev, full=True, refused=self._rejected(ev))))

    def action_back(self) -> None:
        self.app.pop_screen()
