"""Waiting for other terminals on PostgreSQL: ``LISTEN`` for the appends' ``NOTIFY`` (issue 19).

Every :meth:`bedside.core.pgstore.PgStore.append` runs ``pg_notify('bedside_events', <new head
seq>)`` in its transaction, so the server tells every listening session at COMMIT. A
:class:`Listener` holds a connection of its own (autocommit, idle in ``LISTEN``; the store's
connection stays free for reads and appends) and blocks in ``select()`` on its socket, so an idle
terminal sends no query at all and a change shows at once instead of up to a poll later.

What :meth:`Listener.wait` promises, and what it does not:

- ``True``: poll now. A notification came, or the listener cannot vouch for the time just past:
  it has just (re)connected (what was committed before its ``LISTEN`` was never announced to it),
  it lost its connection, or it is down (then it returns ``True`` every ``poll_interval``: the
  caller's polling fallback, while it reconnects with a back-off).
- ``False``: the timeout passed on a live connection with no notification (or the listener was
  closed). A notification is a hint, never the data: the caller reads the store (``max(seq)``,
  then the events after its last one), so nothing is lost to a dropped or merged notification.
  A caller should still poll now and then (the app: every 30 s) in case the listener's
  connection died silently (TCP keepalives, set below, find that within about a minute).

Channels are per database, not per schema: when several Bedside logs (schemas) share one
database, an append to any of them wakes every listener of that database. The payload (a seq)
does not say which log it was, and need not: a false wake-up costs the caller one ``max(seq)``
index lookup on its own schema, which finds no change. So notifications are not filtered.

psycopg 3 is imported only when a listener connects, as in core/pgstore.py; the DSN (and
password handling: ``~/.pgpass``, ``PG*`` variables) is the store's, and errors name the server
only through :func:`~bedside.core.pgstore.redact`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from typing import Any

from .pgstore import NOTIFY_CHANNEL, PgStore, redact

#: While the listener is down, :meth:`Listener.wait` returns True this often (the caller polls).
POLL_INTERVAL = 1.0
#: Reconnection back-off: the first attempt at once, then 1, 2, 4 … seconds apart, at most this.
MAX_BACKOFF = 30.0
#: How long one connection attempt may take (seconds), unless the DSN says otherwise.
CONNECT_TIMEOUT = 5
#: TCP keepalives (unless the DSN sets them), so a peer that vanished without a word is noticed:
#: probes after 20 s idle, every 5 s, 3 unanswered → lost (libpq ignores them on Unix sockets).
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 20, "keepalives_interval": 5, "keepalives_count": 3}


class Listener:
    """One ``LISTEN bedside_events`` connection, made lazily and made again when lost.

    :meth:`wait` is for one thread (the watcher); :meth:`close` may come from any thread and
    wakes a :meth:`wait` in progress at once. Nothing here raises into the caller: a connection
    that fails is only a reason to return True (poll) and try again later.
    """

    def __init__(
        self,
        dsn: str,
        *,
        connect_timeout: int = CONNECT_TIMEOUT,
        poll_interval: float = POLL_INTERVAL,
        max_backoff: float = MAX_BACKOFF,
    ):
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.problem: str | None = None  # why the listener is down (the DSN redacted), for logs
        self.connects = 0  # connections made (tests and the report count reconnections)
        self.notified = 0  # notifications received
        self._conn: Any = None
        self._selector: selectors.BaseSelector | None = None
        self._failures = 0  # connection losses and failed attempts since it last proved healthy
        self._next_attempt = 0.0  # time.monotonic() of the next connection attempt
        self._closed = False
        self._busy = threading.Lock()  # held by wait(): close() leaves the resources to it
        self._wake_r, self._wake_w = socket.socketpair()
        for s in (self._wake_r, self._wake_w):
            s.setblocking(False)

    # -- what the watcher calls ----------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._conn is not None

    @property
    def backend_pid(self) -> int | None:
        """The server process of the listening session (None while down)."""
        return None if self._conn is None else self._conn.info.backend_pid

    def wait(self, timeout: float) -> bool:
        """Block until a notification (True), ``timeout`` seconds with none (False), or a reason
        to poll (True: see the module's docstring). Returns False at once once closed."""
        with self._busy:
            if self._closed:
                self._release()
                return False
            try:
                return self._wait(max(0.0, timeout))
            finally:
                if self._closed:
                    self._release()

    def close(self) -> None:
        """Stop: wake a wait in progress (from any thread), close the connection. Idempotent."""
        self._closed = True
        with contextlib.suppress(OSError):  # closed already, or its buffer full of earlier wake-ups
            self._wake_w.send(b"x")
        if self._busy.acquire(blocking=False):
            try:
                self._release()
            finally:
                self._busy.release()

    # -- inside ----------------------------------------------------------------------------------
    def _wait(self, timeout: float) -> bool:
        if self._conn is None:
            if time.monotonic() >= self._next_attempt and self._connect():
                return True  # just (re)connected: what came before the LISTEN was not announced
            self._sleep(min(timeout, self.poll_interval))
            return not self._closed  # down: the caller polls (its fallback)
        deadline = time.monotonic() + timeout
        while not self._closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._failures = 0  # a quiet, live connection: healthy again
                return False
            ready = {key.fileobj for key, _ in self._selector.select(remaining)}  # type: ignore[union-attr]
            if self._wake_r in ready:
                self._drain_wake()
            if self._conn.fileno() in ready and self._read_notifications():
                return True
            if self._conn is None:
                return True  # lost: anything since the last notification may be unannounced
        return False

    def _read_notifications(self) -> bool:
        """Take what the socket holds; True if it held a notification. A lost connection is
        dropped (self._conn becomes None)."""
        try:
            got = [n for n in self._conn.notifies(timeout=0) if n.channel == NOTIFY_CHANNEL]
        except Exception as exc:  # noqa: BLE001 - any failure of the socket is a lost connection
            self._lost(exc)
            return False
        if got:
            self.notified += len(got)
            self._failures = 0
        return bool(got)

    def _connect(self) -> bool:
        """One attempt to connect and LISTEN; on failure the next is scheduled (back-off)."""
        try:
            import psycopg
            from psycopg import sql

            kwargs: dict[str, Any] = {"autocommit": True}
            if "connect_timeout" not in self.dsn:
                kwargs["connect_timeout"] = self.connect_timeout
            if "application_name" not in self.dsn:
                kwargs["application_name"] = "bedside-listen"
            if "keepalives" not in self.dsn:
                kwargs.update(KEEPALIVES)
            conn = psycopg.connect(self.dsn, **kwargs)
        except Exception as exc:  # noqa: BLE001 - psycopg missing, server down, refused, bad DSN
            self._failed(exc)
            return False
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
            selector = selectors.DefaultSelector()
            selector.register(conn.fileno(), selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
        except Exception as exc:  # noqa: BLE001
            conn.close()
            self._failed(exc)
            return False
        self._conn, self._selector = conn, selector
        self.connects += 1
        self.problem = None
        return True

    def _failed(self, exc: BaseException) -> None:
        self._failures += 1
        # The first attempt after a loss is at once; each failure after it waits twice as long.
        delay = 0.0 if self._failures <= 1 else min(self.max_backoff, 2.0 ** (self._failures - 2))
        self._next_attempt = time.monotonic() + delay
        self.problem = f"listening on {redact(self.dsn)} failed: {str(exc).strip() or type(exc).__name__}"

    def _lost(self, exc: BaseException) -> None:
        self._drop()
        self._failed(exc)

    def _sleep(self, seconds: float) -> None:
        """Sleep, woken early by close()."""
        if seconds > 0 and not self._closed:
            with selectors.DefaultSelector() as sel:
                sel.register(self._wake_r, selectors.EVENT_READ)
                if sel.select(seconds):
                    self._drain_wake()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:  # BlockingIOError: drained
            pass

    def _drop(self) -> None:
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if self._conn is not None:
            with contextlib.suppress(Exception):  # it is being thrown away
                self._conn.close()
            self._conn = None

    def _release(self) -> None:
        self._drop()
        for s in (self._wake_r, self._wake_w):
            s.close()


def listener_for(store: object) -> Listener | None:
    """A listener for ``store``'s database, or None when it has no notifications (SQLite, a test
    double): the caller then polls as before. Connects on its first :meth:`Listener.wait`."""
    if not isinstance(store, PgStore):
        return None
    return Listener(store.dsn, connect_timeout=min(CONNECT_TIMEOUT, getattr(store, "_connect_timeout", CONNECT_TIMEOUT)))
