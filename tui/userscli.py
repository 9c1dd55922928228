"""``bedside users …``: user accounts from the command line, for whoever owns the database files.

``bedside users unlock NAME [--db PATH]`` lifts a sign-in lock at once (and clears the run of wrong
PINs), so that no one can lock an account, the only admin's included, for good. No PIN is asked:
this is for a person with the operating system's rights to the database files, who could change
them anyway. It records a ``user.unlocked`` event whose actor is ``os:<unix user name>``.

``bedside users list [--db PATH]`` shows each user's name, role, state and lock end (site time).

Exit status: 0 done; 1 no such user; 2 no database, or it cannot be opened. Nothing here imports
Textual.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_users_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``users unlock NAME`` and ``users list`` to an argparse subparsers object."""
    users = subparsers.add_parser("users", help="user accounts: unlock a locked account, list users")
    sub = users.add_subparsers(dest="users_command", metavar="USERS_COMMAND")
    sub.required = True
    u = sub.add_parser("unlock", help="lift a sign-in lock at once (needs write access to the database, no PIN)")
    u.add_argument("name", metavar="NAME", help="the user name")
    u.add_argument("--db", metavar="PATH_OR_URL", dest="sub_db")
    ls = sub.add_parser("list", help="each user's name, role and whether (until when) they are locked")
    ls.add_argument("--db", metavar="PATH_OR_URL", dest="sub_db")
    return users


def os_actor() -> str:
    """``os:<name>`` of the operating-system user running this (the effective user: the one whose
    rights to the database files are used), else ``os:uid<N>``."""
    import os

    try:
        import pwd

        return f"os:{pwd.getpwuid(os.geteuid()).pw_name}"
    except (ImportError, KeyError, OSError):
        pass
    try:
        import getpass

        return f"os:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no name at all: the number still says who
        uid = getattr(os, "geteuid", lambda: None)()
        return f"os:uid{uid}" if uid is not None else "os:unknown"


def _say(message: str) -> None:
    from bedside.core.text import printable

    print(f"bedside users: {printable(message)}", file=sys.stderr)


def run_users_command(args: argparse.Namespace) -> int:
    """Run ``users unlock`` / ``users list``; one line on any failure; returns the exit status."""
    from bedside.core.store_errors import StoreError
    from bedside.tui.cli import UsageError, open_ledger, resolve_db

    try:
        ledger = open_ledger(resolve_db(getattr(args, "sub_db", None) or getattr(args, "db", None)))
    except (UsageError, StoreError) as exc:
        _say(str(exc))
        return 2
    try:
        if args.users_command == "unlock":
            return cmd_unlock(ledger, args.name)
        return cmd_list(ledger)
    except StoreError as exc:
        _say(str(exc))
        return 2
    except ValueError as exc:  # refused by core (the account went away meanwhile)
        _say(str(exc))
        return 1
    finally:
        ledger.store.close()


def cmd_unlock(ledger, name: str) -> int:
    name = name.strip()
    user = ledger.users().get(name)
    if user is None:
        _say(f"no user '{name}'")
        return 1
    was = ledger.lock_ends(name)
    actor = os_actor()
    from bedside.core.auth import UnlockUser
    from bedside.core.clock import fmt_local

    ledger.execute(UnlockUser(name), actor)  # the OS user (os:<name>) may unlock: decided in core
    from bedside.core.text import printable

    before = f"was locked until {fmt_local(was, ledger.zone.zone, seconds=True)}" if was else "was not locked"
    print(f"Unlocked {printable(name)} ({before}); recorded as {printable(actor)}.")
    return 0


def cmd_list(ledger) -> int:
    from bedside.core import auth
    from bedside.core.clock import fmt_local
    from bedside.core.text import printable

    rows = [("USER", "ROLE", "STATE", "LOCKED UNTIL", "NAME")]
    for u in sorted(ledger.users().values(), key=lambda u: u.username):
        until = ledger.lock_ends(u.username)
        state = "locked" if until else ("inactive" if not u.active else "active")
        rows.append(
            (
                printable(u.username),
                auth.ROLE_LABELS.get(u.role, u.role),
                state,
                fmt_local(until, ledger.zone.zone, seconds=True) if until else "-",
                printable(u.full_name),
            )
        )
    if len(rows) == 1:
        print("No users.")
        return 0
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return 0
