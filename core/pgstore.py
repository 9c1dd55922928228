"""The event store on PostgreSQL: one log shared by the terminals of many hosts.

The same interface (``append``, ``read``, ``change_token``) and the same log as
:class:`bedside.core.store.SqliteStore`: the same columns, the same ``seq``/``version``
numbering and the same :func:`~bedside.core.events.event_hash` over the same canonical JSON
(``data`` is kept as TEXT, not ``jsonb``, so its bytes never change), so a log verifies
identically on both backends and ``bedside db copy`` moves it between them unchanged.

Guarantees, as for SQLite:

- append-only: statement triggers refuse UPDATE, DELETE and TRUNCATE on ``events``;
- per-stream versions with UNIQUE (stream, version): a writer that lost a race gets a
  :class:`~bedside.core.store.ConcurrencyError` and never overwrites;
- one hash chain over the whole log: appends hold a transaction-scoped advisory lock
  (``pg_advisory_xact_lock``, per schema) while they read the head and insert, so ``seq`` and
  the chain stay strictly sequential across hosts. A BEFORE INSERT trigger also refuses any row
  that does not follow the current head (``seq = head + 1`` and ``prev_hash = head's hash``), so
  even a writer that skips the lock (a hand-typed INSERT) cannot fork or gap the chain: with the
  primary key on ``seq`` the loser of such a race fails;
- each append is committed before it returns (PostgreSQL's default ``synchronous_commit=on``
  with ``fsync=on``: the commit record is flushed to the server's WAL).

Anchors. SQLite keeps the chain's head in a file beside the database; a database server has no
"beside", so ``bedside`` gives a PostgreSQL log the anchor ``<key file>.head``, beside the site key
file that every host holds (tui/dbcli.py ``pg_anchor_path``), plus any ``--anchor PATH`` /
``$BEDSIDE_ANCHOR`` and the anchors the keyring names (core/keyring.py). Made here directly,
``PgStore(dsn)`` keeps none unless ``anchor`` is given. Each append by *this* process advances
every anchor it keeps after the commit (forward only, authenticated by a MAC; a missing one is
reported, never made again: ``bedside anchor reset`` does that after a full check), so a host's
anchor records at least the newest event that host wrote and detects a truncation or rewrite at or
before it. Every event also carries its MAC, so an event INSERTed by a role without the key is
rejected wherever it is (core/logcheck.py). Run ``bedside db migrate`` as an owner role that the
terminals do not use: they need only SELECT and INSERT on ``events`` and SELECT on ``meta``; the
owner could disable the triggers and delete the log's last rows, which an anchor it cannot write
(another host or volume, ``--anchor``) catches, and ``verify-log`` (run as the terminals' role,
``--role`` for others) reports a trigger disabled or a role that could change the log
(:meth:`PgStore.protection_problems`).

Watching. :meth:`PgStore.change_token` is ``SELECT max(seq)``: one index lookup on the primary
key (a fraction of a millisecond on a LAN), so the app's once-a-second poll shows another host's
append within about a second; it needs no second connection and misses nothing across
reconnections (LISTEN/NOTIFY would need both).

psycopg 3 is imported only when a :class:`PgStore` is made (``pip install 'bedside[pg]'``), so
the core stays light.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

from .events import GENESIS_HASH, Event, NewEvent
from .store import (
    _COLUMNS,
    EVENT_COLUMNS_DDL,
    AnchorFile,
    KeptLog,
    _chunks,
    _row_to_event,
    chain_rows,
    check_streams,
    event_row,
)
from .store import check_follows as check_follows  # re-exported: it was defined here before
from .store_errors import ConcurrencyError, StoreError, StoreUnavailable, StoreUncertain

T = TypeVar("T")

#: 2: each event's key id and MAC (issue 18). 3: the index of a stream's events in log order (issue 19).
PG_SCHEMA_VERSION = 3

# The statement triggers that keep the log append-only, and the row trigger that keeps it one chain.
_TRIGGERS = (
    ("events_no_update", "BEFORE UPDATE", "STATEMENT", "bedside_events_append_only"),
    ("events_no_delete", "BEFORE DELETE", "STATEMENT", "bedside_events_append_only"),
    ("events_no_truncate", "BEFORE TRUNCATE", "STATEMENT", "bedside_events_append_only"),
    ("events_chain", "BEFORE INSERT", "ROW", "bedside_events_chain"),
)


def _create_trigger_if_missing(name: str, when: str, each: str, function: str) -> str:
    return f"""
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{{schema}}.events'::regclass AND tgname = '{name}') THEN
        CREATE TRIGGER {name} {when} ON {{schema}}.events
            FOR EACH {each} EXECUTE FUNCTION {{schema}}.{function}();
    END IF;"""


#: The channel an append notifies with the new head's seq (LISTENed to by core/pgnotify.py).
NOTIFY_CHANNEL = "bedside_events"

# Schema version 1, created in the first schema of the connection's search_path
# (``current_schema()``); ``{schema}`` is that schema, quoted.
_SCHEMA_V1 = f"""
CREATE TABLE IF NOT EXISTS {{schema}}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {{schema}}.events (
    seq       BIGINT  PRIMARY KEY CHECK (seq >= 1),{EVENT_COLUMNS_DDL}
);
CREATE OR REPLACE FUNCTION {{schema}}.bedside_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$f$;
CREATE OR REPLACE FUNCTION {{schema}}.bedside_events_chain() RETURNS trigger
LANGUAGE plpgsql AS $f$
DECLARE
    head_seq  BIGINT;
    head_hash TEXT;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM {{schema}}.events ORDER BY seq DESC LIMIT 1;
    IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    IF NEW.seq <> head_seq + 1 OR NEW.prev_hash <> head_hash THEN
        RAISE EXCEPTION 'events form one hash chain: event % does not follow the head (event %)', NEW.seq, head_seq
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END
$f$;
DO $d$
BEGIN{"".join(_create_trigger_if_missing(*t) for t in _TRIGGERS)}
END
$d$;
"""

# Schema version 2: the key id and MAC of each event (empty for the events written before).
_SCHEMA_V2 = """
ALTER TABLE {schema}.events ADD COLUMN IF NOT EXISTS key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE {schema}.events ADD COLUMN IF NOT EXISTS mac TEXT NOT NULL DEFAULT '';
"""

# Schema version 3: one patient's events a page at a time for the audit (AuditScreen(pid)), by
# (stream, seq) rather than the whole stream sorted. Made by the owner (``db migrate``), as all DDL.
_SCHEMA_V3 = "CREATE INDEX IF NOT EXISTS events_stream_seq ON {schema}.events (stream, seq);"

# version -> the SQL that brings a database from the version before it to this one.
_MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1, 2: _SCHEMA_V2, 3: _SCHEMA_V3}

_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
# The log's head (seq, hash), or (0, the genesis hash) when it is empty; %s: GENESIS_HASH.
_HEAD = (
    "SELECT COALESCE(h.seq, 0) AS seq, COALESCE(h.hash, %s) AS hash"
    " FROM (SELECT 1) one LEFT JOIN (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) h ON true"
)


def is_pg_url(target: object) -> bool:
    """True for a PostgreSQL connection URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redact(dsn: str) -> str:
    """The DSN with any password hidden, for messages."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        parts = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - only for display
        return "postgresql://…"
    if "password" in parts:
        parts["password"] = "***"
    if is_pg_url(dsn):
        host = parts.get("host", "")
        port = f":{parts['port']}" if parts.get("port") else ""
        user = f"{parts['user']}@" if parts.get("user") else ""
        return f"postgresql://{user}{host}{port}/{parts.get('dbname', '')}"
    return make_conninfo(**parts)


def _serialised(method: Callable[..., T]) -> Callable[..., T]:
    """Run ``method`` holding the store's lock: the screens and the watcher thread share one
    connection, and psycopg serialises single statements only (its cursors share the
    transaction), so each query and each whole transaction runs alone."""

    @functools.wraps(method)
    def locked(self: PgStore, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class PgStore(KeptLog):
    """The event store in a PostgreSQL database (libpq DSN or ``postgresql://`` URL)."""

    _pg = True

    def __init__(
        self,
        dsn: str,
        anchor: AnchorFile | str | os.PathLike[str] | None = None,
        migrate: bool = True,
        connect_timeout: int = 10,
    ):
        import psycopg  # lazily: only the PostgreSQL backend needs it

        self._pg = psycopg
        self.dsn = dsn
        self._connect_timeout = connect_timeout
        self.conn: Any = None
        self._lock = threading.RLock()  # held by @_serialised methods
        self.conn = self._connect()
        self.anchor_error = None
        self._unmade = set()
        if anchor is None:
            self.anchors = []
        else:
            self.anchors = [anchor if isinstance(anchor, AnchorFile) else AnchorFile(Path(anchor))]
        try:
            (schema,) = self._query("SELECT current_schema()")[0]
            if schema is None:
                raise StoreError(f"{redact(dsn)}: no schema of the search_path exists to hold the event tables")
            self.schema: str = schema
            # One lock per schema, so two logs in one database do not wait on each other.
            ((self._lock_key, self._migrate_key),) = self._query(
                "SELECT hashtextextended('bedside.events ' || %s, 0), hashtextextended('bedside.migrate ' || %s, 0)",
                (schema, schema),
            )
            if migrate and self.schema_version() != PG_SCHEMA_VERSION:
                self.migrate()
        except BaseException:
            self.conn.close()
            raise

    # -- connection ------------------------------------------------------------------------------
    def _connect(self) -> Any:
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in self.dsn:
            kwargs["connect_timeout"] = self._connect_timeout
        if "application_name" not in self.dsn:
            kwargs["application_name"] = "bedside"
        try:
            return self._pg.connect(self.dsn, **kwargs)
        except self._pg.Error as exc:
            raise StoreUnavailable(
                f"Bedside cannot connect to the database server ({redact(self.dsn)}). "
                "Nothing was saved; try again in a moment. If it persists, ask IT.",
                True,
                f"cannot connect to {redact(self.dsn)}: {exc}".strip(),
            ) from exc

    def _live(self) -> Any:
        """The connection, made again if the old one was lost (server restart, network)."""
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = self._connect()
        return self.conn

    @_serialised
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """A read-only query; retried once on a fresh connection if the connection was lost."""
        for attempt in (1, 2):
            conn = self._live()
            try:
                return conn.execute(sql, params).fetchall()
            except self._pg.Error as exc:
                if conn.broken and attempt == 2:
                    raise StoreUnavailable(
                        f"The connection to the database server ({redact(self.dsn)}) was lost. Try again in a moment.",
                        True,
                        f"{redact(self.dsn)}: {exc}".strip(),
                    ) from exc
                if attempt == 2 or not conn.broken:
                    raise StoreError(f"{redact(self.dsn)}: {exc}".strip()) from exc
        raise AssertionError("unreachable")

    def _pipeline(self, conn: Any) -> Any:
        return conn.pipeline() if self._pg.Pipeline.is_supported() else nullcontext()

    @_serialised
    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    # -- schema ----------------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The schema version recorded in ``meta`` (0 when the tables are not there yet)."""
        (exists,) = self._query("SELECT to_regclass(quote_ident(%s) || '.meta') IS NOT NULL", (self.schema,))[0]
        if not exists:
            return 0
        rows = self._query("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    @_serialised
    def migrate(self) -> int:
        """Create or upgrade the schema; idempotent, safe from several hosts at once. Returns the version."""
        from psycopg import sql

        conn = self._live()
        (encoding,) = self._query("SHOW server_encoding")[0]
        if encoding.upper() not in ("UTF8", "UTF-8"):
            raise StoreError(f"{redact(self.dsn)}: the database encoding is {encoding}; Bedside needs UTF8")
        schema = sql.Identifier(self.schema).as_string(conn)
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._migrate_key,))
                current = self.schema_version()
                if current > PG_SCHEMA_VERSION:
                    raise StoreError(
                        f"the database has schema version {current}, "
                        f"newer than this Bedside knows ({PG_SCHEMA_VERSION}): upgrade Bedside"
                    )
                for version in range(current + 1, PG_SCHEMA_VERSION + 1):
                    conn.execute(_MIGRATIONS[version].replace("{schema}", schema))
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', %s)"
                    " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (str(PG_SCHEMA_VERSION),),
                )
        except self._pg.Error as exc:
            raise StoreError(f"{redact(self.dsn)}: migration failed: {exc}".strip()) from exc
        return PG_SCHEMA_VERSION

    # -- the interface ---------------------------------------------------------------------------
    def append(self, stream: str, expected_version: int, events: Sequence[NewEvent]) -> list[Event]:
        if not events:
            return []
        check_streams(stream, events)
        return self._append_whole(stream, expected_version, events)

    @_serialised
    def _append_whole(self, stream: str, expected_version: int, events: Sequence[NewEvent]) -> list[Event]:
        conn = self._live()
        try:
            # Pipelined: BEGIN, the lock and the head read go in one round trip, the INSERTs and
            # COMMIT in a second one (it matters on a LAN, not on loopback).
            with self._pipeline(conn), conn.transaction():
                # Serialise appenders (all hosts): the head read below stays the head until COMMIT.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                actual, seq, prev = conn.execute(
                    f"SELECT (SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = %s), head.* FROM ({_HEAD}) head",
                    (stream, GENESIS_HASH),
                ).fetchone()
                if actual != expected_version:
                    raise ConcurrencyError(stream, expected_version, actual)
                keyring = self._keyring()
                rows = chain_rows(stream, actual, seq, prev, events, keyring)
                with conn.cursor() as cur:
                    cur.executemany(_INSERT, rows)
                # Delivered at COMMIT to every terminal LISTENing (issue 19: no polling for changes)
                conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(rows[-1][0])))
        except self._pg.Error as exc:
            raise self._append_refused(exc, conn, stream, expected_version) from exc
        stored = [_row_to_event(row) for row in rows]
        self._after_commit(stored[-1], seq, keyring)
        return stored

    def _append_refused(self, exc: Exception, conn: Any, stream: str, expected_version: int) -> StoreError:
        """The store's error for a psycopg error raised by an append."""
        if isinstance(exc, self._pg.errors.UniqueViolation):
            # Only a writer that skipped the lock can get here: treat it as a lost race.
            return ConcurrencyError(stream, expected_version, self.stream_version(stream))
        if isinstance(exc, self._pg.OperationalError):
            if not conn.broken:
                return StoreUnavailable(
                    f"The database server ({redact(self.dsn)}) refused the write just now. Nothing was saved; try again.",
                    True,
                    str(exc),
                )
            return StoreUncertain(
                f"{redact(self.dsn)}: the append to {stream} may not have been committed ({exc}); re-read before retrying"
            )
        return StoreError(f"{redact(self.dsn)}: append to {stream} refused: {exc}")

    def read(self, stream: str | None = None, after_seq: int = 0) -> list[Event]:
        if stream is None:
            rows = self._query(f"SELECT {_COLUMNS} FROM events WHERE seq > %s ORDER BY seq", (after_seq,))
        else:
            rows = self._query(f"SELECT {_COLUMNS} FROM events WHERE stream = %s AND seq > %s ORDER BY seq", (stream, after_seq))
        return [_row_to_event(r) for r in rows]

    def change_token(self) -> object:
        return self._query("SELECT COALESCE(MAX(seq), 0) FROM events")[0][0]

    def _audit_rows(self, sql: str, params: list) -> list[Event]:
        return [_row_to_event(r) for r in self._query(sql, params)]

    def iter_events(self, after_seq: int = 0, batch: int = 5000):
        """The log from ``after_seq`` on, in order, a page at a time (constant memory)."""
        while True:
            rows = self._query(f"SELECT {_COLUMNS} FROM events WHERE seq > %s ORDER BY seq LIMIT %s", (after_seq, batch))
            yield from (_row_to_event(r) for r in rows)
            if len(rows) < batch:
                return
            after_seq = rows[-1][0]

    def protection_problems(self, roles: Sequence[str] = ()) -> list[str]:
        """What is missing of the log's own protections: a trigger removed or disabled, or one of
        ``roles`` ("current_user": the connecting one, as the terminals connect) that can UPDATE,
        DELETE or TRUNCATE the events, or could switch the triggers off (it owns the table, or is
        a superuser)."""
        problems = []
        present = dict(
            self._query(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = to_regclass(quote_ident(%s) || '.events')",
                (self.schema,),
            )
        )
        for name, when, _each, _fn in _TRIGGERS:
            what = f"the database's protection {name} (it refuses {when.split()[1]} on events)"
            if name not in present:
                problems.append(f"{what} was removed")
            elif present[name] == "D":
                problems.append(f"{what} is disabled")
        for role in dict.fromkeys(roles):
            problems += self._role_problems(role)
        return problems

    def _role_problems(self, role: str) -> list[str]:
        ident = "current_user" if role == "current_user" else "%s"
        params: tuple = () if role == "current_user" else (role,)
        table = "quote_ident(%s) || '.events'"
        ((name, superuser, owner, update, delete, truncate),) = self._query(
            f"SELECT r.rolname, r.rolsuper, pg_has_role({ident}, c.relowner, 'USAGE'),"
            f" has_table_privilege({ident}, {table}, 'UPDATE'), has_table_privilege({ident}, {table}, 'DELETE'),"
            f" has_table_privilege({ident}, {table}, 'TRUNCATE')"
            f" FROM pg_roles r, pg_class c WHERE r.rolname = {ident} AND c.oid = to_regclass({table})",
            (*params, *params, self.schema, *params, self.schema, *params, self.schema, *params, self.schema),
        )
        problems = []
        rights = [op for op, can in (("UPDATE", update), ("DELETE", delete), ("TRUNCATE", truncate)) if can]
        if superuser or owner:
            problems.append(
                f"the role {name} {'is a superuser' if superuser else 'owns the events table'}: it can switch the "
                "protective triggers off; terminals must use a role with only SELECT and INSERT (README: PostgreSQL)"
            )
        elif rights:
            problems.append(f"the role {name} may {', '.join(rights)} the events: grant terminals only SELECT and INSERT")
        return problems

    # -- helpers outside the interface -----------------------------------------------------------
    def stream_version(self, stream: str) -> int:
        return self._query("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = %s", (stream,))[0][0]

    def last_seq(self) -> int:
        return self._query("SELECT COALESCE(MAX(seq), 0) FROM events")[0][0]

    def import_events(self, events: Iterable[Event], batch: int = 1000) -> int:
        """Append already-stored events (from another store) exactly as they are, for ``db copy``.

        Each event must follow the current head (seq, prev_hash) and its stream's version, and
        its hash must match its content: nothing is renumbered or re-hashed, so a broken log is
        refused rather than laundered. Commits every ``batch`` events; returns how many.
        """
        count = 0
        for chunk in _chunks(events, batch):
            self._import_chunk(chunk)
            count += len(chunk)
            self._after_commit(chunk[-1], chunk[0].seq - 1, self._keyring())
        return count

    @_serialised
    def _import_chunk(self, chunk: list[Event]) -> None:
        """One transaction of :meth:`import_events`: check each event follows, insert them all."""
        conn = self._live()
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                (head_seq, head_hash) = conn.execute(_HEAD, (GENESIS_HASH,)).fetchone()
                streams = sorted({e.stream for e in chunk})
                versions = dict(
                    conn.execute(
                        "SELECT stream, MAX(version) FROM events WHERE stream = ANY(%s) GROUP BY stream", (streams,)
                    ).fetchall()
                )
                for ev in chunk:
                    check_follows(ev, head_seq, head_hash, versions.get(ev.stream, 0))
                    head_seq, head_hash, versions[ev.stream] = ev.seq, ev.hash, ev.version
                with conn.cursor() as cur:
                    cur.executemany(_INSERT, [event_row(ev) for ev in chunk])
        except self._pg.Error as exc:
            raise StoreError(f"{redact(self.dsn)}: import refused: {exc}") from exc
