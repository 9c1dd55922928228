"""The pre-dose check: one verdict in words with every check, its value and date, rule and action."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from bedside.core import predose as pd
from bedside.core import rules
from bedside.core.clock import fmt_local
from bedside.core.commands import Refusal

from ..text import literal, shown
from .base import PatientView
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


def required(*names):
    def validate(raw):
        errs = {n: "Required." for n in names if not (raw.get(n) or "").strip()}
        return ({k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}, {}) if not errs else (None, errs)

    return validate


class PredoseScreen(PatientView):
    BINDINGS = [
        Binding("n", "identity", "Identity"),
        Binding("m", "premed", "Premed"),
        Binding("t", "toxicity", "Toxicity"),
        Binding("e", "tests", "ECG/lytes"),
        Binding("k", "checklist", "Checklist", show=False),
        Binding("o", "override", "Override"),
        Binding("B", "bilirubin_cause", "Gilbert's", show=False),
        Binding("v", "record_verdict", "Record verdict"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, pid: str, cycle: int, day: int):
        super().__init__(pid)
        self.cycle, self.day = cycle, day

    def verdict(self) -> pd.Verdict:
        """The verdict computed by core, read from the patient's projection (once per view)."""
        return pd.predose_verdict(self.app.ledger.view(self.pid), self.cycle, self.day)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="identity", classes="identity")
        yield Static(id="pd-verdict", classes="verdict")
        yield DataTable(id="checks", cursor_type="row")
        yield Static(id="pd-detail", classes="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        t = self.query_one("#checks", DataTable)
        t.add_columns("Result", "Check", "Value (date)", "Rule")
        self.refill()
        self.set_focus(t)

    def fill(self) -> None:
        v = self.verdict()
        self._v = v
        head = Text()
        head.append(f" {v.overall} ", style="bold reverse")
        dose = self.app.ledger.view(self.pid).timeline.dose(self.cycle, self.day)
        head.append(f"  Pre-dose check C{self.cycle} D{self.day}" + (f", planned {dose.planned}" if dose else ""))
        if (self.cycle, self.day) == (1, 1):
            head.append(
                "\n⚠ BOX-1: hepatotoxicity incl. VOD; higher post-HSCT non-relapse mortality (w on the patient screen).",
                style="bold",
            )
        self.query_one("#pd-verdict", Static).update(shown(head))
        t = self.query_one("#checks", DataTable)
        keep = t.cursor_row
        t.clear()
        order = {"discontinue": 0, "hold": 1, "missing": 1, "needs_confirmation": 2, "reduce": 3, "info": 4, "pass": 5}
        for c in sorted(v.checks, key=lambda c: order.get(c.result, 9)):
            res = RESULT.get(c.result, c.result) + (" (overridden)" if c.overridden else "")
            val = c.value + (f" ({c.date_used})" if c.date_used else "")
            name = c.name if len(c.name) <= 27 else c.name[:26] + "…"
            val = val if len(val) <= 20 else val[:19] + "…"
            t.add_row(res, literal(name), literal(val), ", ".join(c.rule_ids)[:12], key=c.key)
        if t.row_count:
            t.move_cursor(row=min(max(keep, 0), t.row_count - 1))
        self.show_detail()

    def current(self) -> pd.Check | None:
        t = self.query_one("#checks", DataTable)
        if not t.row_count:
            return None
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        return next((c for c in self._v.checks if c.key == key), None)

    def on_data_table_row_highlighted(self, event) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        c = self.current()
        t = Text()
        if c is not None:
            t.append(f"{c.name}: ", style="bold")
            t.append(RESULT.get(c.result, c.result) + "\n")
            if c.value:
                t.append(c.value + (f" ({c.date_used})" if c.date_used else "") + "\n")
            if c.action:
                t.append("What to do: ", style="bold")
                t.append(c.action + "\n")
            t.append("Rules: " + (", ".join(c.rule_ids) or "site practice (no label rule)") + "\n", style="dim")
            if c.overridable_by and c.result not in ("pass", "info"):
                t.append(f"A {c.overridable_by} may override with a reason (o).\n")
            elif c.result in ("hold", "missing", "discontinue"):
                t.append("No override (§16.1): enter new data or correct the facts.\n", style="dim")
            if c.override:
                t.append(f"Overridden by {c.override.user} ({c.override.role}): ")
                t.append(c.override.reason + "\n")
        t.append("k records the emergency-readiness checklist (PRE-10)", style="dim")
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
        fields = [
            ("name", "Full name", "text"),
            ("dob", "Date of birth (YYYY-MM-DD)", "text"),
            ("mrn", "MRN (type or scan)", "text"),
            ("method", "How", "choice", [("Typed", "typed"), ("Scanned", "scanned")]),
        ]

        def command(raw) -> pd.ConfirmIdentity:
            return pd.ConfirmIdentity(
                self.pid, self.cycle, self.day, raw["name"] or "", raw["dob"] or "", raw["mrn"] or "", raw["method"] or ""
            )

        def validate(raw):
            _data, errs = required("name", "dob", "mrn", "method")(raw)
            if errs:
                return None, errs
            errs = self._dry_run(
                command(raw), {"Full name": "name", "Date of birth": "dob", "MRN": "mrn", "How": "method"}, "mrn"
            )
            return (None, errs) if errs else (raw, {})

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Confirm both identifiers with the patient and the wristband",
                fields,
                validate,
                note="Ask the patient; do not copy from the screen. The check compares with the record.",
            )
        )
        if ans:
            self._execute(command(ans))

    @work(exclusive=True)
    async def action_premed(self) -> None:
        classes = [(c.capitalize(), c) for c in rules.PREMED_CLASSES]
        now = self.app.ledger.clock.now()

        def command(raw) -> pd.RecordPremed:
            return pd.RecordPremed(
                self.pid, self.cycle, self.day, raw["drug_class"] or "", raw["drug"] or "", raw["dose"] or "", raw["time"] or ""
            )

        def validate(raw):
            _data, errs = required("drug_class", "drug", "dose", "time")(raw)
            if errs:
                return None, errs
            errs = self._dry_run(command(raw), {"Class": "drug_class", "Drug": "drug", "Dose": "dose"}, "time")
            return (None, errs) if errs else (raw, {})

        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Premedication given (PRE-1)",
                [
                    ("drug_class", "Class", "choice", classes),
                    ("drug", "Drug", "text"),
                    ("dose", "Dose and route", "text"),
                    ("time", "Given at (HH:MM)", "text"),
                ],
                validate,
                values={"time": fmt_local(now, day=False)},
                note="Corticosteroid + antipyretic + antihistamine before every dose.",
            )
        )
        if not ans:
            return
        try:  # a time the clocks repeated is taken as the earlier: say so (CONV-TIME-1)
            note = pd.premed_given_at(ans["time"], self.app.ledger.clock.now())[1]
        except ValueError:
            note = ""
        if self._execute(command(ans)) is not None and note:
            self.notify(note)

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
                "Record a toxicity (CTCAE v5, MOD-NH-6)",
                [
                    ("term", "CTCAE term", "text"),
                    ("grade", "Grade", "choice", grades),
                    ("onset", "Onset (YYYY-MM-DD)", "text"),
                    ("kind", "Type", "choice", [("Non-hematologic", "non_hematologic"), ("Hematologic", "hematologic")]),
                    ("attribution", "Attribution", "text"),
                ],
                validate,
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

    @work(exclusive=True)
    async def action_override(self) -> None:
        c = self.current()
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
        user = await self.as_role(c.overridable_by, f"{c.name}: only a {c.overridable_by} may override (CONV-OVR-1).")
        if user is not None:
            self._execute(pd.OverrideCheck(self.pid, self.cycle, self.day, c.key, ans["reason"]), user.username)

    @work(exclusive=True)
    async def action_bilirubin_cause(self) -> None:
        ans = await self.app.push_screen_wait(
            FieldsDialog(
                "Bilirubin rise due to (CONV-LAB-2, prescriber)",
                [("cause", "Cause", "choice", [("Gilbert's syndrome", "gilbert"), ("Hemolysis", "hemolysis")])],
                required("cause"),
            )
        )
        if not ans:
            return
        user = await self.as_role(pd.BILIRUBIN_CAUSE_ROLE, "A prescriber confirms the cause.")
        if user:
            self._execute(pd.RecordBilirubinCause(self.pid, ans["cause"]), user.username)

    def action_record_verdict(self) -> None:
        stored = self._execute(pd.RecordVerdict(self.pid, self.cycle, self.day))
        if stored:
            self.notify(f"Verdict {stored[0].payload.overall} recorded.")

    def action_back(self) -> None:
        self.app.pop_screen()
