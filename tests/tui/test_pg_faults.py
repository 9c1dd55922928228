"""The PostgreSQL server goes away under a running app and comes back.

A loopback TCP proxy stands between the app and the test server (``BEDSIDE_TEST_PG``): cutting
it is what a stopped server or a lost network looks like to the app (connections reset, new ones
refused); restoring it is the server coming back. The test server itself is shared, so it is
never stopped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from bedside.core.demo import DEMO_KEY, seed
from bedside.core.service import Ledger
from bedside.tui.app import BedsideApp
from bedside.tui.screens.dialogs import FaultScreen
from bedside.tui.screens.intake_form import FormScreen
from bedside.tui.screens.patient import PatientScreen

from ..core.test_store_contract import PgDatabase, require_pg
from .conftest import FakeIdle, sign_in
from .test_foundation_flow import fill


class Proxy:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(16)
        self.listener = srv
        threading.Thread(target=self._accept, args=(srv,), daemon=True).start()

    def _accept(self, srv: socket.socket) -> None:
        while True:
            try:
                client, _ = srv.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self.listener.close()
            self.listener = None
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture
def pg_db():
    db = PgDatabase(require_pg())
    yield db
    db.drop()


async def wait_until(pilot, cond, seconds: float = 6.0) -> None:
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            notes = [n.message for n in pilot.app._notifications]
            raise AssertionError(f"not met in {seconds} s: screen {pilot.app.screen!r}, title {pilot.app.title!r}, {notes}")
        await asyncio.sleep(0.1)
        await pilot.pause()


async def test_the_server_goes_away_and_comes_back_under_a_running_app(pg_db, clock):
    from bedside.core.pgstore import PgStore

    parts = urlsplit(pg_db.url)
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    store = PgStore(proxy.url(pg_db.url), connect_timeout=3)
    seed(store, clock)
    ledger = Ledger(store, clock, DEMO_KEY)
    app = BedsideApp(ledger, demo=True, idle_clock=FakeIdle())
    try:
        async with app.run_test() as pilot:
            await sign_in(pilot)
            await pilot.press("n")
            form = app.screen
            assert isinstance(form, FormScreen)
            await fill(pilot, form, {"name": "PGLOST, Ann", "dob": "1971-01-02", "mrn": "MRN-7101", "sex": "female"})
            before = ledger.last_seq

            proxy.cut()
            await wait_until(pilot, lambda: "DATABASE UNREACHABLE" in app.title)  # the watcher saw it
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, FaultScreen))
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is form, "the form and what was typed stay"

            proxy.restore()
            await wait_until(pilot, lambda: "UNREACHABLE" not in app.title)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, PatientScreen))
            assert ledger.patient(app.screen.pid).name == "PGLOST, Ann"
            new = store.read(after_seq=before)
            assert [e.stream for e in new] == [ledger.patient(app.screen.pid).stream], "saved once"
    finally:
        store.close()
        proxy.cut()
