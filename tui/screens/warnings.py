"""Warnings that apply to this patient now, each with its reason, plus the boxed warning and the
support line (SUPPORT-1), one key away."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Header, Static

from bedside.core import rules
from bedside.core.warnings import patient_warnings

from ..palette import HEADER_ICON
from ..text import shown
from ..widgets.keys import Keys
from .base import PatientView


class WarningsScreen(PatientView):
    BINDINGS = [Binding("w", "boxed", "Boxed warning"), Binding("escape", "back", "Back")]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(id="identity", classes="identity")
        with VerticalScroll(id="warn-box"):
            yield Static(id="warn-list")
            yield Vertical(id="warn-items")
        yield Static(f"Support: {rules.SUPPORT_LINE} [SUPPORT-1]", classes="status")
        yield Keys()

    def on_mount(self) -> None:
        self.refill()
        self.set_focus(self.query_one("#warn-box"))

    def fill(self) -> None:
        ws = patient_warnings(self.app.ledger.view(self.pid))  # core decides which apply, and why
        self.query_one("#warn-list", Static).update(Text(f"Warnings that apply now: {len(ws)}", style="bold"))
        items = []
        for w in ws:  # a title, then the rest indented (a wrapped line keeps its indent)
            items.append(Static(shown(Text(f"⚠ {w.title} [{w.id}]", style="bold")), classes="warn-title"))
            body = Text()
            body.append("Why: ", style="dim")
            body.append(w.reason + "\n")
            body.append(w.text + "\n")
            body.append("Do: ", style="bold")
            body.append(w.action)
            items.append(Static(shown(body), classes="warn-body"))
        box = self.query_one("#warn-items", Vertical)
        box.remove_children()
        box.mount_all(items)

    def action_boxed(self) -> None:
        from .dialogs import boxed_warning_screen

        self.app.push_screen(boxed_warning_screen())

    def action_back(self) -> None:
        self.app.pop_screen()
