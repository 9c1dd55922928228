"""The log's integrity (issue 18): the line every screen shows while an admin has not seen what is
wrong with the record, and the report an admin opens (r on the patient list, or the palette) to
read every finding and acknowledge them (y, then a y/n confirm). Care goes on meanwhile: nothing
else is blocked; the ledger never applies an event that is not authentic (core/service.py)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Static

from bedside.core import auth
from bedside.core.integrity import AcknowledgeIntegrityReport, Integrity

from ..palette import HEADER_ICON
from ..text import literal, when
from ..widgets.keys import Keys

#: The patient list's key for the report (admins; shown while there is something to report).
REPORT_KEY = "r"


def banner_text(report: Integrity) -> str | None:
    """The line on top of every screen, or None when there is nothing an admin has not seen."""
    if not report.warning:
        return None
    return f"{report.headline()} (report: {REPORT_KEY})"


class IntegrityBanner(Static):
    """One line under the title bar: what happened to the record and what to do."""

    DEFAULT_CSS = "IntegrityBanner { height: auto; }"

    @classmethod
    def show_on(cls, screen: Screen, text: str | None) -> None:
        """Put the line on ``screen`` (first in its flow, under the docked title bar), change it,
        or take it away (``text`` None)."""
        if isinstance(screen, ModalScreen) or not screen.is_attached:
            return  # a dialog sits on a screen that has the line
        found = list(screen.query_children(cls))
        if text is None:
            for banner in found:
                banner.remove()
            return
        if found:
            found[0].update(literal(text))
        elif screen.children:
            screen.mount(cls(literal(text), id="integrity-banner"), before=0)
        elif not getattr(screen, "_banner_retried", False):
            # Not composed yet: once more, after its first refresh. Only once: a screen that stays
            # empty (the app's default screen under the stack) must not make this a loop that
            # refreshes the terminal for ever.
            screen._banner_retried = True
            screen.call_after_refresh(screen.app.show_integrity)


def may_report(app) -> bool:
    """The report is open to admins, while there is something in it."""
    user = app.user
    return user is not None and auth.may_administer(user.role) and app.ready and app.ledger.integrity().count > 0


def report_text(report: Integrity) -> Text:
    """Every finding, literally (stored text, through tui/text.py), in log order, then the store's."""
    t = Text()
    if report.rejected:
        t.append(f"{len(report.rejected)} event(s) are not authentic and were NOT applied ", style="bold")
        t.append("(left out of every screen and every check):\n")
    for f in report.findings:
        mark = "✗ ignored  " if f.rejected else "⚠ damaged  "
        t.append(mark, style="bold")
        t.append_text(literal(f.text))
        t.append("\n")
    for text in report.problems[len(report.findings) :]:
        t.append("⚠ store    ", style="bold")
        t.append_text(literal(text))
        t.append("\n")
    t.append("\nWhat to do: ", style="bold")
    t.append(
        "care goes on; the record shown leaves these events out. Call IT: run `bedside verify-log` on the "
        "server and keep the database, its key and its anchors as they are for the investigation.\n"
    )
    seen = report.seen
    if seen is not None:
        t.append_text(literal(f"Last acknowledged by {seen.by} at {when(seen.at)} ({seen.findings} finding(s)).", style="dim"))
    return t


class IntegrityScreen(Screen):
    HELP = (
        "The integrity report: every event Bedside refused as not authentic (forged or altered; left out of "
        "every screen), every other break in the log, and the store's missing safeguards. y records that you "
        "have read them; the warning on every screen goes until a new finding appears."
    )
    BINDINGS = [Binding("y", "acknowledge", "Acknowledge"), Binding("escape", "back", "Back")]

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(id="integrity-title", classes="screen-title")
        with VerticalScroll(id="integrity-box"):
            yield Static(id="integrity-list")
        yield Keys()

    def on_mount(self) -> None:
        self.fill()
        self.set_focus(self.query_one("#integrity-box"))

    def fill(self) -> None:
        report = self.app.ledger.integrity()
        self._report = report
        state = "acknowledged" if report.acknowledged else "NOT acknowledged yet"
        first = f" · first bad event {report.first_bad}" if report.first_bad is not None else ""
        self.query_one("#integrity-title", Static).update(f"Integrity report · {report.count} finding(s){first} · {state}")
        self.query_one("#integrity-list", Static).update(report_text(report))

    def ledger_changed(self) -> None:
        self.fill()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "acknowledge":
            return bool(self.app.user is not None and auth.may_administer(self.app.user.role))
        return True

    def action_acknowledge(self) -> None:
        from .dialogs import ConfirmScreen

        report = self.app.ledger.integrity()
        if report.count == 0:
            self.app.notify("There is nothing to acknowledge.", title="Integrity report")
            return
        first = f", the first at event {report.first_bad}" if report.first_bad is not None else ""
        text = (
            f"Record that you, {self.app.user.username}, have read these {report.count} finding(s){first}? "
            "This is recorded; the warning leaves every screen until a new finding appears. The events found stay as they are."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.ledger.execute(AcknowledgeIntegrityReport(report.first_bad, report.count), self.app.actor)
                self.fill()
                self.app.show_integrity()

        self.app.push_screen(ConfirmScreen("Acknowledge the integrity report", text), answered)

    def action_back(self) -> None:
        self.app.pop_screen()
