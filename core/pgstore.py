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

Anchor. SQLite keeps the chain's head in a file beside the database. A database server has no
"beside"; the anchor is optional here (``anchor=None`` by default). Given a path (or an
:class:`~bedside.core.store.AnchorFile`), each append by *this* process also advances that file
after the commit; on a host that writes, it then records the newest event that host wrote, which
still detects a truncation or rewrite at or before it. Without an anchor, :func:`verify_log`
checks every hash, the chain and the numbering, but cannot tell a log truncated at its end, or
rewritten wholesale by someone holding the table owner's rights, from an intact one: keep the
head elsewhere too (e.g. a nightly ``SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1``
written to storage the database owner cannot change) and run the database as an owner role that
the terminals do not use (they need only SELECT and INSERT on ``events``, SELECT on ``meta``).

Watching. :meth:`PgStore.change_token` is ``SELECT max(seq)``: one index lookup on the primary
key (a fraction of a millisecond on a LAN), so the app's once-a-second poll shows another host's
append within about a second; it needs no second connection and misses nothing across
reconnections (LISTEN/NOTIFY would need both).

psycopg 3 is imported only when a :class:`PgStore` is made (``pip install 'bedside[pg]'``), so
the core stays light.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from .events import GENESIS_HASH, Event, NewEvent, canonical_json, event_hash, iso_utc
from .store import _COLUMNS, Anchor, AnchorFile, ConcurrencyError, StoreError, StoreUncertain, StoreUnavailable, _row_to_event

PG_SCHEMA_VERSION = 1

# Schema version 1, created in the first schema of the connection's search_path
# (``current_schema()``); ``{schema}`` is that schema, quoted.
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS {schema}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {schema}.events (
    seq       BIGINT  PRIMARY KEY CHECK (seq >= 1),
    stream    TEXT    NOT NULL,
    version   INTEGER NOT NULL CHECK (version >= 1),
    kind      TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    at_utc    TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    UNIQUE (stream, version)
);
CREATE OR REPLACE FUNCTION {schema}.bedside_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$f$;
CREATE OR REPLACE FUNCTION {schema}.bedside_events_chain() RETURNS trigger
LANGUAGE plpgsql AS $f$
DECLARE
    head_seq  BIGINT;
    head_hash TEXT;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM {schema}.events ORDER BY seq DESC LIMIT 1;
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
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{schema}.events'::regclass AND tgname = 'events_no_update') THEN
        CREATE TRIGGER events_no_update BEFORE UPDATE ON {schema}.events
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.bedside_events_append_only();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{schema}.events'::regclass AND tgname = 'events_no_delete') THEN
        CREATE TRIGGER events_no_delete BEFORE DELETE ON {schema}.events
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.bedside_events_append_only();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{schema}.events'::regclass AND tgname = 'events_no_truncate') THEN
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {schema}.events
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.bedside_events_append_only();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{schema}.events'::regclass AND tgname = 'events_chain') THEN
        CREATE TRIGGER events_chain BEFORE INSERT ON {schema}.events
            FOR EACH ROW EXECUTE FUNCTION {schema}.bedside_events_chain();
    END IF;
