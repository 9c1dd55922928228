"""Help (F1, or ? when the focus is not in a text field): what this screen is for, and every key
it has now, grouped, made from the bindings themselves (so it can never disagree with them)."""

from __future__ import annotations

from collections.abc import Iterator

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..widgets.keys import Keys

#: One line per screen, for its help: what it is for. A screen may say it itself with a ``HELP``
#: class attribute; tests/tui/test_help_palette.py checks that every screen has one.
PURPOSES = {
    "SignInScreen": "Sign in with your user name and PIN. Nothing of the record is shown before.",
    "FirstAdminScreen": "A new, empty database: create the first admin, who then adds the other users.",
    "LockScreen": "The screen was locked after a while without a key: your PIN brings it back as it was.",
    "PatientListScreen": "Every patient: search by name or MRN, open one, or register a new patient.",
    "PatientScreen": "One patient's intake, section by section: record, correct, and go on to the treatment.",
    "FormScreen": "Record one intake section (or register a patient): Enter moves on, ctrl+s saves it whole.",
    "TimelineScreen": "The patient's cycles and doses (Days 1, 8, 15): record what happened to each dose.",
    "PredoseScreen": "The checks before this dose, and what is still missing; then record the verdict.",
    "PreparationScreen": "Preparing this dose: calculate, reconstitute, dilute, store and double-check the bag.",
    "MonitorScreen": "The infusion of this dose: start, vital signs, reactions, alerts and the observation after it.",
    "BoardScreen": "Every infusion running or in observation now: open one's monitor.",
    "AuditScreen": "The event log as recorded: who did what and when; nothing in it is ever changed.",
    "WarningsScreen": "The warnings that apply to this patient now, with the rule behind each.",
    "UsersScreen": "The users of this database, their roles and locks: add a user or lift a lock.",
    "LabInboxScreen": (
        "Laboratory messages that were not applied, with the reason (admins): assign one to a patient by MRN, "
        "or reject it; both are recorded with your name and reason."
    ),
    "AddUserScreen": "A new user: user name, full name, role and a first PIN.",
    "SettingsScreen": (
        "This site's settings (admins): time zone, idle lock, BSA formula, site name, alert bell, "
        "premedication protocol, the FHIR export's MRN system and RxNorm code."
    ),
    "ConfirmScreen": "A question to answer: y for yes, n (or escape) for no.",
    "MessageScreen": "A message to read; enter closes it.",
    "TextScreen": "A text to read: the arrow keys and page keys scroll it.",
    "FieldsDialog": "A short form: Enter moves on, ctrl+s records it, escape cancels.",
    "AuthScreen": "A second person (or one of the role needed) signs in here to confirm.",
    "FaultScreen": "Something underneath went wrong: nothing was half-saved; r tries again.",
    "StepScreen": "When a preparation step happened (now, unless you change it) and what it needs.",
    "VerifyScreen": "The blind double-check: a second person re-derives the numbers without seeing the first.",
    "MismatchScreen": "The double-check did not agree with the calculation: what differs.",
    "PremedsDialog": "The premedication given before this dose, in one form: one time for all the drugs (PRE-1).",
}

#: Textual's own bindings, in Bedside's words (by action); "" leaves one out.
TEXTUAL_WORDS = {
    "app.focus_next": "the next field or list",
    "app.focus_previous": "the previous field or list",
    "focus_next": "the next field or list",
    "focus_previous": "the previous field or list",
    "screen.copy_text": "copy the selected text",
    "copy_text": "copy the selected text",
    "command_palette": "the command palette: open a patient, the board, the audit, a theme, sign out",
    "app.command_palette": "the command palette: open a patient, the board, the audit, a theme, sign out",
}

#: A list's or a table's own keys that only move the cursor or scroll: one line, "move".
MOVES = ("cursor_", "scroll_", "page_", "first", "last")
MOVE_ORDER = ("↑", "↓", "←", "→", "pgup", "pgdn", "home", "end")

#: What a list's or a table's Enter does, in words.
SELECT_WORDS = "choose the highlighted row"

#: The group of a widget's own keys, by the widget's class name (others: "In this field").
WIDGET_GROUPS = {"DataTable": "In the table", "OptionList": "In the list", "Select": "In the drop-down"}


def key_name(binding: Binding) -> str:
    """A key as help shows it: "ctrl+s", "?", "esc", "enter", "P" (shift+p)."""
    if binding.key_display:
        return binding.key_display
    *modifiers, key = binding.key.split("+")
    base = "enter" if key == "enter" else format_key(key)
    return "+".join([*modifiers, base])


