"""Small modal dialogs: yes/no confirmation, reading a long text (the boxed warning)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from bedside.core.text import with_article

from ..text import literal, shown
from ..widgets.keys import Keys


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
            yield Static(literal(self.text, multiline=True))  # the body has its own lines
            if self.rule:
                yield Static(f"Rule: {self.rule}", classes="hint")
            yield Static("y = yes   n = no", classes="hint")
        yield Keys()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class MessageScreen(ModalScreen[None]):
    """A refusal or a notice to read, with one key to close it (enter or escape): nothing to decide."""

    BINDINGS = [
        Binding("enter", "close", "OK"),
        Binding("escape", "close", "OK", show=False),
    ]

    def __init__(self, title: str, text: str):
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog"):
            yield Static(literal(self.title_text), classes="box-title")
            yield Static(literal(self.text, multiline=True))  # the body has its own lines
            yield Static("enter = OK", classes="hint")
        yield Keys()

    def action_close(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """A long text to read, scrolled by keyboard; escape closes.

    The text gets :data:`TEXT_WIDTH` columns (the printed record is 80 wide): in a box where the
    terminal has room for one, else across the whole terminal, without a border or scroll bar, the
    position said in words under it.
    """

    BINDINGS = [Binding("escape", "close", "Close"), Binding("q", "close", "Close", show=False)]

    #: Columns of text: the printed record's width (core/records).
    TEXT_WIDTH = 80
    #: The box around it: border, padding and scroll bar.
    BOX_EXTRA = 6

    def __init__(self, title: str, body, rule: str = ""):
        super().__init__()
        self.title_text, self.body, self.rule = title, body, rule

    def compose(self) -> ComposeResult:
        with Vertical(classes="box reader"):
            yield Static(literal(self.title_text), classes="box-title")
            with VerticalScroll():
                yield Static(literal(self.body, multiline=True) if isinstance(self.body, str) else shown(self.body))
            if self.rule:
                yield Static(f"Source: {self.rule}", classes="hint")
            yield Static("", id="reader-position", classes="hint")
        yield Keys()

    def on_mount(self) -> None:
        scroll = self.query_one(VerticalScroll)
        self.set_focus(scroll)
        self.watch(scroll, "scroll_y", lambda _y: self.show_position(), init=False)
        self.fit()

    def on_resize(self, _event) -> None:
        self.fit()

    def fit(self) -> None:
        full = self.app.size.width < self.TEXT_WIDTH + self.BOX_EXTRA
        box = self.query_one(".reader")
        box.set_class(full, "-full")
        box.styles.width = "100%" if full else self.TEXT_WIDTH + self.BOX_EXTRA
        self.call_after_refresh(self.show_position)

    def show_position(self) -> None:
        """Where the reader is in the text, in words (the scroll bar is hidden when the text has
        the whole terminal width)."""
        scroll = self.query_one(VerticalScroll)
        total = scroll.virtual_size.height
        seen = scroll.scrollable_content_region.height
        top = round(scroll.scroll_y)
        if total <= seen:
            text = "escape closes"
        else:
            text = f"lines {top + 1}–{min(top + seen, total)} of {total} · ↑ ↓ PgUp PgDn scroll · escape closes"
        self.query_one("#reader-position", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)


def fit_labels(screen, labels: list[str], cap: int) -> None:
    """Size a form's label column to its longest label, at most ``cap`` cells (a longer label wraps
    onto a second line: never cut off)."""
    if labels:
        width = min(max(cell_len(label) for label in labels) + 2, cap)
        for widget in screen.query(".flabel"):
            widget.styles.width = width


class FieldsDialog(ModalScreen[dict | None]):
    """A small form in a dialog. ``validate(raw)`` returns ``(data, errors)``; errors stay next to
    their fields and nothing is returned until the form is valid.

    A field is ``(name, label, kind, *rest)``: kind "text"; "choice" with its ``[(label, value)]``
    options (a :class:`~bedside.tui.widgets.field.Choice`); "date" (YYYY-MM-DD) or "time" (HH:MM),
    which start as the site's today and now unless ``values`` says otherwise (editable, like any
    field). The focus starts on the first empty field. ``enter_records`` names a field (a scanner's)
    whose Enter records the form, as a keyboard-wedge scanner ends each code with Enter.
    """

    BINDINGS = [Binding("ctrl+s", "save", "Record"), Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        fields: list[tuple],
        validate,
        note: str = "",
        values: dict | None = None,
        enter_records: str = "",
    ):
        super().__init__()
        self.title_text, self.fields, self.validate, self.note = title, fields, validate, note
        self.values, self.enter_records = values or {}, enter_records

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        from ..widgets.field import Choice, ErrorLine, Field

        with Vertical(classes="box dialog"):
            yield Static(literal(self.title_text), classes="box-title")
            if self.note:
                yield Static(literal(self.note), classes="hint")
            for name, label, kind, *rest in self.fields:
                with Horizontal(classes="frow"):
                    yield Static(literal(label), classes="flabel")
                    if kind == "choice":
                        start = self.values.get(name)
                        yield Choice(rest[0], id=f"f-{name}", **({} if start is None else {"value": start}))
                    else:
                        yield Field(
                            value=str(self.values.get(name, self.default(kind))),
                            placeholder=PLACEHOLDERS.get(kind, ""),
                            id=f"f-{name}",
                            max_length=200,
                        )
                yield ErrorLine(id=f"e-{name}")
            yield Static("ctrl+s records · escape cancels", classes="hint")
        yield Keys()

    def default(self, kind: str) -> str:
        """A date field starts as today, a time field as now, in the site's zone (CONV-TIME-1)."""
        from bedside.core.clock import fmt_local

        ledger = self.app.ledger
        if kind == "date":
            return ledger.today().isoformat()
        if kind == "time":
            return fmt_local(ledger.clock.now(), ledger.zone.zone, day=False)
        return ""

    def on_mount(self) -> None:
        fit_labels(self, [f[1] for f in self.fields], 36)
        widgets = [self.query_one(f"#f-{f[0]}") for f in self.fields]
        empty = [w for w in widgets if w.value in ("", Select.NULL)]
        self.set_focus((empty or widgets)[0])

    def on_input_submitted(self, event) -> None:
        event.stop()  # the field already moved the focus on
        if self.enter_records and event.input.id == f"f-{self.enter_records}":
            self.action_save()

    def raw(self) -> dict:
        out = {}
        for name, *_r in self.fields:
            w = self.query_one(f"#f-{name}")
            out[name] = (None if w.value is Select.NULL else w.value) if isinstance(w, Select) else w.value
        return out

    def action_save(self) -> None:
        from ..widgets.field import ErrorLine

        data, errors = self.validate(self.raw())
        for name, *_r in self.fields:
            self.query_one(f"#e-{name}", ErrorLine).say(errors.get(name, ""))
        names = [f[0] for f in self.fields]
        if errors:
            first = next((n for n in names if n in errors), None)
            if first is not None:
                widget = self.query_one(f"#f-{first}")
                self.set_focus(widget)
                if first == self.enter_records and isinstance(widget, Input):
                    widget.select_all()  # a refused scan stays readable; the next scan replaces it
            return
        self.dismiss(data)

    def action_cancel(self) -> None:
        self.dismiss(None)


PLACEHOLDERS = {"date": "YYYY-MM-DD", "time": "HH:MM"}


class AuthScreen(ModalScreen[object]):
    """A second person (or the right role) signs in on this terminal to confirm something."""

    BINDINGS = [Binding("ctrl+s", "save", "Confirm"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, roles: tuple[str, ...], why: str):
        super().__init__()
        self.roles, self.why = roles, why

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        from ..widgets.field import ErrorLine, Field

        with Vertical(classes="box dialog"):
            yield Static(f"{' or '.join(r.capitalize() for r in self.roles)} sign-in needed", classes="box-title")
            yield Static(literal(self.why))
            with Horizontal(classes="frow"):
                yield Static("User name", classes="flabel")
                yield Field(id="f-user", max_length=32)
            with Horizontal(classes="frow"):
                yield Static("PIN", classes="flabel")
                yield Field(id="f-pin", password=True, max_length=8, restrict=r"[0-9]*")
            yield ErrorLine(id="e-user")
        yield Keys()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#f-user"))

    async def on_input_submitted(self, event) -> None:
        event.stop()
        if event.input.id == "f-pin":
            await self.run_action("save")  # through the app's fault handling

    def action_save(self) -> None:
        from ..widgets.field import ErrorLine, Field

        user = self.query_one("#f-user", Field).value.strip()
        pin = self.query_one("#f-pin", Field)
        result = self.app.ledger.sign_in(user, pin.value)
        pin.value = ""
        err = self.query_one("#e-user", ErrorLine)
        if result.user is None:
            err.say(result.message)
            return
        if result.user.role not in self.roles:
            err.say(f"{result.user.label} is not {with_article(' or '.join(self.roles))}.")
            return
        self.dismiss(result.user)

    def action_cancel(self) -> None:
        self.dismiss(None)


def boxed_warning_screen() -> TextScreen:
    """BOX-1: the boxed warning, one key away on every patient screen."""
    from rich.text import Text

    from bedside.core import rules

    title, paras = rules.BOXED_WARNING
    body = Text()
    body.append(title + "\n\n", style="bold")
    for para in paras:
        body.append("• " + para + "\n")
    return TextScreen("Boxed warning", body, rule="BOX-1 (label Boxed Warning)")


class FaultScreen(ModalScreen[bool]):
    """What went wrong underneath (the store, or a fault in Bedside), in words, with a retry.

    Dismissed with True to retry the very action that failed (the form beneath still holds what
    was typed), False to go back to it.
    """

    BINDINGS = [
        Binding("r", "answer(True)", "Try again"),
        Binding("escape", "answer(False)", "Back"),
    ]

    def __init__(self, title: str, text: str, can_retry: bool = True, detail: str = ""):
        super().__init__()
        self.title_text, self.text, self.can_retry, self.detail = title, text, can_retry, detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="box dialog fault"):
            yield Static(literal("⚠ " + self.title_text), classes="box-title")
            yield Static(literal(self.text, multiline=True))  # the body has its own lines
            if self.detail:
                yield Static(literal(self.detail), classes="hint")
            yield Static(
                "r = try again   escape = back (what you typed is kept)"
                if self.can_retry
                else "escape = back (what you typed is kept)",
                classes="hint",
            )
        yield Keys()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return not (action == "answer" and parameters == (True,) and not self.can_retry)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
