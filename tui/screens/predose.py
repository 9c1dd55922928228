"""The pre-dose check: one verdict in words, what is left to do (each with the one key that opens
its form, in the order it is done: core/predose/todo.py), and every finding with its value and
date, rule and action."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Header, Static

from bedside.core import predose as pd
from bedside.core import rules
from bedside.core.clock import fmt_local
from bedside.core.commands import Refusal
from bedside.core.text import with_article

from ..palette import HEADER_ICON
from ..text import literal, shown
from ..widgets.field import ErrorLine, Field
from ..widgets.keys import Keys
from .base import CELL_PADDING, PatientView, cell_width, room_of
from .dialogs import FieldsDialog

RESULT = {
    "pass": "✓ pass",
    "hold": "✗ HOLD",
    "needs_confirmation": "? CONFIRM",
    "discontinue": "✗✗ STOP",
    "info": "i info",
    "missing": "✗ MISSING",
    "reduce": "↓ reduce",
}
OVERRIDDEN = "✓ overridden"
ROW_ORDER = {"discontinue": 0, "hold": 1, "missing": 1, "needs_confirmation": 2, "reduce": 3, "info": 4, "pass": 5}
COLUMNS = ("Result", "Check", "Value (date)", "Rule")
VALUE_FLOOR = 20  # cells the value keeps however narrow the terminal
CHECK_FLOOR = 20  # cells the Check column keeps at 80 columns before the value gives way (the pane shows all)

#: The one key that opens the form of each kind of to-do item (core/predose/todo.py); every one is
#: a binding of this screen. The schedule's reasons are dealt with on the timeline (escape).
TASK_KEYS = {
    pd.TodoKind.IDENTITY: "n",
    pd.TodoKind.CONSENT: "c",
    pd.TodoKind.REPRODUCTIVE: "r",
    pd.TodoKind.LABS: "L",
    pd.TodoKind.BLASTS: "b",
    pd.TodoKind.WEIGHT: "h",
    pd.TodoKind.ECG: "e",
    pd.TodoKind.CONFIRM: "o",
    pd.TodoKind.PREPARATION: "p",
    pd.TodoKind.CHECKLIST: "k",
    pd.TodoKind.PREMED: "m",
    pd.TodoKind.SCHEDULE: "escape",
}
KEY_SHOWN = {"escape": "esc"}


def required(*names):
    def validate(raw):
        errs = {n: "Required." for n in names if not (raw.get(n) or "").strip()}
        return ({k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}, {}) if not errs else (None, errs)

    return validate


def check_cells(c: pd.Check) -> tuple[str, str, str, str]:
    """A finding as the table shows it: result, name, value with its date, the first rule (+ more)."""
    result = OVERRIDDEN if c.overridden else RESULT.get(c.result, c.result)
    value = c.value
    if c.date_used and c.date_used.isoformat() not in value:
        value += f" ({c.date_used.isoformat()})"
    rule = c.rule_ids[0] + (f" +{len(c.rule_ids) - 1}" if len(c.rule_ids) > 1 else "") if c.rule_ids else "—"
    return result, c.name, value, rule


def column_widths(natural: list[int], room: int, floor: int) -> list[int]:
    """The four columns' widths within ``room`` cells (each also has its padding): the result and
    the rule keep theirs; the name gives way first, down to 4/5 of the value's width and then to
    ``floor``, the value only after it (to ``VALUE_FLOOR``); a wide terminal shows them whole."""
    result, name, value, rule = natural
    spare = room - (result + rule + 4 * CELL_PADDING)
    while name + value > spare:
        if name > floor and name * 5 > value * 4:
            name -= 1
        elif value > VALUE_FLOOR:
            value -= 1
        elif name > floor:
            name -= 1
        else:
            break
    return [result, name, value, rule]


def distinct_width(names: list[str], floor: int) -> int:
    """The narrowest width (at least ``floor``) at which names cut with "…" still tell apart
    ("Premedication: antip…", "Premedication: antih…")."""
    width = floor
    longest = max((cell_len(n) for n in names), default=0)
    while width < longest:
        cut = [n if cell_len(n) <= width else n[: width - 1] for n in names]
        if len(set(cut)) == len(set(names)):
            break
        width += 1
    return width


def _cut(value: Text) -> Text:
    """A cell cut short ends in "…" (the pane below shows it whole, wrapped)."""
    value.no_wrap, value.overflow = True, "ellipsis"
    return value


class _Lines:
    """Styled pieces laid out in lines of ``width`` cells: a piece is never cut, a word never
    broken, and every line after the first starts ``indent`` cells in."""

    def __init__(self, text: Text, width: int, indent: int, start: int):
        self.t, self.width, self.indent, self.col = text, width, indent, start
        self.hang = 0  # a wrapped item's words go on under its text, past its key

    def newline(self, extra: int = 0) -> None:
        self.t.append("\n" + " " * (self.indent + extra))
        self.col = self.indent + extra

    def put(self, piece: str, style: str = "", word: bool = False) -> None:
        if self.col + cell_len(piece) > self.width and self.col > self.indent:
            self.newline(self.hang if word else 0)
            piece = piece.lstrip(" ") if word else piece
        self.t.append(piece, style=style)
        self.col += cell_len(piece)

    def words(self, text: str) -> None:
        for i, w in enumerate(text.split(" ")):
            self.put((" " if i else "") + w, word=True)

    def item(self, key: str | None, text: str) -> None:
        self.hang = 0
        if key:
            chip = f" {KEY_SHOWN.get(key, key)} "
            self.put(chip, style="reverse bold")
            self.put(" ")
            self.hang = cell_len(chip) + 1
        self.words(text)


def todo_text(todo: pd.Todo, width: int) -> Text:
    """The to-do list in one block: each item as its key and what it is, joined by " · ", an item
    starting a new line when it does not fit on this one (a longer one wraps under its own text);
    what blocks the dose first, one a line."""
    t = Text()
    for item in todo.blocked:
        t.append("⚠ ", style="bold")
        _Lines(t, width, 2, 2).item(TASK_KEYS.get(item.kind), item.text)
        t.append("\n")
    if not todo.items:
        if todo.done and todo.recorded:
            t.append("✓ " + todo.summary, style="bold")
            t.append(" Next: the infusion monitor (escape, then ")
            t.append(" i ", style="reverse bold")
            t.append(" on the timeline).")
        elif todo.done and not todo.given:
            t.append("✓ Nothing left to do: ", style="bold")
            t.append(" v ", style="reverse bold")
            t.append(f" records the verdict ({todo.overall}).")
        else:
            t.append(todo.summary)
        return t
    label = "To do: "
    t.append(label, style="bold")
    lines = _Lines(t, width, cell_len(label), cell_len(label))
    for i, item in enumerate(todo.items):
        key = TASK_KEYS[item.kind]
        size = cell_len(f" {KEY_SHOWN.get(key, key)}  {item.text}")
        if i and lines.col + 3 + size > width:
            lines.newline()  # the next item on a line of its own
        elif i:
            lines.put(" · ")
        lines.item(key, item.text)
    return t


class PremedsDialog(ModalScreen["pd.RecordPremeds | None"]):
    """Premedication in one form (PRE-1): a row per class, one time given for them all.

    What is offered for each class (the previous dose's, else the site protocol: core/predose/
    premeds.py) is shown under its row and taken into the form only with ctrl+o (PRE-2: a site
    template is never filled in by itself); the nurse checks it and saves. Dismissed with the
    command, checked by core's decision (a dry run) before it closes."""

    BINDINGS = [
        Binding("ctrl+o", "take_offer", "Take the offer"),
        Binding("ctrl+s", "save", "Record"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, pid: str, cycle: int, day: int, offers: tuple[pd.PremedOffer, ...], now_text: str):
        super().__init__()
        self.pid, self.cycle, self.day, self.offers, self.now_text = pid, cycle, day, offers, now_text

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog premeds"):
            yield Static("Premedication given (PRE-1)", classes="box-title")
            yield Static(
                "Corticosteroid + antipyretic + antihistamine before every dose. A row left empty records nothing."
                + ("" if self.offered else " Nothing to offer: no premedication at an earlier dose, no site protocol."),
                classes="hint",
            )
            with Horizontal(classes="frow"):
                yield Static("Class", classes="pm-class")
                yield Static("Drug", classes="pm-head")
                yield Static("Dose and route", classes="pm-head")
            for o in self.offers:
                with Horizontal(classes="frow"):
                    yield Static(o.drug_class.capitalize(), classes="pm-class")
                    yield Field(id=f"f-{o.drug_class}-drug", max_length=80)
                    yield Field(id=f"f-{o.drug_class}-dose", max_length=80)
                line = self._offer_line(o)
                yield Static(line, id=f"o-{o.drug_class}", classes="hint pm-offer").set_styles(
                    "display: block;" if line.plain else "display: none;"
                )
                yield ErrorLine(id=f"e-{o.drug_class}")
            with Horizontal(classes="frow"):
                yield Static("Given at (HH:MM)", classes="pm-class")
                yield Field(value=self.now_text, id="f-time", max_length=5, restrict=r"[0-9:]*")
            yield ErrorLine(id="e-time")
            yield ErrorLine(id="e-form")
            keys = ("ctrl+o takes the offer · " if self.offered else "") + "ctrl+s records · escape cancels"
            yield Static(keys, classes="hint")
        yield Keys()

    @staticmethod
    def _offer_line(o: pd.PremedOffer) -> Text:
        t = Text()
        if o.recorded:
            t.append(f"recorded at this dose: {o.recorded}")
        if o.source:
            t.append(("; " if o.recorded else "") + f"offered ({o.source}): {o.drug} {o.dose}")
        return literal(t.plain)

    @property
    def offered(self) -> bool:
        return any(o.source for o in self.offers)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """ctrl+o is shown (and works) only when there is something to take."""
        return self.offered if action == "take_offer" else True

    def on_mount(self) -> None:
        self.set_focus(self.query_one(f"#f-{self.offers[0].drug_class}-drug"))

    def on_input_submitted(self, event) -> None:
        event.stop()  # the field already moved the focus on

    def action_take_offer(self) -> None:
        """ctrl+o: each offered class whose row is still empty takes the offer (the nurse checks it)."""
        taken = []
        for o in self.offers:
            drug, dose = self.query_one(f"#f-{o.drug_class}-drug", Field), self.query_one(f"#f-{o.drug_class}-dose", Field)
            if o.source and not drug.value.strip() and not dose.value.strip():
                drug.value, dose.value = o.drug, o.dose
                taken.append(o)
        sources = ", ".join(dict.fromkeys(o.source for o in taken))
        self.query_one("#e-form", ErrorLine).say(
            f"Offer taken ({sources}): check each row against what was given, then ctrl+s." if taken else ""
        )

    def command(self) -> pd.RecordPremeds:
        rows = tuple(
            pd.PremedRow(
                o.drug_class,
                self.query_one(f"#f-{o.drug_class}-drug", Field).value,
                self.query_one(f"#f-{o.drug_class}-dose", Field).value,
            )
            for o in self.offers
        )
        return pd.RecordPremeds(self.pid, self.cycle, self.day, rows, self.query_one("#f-time", Field).value)

    def action_save(self) -> None:
        cmd = self.command()
        answer = self.app.ledger.decide(cmd, self.app.actor)
        text = answer.text if isinstance(answer, Refusal) else ""
        where = next((o.drug_class for o in self.offers if text.startswith(o.drug_class.capitalize())), None)
        if where is None and text:
            where = "time" if text.startswith(("Time", "Given at")) else "form"
        for name in [o.drug_class for o in self.offers] + ["time", "form"]:
            self.query_one(f"#e-{name}", ErrorLine).say(text if name == where else "")
        if text:
            focus = f"#f-{where}-drug" if where not in ("time", "form") else "#f-time" if where == "time" else None
            if focus:
                self.set_focus(self.query_one(focus))
            return
        self.dismiss(cmd)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PredoseScreen(PatientView):
    BINDINGS = [
        Binding("n", "identity", "Identity"),
        Binding("L", "labs", "Labs"),
        Binding("e", "tests", "ECG/lytes"),
        Binding("m", "premed", "Premed"),
        Binding("o", "override", "Override"),
        Binding("v", "record_verdict", "Verdict"),
        Binding("c", "consent", "Consent", show=False),
        Binding("r", "reproductive", "Reproductive status", show=False),
        Binding("b", "blasts", "Peripheral blasts", show=False),
        Binding("h", "measurement", "Height and weight", show=False),
        Binding("p", "prepare", "Preparation", show=False),
        Binding("k", "checklist", "Emergency checklist", show=False),
        Binding("t", "toxicity", "Toxicity", show=False),
        Binding("B", "bilirubin_cause", "Gilbert's/hemolysis", show=False),
        Binding("T", "transfusion", "Transfusion before a lab count", show=False),
        Binding("w", "boxed_warning", "Boxed warning", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, pid: str, cycle: int, day: int):
        super().__init__(pid)
        self.cycle, self.day = cycle, day
        self._placed: str | None = None  # the finding the screen put the cursor on (not one the user chose)

    def verdict(self) -> pd.Verdict:
        """The verdict computed by core, read from the patient's projection (once per view)."""
        return pd.predose_verdict(self.app.ledger.view(self.pid), self.cycle, self.day)

    def todo(self) -> pd.Todo:
        """What is left to do, in order (core/predose/todo.py)."""
        return pd.dose_todo(self.app.ledger.view(self.pid), self.cycle, self.day)

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(id="identity", classes="identity")
        yield Static(id="pd-verdict", classes="verdict")
        yield Static(id="pd-todo")
        yield DataTable(id="checks", cursor_type="row")
        yield Static(id="pd-detail", classes="detail")
        yield Keys()

    def on_mount(self) -> None:
        self.refill()
        self.set_focus(self.query_one("#checks", DataTable))

    def fill(self) -> None:
        v = self.verdict()
        self._v = v
        head = Text()
        head.append(f" {v.overall} ", style="bold reverse")
        dose = self.app.ledger.view(self.pid).timeline.dose(self.cycle, self.day)
        head.append(f"  Pre-dose check C{self.cycle} D{self.day}" + (f", planned {dose.planned}" if dose else ""))
        if (self.cycle, self.day) == (1, 1):
            head.append("\n⚠ BOX-1: hepatotoxicity incl. VOD; higher post-HSCT non-relapse mortality (w)", style="bold")
        self.query_one("#pd-verdict", Static).update(shown(head))
        todo_box = self.query_one("#pd-todo", Static)
        self._todo = self.todo()
        todo_box.update(shown(todo_text(self._todo, room_of(todo_box, padding=2))))
        self._fill_table(v)
        self.show_detail()

    def _fill_table(self, v: pd.Verdict) -> None:
        t = self.query_one("#checks", DataTable)
        keep = t.cursor_row
        checks = sorted(v.checks, key=lambda c: ROW_ORDER.get(c.result, 9))
        rows = [(c.key, tuple(literal(x) for x in check_cells(c))) for c in checks]
        room = room_of(t) - t.styles.scrollbar_size_vertical  # room for a scrollbar
        natural = [max([cell_len(label)] + [cell_width(cells[i]) for _key, cells in rows]) for i, label in enumerate(COLUMNS)]
        floor = min(natural[1], distinct_width([c.name for c in checks], CHECK_FLOOR))
        widths = column_widths(natural, room, floor)
        t.clear(columns=True)  # made again with explicit widths: the header always lines up with the rows
        for label, width in zip(COLUMNS, widths, strict=True):
            t.add_column(label, width=width)
        for key, cells in rows:
            t.add_row(*(_cut(c) for c in cells), key=key)
        if t.row_count:
            t.move_cursor(row=min(max(keep, 0), t.row_count - 1))
        self._placed = rows[t.cursor_row][0] if rows else None  # where the cursor was put, not chosen

    def current(self) -> pd.Check | None:
        t = self.query_one("#checks", DataTable)
        if not t.row_count:
            return None
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        return next((c for c in self._v.checks if c.key == key), None)

    def on_data_table_row_highlighted(self, event) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """The highlighted finding in full, wrapped: name, result and value; what to do; the rules
        and who may override."""
        c = self.current()
        t = Text()
        if c is not None:
            t.append(f"{c.name}: ", style="bold")
            t.append(OVERRIDDEN if c.overridden else RESULT.get(c.result, c.result))
            t.append((f" · {check_cells(c)[2]}" if c.value else "") + "\n")
            if c.action:
                t.append("What to do: ", style="bold")
                t.append(c.action + "\n")
            if c.override:
                t.append(f"Overridden by {c.override.user} ({c.override.role}): ")
                t.append(c.override.reason + "\n")
            t.append("Rules: " + (", ".join(c.rule_ids) or "site practice (no label rule)"), style="dim")
            if c.overridable_by and c.result not in ("pass", "info"):
                t.append(f" · {with_article(c.overridable_by).capitalize()} may override with a reason (o).")
            elif c.result in ("hold", "missing", "discontinue"):
                t.append(" · No override (§16.1): enter new data or correct the facts.", style="dim")
        self.query_one("#pd-detail", Static).update(shown(t))

    # -- recording: each key sends a command (core/predose/commands.py) -----------------------
    def _execute(self, cmd, actor: str | None = None) -> list | None:
        """Carry out ``cmd`` for ``actor`` (the signed-in user by default); a refusal is shown."""
        try:
            return self.app.ledger.execute(cmd, actor or self.app.actor)
        except ValueError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return None
        finally:
            self.refill()

    def _dry_run(self, cmd, fields: dict[str, str], default: str) -> dict[str, str]:
        """The decision's own words for a form, next to the field they name ({} if accepted)."""
        answer = self.app.ledger.decide(cmd, self.app.actor)
        if not isinstance(answer, Refusal):
            return {}
        text = answer.text
        return {next((f for prefix, f in fields.items() if text.startswith(prefix)), default): text}

    @work(exclusive=True)
    async def action_identity(self) -> None:
        """n: the wristband (scanned: its MRN, GSRN or the site's code; or the MRN typed), then the
        name and date of birth as the patient states them: compared with the record shown (one key),
        or typed for the check to compare."""
        p = self.patient
        fields = [
            ("mrn", "Wristband (scan) or MRN", "text"),
            (
                "stated",
                "Stated name and DOB",
                "choice",
                [("match the record", "match"), ("do not match", "mismatch"), ("typed below", "typed")],
            ),
            ("name", "Full name (typed)", "text"),
            ("dob", "DOB (YYYY-MM-DD, typed)", "text"),
        ]

        def command(raw) -> pd.ConfirmIdentity:
            stated = raw.get("stated") or ""
            return pd.ConfirmIdentity(
                self.pid,
                self.cycle,
                self.day,
                raw.get("name") or "",
                raw.get("dob") or "",
                raw.get("mrn") or "",
                stated=stated if stated != "typed" else "",
            )

        def validate(raw):
            _data, errs = required("mrn", "stated")(raw)
            if not errs and raw.get("stated") == "typed":
                _data, errs = required("name", "dob")(raw)
            if errs:
                return None, errs
            errs = self._dry_run(
                command(raw),
                {"Full name": "name", "Date of birth": "dob", "Wristband": "mrn", "Name and date of birth": "stated"},
                "mrn",
            )
            return (None, errs) if errs else (raw, {})

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Confirm both identifiers with the patient and the wristband",
                fields,
                validate,
                note=(
                    "Scan the wristband. Ask the patient to state their name and date of birth; compare"
                    f" with the record: {p.name} · {p.dob.isoformat() if p.dob else '?'}. Or type what they say."
                ),
            )
        )
        if ans:
            self._execute(command(ans))

    @work(exclusive=True)
    async def action_transfusion(self) -> None:
        """T: whether a platelet transfusion came before a count the laboratory sent (CONV-HEM-3):
        its message does not say, so the count is not used for dosing until someone answers."""
        from bedside.core.labs import AnswerTransfusion

        counts = [
            e
            for e in reversed(self.patient.history("labs"))
            if e.data.get("source") == "laboratory" and e.data.get("platelets") not in (None, "")
        ][:6]
        if not counts:
            self.notify("No platelet count from the laboratory: a typed count answers this on its form (L).", timeout=8)
            return
        options = [
            (
                f"{e.data.get('collected_on')} · {e.data['platelets']} × 10⁹/L · "
                + {"no": "answered: no", "yes": "answered: yes"}.get(e.data.get("platelet_transfusion"), "not answered"),
                str(e.version),
            )
            for e in counts
        ]
        first = next((e for e in counts if e.data.get("platelet_transfusion") in (None, "")), counts[0])

        def command(raw) -> AnswerTransfusion:
            return AnswerTransfusion(self.pid, int(raw["entry"]), raw.get("answer") or "")

        def validate(raw):
            _data, errs = required("entry", "answer")(raw)
            if errs:
                return None, errs
            errs = self._dry_run(command(raw), {}, "answer")
            return (None, errs) if errs else (raw, {})

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Platelet transfusion before the laboratory's count? (CONV-HEM-3)",
                [
                    ("entry", "Count", "choice", options),
                    ("answer", "Transfusion before it", "choice", [("No", "no"), ("Yes", "yes")]),
                ],
                validate,
                note="Dosing uses a count taken before any platelet transfusion (MOD-HEM-5). Check the "
                "transfusion record; a count after one is kept but not used.",
                values={"entry": str(first.version)},
            )
        )
        if ans and self._execute(command(ans)):
            self.notify(f"Recorded: platelet transfusion before that count: {ans['answer']}.")

    @work(exclusive=True)
    async def action_premed(self) -> None:
        """m: every class given together in one form (RecordPremeds, PRE-1)."""
        ledger = self.app.ledger
        offers = pd.premed_offer(ledger.view(self.pid), self.cycle, self.day)
        cmd = await self.app.push_screen_wait(
            PremedsDialog(self.pid, self.cycle, self.day, offers, fmt_local(ledger.clock.now(), day=False))
        )
        if cmd is None:
            return
        try:  # a time the clocks repeated is taken as the earlier: say so (CONV-TIME-1)
            note = pd.premed_given_at(cmd.time, ledger.clock.now())[1]
        except ValueError:
            note = ""
        stored = self._execute(cmd)
        if stored:
            classes = ", ".join(ev.payload.drug_class for ev in stored)
            self.notify(f"Premedication recorded: {classes}." + (f" {note}" if note else ""))

    @work(exclusive=True)
    async def action_toxicity(self) -> None:
        grades = [(f"Grade {g}", str(g)) for g in pd.TOXICITY_GRADES]

        def command(raw) -> pd.RecordToxicity:
            return pd.RecordToxicity(
                self.pid,
                raw["term"] or "",
                int(raw["grade"] or 0),
                raw["onset"] or "",
                raw["kind"] == "hematologic",
                raw.get("attribution") or "",
            )

        def validate(raw):
            _data, errs = required("term", "grade", "onset", "kind")(raw)
            if errs:
                return None, errs
            errs = self._dry_run(command(raw), {"CTCAE term": "term", "Grade": "grade", "Attribution": "attribution"}, "onset")
            return (None, errs) if errs else (raw, {})

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                f"Record a toxicity (CTCAE v{rules.CTCAE_VERSION}, MOD-NH-6)",
                [
                    ("term", "CTCAE term", "text"),
                    ("grade", "Grade", "choice", grades),
                    ("onset", "Onset (YYYY-MM-DD)", "text"),
                    ("kind", "Type", "choice", [("Non-hematologic", "non_hematologic"), ("Hematologic", "hematologic")]),
                    ("attribution", "Attribution (optional)", "text"),
                ],
                validate,
                values={"onset": self.app.ledger.today().isoformat()},
            )
        )
        if ans:
            self._execute(command(ans))

    @work(exclusive=True)
    async def action_tests(self) -> None:
        tests = {"ecg": pd.RecordEcg, "electrolytes": pd.RecordElectrolytes}

        def validate(raw):
            _data, errs = required("test", "date")(raw)
            if errs:
                return None, errs
            errs = self._dry_run(tests[raw["test"]](self.pid, raw["date"]), {}, "date")
            return (None, errs) if errs else (raw, {})

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Baseline ECG and electrolytes (PRE-6)",
                [
                    ("test", "Test", "choice", [("ECG", "ecg"), ("Electrolytes", "electrolytes")]),
                    ("date", "Date (YYYY-MM-DD)", "text"),
                ],
                validate,
                values={"date": self.app.ledger.today().isoformat()},
            )
        )
        if ans:
            self._execute(tests[ans["test"]](self.pid, ans["date"]))

    @work(exclusive=True)
    async def action_checklist(self) -> None:
        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Emergency drugs and equipment available? (PRE-10, never blocks)",
                [("ready", "Ready", "choice", [("Yes", "yes"), ("No", "no")])],
                required("ready"),
            )
        )
        if ans:
            self._execute(pd.RecordChecklist(self.pid, self.cycle, self.day, ans["ready"] == "yes"))

    def _overridable(self) -> pd.Check | None:
        """What o overrides: the finding the user highlighted, if it may be overridden; else (the
        cursor is where the screen put it) the first the to-do list asks a prescriber to confirm,
        the cursor moving to it so the form names what it overrides."""
        c = self.current()
        item = self._todo.item(pd.TodoKind.CONFIRM)
        chosen = c is not None and c.key != self._placed
        if pd.overridable(c) and (chosen or item is None or c.key in item.checks):
            return c
        if item is None:
            return c
        t = self.query_one("#checks", DataTable)
        keys = [t.coordinate_to_cell_key((i, 0)).row_key.value for i in range(t.row_count)]
        if item.checks[0] in keys:
            t.move_cursor(row=keys.index(item.checks[0]))
            self._placed = item.checks[0]
        return self._v.check(item.checks[0])

    @work(exclusive=True)
    async def action_override(self) -> None:
        c = self._overridable()
        if not pd.overridable(c):
            self.notify(
                "This check cannot be overridden (§16.1): enter new data or correct the facts.", severity="warning", timeout=8
            )
            return
        ans = await self.app.push_screen_wait(
            FieldsDialog(
                f"Override: {c.name} ({c.overridable_by})",
                [("reason", "Reason", "text")],
                required("reason"),
                note=f"Rule {c.override_rule or ', '.join(c.rule_ids)}. Recorded with your name and role.",
            )
        )
        if not ans:
            return
        # The role the check names signs in here if the signed-in user has another (CONV-OVR-1);
        # the decision reads the role from the users log and refuses anyone else.
        user = await self.as_role(c.overridable_by, f"{c.name}: only {with_article(c.overridable_by)} may override (CONV-OVR-1).")
        if user is not None:
            self._execute(pd.OverrideCheck(self.pid, self.cycle, self.day, c.key, ans["reason"]), user.username)

    @work(exclusive=True)
    async def action_bilirubin_cause(self) -> None:
        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "What the bilirubin rise is due to (CONV-LAB-2; a prescriber confirms)",
                [("cause", "Cause", "choice", [("Gilbert's syndrome", "gilbert"), ("Hemolysis", "hemolysis")])],
                required("cause"),
            )
        )
        if not ans:
            return
        user = await self.as_role(pd.BILIRUBIN_CAUSE_ROLE, "A prescriber confirms the cause.")
        if user:
            self._execute(pd.RecordBilirubinCause(self.pid, ans["cause"]), user.username)

    # -- forms that live elsewhere, opened from here; closing them comes back to this check -----
    def _intake(self, section: str) -> None:
        """The patient screen's form for one intake section (saved or cancelled: back here, redrawn)."""
        from .intake_form import FormScreen

        self.app.push_screen(FormScreen(section, self.pid))

    def action_labs(self) -> None:
        self._intake("labs")

    def action_measurement(self) -> None:
        self._intake("measurement")

    def action_blasts(self) -> None:
        self._intake("blasts")

    def action_consent(self) -> None:
        self._intake("consent")

    def action_reproductive(self) -> None:
        self._intake("reproductive")

    def action_prepare(self) -> None:
        """p: the dose's preparation, as the timeline's p opens it (escape comes back here)."""
        from .preparation import DoseRef, PreparationScreen

        d = self.app.ledger.view(self.pid).timeline.dose(self.cycle, self.day)
        if d is None or d.level is None:
            self.notify(
                f"C{self.cycle} D{self.day}: no level yet ({d.level_basis if d else 'not on the timeline'}).",
                severity="error",
                timeout=10,
            )
            return
        blind = f"cycle {d.cycle} day {d.day}; {'reduced (see timeline)' if d.reduced else 'no reduction'}"
        self.app.push_screen(PreparationScreen(self.pid, DoseRef(d.cycle, d.day, d.level, d.level_basis, blind)))

    def action_boxed_warning(self) -> None:
        from .dialogs import boxed_warning_screen

        self.app.push_screen(boxed_warning_screen())

    def action_record_verdict(self) -> None:
        stored = self._execute(pd.RecordVerdict(self.pid, self.cycle, self.day))
        if stored:
            self.notify(f"Verdict {stored[0].payload.overall} recorded.")

    def action_back(self) -> None:
        self.app.pop_screen()