def _keys(keys: list[str]) -> str:
    if all(k in MOVE_ORDER for k in keys) and len(keys) > 1:
        return " ".join(sorted(set(keys), key=MOVE_ORDER.index))
    return ", ".join(keys)


def purpose_of(screen: Screen) -> str:
    return getattr(screen, "HELP", None) or PURPOSES.get(type(screen).__name__, "")


def _group_of(node, screen: Screen) -> str | None:
    """Which group a node's keys go in; None: left out (a text field's own editing keys)."""
    if node is screen.app:
        return "Everywhere"
    if node is screen:
        return "This screen"
    if node.check_consume_key("a", "a"):  # a text field: typing and its editing keys need no list
        return None
    if node is screen.focused:
        return WIDGET_GROUPS.get(type(node).__name__, "In this field")
    return "Scrolling"  # a container round the focused widget (a form's body)


GROUP_ORDER = ("In the table", "In the list", "In the drop-down", "In this field", "Scrolling", "This screen", "Everywhere")


def help_groups(screen: Screen) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """(group, [(keys, what, enabled)]) of ``screen``'s bindings now: the focused widget's, the
    screen's and (unless the screen is a dialog) the app's. Keys with one action are shown
    together ("esc, q"); a binding its screen hides now (check_action False) is left out, one it
    shows disabled is listed as not available now. A key is listed where it acts (the first in
    the chain), but what the screen says of a key is listed even where a table's own Enter
    comes first (the table's Enter leads to the screen's action)."""
    app = screen.app
    groups: dict[str, dict[tuple[str, str], tuple[list[str], bool]]] = {}
    taken: set[str] = set()  # keys of the focused widget and the containers round it
    seen: set[str] = set()  # keys of the screen and the app
    for node, bindings in screen._modal_binding_chain:  # the chain a key really goes through
        group = _group_of(node, screen)
        widget = node is not screen and node is not app
        for key, binding in bindings:
            what = TEXTUAL_WORDS.get(binding.action) or binding.tooltip or binding.description
            if key in seen or (widget and key in taken) or not what or key.startswith("super+"):
                continue
            (taken if widget else seen).add(key)
            state = app._check_action_state(binding.action, node)
            if group is None or state is False:
                continue
            if widget and binding.action.startswith(MOVES):
                if key_name(binding) in MOVE_ORDER:  # ctrl+home and the like: left out
                    groups.setdefault(group, {}).setdefault(("", "move"), ([], True))[0].append(key_name(binding))
                continue
            if widget and binding.action in ("select_cursor", "select"):
                what = SELECT_WORDS
            entry = groups.setdefault(group, {}).setdefault((binding.action, what), ([], bool(state)))
            entry[0].append(key_name(binding))
    out = []
    for group in GROUP_ORDER:
        if group in groups:
            rows = [(_keys(keys), what, enabled) for (_action, what), (keys, enabled) in groups[group].items()]
            rows.sort(key=lambda row: row[1] != "move")  # moving first
            out.append((group, rows))
    return out


def _lines(groups) -> Iterator[Text]:
    # the column as wide as the usual keys; a longer one (the moving keys) runs into it
    width = max((len(keys) for _g, rows in groups for keys, _w, _e in rows if len(keys) <= 12), default=4)
    for group, rows in groups:
        yield Text(group, style="bold")
        for keys, what, enabled in rows:
            line = Text("  ")
            line.append(keys.ljust(width), style="bold" if enabled else "dim")
            line.append("  ")
            line.append(what if enabled else f"{what} (not available now)", style="" if enabled else "dim")
            yield line


class HelpScreen(ModalScreen[None]):
    """The keys of the screen below, and what it is for; escape (or F1, ?) closes it."""

    BINDINGS = [Binding("escape", "close", "Close")]  # F1 and ? again close it too (BedsideApp.action_help)
    HELP = "This list: the keys of the screen you were on. Escape goes back to it."

    def __init__(self, screen: Screen):
        super().__init__()
        self.purpose = purpose_of(screen)
        self.groups = help_groups(screen)
        palette = getattr(screen.app, "palette_allowed", lambda: False)()
        self.hint = "↑ ↓ scroll · escape closes" + (" · ctrl+p: the command palette" if palette else "")

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="box"):
            yield Static("Keys of this screen", classes="box-title")
            if self.purpose:
                yield Static(self.purpose, id="help-purpose")
            with VerticalScroll(id="help-keys"):
                text = Text("\n").join(_lines(self.groups))
                yield Static(text, id="help-list")
            yield Static(self.hint, classes="hint")
        yield Keys()

    def action_close(self) -> None:
        self.dismiss(None)
