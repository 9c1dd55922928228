"""``bedside ward …``: a ward server where staff reach the app but never its files (issue 18).

One service account owns the database directory (the database and its -wal/-shm, the key file
``<db>.key``, the anchor ``<db>.head``) and a second directory with a second anchor (recorded in
the key file, so every process keeps and checks it). Staff keep their own Unix accounts and run
the app only through sudo, with one exact command line (``/etc/sudoers.d/bedside``) started by a
launcher script. The app's sign-in names the person; sudo's log names the Unix account.

``bedside ward init`` (as root) makes all of it; ``bedside ward check`` reports every wrong owner or
mode. Exit status: 0 done / all right; 1 problems (check, each listed); 2 refused or cannot check.
Nothing here imports Textual.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

DB_NAME = "bedside.db"
DEFAULT_SUDOERS = "/etc/sudoers.d/bedside"
DEFAULT_LAUNCHER = "/usr/local/bin/bedside-ward"
#: The environment sudo keeps for the app (env_reset drops the rest, BEDSIDE_* included, so no
#: staff member can point the app at another database, key, anchor or log directory). TZ is not
#: kept: the site's zone is set in Settings (else the system's), the same for every terminal.
ENV_KEEP = ("TERM", "COLORTERM", "NO_COLOR", "LANG", "LC_ALL", "BEDSIDE_MOUSE")
#: Paths and names that go into the sudoers rule: nothing sudoers would read as syntax or a wildcard.
_SAFE_PATH = re.compile(r"/[A-Za-z0-9._/+-]+")
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")


class WardError(Exception):
    """Refused, or cannot check: one line, exit status 2."""


def add_ward_commands(subparsers: Any) -> argparse.ArgumentParser:
    ward = subparsers.add_parser("ward", help="a ward server: one service account owns the files, staff run the app via sudo")
    sub = ward.add_subparsers(dest="ward_command", metavar="WARD_COMMAND")
    sub.required = True
    i = sub.add_parser("init", help="(as root) make the directories, database, key, anchors, sudoers rule and launcher")
    i.add_argument("--service-user", required=True, metavar="U", help="the account that owns the files and runs the app")
    i.add_argument("--staff-group", required=True, metavar="G", help="the group whose members may run the app")
    i.add_argument("--dir", required=True, metavar="D", help="the new database directory (0700, the service account's)")
    i.add_argument("--anchor-dir", metavar="A", help="the second anchor's directory (default: D-anchor beside D)")
    i.add_argument("--sudoers", default=DEFAULT_SUDOERS, metavar="PATH", help=f"the sudoers rule (default {DEFAULT_SUDOERS})")
    i.add_argument(
        "--launcher", default=DEFAULT_LAUNCHER, metavar="PATH", help=f"the staff's command (default {DEFAULT_LAUNCHER})"
    )
    i.add_argument("--bedside", metavar="PATH", help="the bedside program sudo runs (default: this one)")
    c = sub.add_parser("check", help="report every wrong owner or mode of a ward deployment (exit 0 right, 1 problems)")
    where = c.add_mutually_exclusive_group(required=True)
    where.add_argument("--dir", metavar="D", help=f"the database directory (the database is D/{DB_NAME})")
    where.add_argument("--db", metavar="DB", dest="ward_db", help="the database file")
    c.add_argument("--service-user", metavar="U", help="the service account (default: the directory's owner)")
    c.add_argument("--staff-group", metavar="G", help="the staff group the sudoers rule names")
    c.add_argument("--sudoers", default=DEFAULT_SUDOERS, metavar="PATH")
    c.add_argument("--launcher", default=DEFAULT_LAUNCHER, metavar="PATH")
    return ward


def run_ward_command(args: argparse.Namespace) -> int:
    from bedside.core.text import printable

    try:
        if args.ward_command == "init":
            return cmd_init(args)
        return cmd_check(args)
    except WardError as exc:
        print(f"bedside ward: {printable(str(exc), escapes=True)}", file=sys.stderr)
        return 2


# -- accounts and paths ---------------------------------------------------------------------------
def _account(user: str) -> Any:
    import pwd

    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise WardError(f"no user {user!r}: create the service account first (useradd --system …)") from None
    if pw.pw_uid == 0:
        raise WardError("the service account must not be root")
    return pw


def _group(name: str) -> Any:
    import grp

    try:
        return grp.getgrnam(name)
    except KeyError:
        raise WardError(f"no group {name!r}: create the staff group first (groupadd …)") from None


def _given_path(text: str, what: str) -> Path:
    """The absolute path an option names; an empty one is refused, naming the option."""
    if not text.strip():
        raise WardError(f"{what}: name a path (it was empty)")
    return Path(os.path.abspath(text))


def _safe_path(text: str, what: str) -> Path:
    path = _given_path(text, what)
    if not _SAFE_PATH.fullmatch(str(path)):
        raise WardError(f"{what} {text!r}: use letters, digits and . _ - + / only (it goes into a sudoers rule)")
    return path


def default_bedside() -> Path:
    beside = Path(sys.executable).with_name("bedside")
    if beside.exists():
        return beside
    import shutil

    found = shutil.which("bedside")
    if found is None:
        raise WardError("cannot find the bedside program: name it with --bedside")
    return Path(found)


def _sudoers_name_problem(path: Path) -> str | None:
    if path.parent == Path("/etc/sudoers.d") and ("." in path.name or path.name.endswith("~")):
        return f"{path}: sudo skips files in /etc/sudoers.d whose names contain '.' or end in '~'"
    return None


# -- what init writes -----------------------------------------------------------------------------
def sudoers_text(user: str, group: str, bedside: Path, db: Path) -> str:
    keep = " ".join(ENV_KEEP)
    return (
        "# Bedside ward (written by `bedside ward init`): members of the staff group run exactly this\n"
        f"# command line as {user}, which alone can read and write the database, key and anchors.\n"
        f"Defaults>{user} env_reset, umask=0077\n"
        f'Defaults>{user} env_keep = "{keep}"\n'
        f"Defaults>{user} env_check -= TZ\n"
        f"%{group} ALL=({user}) NOPASSWD: {bedside} --db {db}\n"
    )


def launcher_text(user: str, bedside: Path, db: Path) -> str:
    return (
        "#!/bin/sh\n# Bedside on the ward database, as the service account (bedside ward init).\n"
        f"umask 077\nexec sudo -u {user} {bedside} --db {db}\n"
    )


def rule_line(user: str, group: str | None, bedside: Path | None, db: Path) -> re.Pattern:
    """The sudoers rule ``ward check`` looks for (any bedside program, any group when not named)."""
    grp_part = re.escape(group) if group else r"\S+"
    prog = re.escape(str(bedside)) if bedside else r"(/\S+)"
    return re.compile(
        rf"^%{grp_part}\s+ALL\s*=\s*\({re.escape(user)}\)\s+NOPASSWD:\s*{prog}\s+--db\s+{re.escape(str(db))}\s*$", re.M
    )


def _write_root_file(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chown(tmp, 0, 0)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _make_dir(path: Path, pw: Any) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o700)


def _refuse_existing(d: Path, a: Path) -> None:
    for place in (d, a):
        if place.exists() and not place.is_dir():
            raise WardError(f"{place} exists and is not a directory")
    if (d / DB_NAME).exists() or (d / (DB_NAME + ".key")).exists():
        raise WardError(f"{d} already holds a database: ward init makes a new ward only")
    for place in (d, a):
        if place.is_dir() and any(place.iterdir()):
            raise WardError(f"{place} is not empty: ward init makes a new ward only in new or empty directories")
    if a == d or d in a.parents or a in d.parents:
        raise WardError("the anchor directory must be apart from the database directory")


def _as_service(pw: Any, db: Path, anchor: Path) -> None:
    """In a child running as the service account (umask 077): the database, the key file with the
    second anchor recorded, and both anchors at the empty log's head (seq 0, with a MAC)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            os.umask(0o077)
            from bedside.core.auth import SiteKey
            from bedside.tui.dbcli import open_any_store, set_extra_anchors

            set_extra_anchors([])  # the ward's anchors only: the key file records the second one
            store = open_any_store(db)
            keys = SiteKey(Path(str(db) + ".key"))
            keys.replace(keys.keyring().with_anchor(str(anchor)))
            store.set_keys(keys)
            store.reset_anchors(None)
            store.close()
            code = 0
        except BaseException as exc:  # noqa: BLE001 - the child says what failed and ends
            print(f"bedside ward: as {pw.pw_name}: {exc}", file=sys.stderr)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise WardError(f"the database could not be made as {pw.pw_name} (see above)")


