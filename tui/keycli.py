"""``bedside verify-log``, ``bedside key rotate`` and ``bedside anchor reset`` (issue 18).

``verify-log [--db X] [--anchor PATH]... [--role NAME]... [--full | --incremental]`` streams the
whole log through the checker of core/logcheck.py with the site's keyring (the key file,
``tui/dbcli.site_key_path``), every anchor (the store's own, those the keyring names, each
``--anchor``) and the store's own protections (PostgreSQL: the connecting role and each ``--role``).
Exit 0 intact, 1 not intact (the first bad event named), 2 cannot check (no database, or the key
file missing or unreadable). Every check that finds the log INTACT keeps a verified checkpoint
(:func:`verified_path`, authenticated with the keyring); ``--incremental`` starts from it and reads
only the events after it (issue 19), or says why it cannot and runs the full check.

``key rotate [--db X]`` adds a new log key to the key file: new events are signed with it (running
terminals read the file again at their next write), older events still verify under the keys
before it, and an event made afterwards with a retired key is rejected.

``anchor reset [--db X]`` writes every anchor afresh at the log's last event, only after a full
check finds every event authentic and the store's protections in place (a missing, damaged or
stale anchor is then the only thing wrong); otherwise it refuses (exit 1).

Nothing here imports Textual.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


class CannotCheck(Exception):
    """The log cannot be checked (exit 2): one line, naming the file."""


VERIFY_DESCRIPTION = (
    "Check every event's hash and MAC (under the site key file), the chain, the numbering, every anchor and the "
    "store's own protections, streaming the log in constant memory. A check that finds the log INTACT keeps a "
    "verified checkpoint (where it got to, with a MAC: <db>.verified beside a SQLite database, <key file>.verified "
    "for PostgreSQL). --incremental starts from it: it makes sure the event at the checkpoint is still the one "
    "verified, then checks only the events after it; a checkpoint that is missing, damaged, forged or does not "
    "match the log (rewritten, cut short, another log) is named and a full check runs instead. Events before the "
    "checkpoint are not read again: run a full check (the default) now and then too. "
    "Exit 0 intact, 1 not intact (the first bad event named), 2 cannot check."
)


def add_key_commands(subparsers: Any) -> None:
    """Add ``verify-log``, ``key rotate`` and ``anchor reset`` to an argparse subparsers object."""
    v = subparsers.add_parser(
        "verify-log",
        help="check that the event log is intact and authentic (all of it, or --incremental: what is new)",
        description=VERIFY_DESCRIPTION,
    )
    v.add_argument("--db", metavar="PATH_OR_URL", dest="sub_db")
    v.add_argument(
        "--anchor", metavar="PATH", dest="sub_anchor", action="append", default=[], help="another anchor to check (repeatable)"
    )
    v.add_argument(
        "--role",
        metavar="NAME",
        dest="roles",
        action="append",
        default=[],
        help="PostgreSQL: also check that this role (the terminals') cannot change the log (repeatable)",
    )
    how = v.add_mutually_exclusive_group()
    how.add_argument(
        "--full", dest="incremental", action="store_false", default=False, help="read every event from the first (the default)"
    )
    how.add_argument(
        "--incremental",
        dest="incremental",
        action="store_true",
        default=False,
        help="start after the last verified checkpoint (<db>.verified; PostgreSQL: <key file>.verified): only the "
        "events after it, every anchor and the protections are checked; without a checkpoint that holds, a full check",
    )
    k = subparsers.add_parser("key", help="the site's log keys: rotate")
    ks = k.add_subparsers(dest="key_command", metavar="KEY_COMMAND", required=True)
    r = ks.add_parser("rotate", help="add a new log key: new events are signed with it, old ones still verify")
    r.add_argument("--db", metavar="PATH_OR_URL", dest="sub_db")
    a = subparsers.add_parser("anchor", help="the log's anchors: reset after a full check")
    ans = a.add_subparsers(dest="anchor_command", metavar="ANCHOR_COMMAND", required=True)
    rs = ans.add_parser("reset", help="write every anchor afresh, only if every event verifies")
    rs.add_argument("--db", metavar="PATH_OR_URL", dest="sub_db")


def load_keyring(key_path: Path):
    """The site's keyring from its file; CannotCheck (naming the file) if missing or unreadable."""
    from bedside.core.keyring import KeyringError, parse_keyring
    from bedside.core.text import printable

    name = printable(str(key_path), escapes=True)
    try:
        text = key_path.read_text("ascii")
    except FileNotFoundError:
        raise CannotCheck(f"the key file {name} is missing: the events' MACs cannot be checked") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise CannotCheck(f"the key file {name} cannot be read: {why}") from None
    try:
        return parse_keyring(text, name)
    except KeyringError as exc:
        raise CannotCheck(str(exc)) from None


