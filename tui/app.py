"""The Bedside Textual app: the imperative shell around ``bedside.core``."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events
from textual.app import App
from textual.binding import Binding

if TYPE_CHECKING:
    from textual.timer import Timer

    from bedside.core.auth import User
    from bedside.core.service import Ledger

DEMO_MARK = "DEMO — not for clinical use"
IDLE_CHECK_SECONDS = 10
WATCH_SECONDS = 1.0
PRUNE_DELAY_SECONDS = 0.15


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
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False),  # shown on sign-in and the patient list
        Binding("ctrl+l", "lock", "Lock", show=False),
    ]

    def __init__(self, ledger: Ledger | None = None, demo: bool = False, idle_clock=time.monotonic,
                 boot: Callable[[], Ledger] | None = None, first_run: bool = False):
        """``ledger``, or ``boot``: a function that opens the database (and seeds the demo) in a
        thread while the first screen is already drawn, keeping that work off the start-up path."""
        no_color = "NO_COLOR" in os.environ
        super().__init__(ansi_color=True if no_color else None)
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
        self.set_interval(WATCH_SECONDS, self.poll_store)
        self.screen_change_signal.subscribe(self, self._screen_changed)

    def _screen_changed(self, _screen) -> None:
        if self._prune_timer is not None:
            self._prune_timer.stop()
        self._prune_timer = self.set_timer(PRUNE_DELAY_SECONDS, self.prune)

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
        except BaseException as exc:  # shown by the ledger property on first use
            self._boot_error = exc
        finally:
            self._booted.set()

    @property
    def ledger(self) -> Ledger:
        """The open database; waits for the boot thread (only if a key beats it, ~50 ms)."""
        if not self._booted.is_set():
            self._start_boot()  # typed-ahead keys can arrive before the first paint started it
        self._booted.wait()
        if self._boot_error is not None:
            raise self._boot_error
        assert self._ledger is not None
        return self._ledger

    # -- who is signed in --------------------------------------------------------------------
    @property
    def actor(self) -> str:
        assert self.user is not None, "no user signed in"
        return self.user.username

    def signed_in(self, user: User) -> None:
        from .screens.patients import PatientListScreen

        self.user = user
        self.last_input = self._idle_clock()
        self.sub_title = user.label
        self.switch_screen(PatientListScreen())

    async def action_sign_out(self) -> None:
        from .screens.signin import SignInScreen

        self.user = None
        self.locked = False
        if self._gc_frozen:
            gc.unfreeze()
            self._gc_frozen = False
        self.sub_title = ""
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(SignInScreen())

    # -- idle lock ---------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_input = self._idle_clock()
        await super().on_event(event)

    def lock_if_idle(self) -> None:
        if self.user is None or self.locked or not self._booted.is_set():
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
    def poll_store(self) -> None:
        """Fold in what other terminals wrote (PRAGMA data_version: no read when unchanged)."""
        if not self._booted.is_set():
            return
        if self.ledger.refresh():
            refresh = getattr(self.screen, "ledger_changed", None)
            if refresh is not None:
                refresh()
