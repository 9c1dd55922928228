"""What every screen about one patient shares: both identifiers on top, and a redraw when the
event log changed (another terminal, or a form that was just saved); and the helpers that fit a
table's columns, the identity line and a list of keys to the terminal's width."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from bedside.core import intake
from bedside.tui.text import safe, shown

SEPARATOR = " │ "  # visible without colour: labels and values never run together
_MIN_NAME = 12  # cells of a long name kept before the sex, then the age, give way
CELL_PADDING = 2  # a DataTable column's padding (one cell either side)


def room_of(widget: Widget, padding: int = 0) -> int:
    """The cells ``widget`` has across: its laid-out width, else (before the first layout) the
    terminal's less ``padding``."""
    width = widget.content_size.width
    return width if width > 0 else max(widget.app.size.width - padding, 1)


def identity_line(p: intake.Patient, today, width: int | None = None) -> Text:
    """The two identifiers (name, DOB) with the MRN, shown on every patient screen:
    ``NAKAMURA, Ren │ MRN MRN-100590 │ DOB 1979-07-08 (47 y) │ Male``.

    Within ``width`` cells a long name is cut with "…" (the sex, then the age, give way first, so
    the name keeps at least 12 cells); the MRN and the DOB are never pushed off the line (in a
    terminal too narrow even for them and 12 cells of the name, the line wraps)."""
    ident = p.identity
    sex = dict(intake.SECTIONS["identity"].field("sex").choices).get(ident.get("sex"), "")
    dob = safe(ident.get("dob", "?"))
    age = f" ({intake.age_years(p.dob, today)} y)" if p.dob else ""
    mrn = ("MRN", safe(p.mrn))
    choices = [[mrn, ("DOB", dob + age)] + ([("", sex)] if sex else []), [mrn, ("DOB", dob + age)], [mrn, ("DOB", dob)]]
    name = Text(safe(p.name) or "(no name)", style="bold")
    parts = choices[0]
    if width is not None:
        parts = next((c for c in choices if min(name.cell_len, _MIN_NAME) + _parts_len(c) <= width), choices[-1])
        room = max(width - _parts_len(parts), _MIN_NAME)  # narrower still: the line wraps, nothing is lost
        if name.cell_len > room:
            name.truncate(room, overflow="ellipsis")
    t = Text()
    t.append_text(name)
    for label, value in parts:
        t.append(SEPARATOR, style="dim")
        if label:
            t.append(label + " ", style="dim")
        t.append(value, style="bold")
    return shown(t)


def _parts_len(parts: Sequence[tuple[str, str]]) -> int:
    return sum(cell_len(SEPARATOR) + cell_len(f"{label} " if label else "") + cell_len(value) for label, value in parts)


def fit_widths(natural: Sequence[int], room: int, flex: int | None = None, floor: int = 6) -> list[int]:
    """Content widths for columns whose contents need ``natural`` cells, within ``room`` cells
    (each column also takes ``CELL_PADDING``). The ``flex`` column takes what is left over, or
    gives way first (down to ``floor``); only then are the widest of the others narrowed."""
    widths = list(natural)
    spare = room - sum(w + CELL_PADDING for w in widths)
    if flex is not None:
        widths[flex] = max(widths[flex] + spare, min(floor, widths[flex]))
        spare = room - sum(w + CELL_PADDING for w in widths)
    while spare < 0:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= floor:
            break
        widths[widest] -= 1
        spare += 1
    return widths


def cell_width(value: object) -> int:
    text = value.plain if isinstance(value, Text) else str(value)
    return max((cell_len(line) for line in text.split("\n")), default=0)


def set_table(
    table: DataTable,
    labels: Sequence[str],
    rows: Iterable[tuple[str, Sequence[object]]],
    room: int,
    flex: int | None = None,
) -> None:
    """Fill ``table`` afresh with ``rows`` (key, cells), its columns sized to their content and to
    ``room`` cells (:func:`fit_widths`); a cell cut short ends in "…".

    The columns are made again each time with explicit widths, so the header row always lines up
    with the rows under it (a DataTable measures added rows later, after it may have drawn its
    header at the old widths)."""
    rows = list(rows)
    natural = [max([cell_len(label)] + [cell_width(cells[i]) for _key, cells in rows]) for i, label in enumerate(labels)]
    widths = fit_widths(natural, room, flex)
    table.clear(columns=True)
    for label, width in zip(labels, widths, strict=True):
        table.add_column(label, width=width)
    for key, cells in rows:
        table.add_row(*(_cut(c) for c in cells), key=key)


def _cut(value: object) -> object:
    if isinstance(value, Text):
        value.no_wrap, value.overflow = True, "ellipsis"
    return value


def key_lines(label: str, items: Sequence[str], width: int, style: str = "") -> Text:
    """``label`` and the ``items`` (each "key what it does"), joined by " · " and broken into lines
    of ``width`` cells only between items, never inside one."""
    indent = " " * cell_len(label)
    lines, line = [], label
    for item in items:
        joined = line + ("" if line == label else " · ") + item
        if cell_len(joined) + 2 > width and line not in (label, indent):  # room for a trailing " ·"
            lines.append(line + " ·")
            joined = indent + item
        line = joined
    lines.append(line)
    return Text("\n".join(lines), style=style)


class PatientView(Screen):
    """Subclasses compose a ``Static(id="identity")`` and implement :meth:`fill`."""

    def __init__(self, pid: str):
        super().__init__()
        self.pid = pid
        self._seen: int | None = None

    @property
    def patient(self) -> intake.Patient:
        return self.app.ledger.patient(self.pid)

    def refill(self) -> None:
        ledger = self.app.ledger
        self._seen = ledger.last_seq
        self.show_identity()
        self.fill()

    def show_identity(self) -> None:
        ident = self.query_one("#identity", Static)
        ident.update(identity_line(self.patient, self.app.ledger.today(), room_of(ident, padding=2)))

    async def as_role(self, role: str, why: str):
        """The signed-in user if they have ``role``; else someone of that role signs in here
        (None if cancelled)."""
        if self.app.user.role == role:
            return self.app.user
        from .dialogs import AuthScreen

        return await self.app.push_screen_wait(AuthScreen((role,), why))

    def fill(self) -> None:  # pragma: no cover - always overridden
        raise NotImplementedError

    def on_screen_resume(self) -> None:
        if self._seen != self.app.ledger.last_seq:  # redraw only when something changed
            self.refill()

    def on_resize(self) -> None:
        """A new terminal size: the identity line and the screen's tables fit it again."""
        if self.is_mounted and self._seen is not None:
            self.call_after_refresh(self.refill)

    def ledger_changed(self) -> None:
        self.refill()