def _anchors(store, keyring, extra: list[str]) -> list:
    """The store's anchors, those the keyring names and ``extra``, each once."""
    from bedside.core.logcheck import AnchorFile

    found = list(getattr(store, "anchors", ()))
    for path in (*keyring.anchors, *extra):
        p = Path(path).expanduser()
        if all(p != a.path for a in found):
            found.append(AnchorFile(p))
    return found


def _protections(store, roles: list[str]) -> list[str]:
    from bedside.tui.dbcli import is_pg_url

    if is_pg_url(getattr(store, "dsn", None)):
        return store.protection_problems(["current_user", *roles])
    if roles:
        raise CannotCheck("--role is for a PostgreSQL database (SQLite has no roles)")
    return store.protection_problems()


def check_log(store, keyring, extra_anchors: list[str] = (), roles: list[str] = (), with_anchors: bool = True):
    """The full check of ``store``'s log (a VerifyReport); ``with_anchors=False``: every event and
    the protections only (what ``anchor reset`` needs before it writes anchors)."""
    from bedside.core.logcheck import verify_log

    anchors = _anchors(store, keyring, list(extra_anchors)) if with_anchors else []
    protections = _protections(store, list(roles))
    return verify_log(store.iter_events(), keyring, anchors, protections, anchor_expected=with_anchors)


def _opened(db):
    """(store, keyring) for ``db``; CannotCheck when there is no database or no readable key file."""
    from bedside.core.store_errors import StoreError
    from bedside.tui.dbcli import describe, open_any_store, site_key_path, store_exists

    if not store_exists(db):
        raise CannotCheck(f"no database at {describe(db)}")
    keyring = load_keyring(site_key_path(db))
    try:
        return open_any_store(db, migrate=False), keyring
    except StoreError as exc:
        raise CannotCheck(str(exc)) from None


def _fail(command: str, exc: BaseException) -> int:
    from bedside.tui.cli import _one_line

    print(f"bedside {command}: {_one_line(exc)}", file=sys.stderr)
    return 2


def verified_path(db) -> Path:
    """Where ``verify-log`` keeps its verified checkpoint: ``<db>.verified`` beside a SQLite
    database; for PostgreSQL ``<key file>.verified``, beside the key file as its anchor is."""
    from bedside.tui.dbcli import is_pg_url, site_key_path

    if is_pg_url(db):
        key = site_key_path(db)
        return key.with_name(key.name + ".verified")
    return Path(str(Path(db).expanduser()) + ".verified")


def _event_at(store, seq: int):
    ev = next(iter(store.iter_events(after_seq=seq - 1, batch=1)), None)
    return ev if ev is not None and ev.seq == seq else None


def check_from_checkpoint(store, keyring, path: Path, extra_anchors=(), roles=(), incremental: bool = False):
    """(report, what was done, when the whole log was last read): from the verified checkpoint at
    ``path`` if ``incremental`` and it holds, else the full check."""
    from bedside.core.logcheck import CheckpointRefused, read_verified, verify_after, verify_log
    from bedside.core.text import printable

    anchors = _anchors(store, keyring, list(extra_anchors))
    protections = _protections(store, list(roles))
    said = ""
    if incremental:
        try:
            cp = read_verified(path, keyring)
            report = verify_after(
                cp, lambda s: _event_at(store, s), lambda s: store.iter_events(after_seq=s), keyring, anchors, protections
            )
            name = printable(str(path), escapes=True)
            return report, f"Incremental check: from the verified checkpoint at event {cp.seq} ({name}).", cp.full_at
        except CheckpointRefused as exc:
            said = f"Checkpoint not used: {exc}. A full check was run instead.\n"
    return verify_log(store.iter_events(), keyring, anchors, protections), said + "Full check: every event, from the first.", ""


def _keep_checkpoint(report, keyring, store, db, path: Path, full_at: str) -> str:
    """Write the checkpoint after an INTACT check (never after any other); the line to print."""
    from datetime import UTC, datetime

    from bedside.core.logcheck import checkpoint_of, write_verified
    from bedside.core.text import printable
    from bedside.tui.dbcli import is_pg_url, site_key_path
    from bedside.tui.userscli import os_actor

    name = printable(str(path), escapes=True)
    if not report.ok:
        return f"Checkpoint: none written (the log is not intact); {name} is left as it was."
    if report.last < 1:
        return ""
    how = "verify-log --incremental" if full_at else "verify-log --full"
    anchors = _anchors(store, keyring, [])
    cp = checkpoint_of(report, datetime.now(UTC), os_actor(), how, full_at, anchors)
    like = site_key_path(db) if is_pg_url(db) else Path(db).expanduser()
    try:
        write_verified(path, cp, keyring, like)
    except OSError as exc:
        return f"Checkpoint: could not be written to {name} ({exc.strerror or exc}): the next --incremental check runs in full."
    return f"Checkpoint: event {cp.seq} verified, kept in {name} (an --incremental check starts after it)."


