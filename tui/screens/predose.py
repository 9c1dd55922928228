"""The pre-dose check: one verdict in words with every check, its value and date, rule and action."""

from __future__ import annotations

from datetime import time as dtime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from bedside.core import predose as pd
from bedside.core import predose_records as pr
from bedside.core import rules
from bedside.core.clock import local_instant, to_local
from bedside.core.events import NewEvent, iso_utc

from ..text import literal, shown
from .dialogs import AuthScreen, FieldsDialog
from .base import PatientView
from .timeline import parse_date_field

RESULT = {
    "pass": "✓ pass", "hold": "✗ HOLD", "needs_confirmation": "? CONFIRM", "discontinue": "✗✗ STOP",
    "info": "i info", "missing": "✗ MISSING", "reduce": "↓ reduce",
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
        return self.app.ledger.predose_verdict(self.pid, self.cycle, self.day)

    @property
    def stream(self) -> str:
        return self.app.ledger.patient(self.pid).stream

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
        ledger = self.app.ledger
        v = self.verdict()
        self._v = v
        head = Text()
        head.append(f" {v.overall} ", style="bold reverse")
        dose = ledger.timeline(self.pid).dose(self.cycle, self.day)
        head.append(f"  Pre-dose check C{self.cycle} D{self.day}" + (f", planned {dose.planned}" if dose else ""))
        if (self.cycle, self.day) == (1, 1):
            head.append("\n⚠ BOX-1: hepatotoxicity incl. VOD; higher post-HSCT non-relapse mortality (w on the patient screen).", style="bold")
        self.query_one("#pd-verdict", Static).update(shown(head))
        t = self.query_one("#checks", DataTable)
        keep = t.cursor_row
        t.clear()
        order = {"discontinue": 0, "hold": 1, "missing": 1, "needs_confirmation": 2, "reduce": 3, "info": 4, "pass": 5}
        for i, c in enumerate(sorted(v.checks, key=lambda c: order.get(c.result, 9))):
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

    # -- recording -----------------------------------------------------------------------------
    def put(self, kind: str, data: dict, actor: str | None = None) -> None:
        ledger = self.app.ledger
        ledger.append(self.stream, lambda: [NewEvent(self.stream, kind, actor or self.app.actor, ledger.clock.now(), data)])
        self.refill()

    def dose_data(self, **kw) -> dict:
        return {"cycle": self.cycle, "day": self.day, **kw}

    @work(exclusive=True)
    async def action_identity(self) -> None:
        fields = [("name", "Full name", "text"), ("dob", "Date of birth (YYYY-MM-DD)", "text"), ("mrn", "MRN (type or scan)", "text"),
                  ("method", "How", "choice", [("Typed", "typed"), ("Scanned", "scanned")])]
        def validate(raw):
            from bedside.core.scan import read_identifier

            data, errs = required("name", "dob", "mrn", "method")(raw)
            if errs:
                return None, errs
            scan = read_identifier(raw["mrn"])
            if scan.error:
                return None, {"mrn": f"MRN: {scan.error}"}
            data["mrn"] = scan.identifier
            if scan.gs1:
                data["method"] = "scanned"
            return data, {}

        ans = await self.app.push_screen_wait(FieldsDialog("Confirm both identifiers with the patient and the wristband", fields, validate,
                                                           note="Ask the patient; do not copy from the screen. The check compares with the record."))
        if ans:
            self.put(pr.IDENTITY, self.dose_data(**ans))

    @work(exclusive=True)
    async def action_premed(self) -> None:
        classes = [(c.capitalize(), c) for c in rules.PREMED_CLASSES]
        now = self.app.ledger.clock.now()

        def validate(raw):
            data, errs = required("drug_class", "drug", "dose", "time")(raw)
            if errs:
                return None, errs
            try:
                hh, mm = data["time"].split(":")
                wall = dtime(int(hh), int(mm))
            except ValueError:
                return None, {"time": "Time: HH:MM (24 h, local)."}
            try:  # a time the clocks skipped is refused; one they repeated is the earlier (CONV-TIME-1)
                at, note = local_instant(to_local(now).date(), wall, "Given at")
            except ValueError as exc:
                return None, {"time": str(exc)}
            if at > now:
                return None, {"time": "Time: not in the future."}
            if note:
                self.notify(note)
            data["given_at"] = iso_utc(at)
            del data["time"]
            return data, {}

        ans = await self.app.push_screen_wait(FieldsDialog("Premedication given (PRE-1)", [("drug_class", "Class", "choice", classes), ("drug", "Drug", "text"),
                                                           ("dose", "Dose and route", "text"), ("time", "Given at (HH:MM)", "text")], validate,
                                                           values={"time": to_local(now).strftime("%H:%M")}, note="Corticosteroid + antipyretic + antihistamine before every dose."))
        if ans:
            self.put(pr.PREMED, self.dose_data(**ans))

    @work(exclusive=True)
    async def action_toxicity(self) -> None:
        grades = [(f"Grade {g}", str(g)) for g in range(1, 6)]

        def validate(raw):
            data, errs = required("term", "grade", "onset", "kind")(raw)
            if errs:
                return None, errs
            d, err = parse_date_field(data["onset"], "Onset")
            if err:
                return None, {"onset": err}
            return {"term": data["term"], "grade": int(data["grade"]), "onset": d.isoformat(), "attribution": data.get("attribution", ""),
                    "hematologic": data["kind"] == "hematologic", "ctcae_version": rules.CTCAE_VERSION}, {}

        ans = await self.app.push_screen_wait(FieldsDialog("Record a toxicity (CTCAE v5, MOD-NH-6)", [("term", "CTCAE term", "text"), ("grade", "Grade", "choice", grades),
                                                           ("onset", "Onset (YYYY-MM-DD)", "text"), ("kind", "Type", "choice", [("Non-hematologic", "non_hematologic"), ("Hematologic", "hematologic")]),
                                                           ("attribution", "Attribution", "text")], validate))
        if ans:
            self.put(pr.TOX_RECORDED, ans)

    @work(exclusive=True)
    async def action_tests(self) -> None:
        def validate(raw):
            data, errs = required("test", "date")(raw)
            if errs:
                return None, errs
            d, err = parse_date_field(data["date"], "Date")
            return ({"test": data["test"], "date": d.isoformat()}, {}) if d else (None, {"date": err})

        ans = await self.app.push_screen_wait(FieldsDialog("Baseline ECG and electrolytes (PRE-6)", [("test", "Test", "choice", [("ECG", pr.ECG), ("Electrolytes", pr.ELECTROLYTES)]),
                                                           ("date", "Date (YYYY-MM-DD)", "text")], validate, values={"date": self.app.ledger.today().isoformat()}))
        if ans:
            self.put(ans["test"], {"date": ans["date"]})

    @work(exclusive=True)
    async def action_checklist(self) -> None:
        ans = await self.app.push_screen_wait(FieldsDialog("Emergency drugs and equipment available? (PRE-10, never blocks)",
                                                           [("ready", "Ready", "choice", [("Yes", "yes"), ("No", "no")])], required("ready")))
        if ans:
            self.put(pr.CHECKLIST, self.dose_data(emergency_ready=ans["ready"] == "yes"))

    @work(exclusive=True)
    async def action_override(self) -> None:
        c = self.current()
        if c is None or not c.overridable_by or c.result in ("pass", "info"):
            self.notify("This check cannot be overridden (§16.1): enter new data or correct the facts.", severity="warning", timeout=8)
            return
        ans = await self.app.push_screen_wait(FieldsDialog(f"Override: {c.name} ({c.overridable_by})", [("reason", "Reason", "text")], required("reason"),
                                                           note=f"Rule {c.override_rule or ', '.join(c.rule_ids)}. Recorded with your name and role."))
        if not ans:
            return
        user = self.app.user
        if user.role != c.overridable_by:
            user = await self.app.push_screen_wait(AuthScreen((c.overridable_by,), f"{c.name}: only a {c.overridable_by} may override (CONV-OVR-1)."))
            if user is None:
                return
        self.put(pr.OVERRIDE, self.dose_data(rule_id=c.override_rule or c.rule_ids[0], check=c.key, reason=ans["reason"], role=user.role, decision="proceed"), actor=user.username)

    @work(exclusive=True)
    async def action_bilirubin_cause(self) -> None:
        ans = await self.app.push_screen_wait(FieldsDialog("Bilirubin rise due to (CONV-LAB-2, prescriber)", [("cause", "Cause", "choice", [("Gilbert's syndrome", "gilbert"), ("Hemolysis", "hemolysis")])], required("cause")))
        if not ans:
            return
        user = self.app.user if self.app.user.role == "prescriber" else await self.app.push_screen_wait(AuthScreen(("prescriber",), "A prescriber confirms the cause."))
        if user:
            self.put(pr.BILI_CAUSE, {"cause": ans["cause"]}, actor=user.username)

    def action_record_verdict(self) -> None:
        v = self.verdict()
        self.put(pr.VERDICT, self.dose_data(overall=v.overall, deciding=[c.key for c in v.checks if c.blocking]))
        self.notify(f"Verdict {v.overall} recorded.")

    def action_back(self) -> None:
        self.app.pop_screen()
