"""Inputs for Bedside forms: compact, no blinking cursor (an idle screen writes no bytes).

:class:`Field` is a one-line text input, :class:`Choice` a drop-down; in both, Enter moves on to
the next field and keys typed ahead in one burst land in the field that has the focus.
"""

from __future__ import annotations

import re
import time

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static

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
        if hand_on(self, event):
            return
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
            move_on(self)
        await super().action_submit()


def hand_on(widget: Widget, event: events.Key) -> bool:
    """A key that was queued for ``widget`` after Enter moved the focus on: True if it was handed
    on (or dropped) here, False if it is the widget's own.

    The field that has the focus now gets every key, in the order typed (so a ctrl+s typed after
    the last value saves that value too); for a list that has it, Enter selects (a search's Enter,
    then Enter on the list it filtered) and other typed keys are dropped, never misapplied here.
    """
    focused = widget.screen.focused if widget.is_attached else None
    if focused is None or focused is widget or widget in focused.ancestors:
        return False
    if isinstance(focused, Input | Choice | Tick):
        focused.post_message(events.Key(event.key, event.character))
    elif event.is_printable or event.key == "enter":
        if event.key == "enter" and hasattr(focused, "action_select_cursor"):
            focused.action_select_cursor()
    else:
        return False
    event.stop()
    event.prevent_default()
    return True


def move_on(widget: Widget) -> None:
    """Enter in a form: the focus moves to the next field, at once; the last field keeps it."""
    chain = widget.screen.focus_chain
    if chain and chain[-1] is not widget:
        widget.screen.focus_next()


#: Letters of option labels that a keyboard may not have, as the letter typed for them ("u" → µmol/L).
TYPEABLE = str.maketrans({"µ": "u", "μ": "u"})


class Choice(Select, inherit_bindings=False):
    """A drop-down for forms that costs few keys.

    - Enter on the closed drop-down moves on to the next field (as in a text field), or opens the
      list in the form's last field; Space or Down opens it too. In the open list the arrows and
      Enter choose, escape closes it unchanged.
    - Typing chooses, open or closed: the first letters of an option's label pick it ("r" →
      Relapsed, "y" → Yes, "no" → Not done); the same letter again steps to the next option that
      starts with it; letters typed within a second add up; "u" stands for µ. A letter no option
      starts with (nor a word in one: "u" → Other/unknown) rings the bell and changes nothing.
    """

    BINDINGS = [Binding("down,space,up", "show_overlay", "Open the list", show=False)]

    #: Seconds after a typed letter within which the next one extends the same search.
    SEARCH_PAUSE = 1.0

    def __init__(self, options, *, prompt: str = "choose…", compact: bool = True, **kwargs) -> None:
        kwargs["type_to_search"] = False  # Textual's own search only moves the highlight; ours chooses
        super().__init__(options, prompt=prompt, compact=compact, **kwargs)
        self._typed = ""
        self._typed_at = 0.0

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """Letters typed here are a search: no screen binding sees them."""
        return character is not None and character.isprintable() and character != " "

    async def _on_key(self, event: events.Key) -> None:
        if hand_on(self, event):
            return
        if event.key == "enter" and not self.expanded:
            event.stop()
            event.prevent_default()
            chain = self.screen.focus_chain
            if chain and chain[-1] is self:
                self.action_show_overlay()  # the last field: nowhere to move on to, so Enter opens it
            else:
                move_on(self)
            return
        if event.character and self.check_consume_key(event.key, event.character):
            event.stop()
            event.prevent_default()
            self.type_letter(event.character)

    def type_letter(self, character: str) -> None:
        """One typed letter: extend the search (or start a new one) and choose what it finds."""
        now = time.monotonic()
        self._typed = (self._typed if now - self._typed_at <= self.SEARCH_PAUSE else "") + character
        self._typed_at = now
        index = self.match(self._typed)
        if index is None:
            self.app.bell()
            return
        value = self._options[index][1]
        if value != self.value:
            self.value = value
        if self.expanded:
            self.expanded = False
            self.focus()

    def match(self, typed: str) -> int | None:
        """The index (in ``_options``) of the option ``typed`` picks, or None."""
        labels = [
            (i, (p.plain if isinstance(p, Text) else str(p)).casefold().translate(TYPEABLE))
            for i, (p, v) in enumerate(self._options)
            if v is not Select.NULL
        ]
        query = typed.casefold()
        current = next((i for i, (_p, v) in enumerate(self._options) if v == self.value), None)
        starts = [i for i, label in labels if label.startswith(query)]
        if starts:
            if len(query) == 1 and current in starts:  # the same letter again: the next one
                return starts[(starts.index(current) + 1) % len(starts)]
            return starts[0]
        same = [i for i, label in labels if label.startswith(query[0])]
        if same and query == query[0] * len(query):  # "nn": the second option starting with n
            return same[(len(query) - 1) % len(same)]
        words = [i for i, label in labels if any(w.startswith(query) for w in re.split(r"[^\w]+", label))]
        return words[0] if words else None


class Tick(Checkbox, inherit_bindings=False):
    """A yes/no box whose state shows in its characters, not only in colour: ``[X]`` ticked,
    ``[ ]`` not (readable with NO_COLOR). Space toggles it; Enter moves on, as in every field."""

    BINDINGS = [Binding("space", "toggle_button", "Toggle", show=False), Binding("enter", "next_field", show=False)]
    BUTTON_LEFT = "["
    BUTTON_RIGHT = "]"

    def action_next_field(self) -> None:
        move_on(self)

    @property
    def BUTTON_INNER(self) -> str:  # the name ToggleButton reads
        return "X" if self.value else " "


class ErrorLine(Static):
    """The message under a form field; takes no room when there is nothing to say."""

    DEFAULT_CSS = "ErrorLine { height: auto; padding: 0 0 0 2; text-style: bold; display: none; }"

    def say(self, text: str) -> None:
        self.update(Text(printable(text)))  # literal: messages may quote what the user typed
        self.display = bool(text)
