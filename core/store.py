"""The event store: one small interface (append, read) and its embedded SQLite implementation.

SQLite is reached through ``apsw``, which bundles a current SQLite: the system SQLite of our
machines (3.40) predates the fix of the WAL-reset bug that several processes writing one
database can hit. The database runs in WAL mode with ``synchronous=FULL``, a busy timeout and
``BEGIN IMMEDIATE`` for appends, so many terminals on one server can share it.

Guarantees:
- append-only: triggers refuse UPDATE and DELETE on ``events``;
- per-stream version numbers with a uniqueness constraint: a writer that lost a race gets a
  :class:`ConcurrencyError` and never overwrites (optimistic concurrency);
- a hash chain over the whole log, each event authenticated by a MAC under the site's log key
  (core/keyring.py), with the head also kept outside the database (the anchors,
  core/logcheck.py), so :func:`verify_log` detects an edited, deleted, truncated, forged or wholly
  rewritten log;
- each append is committed (and fsynced) before it returns.

The log's format is shared with :mod:`bedside.core.pgstore`: the columns, the numbering and
hashing of new rows (:func:`chain_rows`), the checks on a copied event (:func:`check_follows`),
the anchors and :func:`verify_log`. The errors are in :mod:`bedside.core.store_errors`
(re-exported here).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .auditsql import COLUMNS as _COLUMNS
from .auditsql import audit_sql as audit_sql
from .events import GENESIS_HASH, Event, NewEvent, canonical_json, event_hash, iso_utc, parse_utc
from .logcheck import Anchor as Anchor
from .logcheck import AnchorFile as AnchorFile
from .logcheck import VerifyReport as VerifyReport
from .logcheck import stored_hash_of
from .store_errors import ConcurrencyError as ConcurrencyError
from .store_errors import StoreError as StoreError
from .store_errors import StoreUnavailable as StoreUnavailable
from .store_errors import StoreUncertain as StoreUncertain

if TYPE_CHECKING:
    from .auth import SiteKey
    from .keyring import Keyring

#: 2: each event carries the id of the log key that authenticated it and its MAC (issue 18).
SCHEMA_VERSION = 2

#: The columns after ``seq``: the same on both backends (``core/pgstore.py`` uses it too).
EVENT_COLUMNS_DDL = """
    stream    TEXT    NOT NULL,
    version   INTEGER NOT NULL CHECK (version >= 1),
    kind      TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    at_utc    TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    key_id    TEXT    NOT NULL DEFAULT '',
    mac       TEXT    NOT NULL DEFAULT '',
    UNIQUE (stream, version)"""

#: The protective triggers of the SQLite log (verify-log checks they are there).
SQLITE_TRIGGERS = ("events_no_update", "events_no_delete")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
    seq       INTEGER PRIMARY KEY,{EVENT_COLUMNS_DDL}
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
"""

#: The index of a stream's events in log order (the audit's pages of one patient, issue 19); made
#: by ``db migrate`` on PostgreSQL (schema 3), on opening a SQLite database that lacks it.
STREAM_SEQ_INDEX = "CREATE INDEX IF NOT EXISTS events_stream_seq ON events (stream, seq);"


def translate_sqlite_error(exc: BaseException, path: str) -> StoreError | None:
    """A user-facing StoreUnavailable for an apsw/OS error that is the store's condition, not a bug."""
    import apsw

    name = os.path.basename(path) or path
    if isinstance(exc, (apsw.BusyError, apsw.LockedError)):
        message = (
            f"The database {name} is busy: another terminal or program (a backup?) is holding it. "
            "Nothing was saved; try again in a moment."
        )
        return StoreUnavailable(message, True, str(exc))
    if isinstance(exc, apsw.FullError) or (isinstance(exc, OSError) and exc.errno == 28):
        message = f"The disk holding {name} is full. Nothing was saved. Ask IT to free space, then try again."
        return StoreUnavailable(message, True, str(exc))
    if isinstance(exc, (apsw.ReadOnlyError, apsw.PermissionsError, apsw.AuthError, PermissionError)):
        message = (
            f"The database {name} cannot be written (read-only or no permission). Nothing was saved. "
            "Ask IT to check the file's permissions."
        )
        return StoreUnavailable(message, True, str(exc))
    if isinstance(exc, (apsw.CantOpenError, apsw.IOError, apsw.ProtocolError, OSError)):
        message = (
            f"The database {name} cannot be reached (disk or file system error). Nothing was saved. "
            "Try again; if it persists, ask IT."
        )
        return StoreUnavailable(message, True, str(exc))
    if isinstance(exc, (apsw.CorruptError, apsw.NotADBError)):
        message = (
            f"The file {name} is damaged or is not a Bedside database. Nothing was saved. "
            "Stop and call IT (run `bedside verify-log`)."
        )
        return StoreUnavailable(message, False, str(exc))
    return None


