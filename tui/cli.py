"""The ``bedside`` command. Parsing and the non-interactive commands never import Textual."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_DB_NAME = "bedside.db"


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("bedside", appauthor=False)) / DEFAULT_DB_NAME


def resolve_db(arg: str | None) -> Path:
    value = arg or os.environ.get("BEDSIDE_DB")
    return Path(value).expanduser() if value else default_db_path()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bedside",
        description="Bedside: give BESPONSA (inotuzumab ozogamicin) safely, from a terminal.",
        epilog="Database: --db PATH, else $BEDSIDE_DB, else the user's data directory.",
    )
    p.add_argument("--db", metavar="PATH", help="the SQLite database (shared path for a ward server)")
    p.add_argument("--demo", action="store_true", help="run on a throw-away demo database (not for clinical use)")
    p.add_argument("--speed", type=float, default=None, metavar="X", help="demo clock speed (default 60: an hour per minute)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    v = sub.add_parser("verify-log", help="check that the whole event log is intact")
    v.add_argument("--db", metavar="PATH", dest="sub_db")
    return p


def open_store(db: Path):
    from bedside.core.store import SqliteStore

    return SqliteStore(db)


def cmd_verify_log(db: Path) -> int:
    from bedside.core.store import StoreError, verify_log

    if not db.exists():
        print(f"bedside: no database at {db}", file=sys.stderr)
        return 2
    store = open_store(db)
    try:
        report = verify_log(store, store.anchor.read() if store.anchor else None)
    except StoreError as exc:
        print(f"NOT INTACT: {exc}")
        return 1
    print(f"Database: {db}")
    print(report.summary())
    return 0 if report.ok else 1


def run_app(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from bedside.core.auth import SiteKey
    from bedside.core.clock import RealClock, ScaledClock
    from bedside.core.service import Ledger

    tmp = None
    if args.demo:
        from bedside.core.demo import DEMO_KEY, seed

        tmp = tempfile.mkdtemp(prefix="bedside-demo-")
        store = open_store(Path(tmp) / "demo.db")
        clock = ScaledClock(args.speed if args.speed else 60.0)
        seed(store, clock)
        key = DEMO_KEY
    else:
        if args.speed:
            print("bedside: --speed is for --demo only", file=sys.stderr)
            return 2
        db = resolve_db(args.db)
        store = open_store(db)
        clock = RealClock()
        key = SiteKey(Path(str(db) + ".key"))
    try:
        from bedside.tui.app import BedsideApp

        app = BedsideApp(Ledger(store, clock, key), demo=args.demo)
        app.run()
        return app.return_code or 0
    finally:
        store.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "verify-log":
        return cmd_verify_log(resolve_db(args.sub_db or args.db))
    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