def cmd_verify_log(db, anchors: list[str] = (), roles: list[str] = (), incremental: bool = False) -> int:
    from bedside.core.store_errors import StoreError
    from bedside.tui.dbcli import describe

    try:
        store, keyring = _opened(db)
    except CannotCheck as exc:
        return _fail("verify-log", exc)
    try:
        report, how, full_at = check_from_checkpoint(store, keyring, verified_path(db), anchors, roles, incremental)
        kept = _keep_checkpoint(report, keyring, store, db, verified_path(db), full_at)
    except CannotCheck as exc:
        return _fail("verify-log", exc)
    except StoreError as exc:
        print(f"NOT INTACT: {exc}")
        return 1
    finally:
        store.close()
    print(f"Database: {describe(db)}")
    print(how)
    print(report.summary())
    if kept:
        print(kept)
    return 0 if report.ok else 1


def cmd_key_rotate(db) -> int:
    from datetime import UTC, datetime

    from bedside.core.auth import SiteKey
    from bedside.core.text import printable
    from bedside.tui.dbcli import describe, site_key_path, store_exists
    from bedside.tui.userscli import os_actor

    if not store_exists(db):
        return _fail("key rotate", CannotCheck(f"no database at {describe(db)}"))
    path = site_key_path(db)
    try:
        old = load_keyring(path)
    except CannotCheck as exc:
        return _fail("key rotate", exc)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    new = old.rotated(now)
    try:
        SiteKey(path).replace(new)
    except OSError as exc:
        return _fail("key rotate", exc)
    _record(db, lambda integrity: integrity.RecordKeyRotation(new.current, old.current))
    print(f"Key file: {printable(str(path), escapes=True)}")
    print(
        f"New log key {new.current} (after {old.current}), made {now} by {printable(os_actor())}: new events are signed "
        f"with it (running terminals take it at their next entry); events signed before still verify."
    )
    print("Keep a copy of the key file as before: without it no event can be verified and no PIN checked.")
    return 0


def cmd_anchor_reset(db) -> int:
    from bedside.core.auth import SiteKey
    from bedside.core.store_errors import StoreError
    from bedside.core.text import printable
    from bedside.tui.dbcli import describe, site_key_path

    try:
        store, keyring = _opened(db)
    except CannotCheck as exc:
        return _fail("anchor reset", exc)
    try:
        store.set_keys(SiteKey(site_key_path(db)))  # the anchors are signed; the keyring's own anchors too
        report = check_log(store, keyring, with_anchors=False)
        print(f"Database: {describe(db)}")
        if not report.ok:
            print(report.summary())
            print("NOT RESET: the log itself is not intact; the anchors were left as they are.")
            return 1
        last_seq = store.last_seq()
        last = store.read(after_seq=last_seq - 1)[0] if last_seq else None
        store.reset_anchors(last)
    except (StoreError, OSError, CannotCheck) as exc:
        return _fail("anchor reset", exc)
    finally:
        store.close()
    anchors = tuple(str(a.path) for a in store.anchors)
    _record(db, lambda integrity: integrity.RecordAnchorReset(last_seq, anchors))
    names = ", ".join(printable(str(a.path), escapes=True) for a in store.anchors) or "none kept"
    print(f"Every one of the {report.events} events verifies. Anchors written afresh at event {last_seq}: {names}.")
    return 0


def _record(db, command) -> None:
    """Record what was done on the log itself (stream ``log``, actor ``os:<unix user>``), signed
    with the key now current; a failure to record is said, never hidden (the change is made)."""
    from bedside.core import integrity
    from bedside.tui.cli import open_ledger
    from bedside.tui.userscli import os_actor

    try:
        ledger = open_ledger(db)
        try:
            ledger.execute(command(integrity), os_actor())
        finally:
            ledger.store.close()
    except Exception as exc:  # noqa: BLE001 - reported in one line; the key file or anchors are already changed
        from bedside.tui.cli import _one_line

        print(f"bedside: done, but it could not be recorded in the log: {_one_line(exc)}", file=sys.stderr)


def run_key_command(args: argparse.Namespace, db) -> int:
    """``key rotate`` / ``anchor reset`` on ``db``; the exit status."""
    if args.command == "key":
        return cmd_key_rotate(db)
    return cmd_anchor_reset(db)
