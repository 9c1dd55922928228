"""The command palette (ctrl+p, or a click on the header's icon): the app's own commands.

Open a patient by MRN or name, the active infusions, the audit, help, a colour theme, lock and
sign out. Only once someone is signed in, and never over the idle lock or a dialog
(``BedsideApp.check_action``): nothing here can pass the sign-in. Every command runs as one of
the app's actions (``app.run_action``), so a fault underneath is shown with a retry like any key's.
Patients' names and MRNs are stored text: shown literally (plain Content, never markup).
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider, SearchIcon
from textual.content import Content

from bedside.core.text import printable

#: The header's icon (a click on it opens this palette): a plain "+", in every terminal font and
#: in the Roboto Mono that the browser demo's page loads (Textual's "⭘" is in neither).
HEADER_ICON = "+"
#: Patients the palette offers for one query at most (a ward of thousands: type more to narrow).
PALETTE_PATIENTS = 20

#: (title, what it does, action) of the fixed commands, in the order the palette lists them.
FIXED = (
    ("Active infusions", "every infusion running or in observation (i on the patient list)", "board"),
    ("Audit", "the whole event log, newest first", "audit"),
    ("Help: keys of this screen", "every key of the screen you are on (F1 or ?)", "help"),
    ("Lock the screen", "the PIN brings it back (ctrl+l)", "lock"),
    ("Sign out", "back to the sign-in screen (f5 on the patient list)", "sign_out"),
    ("Integrity report", "what is wrong with the record, to acknowledge (admins; r on the patient list)", "integrity"),
    ("Lab inbox", "laboratory messages not applied: assign or reject (admins; l on the patient list)", "lab_inbox"),
)

#: (theme value of core/auth PREFERENCES, title)
THEME_TITLES = (("dark", "Theme: dark"), ("light", "Theme: light"), ("high-contrast", "Theme: high contrast"))


class BedsidePalette(CommandPalette):
    """Textual's palette, its search mark a ">" that every terminal font has (not the emoji "🔎")."""

    def on_mount(self) -> None:
        self.query_one(SearchIcon).icon = ">"


def _run(app, action: str, *params: object):
    """A palette command: the app's action, with the app's fault handling (tui/app.py)."""

    async def run() -> None:
        await app.run_action(("", action, params))

    return run


class BedsideCommands(Provider):
    """The palette's hits: the fixed commands, the themes and the patients whose MRN or name match."""

    def _fixed(self) -> Iterator[tuple[str, str, object]]:
        app = self.app
        for title, help_text, action in FIXED:
            if app.check_action(action, ()) is not False:  # the integrity report: admins, when it lists something
                yield title, help_text, _run(app, action)
        if not app._no_color:  # NO_COLOR keeps the terminal's own colours (BedsideApp.apply_theme)
            current = app.user.preference("theme") if app.user is not None else ""
            for value, title in THEME_TITLES:
                note = "the theme now; remembered for you" if value == current else "remembered for you (ctrl+t cycles)"
                yield title, note, _run(app, "set_theme", value)

    def _patients(self) -> Iterator[tuple[str, str, str]]:
        """(the text matched, what is shown, the patient's id) of every patient."""
        app = self.app
        if app.user is None or not app.ready:
            return
        for p in app.ledger.patients():
            name, mrn = printable(p.name) or "(no name)", printable(p.mrn)
            yield f"{mrn} {name}", f"Open {name} · {mrn}", p.id

    async def discover(self) -> Hits:
        if self.app.user is None:
            return
        for title, help_text, command in self._fixed():
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        if self.app.user is None:
            return
        matcher = self.matcher(query)
        for title, help_text, command in self._fixed():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)
        words = query.casefold().split()
        found = 0
        for text, shown, pid in self._patients() if words else ():
            # A patient is named, not guessed: every word typed is in the MRN or the name (no fuzzy
            # match picks a near name), and at most PALETTE_PATIENTS are offered (type more).
            if not all(w in text.casefold() for w in words):
                continue
            found += 1
            if found > PALETTE_PATIENTS:
                break
            score = max(matcher.match(text), 0.01)  # ranked as the palette ranks its hits
            # Content(...) is plain text: a name such as "[red]X" is shown as typed, never as markup.
            yield Hit(score, Content(shown), _run(self.app, "open_patient", pid), text=shown, help="the patient's screen")
