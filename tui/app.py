"""The Bedside Textual app: the imperative shell around ``bedside.core``."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events
from textual._time import get_time  # the clock of every Key's .time (textual/message.py)
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.theme import Theme

if TYPE_CHECKING:
    from textual.timer import Timer

    from bedside.core.auth import User
    from bedside.core.service import Ledger

DEMO_MARK = "DEMO — not for clinical use"
IDLE_CHECK_SECONDS = 10
WATCH_SECONDS = 1.0
#: On PostgreSQL, where the appends' NOTIFY wakes the watcher: a poll this often even so.
SAFETY_POLL_SECONDS = 30.0
PRUNE_DELAY_SECONDS = 0.15
#: A screen change not yet drawn after this long is taken as drawn (a screen closed before its
#: first frame): keys are never held back for longer.
SETTLE_LIMIT_SECONDS = 2.0

#: The per-user theme preference (core/auth PREFERENCES "theme") → Textual's theme. NO_COLOR keeps
#: "ansi-dark" (the terminal's own colours) whatever the user chose.
THEMES = {"dark": "textual-dark", "light": "textual-light", "high-contrast": "bedside-high-contrast"}
HIGH_CONTRAST = Theme(
    name="bedside-high-contrast",
    primary="#ffd700",
    secondary="#00e5ff",
    accent="#ffff00",
    warning="#ffaf00",
    error="#ff6b6b",
    success="#5fff5f",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#262626",
    boost="#1a1a1a",
    dark=True,
    text_alpha=1.0,
    variables={
        "text-muted": "#ffffff",
        "foreground-muted": "#e8e8e8",
        "footer-key-foreground": "#ffff00",
        "footer-description-foreground": "#ffffff",
        "block-cursor-background": "#ffff00",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
        "border": "#ffffff",
        "border-blurred": "#bdbdbd",
        "input-cursor-background": "#ffffff",
        "input-cursor-foreground": "#000000",
        "input-selection-background": "#ffd700 60%",
    },
)


def _palette_commands():
    from .palette import BedsideCommands

    return BedsideCommands


def _takes_text(widget) -> bool:
    """A widget that takes typed characters (an Input, a TextArea): Textual's own test."""
    return widget is not None and widget.check_consume_key("a", "a")


def prune_watchers(objects) -> int:
    """Drop watcher pairs whose widget has closed; returns how many were dropped.

    Textual keeps each ``(widget, callback)`` pair until the watched value next changes. Some values
    never change (the app's title that every Header watches; a Footer's ``compact`` that each of its
    keys binds, re-made whenever the bindings change), so without this every screen opened leaks its
    Header and every return to a screen leaks its Footer's keys, for as long as a shift lasts.
    """
    dropped = 0
    for obj in objects:
        watchers = getattr(obj, "__watchers", None)
        if not watchers:
            continue
        for pairs in watchers.values():
            kept = [(node, callback) for node, callback in pairs if not node._closing]
            dropped += len(pairs) - len(kept)
            pairs[:] = kept
    return dropped


class BedsideApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "Bedside"
    ENABLE_COMMAND_PALETTE = True  # ctrl+p, once signed in (check_action); the app's own commands only
    COMMANDS = {_palette_commands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False),  # shown on sign-in and the patient list
        Binding("ctrl+l", "lock", "Lock", show=False),
        # priority: also on dialogs; "?" only when the focus is not in a text field (check_action)
        Binding("f1", "help", "Help", show=False, priority=True, tooltip="help: this list (also ? outside a text field)"),
        Binding("question_mark", "help('?')", "Help", show=False, priority=True, key_display="?"),
        Binding("ctrl+t", "next_theme", "Theme", show=False),
        # Textual's own palette binding, in Bedside's words (the footer shows it on the right)
        Binding("ctrl+p", "command_palette", "Palette", show=False, priority=True, tooltip="the command palette"),
    ]

    def __init__(
        self,
        ledger: Ledger | None = None,
        demo: bool = False,
        idle_clock=time.monotonic,
        boot: Callable[[], Ledger] | None = None,
        first_run: bool = False,
    ):
        """``ledger``, or ``boot``: a function that opens the database (and seeds the demo) in a
        thread while the first screen is already drawn, keeping that work off the start-up path."""
        no_color = "NO_COLOR" in os.environ
        super().__init__(ansi_color=True if no_color else None)
        self.register_theme(HIGH_CONTRAST)
        if no_color:
            # The terminal's own colours and attributes carry the screen.
            self.theme = "ansi-dark"
        self._ledger = ledger
        self._boot = boot
        self._booted = threading.Event()
        self._boot_error: BaseException | None = None
        if ledger is not None:
            self._booted.set()
        self.first_run = first_run
        self.demo = demo
        self.user: User | None = None
        self._idle_clock = idle_clock
        self.last_input = idle_clock()
        self.locked = False
        if demo:
            self.title = f"Bedside · {DEMO_MARK}"
        self._no_color = no_color
        self._prune_timer: Timer | None = None
        self._gc_frozen = False
        self._boot_started = ledger is not None
        # Screen changes, for keys typed while one is under way (see on_event)
        self._change = 0
        self._settling = False
        self._changed_at = 0.0
        self._settled_at = 0.0
        self._rang_for = 0

    # -- faults underneath -------------------------------------------------------------------
    async def _dispatch_action(self, namespace, action_name: str, params) -> bool:
        """Every key's action: a store that fails, or a fault in Bedside, is shown in words with a
        retry of the same action; the screen and its form stay as they were (tui/faults.py)."""
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as exc:
            if not self.show_fault(exc, lambda: self.call_later(self._dispatch_action, namespace, action_name, params)):
                raise
            return True

    def push_screen(self, screen, callback=None, *args, **kwargs):
        """As App.push_screen; a dialog's result callback (a reason, a co-signer) gets the same
        care as a key's action, and "try again" calls it again with the same answer."""
        if callback is not None:
            callback = self._guarded(callback)
        return super().push_screen(screen, callback, *args, **kwargs)

    def _guarded(self, callback):
        import inspect

        async def guarded(result):
            try:
                value = callback(result)
                if inspect.isawaitable(value):
                    await value
            except Exception as exc:
                if not self.show_fault(exc, lambda: self.call_later(guarded, result)):
                    raise

        return guarded

    def show_fault(self, exc: BaseException, retry: Callable[[], object]) -> bool:
        """Tell the user (FaultScreen); False if the exception must propagate (tests of faults)."""
        from .faults import describe
        from .screens.dialogs import FaultScreen

        fault = describe(exc)
        if fault is None:
            return False
        if isinstance(self.screen, FaultScreen):  # one at a time
            return True

        def answered(again: bool | None) -> None:
            if again:
                retry()

        super().push_screen(FaultScreen(fault.title, fault.text, fault.can_retry, fault.detail), answered)
        return True

    def _handle_exception(self, error: Exception) -> None:
        """The last resort (an exception outside any action): no traceback on the terminal; it goes
        to the fault log and the app closes with one line saying so."""
        from rich.text import Text
        from textual.worker import WorkerFailed, active_worker

        from .faults import log_fault, raise_faults

        if isinstance(error, WorkerFailed):
            # An action decorated with @work (it waits for a dialog): retry it with its arguments.
            worker = active_worker.get(None)
            work = getattr(worker, "_work", None)
            name = getattr(worker, "name", "")
            retry = lambda: None  # noqa: E731
            if worker is not None and name.startswith("action_") and worker.node is not None:
                params = tuple(getattr(work, "args", ()))
                node = worker.node
                retry = lambda: self.call_later(self._dispatch_action, node, name[len("action_") :], params)  # noqa: E731
            if self.show_fault(error.error, retry):
                return
        if raise_faults():
            return super()._handle_exception(error)
        self._return_code = 1
        where = log_fault(error)
        self.panic(Text(f"bedside: stopped by an unexpected fault (nothing was half-saved); details in {where or 'no log'}"))

    # -- start -------------------------------------------------------------------------------
    def on_mount(self) -> None:
        from .screens.signin import FirstAdminScreen, SignInScreen

        if self._no_color:
            self.add_class("-no-color")  # tcss: the cursor and focus shown by reverse video

        first = self.first_run if self._ledger is None else not self._ledger.users()
        self.push_screen(FirstAdminScreen() if first else SignInScreen())
        if self._ledger is None:
            # Once the first screen is on the terminal: the boot's imports would otherwise hold
            # the GIL while that screen is being drawn.
            self.call_after_refresh(self._start_boot)
        self.set_interval(IDLE_CHECK_SECONDS, self.lock_if_idle)
        self._watcher_stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch_store, name="bedside-watch", daemon=True)
        self._watcher.start()
        self.screen_change_signal.subscribe(self, self._screen_changed)
        if self._ledger is not None:
            self.call_after_refresh(self.show_integrity)  # the first screen's (the boot's, below)

    def _screen_changed(self, _screen) -> None:
        if self._prune_timer is not None:
            self._prune_timer.stop()
        self._prune_timer = self.set_timer(PRUNE_DELAY_SECONDS, self.prune)
        self._change += 1
        self._settling = True
        self._changed_at = get_time()
        # Runs once the new screen has been composed, mounted and drawn (Screen._invoke_later).
        self.call_after_refresh(self._change_drawn, self._change)
        self.call_after_refresh(self.show_integrity)

    def _display(self, screen, renderable) -> None:
        """As App._display (the one place a frame is written to the terminal); the first frame of
        the screen now in front ends the change at the moment it was written: a key typed once it
        could be seen is taken, even if the loop, under load, runs _change_drawn a while later.
        Pilot's headless app writes no frame; _change_drawn ends the change there as here."""
        super()._display(screen, renderable)
        if self._settling and renderable is not None and not self._batch_count and not self.is_headless and screen is self.screen:
            self._change_drawn(self._change)

    def _change_drawn(self, change: int) -> None:
        if change == self._change:
            self._settling = False
            self._settled_at = get_time()

    def prune(self) -> int:
        """Once a screen change has settled (closed screens removed, footers recomposed): drop
        the closed widgets' watchers and collect the closed screens now, so the next screen reuses
        their memory instead of adding to it (a closed screen is a web of cycles that Python's
        oldest generation would otherwise keep until much later)."""
        self._prune_timer = None
        nodes = [self]
        for screen in self.screen_stack:
            nodes.extend(screen.walk_children(with_self=True))
        dropped = prune_watchers(nodes)
        gc.collect()  # ~6 ms once frozen below (bench/README.md)
        if not self._gc_frozen and self.user is not None and len(self.screen_stack) <= 2:
            # Signed in, on the patient list: what exists now (modules, the app, the list) lives
            # for the session, so later collections need not walk it again (unfrozen at sign-out).
            gc.freeze()
            self._gc_frozen = True
        return dropped

    def on_unmount(self) -> None:
        self._watcher_stop.set()
        if self._listener is not None:
            self._listener.close()  # wakes the watcher's wait for a NOTIFY at once (from any thread)
        # Its read in progress ends before the store may be closed (it never waits on this loop:
        # call_from_thread is not used once the stop is set).
        self._watcher.join(timeout=5)
        if self._gc_frozen:  # the process may go on (tests, `bedside serve`)
            gc.unfreeze()
            self._gc_frozen = False

    def _start_boot(self) -> None:
        """Once: after the first paint, or at once if a key needs the database before it."""
        if self._boot_started:
            return
        self._boot_started = True
        threading.Thread(target=self._run_boot, name="bedside-boot", daemon=True).start()

    def _run_boot(self) -> None:
        try:
            assert self._boot is not None
            self._ledger = self._boot()
        except BaseException as exc:  # noqa: BLE001  (any failure, shown by the ledger property on first use)
            self._boot_error = exc
        finally:
            self._booted.set()
        self._call_soon(self.show_integrity)  # the screen drawn before the boot learns of the log's state

    @property
    def ledger(self) -> Ledger:
        """The open database; waits for the boot thread (only if a key beats it, ~50 ms).

        If the database could not be opened, the error is raised (shown by show_fault) and the next
        use tries to open it again."""
        if not self._booted.is_set():
            self._start_boot()  # typed-ahead keys can arrive before the first paint started it
        self._booted.wait()
        if self._boot_error is not None:
            error, self._boot_error = self._boot_error, None
            self._booted.clear()
            self._boot_started = False
            raise error
        assert self._ledger is not None
        return self._ledger

    @property
    def ready(self) -> bool:
        """The database is open (never waits)."""
        return self._booted.is_set() and self._ledger is not None

    # -- who is signed in --------------------------------------------------------------------
    @property
    def actor(self) -> str:
        assert self.user is not None, "no user signed in"
        return self.user.username

    def signed_in(self, user: User) -> None:
        from bedside.core.text import printable

        from .screens.patients import PatientListScreen

        self.user = user
        self.last_input = self._idle_clock()
        self.sub_title = printable(user.label)  # stored text: never a control sequence (core/text.py)
        zone = self.ledger.zone  # CONV-TIME-1: a fallback time zone is made visible, not silent
        if zone.note:
            self.sub_title = printable(f"{user.label} · ⚠ times in {zone.name}")
            self.notify(
                f"Times and dose days are in {zone.name}: {zone.note}.", title="Time zone", severity="warning", timeout=20
            )
        self.apply_theme(user.preference("theme"))
        self.switch_screen(PatientListScreen())

    async def action_sign_out(self) -> None:
        from .screens.signin import SignInScreen

        self.user = None
        self.locked = False
        if self._gc_frozen:
            gc.unfreeze()
            self._gc_frozen = False
        self.sub_title = ""
        self.apply_theme(None)  # the sign-in screen in the default colours, not the last user's
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(SignInScreen())

    # -- keys typed while the screen changes -----------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        """Every event the app gets: a key (from the terminal, or bubbled back up unhandled) typed
        before the screen now in front was drawn is dropped if it would run a binding there: the
        user could not have meant the new screen (after the PIN's Enter, "a" typed during the check
        would otherwise open the audit). Text typed into a field that has the focus is kept: such a
        key is not a binding (Textual leaves out the keys a focused field consumes), nor is Enter or
        an editing key of the field itself (tui/widgets/field.py hands keys typed after Enter on to
        the next field)."""
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_input = self._idle_clock()
        if isinstance(event, events.Key) and self._typed_during_change(event) and self._binds(event.key):
            event.stop()
            if self._rang_for != self._change:  # one bell per change: "that key was not taken"
                self._rang_for = self._change
                if self.ready and self.ledger.site().bell:  # a site may keep its terminals quiet
                    self.bell()
            return
        await super().on_event(event)

    def _typed_during_change(self, event: events.Key) -> bool:
        if self._settling and event.time - self._changed_at < SETTLE_LIMIT_SECONDS:
            return True
        return event.time < self._settled_at

    def _binds(self, key: str) -> bool:
        """Whether ``key`` would run a binding of the current screen (its focused widget, the screen,
        the app), other than the focused text field's own (Enter, backspace, the arrows)."""
        focused = self.focused
        for node, bindings in self.screen._binding_chain:  # without the keys a focused field consumes
            if bindings.key_to_bindings.get(key):
                return not (node is focused and _takes_text(focused))
        return False

    # -- help, the command palette, themes ---------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "command_palette":
            return self.palette_allowed()
        if action in ("lock", "sign_out", "board", "audit", "open_patient"):
            return self.user is not None  # nothing before the sign-in
        if action == "integrity":
            from .screens.integrity import may_report

            return may_report(self)
        if action == "lab_inbox":
            from bedside.core import auth

            return False if self.user is None else auth.may_administer(self.user.role)
        if action in ("next_theme", "set_theme"):
            return self.user is not None and not self._no_color  # False: not offered at all
        if action == "help" and parameters == ("?",):
            return not _takes_text(self.screen.focused)  # "?" typed into a field stays there
        return True

    def palette_allowed(self) -> bool:
        """Signed in, not locked, on a screen (not a dialog, not the lock): nothing in the palette
        can pass the sign-in or a question a dialog is asking."""
        return self.user is not None and not self.locked and not isinstance(self.screen, ModalScreen)

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        from .palette import BedsidePalette

        if self.palette_allowed() and not CommandPalette.is_open(self):  # also a click on the header's icon
            self.push_screen(BedsidePalette(placeholder="A patient's MRN or name, or a command…", id="--command-palette"))

    def action_help(self, _key: str = "") -> None:
        from textual.command import CommandPalette

        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)  # F1 again closes it
        elif not CommandPalette.is_open(self):
            self.push_screen(HelpScreen(self.screen))

    def action_open_patient(self, pid: str) -> None:
        from .screens.patient import PatientScreen

        self.ledger.patient(pid)  # a patient of this record (KeyError otherwise)
        self.push_screen(PatientScreen(pid))

    def show_integrity(self) -> None:
        """Issue 18: while the record has findings no admin has seen, every screen shows one line
        under its title bar saying so (tui/screens/integrity.py); it goes once an admin has seen them."""
        if not self.ready or self._ledger is None:
            return
        from .screens.integrity import IntegrityBanner, banner_text

        text = banner_text(self._ledger.integrity())
        for screen in self.screen_stack:
            IntegrityBanner.show_on(screen, text)

    def action_integrity(self) -> None:
        """The integrity report (admins, while it lists something)."""
        from .screens.integrity import IntegrityScreen

        self.push_screen(IntegrityScreen())

    def action_lab_inbox(self) -> None:
        """The laboratory messages not applied (admins; l on the patient list)."""
        from .screens.labinbox import LabInboxScreen

        self.push_screen(LabInboxScreen())

    def action_board(self) -> None:
        from .screens.board import BoardScreen

        self.push_screen(BoardScreen())

    def action_audit(self) -> None:
        from .screens.audit import AuditScreen

        self.push_screen(AuditScreen())

    def apply_theme(self, value: str | None) -> None:
        """Show a theme preference (None: the default); NO_COLOR keeps the terminal's colours."""
        if not self._no_color:
            self.theme = THEMES.get(value or "dark", THEMES["dark"])

    def action_set_theme(self, value: str) -> None:
        """Record the signed-in user's theme (core/auth SetPreference) and show it."""
        from bedside.core import auth

        if self.user is None or self._no_color:
            return
        name = self.user.username
        self.ledger.execute(auth.SetPreference(name, "theme", value), name)
        self.user = self.ledger.users()[name]
        self.apply_theme(value)
        self.notify(f"Theme: {value.replace('-', ' ')}. Remembered for you at every sign-in.", title="Theme", timeout=4)

    def action_next_theme(self) -> None:
        """ctrl+t: the next theme of core/auth PREFERENCES, remembered for the user."""
        from bedside.core import auth

        if self.user is None:
            return
        values = auth.PREFERENCES["theme"]
        now = self.user.preference("theme")
        self.action_set_theme(values[(values.index(now) + 1) % len(values)] if now in values else values[0])

    # -- idle lock ---------------------------------------------------------------------------

    def lock_if_idle(self) -> None:
        if self.user is None or self.locked or not self.ready:
            return
        limit = self.ledger.site().lock_minutes * 60
        if self._idle_clock() - self.last_input >= limit:
            self.action_lock()

    def action_lock(self) -> None:
        from .screens.signin import LockScreen

        if self.user is None or self.locked:
            return
        self.locked = True
        self.push_screen(LockScreen(self.user))

    def unlocked(self) -> None:
        self.locked = False
        self.last_input = self._idle_clock()

    # -- other terminals ---------------------------------------------------------------------
    _listener = None  # the watcher's LISTEN connection on PostgreSQL (core/pgnotify.py), else None

    def _watch_store(self) -> None:
        """The watcher thread: read what other terminals wrote off the event loop, so a slow or
        lost server never freezes the screen; fold it in on the screens' thread. On PostgreSQL it
        waits for the appends' NOTIFY (core/pgnotify.py: a change shows at once, and an idle
        terminal sends no query), polling anyway every SAFETY_POLL_SECONDS, and every WATCH_SECONDS
        while the listener or the store is down. On SQLite it polls every WATCH_SECONDS (PRAGMA
        data_version: O(1), no read when unchanged)."""
        listener = None
        made = False
        ok = True
        try:
            while True:
                if listener is not None:
                    listener.wait(SAFETY_POLL_SECONDS if ok else WATCH_SECONDS)  # True or False: poll
                    if self._watcher_stop.is_set():
                        return
                elif self._watcher_stop.wait(WATCH_SECONDS):
                    return
                if not self.ready:
                    continue
                if not made:
                    made = True
                    listener = self._listener = self._make_listener()
                    if self._watcher_stop.is_set():  # on_unmount came before it was there to close
                        return
                ok = self._poll_once()
        finally:
            if listener is not None:
                listener.close()

    def _make_listener(self):
        from bedside.core.pgnotify import listener_for

        try:
            return listener_for(self._ledger.store)  # None on SQLite: the one-second poll stays
        except Exception as exc:  # noqa: BLE001 - a fault in Bedside: logged, the poll goes on
            from .faults import log_fault

            log_fault(exc)
            return None

    def _poll_once(self) -> bool:
        """One read of what other terminals wrote (max(seq) or data_version first: no read when
        unchanged), in the watcher thread. False if the store failed."""
        from bedside.core.store_errors import StoreError

        try:
            fetched = self._ledger.fetch_new()
        except StoreError as exc:
            self._call_soon(self._store_lost, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - a fault in Bedside: logged, the watch goes on
            from .faults import log_fault

            log_fault(exc)
            return True
        self._call_soon(self._store_back)
        if fetched is not None:
            self._call_soon(self._fold_in, fetched)
        return True

    def _call_soon(self, fn, *args) -> None:
        """Hand ``fn`` to the event loop without waiting for it (so the watcher never waits on the
        loop, and the loop can wait for the watcher at exit)."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._watcher_stop.is_set():
            return
        try:
            loop.call_soon_threadsafe(self._run_in_app, fn, args)
        except RuntimeError:  # the loop closed meanwhile
            self._watcher_stop.set()

    def _run_in_app(self, fn, args) -> None:
        if self._watcher_stop.is_set():
            return
        with self._context():
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - shown like any action's fault
                if not self.show_fault(exc, lambda: None):
                    self._handle_exception(exc)

    def _fold_in(self, fetched) -> None:
        if self._ledger is not None and self._ledger.ingest(*fetched):
            self.show_integrity()
            refresh = getattr(self.screen, "ledger_changed", None)
            if refresh is not None:
                refresh()

    def poll_store(self) -> None:
        """Fold in what other terminals wrote, now (what the watcher does each second)."""
        if not self.ready:
            return
        fetched = self.ledger.fetch_new()
        if fetched is not None:
            self._fold_in(fetched)

    # -- laboratory results dropped in a folder (tui/labwatch.py) -------------------------------
    lab_folder = None  # the folder watched while the app runs (--watch-labs, the demo's own), else None

    def labs_arrived_from_thread(self, done: list) -> None:
        """The lab watcher's report of a pass (its thread): handled on the screens' thread."""
        self._call_soon(self.labs_arrived, done)

    def labs_arrived(self, done: list) -> None:
        """Fold the new results in at once (the pre-dose check shows them) and say so in one line."""
        from .labwatch import summary

        self.poll_store()
        line, kept = summary(done)
        if self.user is not None and not self.locked:
            self.notify(line, title="Laboratory results", severity="warning" if kept else "information", timeout=10)

    store_problem: str | None = None

    def _store_lost(self, exc: BaseException) -> None:
        if self.store_problem is None:
            self.store_problem = str(exc)
            self.title = self._title_text()
            self.notify(
                "Bedside cannot reach the database. Saving will fail until it is back; other terminals' changes "
                "are not shown meanwhile. Bedside keeps trying every second.",
                title="Database unreachable",
                severity="error",
                timeout=30,
            )

    def _store_back(self) -> None:
        if self.store_problem is not None:
            self.store_problem = None
            self.title = self._title_text()
            self.notify("The database is reachable again.", title="Database back", timeout=8)

    def notify(
        self, message: str, *, title: str = "", severity="information", timeout: float | None = None, markup: bool = True
    ) -> None:
        """Every toast (screens' and widgets' notify come here): shown literally, never as markup or
        a control sequence, since messages quote stored names and typed reasons (core/text.py)."""
        from bedside.core.text import printable

        kwargs = {} if timeout is None else {"timeout": timeout}
        super().notify(printable(str(message), multiline=True), title=printable(title), severity=severity, markup=False, **kwargs)

    def _title_text(self) -> str:
        title = f"Bedside · {DEMO_MARK}" if self.demo else "Bedside"
        return f"{title} · ⚠ DATABASE UNREACHABLE" if self.store_problem else title