def cmd_init(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise WardError("ward init must run as root (it makes files owned by the service account and a sudoers rule)")
    pw, gr = _account(args.service_user), _group(args.staff_group)
    for name in (pw.pw_name, gr.gr_name):
        if not _SAFE_NAME.fullmatch(name):
            raise WardError(f"{name!r}: use letters, digits and . _ - only (it goes into a sudoers rule)")
    if gr.gr_gid == pw.pw_gid:
        raise WardError("the staff group must not be the service account's own group")
    d = _safe_path(args.dir, "--dir")
    a = _safe_path(args.anchor_dir or str(d.with_name(d.name + "-anchor")), "--anchor-dir")
    sudoers, launcher = _safe_path(args.sudoers, "--sudoers"), _safe_path(args.launcher, "--launcher")
    bedside = _safe_path(args.bedside or str(default_bedside()), "--bedside")
    if _sudoers_name_problem(sudoers):
        raise WardError(_sudoers_name_problem(sudoers))
    _refuse_existing(d, a)
    db = d / DB_NAME
    rule = sudoers_text(pw.pw_name, gr.gr_name, bedside, db)
    _check_sudoers_syntax(rule)
    _make_dir(d, pw)
    _make_dir(a, pw)
    _as_service(pw, db, a / (DB_NAME + ".head"))
    _write_root_file(sudoers, rule, 0o440)
    _write_root_file(launcher, launcher_text(pw.pw_name, bedside, db), 0o755)
    _print_made(pw.pw_name, gr.gr_name, d, a, db, sudoers, launcher, bedside)
    return 0


def _check_sudoers_syntax(text: str) -> None:
    """``visudo -cf`` on the rule before it is put in place (a broken sudoers file stops every sudo)."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".sudoers", delete=False) as fh:
        fh.write(text)
    try:
        out = subprocess.run(["visudo", "-cf", fh.name], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise WardError("visudo is not installed (apt-get install sudo)") from None
    finally:
        os.unlink(fh.name)
    if out.returncode != 0:
        raise WardError(f"visudo refused the rule: {(out.stderr or out.stdout).strip()}")


def _print_made(user, group, d, a, db, sudoers, launcher, bedside) -> None:
    print(f"Made, owned by {user}, mode 0700/0600:")
    print(f"  {d}/  the database {db.name}, its key file {db.name}.key and anchor {db.name}.head")
    print(f"  {a}/  the second anchor {db.name}.head (recorded in the key file)")
    print(f"Made, owned by root: {sudoers} (0440: %{group} may run `{bedside} --db {db}` as {user}, nothing else)")
    print(f"  and {launcher} (0755), the command staff run.")
    print("Next:")
    print(f"  1. Run {launcher} (as a member of {group}): the first run asks for the first admin.")
    print("  2. Set the site's time zone in Settings (s).")
    print(f"  3. Check it at any time: bedside ward check --dir {d} --service-user {user} --staff-group {group}")
    print(f"  4. Back up {db}.key (without it the log cannot be authenticated).")


# -- check ----------------------------------------------------------------------------------------
def _private(path: Path, uid: int, what: str, problems: list[str], need: bool = True, kind: str = "file") -> None:
    """``path`` exists (if ``need``), is the service account's and nobody else's."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        if need:
            problems.append(f"{what} {path} is missing")
        return
    except PermissionError as exc:
        raise WardError(f"cannot check {path}: {exc.strerror} (run ward check as root)") from None
    is_kind = stat.S_ISDIR(st.st_mode) if kind == "directory" else stat.S_ISREG(st.st_mode)
    if not is_kind:
        problems.append(f"{what} {path} is not a {kind}")
    if st.st_uid != uid:
        problems.append(f"{what} {path} is owned by {_user_name(st.st_uid)}, not the service account")
    if st.st_mode & 0o077:
        want = "0700" if kind == "directory" else "0600"
        problems.append(f"{what} {path} has mode {stat.S_IMODE(st.st_mode):04o}: others can read or write it (want {want})")


def _user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _root_only(path: Path, what: str, problems: list[str], mode: int | None = None) -> None:
    """``path`` and every directory above it are root's and writable by root only (a sticky
    directory such as /tmp is fine); with ``mode``, the file has exactly that mode."""
    try:
        st = path.stat()
    except FileNotFoundError:
        problems.append(f"{what} {path} is missing")
        return
    if st.st_uid != 0:
        problems.append(f"{what} {path} is owned by {_user_name(st.st_uid)}, not root")
    if mode is not None and stat.S_IMODE(st.st_mode) != mode:
        problems.append(f"{what} {path} has mode {stat.S_IMODE(st.st_mode):04o} (want {mode:04o})")
    elif st.st_mode & 0o022:
        problems.append(f"{what} {path} can be changed by others (mode {stat.S_IMODE(st.st_mode):04o})")
    _parents_root_only(path, what, problems)


def _parents_root_only(path: Path, what: str, problems: list[str]) -> None:
    for parent in Path(os.path.realpath(path)).parents:
        pst = parent.stat()
        if pst.st_uid != 0 or (pst.st_mode & 0o022 and not pst.st_mode & stat.S_ISVTX):
            problems.append(
                f"{what} {path}: the directory {parent} can be changed by others "
                f"(owner {_user_name(pst.st_uid)}, mode {stat.S_IMODE(pst.st_mode):04o})"
            )


def _interpreter(program: Path) -> Path | None:
    try:
        with open(program, "rb") as fh:
            first = fh.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    return Path(os.path.realpath(first[2:].decode("utf-8", "replace").split()[0]))


def _service_can_run(bedside: Path, pw: Any, problems: list[str]) -> None:
    try:
        out = subprocess.run(
            [str(bedside), "--version"],
            user=pw.pw_uid,
            group=pw.pw_gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError) as exc:
        problems.append(f"the service account cannot run {bedside}: {exc}")
        return
    if out.returncode != 0:
        problems.append(f"the service account cannot run {bedside}: {(out.stderr or out.stdout).strip().splitlines()[-1:]}")


def _check_files(d: Path, db: Path, pw: Any, problems: list[str]) -> list[Path]:
    """The directory, the database and its -wal/-shm, the key file and the anchors; returns the
    anchors the key file names."""
    uid = pw.pw_uid
    _private(d, uid, "the database directory", problems, kind="directory")
    _private(db, uid, "the database", problems)
    for suffix in ("-wal", "-shm", ".head.lock"):
        _private(Path(str(db) + suffix), uid, "the file", problems, need=False)
    key = Path(str(db) + ".key")
    _private(key, uid, "the key file", problems)
    _private(Path(str(db) + ".head"), uid, "the anchor", problems)
    extra: list[Path] = []
    if key.exists():
        from bedside.core.keyring import KeyringError, parse_keyring

        try:
            extra = [Path(p) for p in parse_keyring(key.read_text("ascii"), str(key)).anchors]
        except (KeyringError, OSError, UnicodeDecodeError) as exc:
            raise WardError(f"cannot read the key file: {exc}") from None
    if not extra:
        problems.append("the key file names no second anchor (ward init records one in another directory)")
    for anchor in extra:
        _private(anchor.parent, uid, "the anchor directory", problems, kind="directory")
        _private(anchor, uid, "the anchor", problems)
        _private(Path(str(anchor) + ".lock"), uid, "the file", problems, need=False)
    return extra


def _check_sudo(args: argparse.Namespace, pw: Any, db: Path, problems: list[str]) -> Path | None:
    """The sudoers file and the launcher; returns the bedside program the rule names."""
    sudoers, launcher = Path(args.sudoers), Path(args.launcher)
    if _sudoers_name_problem(sudoers):
        problems.append(_sudoers_name_problem(sudoers))
    _root_only(sudoers, "the sudoers file", problems, mode=0o440)
    bedside = None
    try:
        text = sudoers.read_text("utf-8")
    except OSError:
        text = ""
    if text:
        if args.staff_group:
            _group(args.staff_group)
        m = rule_line(pw.pw_name, args.staff_group, None, db).search(text)
        if m is None:
            who = f"%{args.staff_group}" if args.staff_group else "a staff group"
            problems.append(f"the sudoers file has no rule letting {who} run `bedside --db {db}` as {pw.pw_name}")
        else:
            bedside = Path(m.group(1))
        for line in ("env_reset", "umask=0077"):
            if line not in text:
                problems.append(f"the sudoers file does not set {line} for {pw.pw_name}")
    _root_only(launcher, "the launcher", problems, mode=0o755)
    if (
        launcher.exists()
        and bedside is not None
        and f"sudo -u {pw.pw_name} {bedside} --db {db}" not in launcher.read_text("utf-8", "replace")
    ):
        problems.append(f"the launcher {launcher} does not run `sudo -u {pw.pw_name} {bedside} --db {db}`")
    return bedside


def cmd_check(args: argparse.Namespace) -> int:
    # (--db and --dir: one of them, argparse's required exclusive group)
    db = _given_path(args.ward_db, "--db") if args.ward_db is not None else _given_path(args.dir, "--dir") / DB_NAME
    d = db.parent
    if not d.is_dir():
        raise WardError(f"no directory {d}")
    if args.service_user:
        pw = _account(args.service_user)
    else:
        import pwd

        pw = pwd.getpwuid(d.stat().st_uid)
        if pw.pw_uid == 0:
            raise WardError(f"{d} is owned by root: name the service account with --service-user")
    problems: list[str] = []
    anchors = _check_files(d, db, pw, problems)
    for place in {d, *(a.parent for a in anchors)}:  # else another user could rename it away and put theirs
        _parents_root_only(place, "the directory", problems)
    bedside = _check_sudo(args, pw, db, problems)
    if bedside is not None:
        _root_only(bedside, "the bedside program", problems)
        interp = _interpreter(bedside)
        if interp is not None:
            _root_only(interp, "its interpreter", problems)
        _service_can_run(bedside, pw, problems)
    return _report(problems, pw.pw_name, d, anchors)


def _report(problems: list[str], user: str, d: Path, anchors: list[Path]) -> int:
    from bedside.core.text import printable

    if problems:
        print(f"Ward deployment in {printable(str(d), escapes=True)}: {len(problems)} problem(s)")
        for p in problems:
            print(f"  - {printable(p, escapes=True)}")
        return 1
    where = ", ".join(str(a.parent) for a in anchors)
    print(
        f"Ward deployment in {printable(str(d), escapes=True)}: all right "
        f"(files {user}'s only; second anchor in {where}; sudo rule and launcher root's)"
    )
    return 0