class EventStore(Protocol):
    def append(self, stream: str, expected_version: int, events: Sequence[NewEvent]) -> list[Event]:
        """Append ``events`` to ``stream`` if it is at ``expected_version``; else ConcurrencyError."""

    def read(self, stream: str | None = None, after_seq: int = 0) -> list[Event]:
        """Events in log order: one stream, or the whole log; only those with seq > after_seq."""

    def change_token(self) -> object:
        """A cheap value that changes when another connection commits (for watching)."""

    def last_seq(self) -> int:
        """The newest event's seq, one index lookup: how many events there are (seq counts from 1, no gap)."""

    def stream_version(self, stream: str) -> int:
        """How many events ``stream`` holds (one index lookup)."""

    def audit_page(  # noqa: PLR0913 - one keyword a filter, as the screen's one field needs
        self,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 100,
        oldest_first: bool | None = None,
        stream: str | None = None,
        streams: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        actor_like: str | None = None,
        text_like: str | None = None,
    ) -> list[Event]:
        """One page of the log for the audit (keyset pagination, filters in SQL): :func:`audit_sql`."""


# -- the log's rows, the same on both backends ----------------------------------------------------


def _row_to_event(row: tuple) -> Event:
    seq, stream, version, kind, actor, at_utc, data, prev_hash, hash_, key_id, mac = row
    return Event(seq, stream, version, kind, actor, parse_utc(at_utc), json.loads(data), prev_hash, hash_, key_id, mac)


def event_row(ev: Event) -> tuple:
    """A stored event as the row it is stored as (for copying a log between stores)."""
    data = canonical_json(ev.data)
    return (ev.seq, ev.stream, ev.version, ev.kind, ev.actor, iso_utc(ev.at), data, ev.prev_hash, ev.hash, ev.key_id, ev.mac)


def check_streams(stream: str, events: Sequence[NewEvent]) -> None:
    """Refuse (StoreError) an append that carries an event of another stream."""
    for ev in events:
        if ev.stream != stream:
            raise StoreError(f"event for {ev.stream} appended to {stream}")


def chain_rows(
    stream: str, version: int, head_seq: int, head_hash: str, events: Sequence[NewEvent], keyring: Keyring | None = None
) -> list[tuple]:
    """The rows that append ``events`` to ``stream`` (now at ``version``) after the log's head:
    each numbered (seq, version), hashed onto the one before it and, with a keyring, authenticated
    by its MAC under the current log key."""
    rows = []
    seq, prev = head_seq, head_hash
    for ev in events:
        seq += 1
        version += 1
        at = iso_utc(ev.at)
        data_json = canonical_json(ev.data)
        h = event_hash(prev, seq, stream, version, ev.kind, ev.actor, at, data_json)
        key_id, mac = keyring.sign_event(h) if keyring is not None else ("", "")
        rows.append((seq, stream, version, ev.kind, ev.actor, at, data_json, prev, h, key_id, mac))
        prev = h
    return rows


recomputed_hash = stored_hash_of  # the name the store's callers have always used


def check_follows(ev: Event, head_seq: int, head_hash: str, stream_version: int) -> None:
    """Refuse (StoreError) an event that does not follow the head and its stream, or whose hash is wrong."""
    if ev.seq != head_seq + 1:
        raise StoreError(f"event {ev.seq} does not follow event {head_seq}: the source log has a gap or is out of order")
    if ev.prev_hash != head_hash:
        raise StoreError(f"event {ev.seq} ({ev.ref}) does not follow the previous event's hash")
    if ev.version != stream_version + 1:
        raise StoreError(f"{ev.stream}: version {ev.version} where {stream_version + 1} was expected")
    if recomputed_hash(ev) != ev.hash:
        raise StoreError(f"event {ev.seq} ({ev.ref}) does not match its hash: it was altered")


