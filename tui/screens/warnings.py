"""Warnings that apply to this patient now, each with its reason, plus the boxed warning and the
support line (SUPPORT-1), one key away."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from bedside.core import rules
from bedside.core.warnings import patient_warnings

from ..text import shown
from .base import PatientView


class WarningsScreen(PatientView):
    BINDINGS = [Binding("w", "boxed", "Boxed warning"), Binding("escape", "back", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="identity", classes="identity")
        with VerticalScroll(id="warn-box"):
            yield Static(id="warn-list")
        yield Static(f"Support: {rules.SUPPORT_LINE} [SUPPORT-1]", classes="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refill()
        self.set_focus(self.query_one("#warn-box"))

    def fill(self) -> None:
        ws = patient_warnings(self.app.ledger.view(self.pid))  # core decides which apply, and why
        t = Text()
        t.append(f"Warnings that apply now: {len(ws)}\n\n", style="bold")
        for w in ws:
            t.append(f"⚠ {w.title} [{w.id}]\n", style="bold")
            t.append("  Why: ", style="dim")
            t.append(w.reason + "\n")
            t.append("  " + w.text + "\n")
            t.append("  Do: ", style="bold")
            t.append(w.action + "\n\n")
        self.query_one("#warn-list", Static).update(shown(t))

    def action_boxed(self) -> None:
        from .dialogs import boxed_warning_screen

        self.app.push_screen(boxed_warning_screen())

    def action_back(self) -> None:
        self.app.pop_screen()
