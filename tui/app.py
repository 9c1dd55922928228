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
        self._watcher_stop.set()
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
    def _watch_store(self) -> None:
        """The watcher thread: once a second, read what other terminals wrote (PRAGMA
        data_version on SQLite, max(seq) on PostgreSQL: no read when unchanged) off the event
        loop, so a slow or lost server never freezes the screen; fold it in on the screens' thread."""
        from bedside.core.store_errors import StoreError

        while not self._watcher_stop.wait(WATCH_SECONDS):
            if not self.ready:
                continue
            try:
                fetched = self._ledger.fetch_new()
            except StoreError as exc:
                self._call_soon(self._store_lost, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - a fault in Bedside: logged, the watch goes on
                from .faults import log_fault

                log_fault(exc)
                continue
            self._call_soon(self._store_back)
            if fetched is not None:
                self._call_soon(self._fold_in, fetched)

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
