"""What every screen about one patient shares: both identifiers on top, and a redraw when the
event log changed (another terminal, or a form that was just saved)."""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

from bedside.core import intake
from bedside.tui.text import safe, shown


def identity_line(p: intake.Patient, today) -> Text:
    """The two identifiers (name, DOB) with the MRN, shown on every patient screen."""
    ident = p.identity
    sex = dict(intake.SECTIONS["identity"].field("sex").choices).get(ident.get("sex"), "")
    age = f" ({intake.age_years(p.dob, today)} y)" if p.dob else ""
    t = Text()
    t.append(safe(p.name) or "(no name)", style="bold")
    t.append("  MRN ", style="dim")
    t.append(safe(p.mrn), style="bold")
    t.append("  DOB ", style="dim")
    t.append(f"{ident.get('dob', '?')}{age}", style="bold")
    if sex:
        t.append(f"  {sex}")
    return shown(t)


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
        self.query_one("#identity", Static).update(identity_line(self.patient, ledger.today()))
        self.fill()

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

    def ledger_changed(self) -> None:
        self.refill()
