"""Inputs for Bedside forms: compact, no blinking cursor (an idle screen writes no bytes)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input, Static


class Field(Input):
    """A compact single-line input that does not blink."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("compact", True)
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)
        self.cursor_blink = False


class ErrorLine(Static):
    """The message under a form field; takes no room when there is nothing to say."""

    DEFAULT_CSS = "ErrorLine { height: auto; padding: 0 0 0 2; text-style: bold; display: none; }"

    def say(self, text: str) -> None:
        self.update(Text(text))  # literal: messages may quote what the user typed
        self.display = bool(text)