END
$d$;
"""

# version -> the SQL that brings a database from the version before it to this one.
_MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1}

_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"


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


class PgStore:
    """The event store in a PostgreSQL database (libpq DSN or ``postgresql://`` URL)."""

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
        self.conn = self._connect()
        if isinstance(anchor, AnchorFile) or anchor is None:
            self.anchor = anchor
        else:
            self.anchor = AnchorFile(Path(anchor))
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
                f"Bedside cannot connect to the database server ({redact(self.dsn)}). Nothing was saved; try again in a moment. If it persists, ask IT.",
                True, f"cannot connect to {redact(self.dsn)}: {exc}".strip(),
            ) from exc

    def _live(self) -> Any:
        """The connection, made again if the old one was lost (server restart, network)."""
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = self._connect()
        return self.conn

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
                        True, f"{redact(self.dsn)}: {exc}".strip(),
                    ) from exc
                if attempt == 2 or not conn.broken:
                    raise StoreError(f"{redact(self.dsn)}: {exc}".strip()) from exc
        raise AssertionError("unreachable")

    def _pipeline(self, conn: Any) -> Any:
        return conn.pipeline() if self._pg.Pipeline.is_supported() else nullcontext()

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
                        f"the database has schema version {current}, newer than this Bedside knows ({PG_SCHEMA_VERSION}): upgrade Bedside"
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
        for ev in events:
            if ev.stream != stream:
                raise StoreError(f"event for {ev.stream} appended to {stream}")
        conn = self._live()
        stored: list[Event] = []
        try:
            # Pipelined: BEGIN, the lock and the head read go in one round trip, the INSERTs and
            # COMMIT in a second one (it matters on a LAN, not on loopback).
            with self._pipeline(conn), conn.transaction():
                # Serialise appenders (all hosts): the head read below stays the head until COMMIT.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                actual, seq, prev = conn.execute(
                    "SELECT (SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = %s),"
                    " COALESCE(h.seq, 0), COALESCE(h.hash, %s)"
                    " FROM (SELECT 1) one LEFT JOIN (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) h ON true",
                    (stream, GENESIS_HASH),
                ).fetchone()
                if actual != expected_version:
                    raise ConcurrencyError(stream, expected_version, actual)
                version = actual
                rows = []
                for ev in events:
                    seq += 1
                    version += 1
                    at = iso_utc(ev.at)
                    data_json = canonical_json(ev.data)
                    h = event_hash(prev, seq, stream, version, ev.kind, ev.actor, at, data_json)
                    rows.append((seq, stream, version, ev.kind, ev.actor, at, data_json, prev, h))
                    stored.append(_row_to_event(rows[-1]))
                    prev = h
                with conn.cursor() as cur:
                    cur.executemany(_INSERT, rows)
        except self._pg.errors.UniqueViolation as exc:
            # Only a writer that skipped the lock can get here: treat it as a lost race.
            raise ConcurrencyError(stream, expected_version, self.stream_version(stream)) from exc
        except self._pg.OperationalError as exc:
            if not conn.broken:
                raise StoreUnavailable(
                    f"The database server ({redact(self.dsn)}) refused the write just now. Nothing was saved; try again.",
                    True, str(exc),
                ) from exc
            raise StoreUncertain(
                f"{redact(self.dsn)}: the append to {stream} may not have been committed ({exc}); re-read before retrying"
            ) from exc
        except self._pg.Error as exc:
            raise StoreError(f"{redact(self.dsn)}: append to {stream} refused: {exc}") from exc
        if self.anchor is not None:
            self.anchor.advance(Anchor(stored[-1].seq, stored[-1].hash))
        return stored

    def read(self, stream: str | None = None, after_seq: int = 0) -> list[Event]:
        if stream is None:
            rows = self._query(f"SELECT {_COLUMNS} FROM events WHERE seq > %s ORDER BY seq", (after_seq,))
        else:
            rows = self._query(
                f"SELECT {_COLUMNS} FROM events WHERE stream = %s AND seq > %s ORDER BY seq", (stream, after_seq)
            )
        return [_row_to_event(r) for r in rows]

    def change_token(self) -> object:
        return self._query("SELECT COALESCE(MAX(seq), 0) FROM events")[0][0]

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
        conn = self._live()
        count = 0
        chunk: list[Event] = []

        def flush() -> None:
            nonlocal count
            if not chunk:
                return
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                    (head_seq, head_hash) = conn.execute(
                        "SELECT COALESCE(h.seq, 0), COALESCE(h.hash, %s)"
                        " FROM (SELECT 1) one LEFT JOIN (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) h ON true",
                        (GENESIS_HASH,),
                    ).fetchone()
                    streams = sorted({e.stream for e in chunk})
                    versions = dict(
                        conn.execute(
                            "SELECT stream, MAX(version) FROM events WHERE stream = ANY(%s) GROUP BY stream", (streams,)
                        ).fetchall()
                    )
                    rows = []
                    for ev in chunk:
                        check_follows(ev, head_seq, head_hash, versions.get(ev.stream, 0))
                        rows.append(_event_row(ev))
                        head_seq, head_hash, versions[ev.stream] = ev.seq, ev.hash, ev.version
                    with conn.cursor() as cur:
                        cur.executemany(_INSERT, rows)
            except self._pg.Error as exc:
                raise StoreError(f"{redact(self.dsn)}: import refused: {exc}") from exc
            count += len(chunk)
            if self.anchor is not None:
                self.anchor.advance(Anchor(chunk[-1].seq, chunk[-1].hash))
            chunk.clear()

        for ev in events:
            chunk.append(ev)
            if len(chunk) >= batch:
                flush()
        flush()
        return count


def _event_row(ev: Event) -> tuple:
    return (ev.seq, ev.stream, ev.version, ev.kind, ev.actor, iso_utc(ev.at), canonical_json(ev.data), ev.prev_hash, ev.hash)


def check_follows(ev: Event, head_seq: int, head_hash: str, stream_version: int) -> None:
    """Refuse (StoreError) an event that does not follow the head and its stream, or whose hash is wrong."""
    if ev.seq != head_seq + 1:
        raise StoreError(f"event {ev.seq} does not follow event {head_seq}: the source log has a gap or is out of order")
    if ev.prev_hash != head_hash:
        raise StoreError(f"event {ev.seq} ({ev.ref}) does not follow the previous event's hash")
    if ev.version != stream_version + 1:
        raise StoreError(f"{ev.stream}: version {ev.version} where {stream_version + 1} was expected")
    recomputed = event_hash(
        ev.prev_hash, ev.seq, ev.stream, ev.version, ev.kind, ev.actor, iso_utc(ev.at), canonical_json(ev.data)
    )
    if recomputed != ev.hash:
        raise StoreError(f"event {ev.seq} ({ev.ref}) does not match its hash: it was altered")
