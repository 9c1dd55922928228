"""Inputs for Bedside forms: compact, no blinking cursor (an idle screen writes no bytes)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import Input, Static

from bedside.core.text import first_unsafe, printable


class Field(Input):
    """A compact single-line input that does not blink.

    Fast typing, keyboard-wedge scanners and slow links that deliver keys in bursts: a key that
    was queued for this field after Enter moved the focus on is handed to the field that now has
    the focus, so "user⏎1234⏎" typed at once lands in two fields, not one (and "/naka⏎⏎" on the
    patient list selects the first match).
    """

    #: Kept although a control character: a GS1 scanner's group separator (ctrl+], see _on_key).
    ALLOWED_CONTROLS = "\x1d"

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get("value"):  # a prefill from stored data is shown, never obeyed (core/text.py)
            kwargs["value"] = printable(kwargs["value"])
        kwargs.setdefault("compact", True)
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)
        self.cursor_blink = False

    async def _on_key(self, event: events.Key) -> None:
        focused = self.screen.focused if self.is_attached else None
        if focused is not None and focused is not self and (event.is_printable or event.key == "enter"):
            event.stop()
            event.prevent_default()
            if isinstance(focused, Input):
                focused.post_message(events.Key(event.key, event.character))
            elif event.key == "enter" and hasattr(focused, "action_select_cursor"):
                focused.action_select_cursor()  # a search's Enter, then Enter on the list it filtered
            return  # other keys for a list that now has the focus are dropped, never misapplied here
        if event.key == "ctrl+right_square_bracket":
            # A GS1 scanner's group separator (ASCII 29): keep it, the parser needs it.
            event.stop()
            event.prevent_default()
            self.insert_text_at_cursor("\x1d")
            return
        if event.key == "enter":
            # Handled here, in this field's own queue, not by the binding once the key has bubbled
            # up to the app: keys typed after Enter are then already in the right field.
            event.stop()
            event.prevent_default()
            await self.action_submit()
            return
        await super()._on_key(event)

    def replace(self, text: str, start: int, end: int) -> None:
        """Every insertion (typed, pasted, scanned) passes here: control characters (C0/C1, DEL,
        ESC sequences) and bidirectional overrides are refused whole, with the bell, so nothing
        that could drive a terminal is ever typed into a form (core/text.py; the core validators
        refuse them again, with a message naming the field)."""
        if first_unsafe(text, allow=self.ALLOWED_CONTROLS) is not None:
            self.restricted()
            return
        super().replace(text, start, end)

    def _on_paste(self, event: events.Paste) -> None:
        """A paste into this one-line field: tabs and line breaks become single spaces (a cell
        copied from a spreadsheet, a name copied with its newline); any other control character
        refuses the whole paste (see :meth:`replace`)."""
        text = event.text or ""
        for sep in ("\r\n", "\r", "\n", "\t", "\u2028", "\u2029"):
            text = text.replace(sep, " ")
        event.stop()
        if not text:
            return
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)

    advance_on_enter = True  # Enter moves to the next field (as Tab), synchronously

    async def action_submit(self) -> None:
        """Enter: move on at once (synchronously), then tell the screen. The last field keeps the
        focus: wrapping round to the first would hand it the keys typed after Enter (a user name
        would become "nina/" while the sign-in is being checked)."""
        if self.advance_on_enter:
            chain = self.screen.focus_chain
            if chain and chain[-1] is not self:
                self.screen.focus_next()
        await super().action_submit()


class ErrorLine(Static):
    """The message under a form field; takes no room when there is nothing to say."""

    DEFAULT_CSS = "ErrorLine { height: auto; padding: 0 0 0 2; text-style: bold; display: none; }"

    def say(self, text: str) -> None:
        self.update(Text(printable(text)))  # literal: messages may quote what the user typed
        self.display = bool(text)
