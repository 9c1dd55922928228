"""``bedside db …``: schema migration and copying the event log between stores.

``bedside db migrate [--db URL_OR_PATH]`` creates or upgrades the schema (PostgreSQL) or the
database file (SQLite). ``bedside db copy SRC DST`` copies the whole log from SRC into an empty
DST, event for event (same seq, stream, version, kind, actor, time and data, hence the same
hashes), then verifies DST and says plainly whether it is intact.

A store is named by a path (SQLite) or a ``postgresql://`` URL (PostgreSQL). Nothing here imports
Textual; psycopg is imported only when a PostgreSQL store is opened.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PG_PREFIXES = ("postgresql://", "postgres://")


def is_pg_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(PG_PREFIXES)


def resolve_target(arg: str | None) -> str | Path:
    """``--db`` value, else ``$BEDSIDE_DB``, else the default SQLite path; URLs stay strings.

    (``Path("postgresql://h/db")`` would fold the ``//``, so a URL must never become a Path.)
    """
    value = arg or os.environ.get("BEDSIDE_DB")
    if not value:
        from bedside.tui.cli import default_db_path

        return default_db_path()
    return value if is_pg_url(value) else Path(value).expanduser()


def describe(target: str | Path) -> str:
    """A store's name as printed: a URL without its password; never a control sequence (a path
    from argv is echoed, so ``\x1b`` shows as those four characters, core/text.py)."""
    from bedside.core.text import printable

    if is_pg_url(target):
        from bedside.core.pgstore import redact

        return printable(redact(str(target)), escapes=True)
    return printable(str(target), escapes=True)


#: The anchors every store this process opens keeps besides its own (``bedside --anchor PATH``,
#: ``$BEDSIDE_ANCHOR``; set once by tui/cli.py's main, never for a demo).
EXTRA_ANCHORS: list[Path] = []


def set_extra_anchors(paths: Iterable[str | os.PathLike[str]]) -> None:
    EXTRA_ANCHORS[:] = [Path(p).expanduser() for p in paths]


def pg_anchor_path(url: str) -> Path:
    """A PostgreSQL log's own anchor: ``<key file>.head``, beside the site key file (which every
    host holds), since a database server has no "beside the database"."""
    key = site_key_path(url)
    return key.with_name(key.name + ".head")


def open_any_store(url_or_path: str | os.PathLike[str], anchor: Any = None, migrate: bool = True, busy_ms: int | None = None):
    """A PgStore for a ``postgresql://`` (or ``postgres://``) URL, else a SqliteStore for the path.

    ``anchor``: for PostgreSQL the anchor file (default :func:`pg_anchor_path`); SQLite always
    keeps its ``<database>.head`` beside the database. Either keeps :data:`EXTRA_ANCHORS` too.
    ``migrate=False``: do not create the PostgreSQL tables if they are missing (SQLite creates its
    schema on open regardless).
    """
    if is_pg_url(url_or_path):
        from bedside.core.pgstore import PgStore

        # The app (busy_ms given) must not freeze for long on an unreachable server.
        timeout = {"connect_timeout": max(1, busy_ms // 1000 + 1)} if busy_ms else {}
        url = str(url_or_path)
        if anchor is None:
            anchor = pg_anchor_path(url)
            with contextlib.suppress(OSError):  # where the key file lives (made with it): else the append says so
                anchor.parent.mkdir(parents=True, exist_ok=True)
        store = PgStore(url, anchor=anchor, migrate=migrate, **timeout)
    else:
        from bedside.core.store import DEFAULT_BUSY_MS, SqliteStore

        store = SqliteStore(Path(url_or_path).expanduser(), busy_ms=busy_ms or DEFAULT_BUSY_MS)
    for path in EXTRA_ANCHORS:
        store.add_anchor(path)
    return store


def store_exists(target: str | Path) -> bool:
    """Whether there is a store to open (a PostgreSQL URL is taken to exist: connecting tells)."""
    return True if is_pg_url(target) else Path(target).expanduser().exists()


def verify_any(store):
    """verify_log with every anchor the store keeps (the chain alone for a store that keeps none)."""
    from bedside.core.store import verify_log

    return verify_log(store, anchor_expected=bool(getattr(store, "anchors", ())))


def summary_any(report, store) -> str:
    """The report's summary, not claiming an anchor check for a store that keeps no anchor."""
    return report.summary()  # VerifyReport knows whether an anchor was checked


