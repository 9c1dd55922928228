"""The event store: one small interface (append, read) and its embedded SQLite implementation.

SQLite is reached through ``apsw``, which bundles a current SQLite: the system SQLite of our
machines (3.40) predates the fix of the WAL-reset bug that several processes writing one
database can hit. The database runs in WAL mode with ``synchronous=FULL``, a busy timeout and
``BEGIN IMMEDIATE`` for appends, so many terminals on one server can share it.

Guarantees:
- append-only: triggers refuse UPDATE and DELETE on ``events``;
- per-stream version numbers with a uniqueness constraint: a writer that lost a race gets a
  :class:`ConcurrencyError` and never overwrites (optimistic concurrency);
- a hash chain over the whole log, with its head also kept outside the database (the anchor
  file), so :func:`verify_log` detects an edited, deleted, truncated or wholly rewritten log;
- each append is committed (and fsynced) before it returns.

The log's format is shared with :mod:`bedside.core.pgstore`: the columns, the numbering and
hashing of new rows (:func:`chain_rows`), the checks on a copied event (:func:`check_follows`),
the anchor file and :func:`verify_log`. The errors are in :mod:`bedside.core.store_errors`
(re-exported here).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from attrs import frozen

from .events import GENESIS_HASH, Event, NewEvent, canonical_json, event_hash, iso_utc, parse_utc
from .store_errors import ConcurrencyError as ConcurrencyError
from .store_errors import StoreError as StoreError
from .store_errors import StoreUnavailable as StoreUnavailable
from .store_errors import StoreUncertain as StoreUncertain

SCHEMA_VERSION = 1

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
    UNIQUE (stream, version)"""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (
    seq       INTEGER PRIMARY KEY,{EVENT_COLUMNS_DDL}
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


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


@frozen
class Anchor:
    seq: int
    hash: str


class AnchorFile:
    """The head of the hash chain, kept outside the database.

    Written after each commit under an exclusive file lock, only forward, atomically (write to a
    temporary file, fsync, rename), so concurrent writers never move it backwards.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def read(self) -> Anchor | None:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            return Anchor(int(raw["seq"]), str(raw["hash"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"anchor file {self.path} is unreadable: {exc}") from exc

    def advance(self, anchor: Anchor) -> None:
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self.read()
            except StoreError:
                current = None
            if current is not None and current.seq >= anchor.seq:
                return
            tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(json.dumps({"seq": anchor.seq, "hash": anchor.hash}))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)


# -- the log's rows, the same on both backends ----------------------------------------------------
_COLUMNS = "seq, stream, version, kind, actor, at_utc, data, prev_hash, hash"


def _row_to_event(row: tuple) -> Event:
    seq, stream, version, kind, actor, at_utc, data, prev_hash, hash_ = row
    return Event(seq, stream, version, kind, actor, parse_utc(at_utc), json.loads(data), prev_hash, hash_)


def event_row(ev: Event) -> tuple:
    """A stored event as the row it is stored as (for copying a log between stores)."""
    return (ev.seq, ev.stream, ev.version, ev.kind, ev.actor, iso_utc(ev.at), canonical_json(ev.data), ev.prev_hash, ev.hash)


def check_streams(stream: str, events: Sequence[NewEvent]) -> None:
    """Refuse (StoreError) an append that carries an event of another stream."""
    for ev in events:
        if ev.stream != stream:
            raise StoreError(f"event for {ev.stream} appended to {stream}")


def chain_rows(stream: str, version: int, head_seq: int, head_hash: str, events: Sequence[NewEvent]) -> list[tuple]:
    """The rows that append ``events`` to ``stream`` (now at ``version``) after the log's head:
    each numbered (seq, version) and hashed onto the one before it."""
    rows = []
    seq, prev = head_seq, head_hash
    for ev in events:
        seq += 1
        version += 1
        at = iso_utc(ev.at)
        data_json = canonical_json(ev.data)
        h = event_hash(prev, seq, stream, version, ev.kind, ev.actor, at, data_json)
        rows.append((seq, stream, version, ev.kind, ev.actor, at, data_json, prev, h))
        prev = h
    return rows


def recomputed_hash(ev: Event) -> str:
    """The hash an event's content gives (equal to ``ev.hash`` unless it was altered)."""
    return event_hash(ev.prev_hash, ev.seq, ev.stream, ev.version, ev.kind, ev.actor, iso_utc(ev.at), canonical_json(ev.data))


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

_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"
_HEAD = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
_STREAM_VERSION = "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = ?"


class SqliteStore:
    """The embedded default store."""

    def __init__(self, path: str | os.PathLike[str], anchor: AnchorFile | bool | None = True, busy_ms: int = DEFAULT_BUSY_MS):
        self.path = str(path)
        self.anchor_error: str | None = None
        self._lock = threading.RLock()
        self._open(anchor, busy_ms)

    @_translated
    def _open(self, anchor: AnchorFile | bool | None, busy_ms: int) -> None:
        import apsw

        self._apsw = apsw
        memory = self.path == ":memory:"
        if not memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = apsw.Connection(self.path)
        self.conn.set_busy_timeout(busy_ms)
        if not memory:
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(SCHEMA)
        self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        if anchor is True:
            self.anchor = None if memory else AnchorFile(Path(self.path + ".head"))
        else:
            self.anchor = anchor or None

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

    def _advance_anchor(self, last: Event) -> None:
        if self.anchor is None:
            return
        try:
            self.anchor.advance(Anchor(last.seq, last.hash))
            self.anchor_error = None
        except OSError as exc:
            # The events are committed: saying "not saved" would be false, and a retry would
            # record them twice. The anchor catches up at the next append; until then
            # verify-log notes the events after it.
            self.anchor_error = str(exc)

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
            rows = chain_rows(stream, actual, *self._head(cur), events)
            cur.executemany(_INSERT, rows)
        stored = [_row_to_event(row) for row in rows]
        self._advance_anchor(stored[-1])
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
            if self.anchor is not None:
                self.anchor.advance(Anchor(chunk[-1].seq, chunk[-1].hash))
        return count


# -- verifying a log (either backend) ---------------------------------------------------------------
@frozen
class VerifyReport:
    ok: bool
    events: int
    streams: int
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    anchored: bool = True

    def summary(self) -> str:
        if self.ok:
            what = "hash chain and anchor verified" if self.anchored else "hash chain verified (no outside anchor kept)"
            head = f"INTACT: {self.events} events in {self.streams} streams; {what}."
        else:
            head = f"NOT INTACT: {len(self.problems)} problem(s) in {self.events} events."
        return "\n".join([head, *(f"  problem: {p}" for p in self.problems), *(f"  note: {n}" for n in self.notes)])


def _chain_problems(events: Sequence[Event]) -> tuple[list[str], dict[str, int]]:
    """What is wrong with the chain itself (gaps, broken links, altered events, numbering), and
    each stream's last version."""
    problems: list[str] = []
    prev_hash, prev_seq = GENESIS_HASH, 0
    versions: dict[str, int] = {}
    for ev in events:
        if ev.seq != prev_seq + 1:
            problems.append(f"events {prev_seq + 1}–{ev.seq - 1} are missing (deleted)")
        if ev.prev_hash != prev_hash:
            problems.append(f"event {ev.seq} ({ev.ref}) does not follow the previous event's hash")
        if recomputed_hash(ev) != ev.hash:
            problems.append(f"event {ev.seq} ({ev.ref}) was altered: its content does not match its hash")
        expected_version = versions.get(ev.stream, 0) + 1
        if ev.version != expected_version:
            problems.append(f"{ev.stream}: version {ev.version} where {expected_version} was expected")
        versions[ev.stream] = ev.version
        prev_hash, prev_seq = ev.hash, ev.seq
    return problems, versions


def _anchor_findings(events: Sequence[Event], anchor: Anchor | None, anchor_expected: bool) -> tuple[list[str], list[str]]:
    """The problems and notes from comparing the log's end with the outside anchor."""
    last_seq = events[-1].seq if events else 0
    if anchor is None:
        if anchor_expected and events:
            return ["the chain's head anchor file is missing: the log cannot be checked for truncation or rewriting"], []
        return [], []
    at = next((ev for ev in events if ev.seq == anchor.seq), None)
    if at is None:
        return [f"the log ends at event {last_seq} but the anchor records event {anchor.seq}: truncated"], []
    if at.hash != anchor.hash:
        return [f"event {anchor.seq} differs from the anchored head: the log was rewritten"], []
    if last_seq > anchor.seq:
        return [], [f"{last_seq - anchor.seq} event(s) after the anchor (a write was interrupted before the anchor moved)"]
    return [], []


def verify_log(store: SqliteStore | EventStore, anchor: Anchor | None = None, anchor_expected: bool = True) -> VerifyReport:
    """Check the whole log: every hash, the chain, the sequence numbers and the outside anchor."""
    events = store.read()
    problems, versions = _chain_problems(events)
    anchor_problems, notes = _anchor_findings(events, anchor, anchor_expected)
    problems += anchor_problems
    return VerifyReport(not problems, len(events), len(versions), tuple(problems), tuple(notes), anchor is not None)
