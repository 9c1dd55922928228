"""The Bedside Textual app: the imperative shell around ``bedside.core``."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events
from textual.app import App
from textual.binding import Binding

if TYPE_CHECKING:
    from bedside.core.auth import User
    from bedside.core.service import Ledger

DEMO_MARK = "DEMO — not for clinical use"
IDLE_CHECK_SECONDS = 10
WATCH_SECONDS = 1.0


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

    # -- start -------------------------------------------------------------------------------
    def on_mount(self) -> None:
        from .screens.signin import FirstAdminScreen, SignInScreen

        if self._no_color:
            self.add_class("-no-color")  # tcss: the cursor and focus shown by reverse video

        first = self.first_run if self._ledger is None else not self._ledger.users()
        self.push_screen(FirstAdminScreen() if first else SignInScreen())
        if self._ledger is None:
            threading.Thread(target=self._run_boot, name="bedside-boot", daemon=True).start()
        self.set_interval(IDLE_CHECK_SECONDS, self.lock_if_idle)
        self.set_interval(WATCH_SECONDS, self.poll_store)

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