def _chunks(events: Iterable[Event], size: int) -> Iterator[list[Event]]:
    chunk: list[Event] = []
    for ev in events:
        chunk.append(ev)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class KeptLog:
    """What both stores do besides storing: sign new events with the site's log key and keep the
    anchors (core/logcheck.py). Unbound (no keys: tests of the store alone), events are stored
    without a MAC."""

    anchors: list[AnchorFile]
    keys: SiteKey | None = None
    anchor_error: str | None = None
    _unmade: set[Path]  # anchors this process should have made and could not (a full disk)
    _pg = False  # which SQL dialect audit_sql writes
    # The events audit_sql's query selects: each store runs it on its own connection (its own method).
    _audit_rows: Callable[[str, list], list[Event]]

    def audit_page(  # noqa: PLR0913 - one keyword a filter, as the screen's one field needs
        self,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 100,
        oldest_first: bool | None = None,
        stream: str | None = None,
        streams: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        actor_like: str | None = None,
        text_like: str | None = None,
    ) -> list[Event]:
        """One page of the log for the audit: :func:`audit_sql`, on either backend."""
        match = {"streams": streams, "kinds": kinds, "actor_like": actor_like, "text_like": text_like}
        return self._audit_rows(*audit_sql(self._pg, before, after, limit, oldest_first, stream, **match))

    @property
    def anchor(self) -> AnchorFile | None:
        """The first anchor (beside the database, for SQLite)."""
        return self.anchors[0] if self.anchors else None

    def set_keys(self, keys: SiteKey) -> None:
        """Sign from now on with ``keys`` (re-read at each write: a rotation elsewhere is seen) and
        keep the anchors the site's keyring names besides this store's own.

        A log that already holds events is never given a new key file: its own is missing (moved,
        deleted, not copied to this host), and events signed by a new one would not verify."""
        path = getattr(keys, "path", None)
        if path is not None and not Path(path).exists() and self.last_seq() > 0:
            raise StoreError(
                f"The site key file {path} is missing, but the database already holds events: restore the key "
                "file (from the backup of this site) or name it with $BEDSIDE_KEY. No new key was made."
            )
        self.keys = keys
        for path in keys.keyring().anchors:
            self.add_anchor(Path(path))

    def add_anchor(self, path: str | os.PathLike[str]) -> None:
        if all(Path(path) != a.path for a in self.anchors):
            self.anchors.append(AnchorFile(Path(path)))

    def _keyring(self) -> Keyring | None:
        """The keyring to sign with, read inside the write (so no event is signed with a key retired
        before the write began)."""
        return None if self.keys is None else self.keys.keyring()

    def _after_commit(self, last: Event, head_before: int, keyring: Keyring | None) -> None:
        """Record where an old, unauthenticated log ended (its first authenticated append) and move
        every anchor forward. The events are committed: a failure here is reported
        (``anchor_error``), never raised, since "not saved" would be false and a retry would
        record them twice."""
        errors = []
        if keyring is not None and keyring.legacy_through is None and self.keys is not None:
            try:
                self.keys.replace(keyring.sealed_at(head_before))
            except OSError as exc:
                errors.append(f"the key file could not record where the old log ends: {exc.strerror or exc}")
        anchor = Anchor.signed(last.seq, last.hash, keyring)
        for f in self.anchors:
            create = head_before == 0 or f.path in self._unmade
            try:
                f.advance(anchor, create=create)
                self._unmade.discard(f.path)
            except (OSError, StoreError) as exc:
                if create and isinstance(exc, OSError):
                    self._unmade.add(f.path)  # this process failed to make it: it makes it at its next append
                errors.append(str(exc) if isinstance(exc, StoreError) else f"the anchor {f.path}: {exc.strerror or exc}")
        self.anchor_error = "; ".join(errors) or None

    def reset_anchors(self, last: Event | None) -> None:
        """Write every anchor afresh at ``last`` (``bedside anchor reset``, after a full check)."""
        keyring = self._keyring()
        anchor = Anchor.signed(last.seq, last.hash, keyring) if last is not None else Anchor.signed(0, GENESIS_HASH, keyring)
        for f in self.anchors:
            f.write(anchor)
        self.anchor_error = None