def add_db_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``db migrate [--db URL_OR_PATH]`` and ``db copy SRC DST`` to an argparse subparsers object."""
    db = subparsers.add_parser("db", help="database: migrate the schema, copy the log between stores")
    sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND")
    sub.required = True
    m = sub.add_parser("migrate", help="create or upgrade the database schema (safe to repeat)")
    m.add_argument("--db", metavar="URL_OR_PATH", dest="sub_db", help="postgresql://… URL or SQLite path")
    c = sub.add_parser("copy", help="copy the whole event log into an empty store and verify it")
    c.add_argument("src", metavar="SRC", help="postgresql://… URL or SQLite path to copy from")
    c.add_argument("dst", metavar="DST", help="postgresql://… URL or SQLite path to copy into (must be empty)")
    return db


def run_db_command(args: argparse.Namespace) -> int:
    """Run ``db migrate`` / ``db copy``; prints what happened; returns the exit status."""
    from bedside.core.store import StoreError

    try:
        if args.db_command == "migrate":
            return cmd_migrate(resolve_target(getattr(args, "sub_db", None) or getattr(args, "db", None)))
        if args.db_command == "copy":
            return cmd_copy(args.src, args.dst)
    except (StoreError, OSError) as exc:  # a store that cannot be opened: bad input, one line
        from bedside.tui.cli import _one_line

        print(f"bedside db {args.db_command}: {_one_line(exc)}", file=sys.stderr)
        return 2
    print(f"bedside db: unknown command {args.db_command!r}", file=sys.stderr)
    return 2


def cmd_migrate(target: str | Path) -> int:
    store = open_any_store(target)  # SQLite creates its schema on open
    try:
        if hasattr(store, "migrate"):
            version = store.migrate()
        else:
            (value,) = store.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(value)
        print(f"Database: {describe(target)}")
        print(f"Schema version {version}: up to date ({store.last_seq()} events).")
    finally:
        store.close()
    return 0


def cmd_copy(src: str, dst: str) -> int:
    if not store_exists(src):
        print(f"bedside db copy: no database at {describe(src)}", file=sys.stderr)
        return 2
    if _same_store(src, dst):
        print("bedside db copy: SRC and DST are the same store", file=sys.stderr)
        return 2
    source = open_any_store(src, migrate=False)
    if getattr(source, "schema_version", lambda: 1)() == 0:
        source.close()
        print(f"bedside db copy: no Bedside log at {describe(src)}", file=sys.stderr)
        return 2
    try:
        target = open_any_store(dst)
    except BaseException:
        source.close()
        raise
    try:
        return _copy(source, target, src, dst)
    finally:
        source.close()
        target.close()


def _copy(source, target, src: str, dst: str) -> int:
    """Copy the verified source log into the empty target; the exit status."""
    from bedside.core.store import StoreError

    if target.last_seq() != 0:
        print(
            f"bedside db copy: {describe(dst)} already holds {target.last_seq()} events; copy only into an empty store.",
            file=sys.stderr,
        )
        return 1
    events = source.read()
    keys = _log_keys(src)
    target.keys = keys  # the copy's anchors signed with the log's own keys (not its keyring's anchors: the source's)
    before = verify_any(_Snapshot(events, list(getattr(source, "anchors", ())), keys))
    if not before.ok:
        print(f"Source: {describe(src)}")
        print(summary_any(before, source))
        print("NOT COPIED: the source log is not intact.")
        return 1
    try:
        copied = import_events(target, events)
    except StoreError as exc:
        print(f"NOT COPIED completely: {exc}")
        print(f"{describe(dst)} may hold part of the log: empty it (or use a new one) before copying again.")
        return 1
    return _report_copy(source, target, src, dst, events, copied)


def _report_copy(source, target, src: str, dst: str, events: list, copied: int) -> int:
    """Verify the copy, say what happened; 0 only for an intact copy that ends where the source did."""
    after = verify_any(target)
    last_seq = events[-1].seq if events else 0
    same = target.last_seq() == last_seq and (not events or target.read(after_seq=last_seq - 1)[0].hash == events[-1].hash)
    print(f"Copied {copied} events from {describe(src)} to {describe(dst)}.")
    if events and same:
        print(f"Both logs end at event {last_seq}, hash {events[-1].hash[:16]}…")
    print(f"Destination: {describe(dst)}")
    print(summary_any(after, target))
    key, dst_key = site_key_path(src), site_key_path(dst)
    if target.keys is not None and dst_key != key and not dst_key.exists():
        print(
            f"The copy is authenticated under the key file {describe(str(key))}: copy it to {describe(str(dst_key))} (mode 0600)."
        )
    grew = source.last_seq() - last_seq
    if grew > 0:
        print(f"WARNING: {grew} event(s) were appended to the source during the copy and are not in the destination.")
    if not same:
        print("NOT INTACT: the destination's head differs from the source's.")
    return 0 if after.ok and same and grew <= 0 else 1


def _log_keys(src: str):
    """The source's site key file (a SiteKey), to check the events' MACs before copying and sign the
    copy's anchors; None without one, or for an old key file whose log is not sealed yet (a copy
    must not change the source's key file)."""
    from bedside.core.auth import SiteKey
    from bedside.core.keyring import KeyringError

    path = site_key_path(src)
    if not path.exists():
        return None
    keys = SiteKey(path)
    try:
        return keys if keys.keyring().legacy_through is not None else None
    except (KeyringError, OSError):
        return None


