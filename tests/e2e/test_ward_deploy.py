"""The ward deployment with real Unix accounts (issue 18): one service account owns the files, a
staff member runs the app only through sudo's one command line (the README's recipe, step by step).

Needs root, useradd, sudo and runuser (CI runs as root; .ci/run installs sudo): skipped otherwise.
Every account, group, sudoers file and directory it makes is removed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pexpect
import pyte
import pytest

from .test_first_run import PATIENTS, SIGN_IN, create_first_admin, sign_in
from .tty import BEDSIDE, COLS, ROWS, Tty

TOOLS = ("useradd", "groupadd", "userdel", "groupdel", "runuser", "sudo", "visudo")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or any(shutil.which(t) is None for t in TOOLS),
    reason="the ward deployment test makes Unix accounts: needs root, useradd, runuser and sudo (CI runs as root)",
)


def run(*argv: str, ok: bool = True, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120, **kw)
    if ok:
        assert out.returncode == 0, out
    return out


def as_user(user: str, *argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run("runuser", "-u", user, "--", *argv, ok=False, env=env, cwd="/")


def _installed_for(user: str, base: Path) -> Path:
    """The bedside program the service account runs: this test's own, if that account can run it;
    else (the test's interpreter under a private home, /root) the same packages through a venv of
    the system's python of the same version, owned by root under ``base``."""
    if as_user(user, str(BEDSIDE), "--version").returncode == 0:
        return BEDSIDE
    system = Path("/usr/bin/python3")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not system.exists() or run(system, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").stdout.strip() != version:
        pytest.skip(f"the service account cannot run {BEDSIDE} and there is no system python {version} to install it for")
    app = base / "app"
    run(system, "-m", "venv", "--without-pip", app)
    site = next(Path(sys.prefix).glob("lib/python*/site-packages"))
    (app / f"lib/python{version}/site-packages/bedside-packages.pth").write_text(f"import site; site.addsitedir({str(site)!r})\n")
    script = BEDSIDE.read_text().splitlines()
    (app / "bin/bedside").write_text("\n".join([f"#!{app}/bin/python", *script[1:]]) + "\n")
    (app / "bin/bedside").chmod(0o755)
    assert as_user(user, str(app / "bin/bedside"), "--version").returncode == 0
    return app / "bin/bedside"


@pytest.fixture(scope="module")
def ward():
    tag = secrets.token_hex(3)
    svc, staff, group = f"bws{tag}", f"bwn{tag}", f"bwg{tag}"
    base = Path(tempfile.mkdtemp(prefix="bedside-ward-", dir="/tmp"))
    base.chmod(0o755)  # the service account and the staff member pass through it
    sudoers = Path(f"/etc/sudoers.d/bedside-test-{tag}")
    made: list[tuple[str, ...]] = []
    try:
        # The README's recipe: a staff group, a service account (no login), staff in the group.
        run("groupadd", group)
        made.append(("groupdel", group))
        run(
            "useradd",
            "--system",
            "--user-group",
            "--create-home",
            "--home-dir",
            base / "svc-home",
            "--shell",
            "/usr/sbin/nologin",
            svc,
        )
        made.insert(0, ("userdel", "-r", svc))
        run("useradd", "--create-home", "--home-dir", base / "staff-home", "--groups", group, "--shell", "/bin/sh", staff)
        made.insert(0, ("userdel", "-r", staff))
        bedside = _installed_for(svc, base)
        d, a, launcher = base / "ward", base / "ward-anchor", base / "bin/bedside-ward"
        init = run(
            bedside, "ward", "init", "--service-user", svc, "--staff-group", group, "--dir", d, "--anchor-dir", a,
            "--sudoers", sudoers, "--launcher", launcher, ok=False,
        )  # fmt: skip
        assert init.returncode == 0, init
        yield {"svc": svc, "staff": staff, "group": group, "base": base, "dir": d, "anchor_dir": a, "db": d / "bedside.db",
               "sudoers": sudoers, "launcher": launcher, "bedside": bedside, "init": init}  # fmt: skip
    finally:
        sudoers.unlink(missing_ok=True)
        for cmd in made:
            subprocess.run(cmd, capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def check(w, *extra: str) -> subprocess.CompletedProcess:
    return run(
        w["bedside"], "ward", "check", "--dir", w["dir"], "--service-user", w["svc"], "--staff-group", w["group"],
        "--sudoers", w["sudoers"], "--launcher", w["launcher"], *extra, ok=False,
    )  # fmt: skip


class LauncherTty(Tty):
    """The staff member's terminal: ``runuser -u staff -- <launcher>`` in an 80x24 pty."""

    def __init__(self, staff: str, launcher: Path, env: dict[str, str]):
        self.screen_ = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen_)
        self.raw = bytearray()
        self.keys_sent = self.value_chars = 0
        self.child = pexpect.spawn(
            shutil.which("runuser"), ["-u", staff, "--", str(launcher)], env=env, cwd="/", dimensions=(ROWS, COLS), timeout=None
        )


def staff_env(w, **extra: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(w["base"] / "staff-home"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def test_init_makes_what_check_accepts(ward):
    w = ward
    assert "Next:" in w["init"].stdout and str(w["launcher"]) in w["init"].stdout
    out = check(w)
    assert out.returncode == 0 and "all right" in out.stdout, out
    assert (w["dir"].stat().st_mode & 0o777, w["db"].stat().st_mode & 0o777) == (0o700, 0o600)
    assert w["sudoers"].stat().st_mode & 0o777 == 0o440 and w["launcher"].stat().st_mode & 0o777 == 0o755
    assert run("visudo", "-cf", w["sudoers"]).returncode == 0
    keyring = json.loads(Path(str(w["db"]) + ".key").read_text())
    assert keyring["anchors"] == [str(w["anchor_dir"] / "bedside.db.head")]
    out = as_user(w["svc"], str(w["bedside"]), "verify-log", "--db", str(w["db"]))
    assert out.returncode == 0 and "NOT INTACT" not in out.stdout, out


def test_staff_cannot_touch_the_files(ward):
    w = ward
    files = [w["db"], Path(str(w["db"]) + ".key"), Path(str(w["db"]) + ".head"), w["anchor_dir"] / "bedside.db.head"]
    for f in files:
        read = as_user(w["staff"], "head", "-c1", str(f))
        assert read.returncode != 0 and "Permission denied" in read.stderr, (f, read)
        write = as_user(w["staff"], "sh", "-c", ': >> "$1"', "sh", str(f))
        assert write.returncode != 0 and "Permission denied" in write.stderr, (f, write)
    listing = as_user(w["staff"], "ls", str(w["dir"]))
    assert listing.returncode != 0, listing


def test_sudo_allows_the_one_command_line_only(ward):
    w = ward
    allowed = as_user(w["staff"], "sudo", "-n", "-l", "-u", w["svc"], str(w["bedside"]), "--db", str(w["db"]))
    assert allowed.returncode == 0, allowed
    for argv in (
        ["users", "list", "--db", str(w["db"])],
        ["--db", str(w["db"]), "users", "list"],
        ["--db", str(w["db"]), "--anchor", str(w["base"] / "evil.head")],
        ["--demo"],
    ):
        refused = as_user(w["staff"], "sudo", "-n", "-u", w["svc"], str(w["bedside"]), *argv)
        assert refused.returncode == 1 and "USER" not in refused.stdout, (argv, refused)
        assert "sudo:" in refused.stderr, refused
    shell = as_user(w["staff"], "sudo", "-n", "-u", w["svc"], "/bin/sh", "-c", "id")
    assert shell.returncode == 1, shell


def test_staff_run_the_app_through_the_launcher(ward):
    w = ward
    evil = w["base"] / "evil.head"
    env = staff_env(w, BEDSIDE_ANCHOR=str(evil), BEDSIDE_DB=str(w["base"] / "evil.db"), BEDSIDE_LOG_DIR=str(w["base"]))
    t = LauncherTty(w["staff"], w["launcher"], env)
    try:
        t.wait_for(re.compile("first admin", re.I))
        assert "TAMPERING" not in t.screen(), t.dump()  # the empty log's anchors (seq 0) verify
        create_first_admin(t)
        assert t.quit() == 0
        t.assert_no_traceback()
    finally:
        t.close()
    assert not evil.exists() and not (w["base"] / "evil.db").exists(), "sudo must not pass BEDSIDE_* from staff"
    second = json.loads((w["anchor_dir"] / "bedside.db.head").read_text())
    assert second["seq"] >= 1 and second["mac"], second  # every process keeps the keyring's anchor
    out = check(w)  # the files the app made or rewrote as the service account are still its only
    assert out.returncode == 0, out
    out = as_user(w["svc"], str(w["bedside"]), "verify-log", "--db", str(w["db"]))
    assert out.returncode == 0 and "NOT INTACT" not in out.stdout, out
    t2 = LauncherTty(w["staff"], w["launcher"], staff_env(w))
    try:
        t2.wait_for(SIGN_IN)
        sign_in(t2, "root", "246810", "Site Admin")
        t2.arrive(PATIENTS)
        assert t2.quit() == 0
    finally:
        t2.close()


def test_check_names_each_wrong_owner_or_mode(ward):
    w = ward
    key = Path(str(w["db"]) + ".key")
    with _changed(key, mode=0o644):
        out = check(w)
        assert out.returncode == 1 and re.search(rf"key file {re.escape(str(key))} has mode 0644", out.stdout), out
    with _changed(w["db"], owner=0):
        out = check(w)
        assert out.returncode == 1 and f"the database {w['db']} is owned by root" in out.stdout, out
    with _changed(w["sudoers"], mode=0o644):
        out = check(w)
        assert out.returncode == 1 and "sudoers file" in out.stdout, out
    second = w["anchor_dir"] / "bedside.db.head"
    saved = second.read_bytes()
    second.unlink()
    try:
        out = check(w)
        assert out.returncode == 1 and f"the anchor {second} is missing" in out.stdout, out
    finally:
        second.write_bytes(saved)
        os.chown(second, *_owner(w["dir"]))
        second.chmod(0o600)
    assert check(w).returncode == 0


def test_init_refuses_in_one_line(ward):
    w = ward
    args = ["ward", "init", "--staff-group", w["group"], "--sudoers", w["base"] / "s", "--launcher", w["base"] / "l"]
    again = run(w["bedside"], *args, "--service-user", w["svc"], "--dir", w["dir"], ok=False)
    assert again.returncode == 2 and "already holds a database" in again.stderr and len(again.stderr.splitlines()) == 1, again
    nobody = run(w["bedside"], *args, "--service-user", "no-such-user-x", "--dir", w["base"] / "new", ok=False)
    assert nobody.returncode == 2 and "no user" in nobody.stderr, nobody
    not_root = as_user(w["staff"], str(w["bedside"]), *map(str, args), "--service-user", w["svc"], "--dir", str(w["base"] / "n2"))
    assert not_root.returncode == 2 and "must run as root" in not_root.stderr, not_root
    assert not (w["base"] / "new").exists() and not (w["base"] / "s").exists()


def _owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid


@contextlib.contextmanager
def _changed(path: Path, mode: int | None = None, owner: int | None = None):
    st = path.stat()
    if mode is not None:
        path.chmod(mode)
    if owner is not None:
        os.chown(path, owner, st.st_gid)
    try:
        yield
    finally:
        os.chown(path, st.st_uid, st.st_gid)
        path.chmod(st.st_mode & 0o7777)