# -- SQLite ---------------------------------------------------------------------------------------
def _translated(method):
    """Turn an apsw or OS error of a store method into the user-facing StoreUnavailable."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            with self._lock:  # one connection, used by the screens and the watcher thread in turn
                return method(self, *args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            translated = translate_sqlite_error(exc, self.path)
            if translated is None:
                raise
            raise translated from exc

    return wrapper


#: How long a write waits for another connection's lock before it gives up (a normal append holds
#: it for milliseconds; a backup or a hung process much longer). The app uses a short wait so a
#: screen never freezes for long: the user is told and can retry.
DEFAULT_BUSY_MS = 10_000

_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
_HEAD = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
_STREAM_VERSION = "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = ?"


class SqliteStore(KeptLog):
    """The embedded default store."""

    def __init__(self, path: str | os.PathLike[str], anchor: AnchorFile | bool | None = True, busy_ms: int = DEFAULT_BUSY_MS):
        self.path = str(path)
        self.anchor_error = None
        self.anchors = []
        self._unmade = set()
        self._lock = threading.RLock()
        self._open(anchor, busy_ms)

    @_translated
    def _open(self, anchor: AnchorFile | bool | None, busy_ms: int) -> None:
        import apsw

        self._apsw = apsw
        memory = self.path == ":memory:"
        if not memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # a new database is its owner's only (SQLite
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # gives -wal/-shm its mode)
        self.conn = apsw.Connection(self.path)
        self.conn.set_busy_timeout(busy_ms)
        if not memory:
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self._create_or_migrate()
        if anchor is True:
            self.anchors = [] if memory else [AnchorFile(Path(self.path + ".head"))]
        else:
            self.anchors = [anchor] if anchor else []

    def _create_or_migrate(self) -> None:
        """A new database gets the schema and its triggers. An existing one is brought to this
        schema (1 → 2 adds each event's key id and MAC, empty for the events written before: the
        log's first authenticated event seals them); its triggers are never made again here, so
        ``verify-log`` sees it if someone removed them."""
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(events)")}
        if not columns:
            with self._write() as cur:
                if not {row[1] for row in cur.execute("PRAGMA table_info(events)")}:
                    cur.execute(SCHEMA + STREAM_SEQ_INDEX)
                    cur.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            return
        if not {"key_id", "mac"} <= columns:
            with self._write() as cur:
                columns = {row[1] for row in cur.execute("PRAGMA table_info(events)")}
                for name in ("key_id", "mac"):
                    if name not in columns:
                        cur.execute(f"ALTER TABLE events ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")
                cur.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'events_stream_seq'").fetchone():
            # Derived, so a database this process may only read goes on without it (a slower audit).
            errors = (self._apsw.ReadOnlyError, self._apsw.BusyError, self._apsw.PermissionsError)
            with contextlib.suppress(*errors), self._write() as cur:
                cur.execute(STREAM_SEQ_INDEX)

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Any]:
        """A ``BEGIN IMMEDIATE`` transaction: committed at the end, rolled back on any error."""
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(self._apsw.Error):
                cur.execute("ROLLBACK")
            raise

    def _head(self, cur: Any) -> tuple[int, str]:
        last = cur.execute(_HEAD).fetchone()
        return (last[0], last[1]) if last else (0, GENESIS_HASH)

    # -- the interface -------------------------------------------------------------------------
    @_translated
    def append(self, stream: str, expected_version: int, events: Sequence[NewEvent]) -> list[Event]:
        if not events:
            return []
        check_streams(stream, events)
        with self._write() as cur:
            (actual,) = cur.execute(_STREAM_VERSION, (stream,)).fetchone()
            if actual != expected_version:
                raise ConcurrencyError(stream, expected_version, actual)
            keyring = self._keyring()
            head_seq, head_hash = self._head(cur)
            rows = chain_rows(stream, actual, head_seq, head_hash, events, keyring)
            cur.executemany(_INSERT, rows)
        stored = [_row_to_event(row) for row in rows]
        self._after_commit(stored[-1], head_seq, keyring)
        return stored

    @_translated
    def read(self, stream: str | None = None, after_seq: int = 0) -> list[Event]:
        if stream is None:
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM events WHERE seq > ? ORDER BY seq", (after_seq,))
        else:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM events WHERE stream = ? AND seq > ? ORDER BY seq", (stream, after_seq)
            )
        return [_row_to_event(r) for r in rows]

    def iter_events(self, after_seq: int = 0, batch: int = 5000) -> Iterator[Event]:
        """The log from ``after_seq`` on, in order, a page at a time (constant memory)."""
        while True:
            page = self._page(after_seq, batch)
            yield from page
            if len(page) < batch:
                return
            after_seq = page[-1].seq

    @_translated
    def _page(self, after_seq: int, batch: int) -> list[Event]:
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, batch))
        return [_row_to_event(r) for r in rows]

    @_translated
    def _audit_rows(self, sql: str, params: list) -> list[Event]:
        return [_row_to_event(r) for r in self.conn.execute(sql, params)]

    @_translated
    def protection_problems(self, roles: Sequence[str] = ()) -> list[str]:
        """What is missing of the log's own protections (the triggers that refuse UPDATE and DELETE).
        ``roles``: as for PgStore; a SQLite file has none (its protection is the file's mode)."""
        present = {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        }
        return [
            f"the database's protection {name} (it refuses {name.rsplit('_', 1)[1].upper()} on events) was removed"
            for name in SQLITE_TRIGGERS
            if name not in present
        ]

    @_translated
    def change_token(self) -> object:
        (value,) = self.conn.execute("PRAGMA data_version").fetchone()
        return value

    # -- helpers outside the interface ---------------------------------------------------------
    @_translated
    def stream_version(self, stream: str) -> int:
        (v,) = self.conn.execute(_STREAM_VERSION, (stream,)).fetchone()
        return v

    @_translated
    def last_seq(self) -> int:
        (v,) = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        return v

    @_translated
    def import_events(self, events: Iterable[Event], batch: int = 1000) -> int:
        """Append already-stored events (from another store) exactly as they are, for ``db copy``.

        Each event must follow the current head (seq, prev_hash) and its stream's version, and its
        hash must match its content (:func:`check_follows`): nothing is renumbered or re-hashed, so
        a broken log is refused rather than laundered. Commits every ``batch`` events; returns how
        many.
        """
        count = 0
        for chunk in _chunks(events, batch):
            with self._write() as cur:
                head_seq, head_hash = self._head(cur)
                versions: dict[str, int] = {}
                for ev in chunk:
                    if ev.stream not in versions:
                        (versions[ev.stream],) = cur.execute(_STREAM_VERSION, (ev.stream,)).fetchone()
                    check_follows(ev, head_seq, head_hash, versions[ev.stream])
                    cur.execute(_INSERT, event_row(ev))
                    head_seq, head_hash, versions[ev.stream] = ev.seq, ev.hash, ev.version
            count += len(chunk)
            self._after_commit(chunk[-1], chunk[0].seq - 1, self._keyring())
        return count


# -- verifying a log (either backend) ---------------------------------------------------------------
class _AnchorValue:
    """An anchor already read (the callers that pass one in), looked at as an anchor file."""

    def __init__(self, anchor: Anchor):
        self.anchor = anchor
        self.path = Path("(the anchor given)")

    def read(self) -> Anchor:
        return self.anchor


_STORE_ANCHORS: Any = object()


def verify_log(
    store: Any, anchor: Any = _STORE_ANCHORS, anchor_expected: bool = True, keyring: Keyring | None = None
) -> VerifyReport:
    """Check the whole log, streamed: every hash, the chain, the numbering, every MAC (under
    ``keyring``, else the keyring the store signs with, if any), the anchors (the store's own
    anchor files; or the one :class:`Anchor` given; None: none) and the store's protections."""
    if anchor is _STORE_ANCHORS:
        anchors = list(getattr(store, "anchors", ()))
    elif anchor is None:
        anchors = []
    else:
        anchors = [_AnchorValue(anchor)]
    if keyring is None and getattr(store, "keys", None) is not None:
        keyring = store.keys.keyring()
    protections = store.protection_problems() if hasattr(store, "protection_problems") else []
    events = store.iter_events() if hasattr(store, "iter_events") else store.read()
    from .logcheck import verify_log as check

    return check(events, keyring, anchors, protections, anchor_expected)