class _Snapshot:
    """The events read once, verified exactly as they will be copied."""

    def __init__(self, events: list, anchors: list, keys: Any = None):
        self.events, self.anchors, self.keys = events, anchors, keys

    def read(self, stream: str | None = None, after_seq: int = 0) -> list:
        return [e for e in self.events if e.seq > after_seq and (stream is None or e.stream == stream)]


def _same_store(src: str, dst: str) -> bool:
    if is_pg_url(src) or is_pg_url(dst):
        return src == dst
    return Path(src).expanduser().resolve() == Path(dst).expanduser().resolve()


def import_events(store, events: Iterable, batch: int = 1000) -> int:
    """Put already-stored events into ``store`` unchanged (seq, prev_hash and hash included).

    Both stores do it themselves, with the same checks (each event follows the head and its
    stream; its hash matches): :meth:`~bedside.core.store.SqliteStore.import_events`,
    :meth:`~bedside.core.pgstore.PgStore.import_events`.
    """
    return store.import_events(events, batch=batch)


def sqlite_has_users(db: Path) -> bool:
    """Cheap first-run test of a SQLite file without the domain imports: any user recorded yet?"""
    if not db.exists():
        return False
    import apsw

    conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        conn.set_busy_timeout(5000)
        return conn.execute("SELECT 1 FROM events WHERE stream = 'users' LIMIT 1").fetchone() is not None
    except apsw.SQLError:
        return False
    finally:
        conn.close()


def has_users_any(target: str | Path) -> bool:
    """First-run test for either backend: any user recorded yet? (PostgreSQL: one indexed lookup.)"""
    if not is_pg_url(target):
        return sqlite_has_users(Path(target))
    from bedside.core.pgstore import PgStore

    store = PgStore(str(target))
    try:
        return store.stream_version("users") > 0
    finally:
        store.close()


def site_key_path(target: str | Path) -> Path:
    """Where the site key (PIN pepper) lives: ``<database>.key`` for SQLite (as today).

    For PostgreSQL there is no "beside the database": every host must hold the *same* key file,
    so ``$BEDSIDE_KEY`` should name it; without it, ``bedside.key`` in the user's data directory.
    """
    if not is_pg_url(target):
        return Path(str(target) + ".key")
    explicit = os.environ.get("BEDSIDE_KEY")
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("bedside", appauthor=False)) / "bedside.key"
