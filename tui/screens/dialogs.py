"""Small modal dialogs: yes/no confirmation, reading a long text (the boxed warning)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ..text import literal


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, title: str, text: str, rule: str = ""):
        super().__init__()
        self.title_text, self.text, self.rule = title, text, rule

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Static(literal(self.title_text), classes="box-title")
            yield Static(literal(self.text))
            if self.rule:
                yield Static(f"Rule: {self.rule}", classes="hint")
            yield Static("y = yes   n = no", classes="hint")
        yield Footer()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class TextScreen(ModalScreen[None]):
    """A long text to read, scrolled by keyboard; escape closes."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("q", "close", "Close", show=False)]

    def __init__(self, title: str, body, rule: str = ""):
        super().__init__()
        self.title_text, self.body, self.rule = title, body, rule

    def compose(self) -> ComposeResult:
        with Vertical(classes="box reader"):
            yield Static(literal(self.title_text), classes="box-title")
            with VerticalScroll():
                yield Static(self.body)
            if self.rule:
                yield Static(f"Source: {self.rule}", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
