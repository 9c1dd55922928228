"""Drive the installed ``bedside`` command in a pseudo-terminal, read its 80x24 screen with pyte.

Not Textual's Pilot: the real console script, a real terminal, a real database on disk.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import time
from pathlib import Path

import pexpect
import pyte
import pytest

COLS, ROWS = 80, 24
BEDSIDE = Path(sys.executable).with_name("bedside")

KEYS = {
    "enter": "\r",
    "tab": "\t",
    "escape": "\x1b",
    "backspace": "\x7f",
    "ctrl+s": "\x13",
    "ctrl+q": "\x11",
    "ctrl+l": "\x0c",
    "ctrl+o": "\x0f",
    "ctrl+p": "\x10",
    "f1": "\x1bOP",
    "f5": "\x1b[15~",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "right": "\x1b[C",
    "left": "\x1b[D",
    "space": " ",
}
#: After a lone escape the app waits this long before it decides it was not the start of a
#: sequence; the next key must not follow sooner or both are read as one sequence.
ESCAPE_GAP = 0.25
BELL = b"\x07"
#: An operating-system command (a window title…), which may end with BEL: not a bell.
OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class Tty:
    """One ``bedside`` process in an 80x24 pty, with the screen it has drawn so far."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: str | None = None):
        self.screen_ = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen_)
        self.raw = bytearray()
        self.keys_sent = 0  # every key pressed: a named key is one, literal text one per character
        self.value_chars = 0  # of those, the characters of typed values (literal text)
        self.child = pexpect.spawn(str(BEDSIDE), args, env=env, cwd=cwd, dimensions=(ROWS, COLS), timeout=None)

    # -- reading ---------------------------------------------------------------------------
    def pump(self, seconds: float = 0.05, first: bool = False) -> bool:
        """Read what the app writes within ``seconds`` into the screen (with ``first``: only until
        its first burst has been read); False once it has exited."""
        if self.child.closed:
            return False
        end = time.monotonic() + seconds
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=max(0.0, end - time.monotonic()))
            except pexpect.TIMEOUT:
                return True
            except pexpect.EOF:
                return False
            self.raw += data
            self.stream.feed(data)
            if time.monotonic() >= end:
                return True
            if first:
                seconds, end = 0.01, time.monotonic() + 0.01  # the rest of this burst

    def screen(self) -> str:
        return "\n".join(self.screen_.display)

    def dump(self) -> str:
        return "\n" + "\n".join(f"|{line}|" for line in self.screen_.display)

    def wait_for(self, what: str | re.Pattern, timeout: float = 15) -> re.Match | str:
        """Read until ``what`` (text, or a compiled regex) is on the screen; fail with the screen."""
        end = time.monotonic() + timeout
        while True:
            text = self.screen()
            hit = what.search(text) if isinstance(what, re.Pattern) else (what if what in text else None)
            if hit:
                return hit
            self.assert_no_traceback()
            if time.monotonic() > end:
                pytest.fail(f"{what!r} did not show within {timeout} s; the screen:{self.dump()}")
            if not self.pump(0.2, first=True):
                text = self.screen()
                hit = what.search(text) if isinstance(what, re.Pattern) else (what if what in text else None)
                if hit:
                    return hit
                pytest.fail(
                    f"bedside exited before {what!r} showed; the screen:{self.dump()}\nraw tail: {bytes(self.raw[-2000:])!r}"
                )

    def wait_gone(self, what: str, timeout: float = 15) -> None:
        end = time.monotonic() + timeout
        while what in self.screen():
            if time.monotonic() > end:
                pytest.fail(f"{what!r} still on the screen after {timeout} s:{self.dump()}")
            self.pump(0.1)

    def wait_change(self, before: str, timeout: float = 5) -> None:
        """Read until the screen differs from ``before`` (the app has answered a key)."""
        end = time.monotonic() + timeout
        while self.screen() == before:
            if time.monotonic() > end:
                pytest.fail(f"the screen did not change within {timeout} s:{self.dump()}")
            if not self.pump(0.2, first=True):
                return

    def arrive(self, what: str | re.Pattern, timeout: float = 15) -> re.Match | str:
        """wait_for, then settle: the app drops a command key typed before the screen now in front
        was drawn (tui/app.py, issue 17), as a user would not press one before seeing the screen."""
        hit = self.wait_for(what, timeout)
        self.settle(0.15)
        return hit

    def settle(self, quiet: float = 0.3, timeout: float = 5) -> None:
        """Read until the app has written nothing for ``quiet`` seconds (the screen is drawn)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            before = len(self.raw)
            if not self.pump(quiet) or len(self.raw) == before:
                return

    def assert_no_traceback(self) -> None:
        assert b"Traceback" not in self.raw, (
            f"a traceback reached the terminal:\n{bytes(self.raw).decode('utf-8', 'replace')[-4000:]}"
        )

    # -- writing ---------------------------------------------------------------------------
    def send(self, *keys: str) -> None:
        """Named keys (``enter``, ``ctrl+s``, ``f5``, arrows…) or literal text, in order."""
        for key in keys:
            seq = KEYS.get(key, key)
            if seq == "\x1b":
                self.pump(ESCAPE_GAP)
                self.child.send(seq)
                self.pump(ESCAPE_GAP)  # alone, so it is not read as the start of a sequence
            else:
                self.child.send(seq)
            self.keys_sent += 1 if key in KEYS else len(key)
            self.value_chars += 0 if key in KEYS or len(key) == 1 else len(key)  # one letter: a command key
            self.pump(0.02)

    def key(self, ch: str) -> None:
        """One printable key that is a choice, not a value (a drop-down's option by its letter):
        a key, no value characters."""
        self.child.send(ch)
        self.keys_sent += 1
        self.pump(0.02)

    def scan(self, code: str) -> None:
        """A keyboard-wedge scanner: the code and its Enter in one burst; one key for the user (a
        trigger pull), so it counts as one key and no value characters."""
        self.child.send(code + "\r")
        self.keys_sent += 1
        self.pump(0.02)

    def tally(self) -> tuple[int, int]:
        """(keys, value characters) sent so far: take two and subtract to count one task."""
        return self.keys_sent, self.value_chars

    def send_drawn(self, key: str, timeout: float = 5) -> None:
        """Send one key and read until the app has drawn its answer (some output, then quiet)."""
        before = len(self.raw)
        self.send(key)
        end = time.monotonic() + timeout
        while len(self.raw) == before and time.monotonic() < end and self.pump(0.05):
            pass
        self.settle(0.15)

    def type(self, text: str) -> None:
        self.send(text)

    # -- ending ----------------------------------------------------------------------------
    def wait_exit(self, timeout: float = 10) -> int | None:
        end = time.monotonic() + timeout
        while self.pump(0.1):
            if time.monotonic() > end:
                pytest.fail(f"bedside did not exit within {timeout} s:{self.dump()}\n{self.tail()}")
        self.child.close()
        return self.child.exitstatus

    def quit(self, timeout: float = 10) -> int | None:
        """ctrl+q, as a user quits: if the app rang the bell for it (a key typed while the screen
        was changing is not taken, tui/app.py) and is still running, ctrl+q once more."""
        rung = self.bells()
        self.send("ctrl+q")
        end = time.monotonic() + 1.5
        while self.pump(0.1):
            if time.monotonic() > end:
                if self.bells() > rung:
                    self.send("ctrl+q")
                break
        return self.wait_exit(timeout)

    def bells(self) -> int:
        """How many times the app has rung the bell (a BEL outside an operating-system command)."""
        return OSC.sub(b"", bytes(self.raw)).count(BELL)

    def tail(self, n: int = 300) -> str:
        """The last bytes the app wrote, and whether it rang the bell (a key not taken)."""
        return f"bells rung: {self.bells()}; last bytes written: {bytes(self.raw[-n:])!r}"

    def kill9(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.child.pid, signal.SIGKILL)
        self.child.close(force=True)

    def close(self) -> None:
        if self.child.isalive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pid, signal.SIGKILL)
        self.child.close(force=True)


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of the app: a fresh HOME, a real terminal, the tests' fault setting kept."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEDSIDE_DB", "XDG_", "PYTEST_"))}
    env.update(HOME=str(home), TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("NO_COLOR", None)
    env.pop("TEXTUAL", None)
    env.update(extra)
    return env


# -- a clock the test can move: libfaketime ---------------------------------------------------
FAKETIME_LIB = next(
    (
        p
        for p in (
            "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
            "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
            "/usr/lib/faketime/libfaketime.so.1",
        )
        if Path(p).exists()
    ),
    None,
)


def require_faketime() -> str:
    """libfaketime's path, or skip (fail under CI, where .ci/run installs it)."""
    if FAKETIME_LIB is None:
        reason = "the clock walks need libfaketime (apt-get install faketime; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the e2e clock walks: {reason}")
        pytest.skip(reason)
    return FAKETIME_LIB


class FakeTime:
    """The wall clock of the app processes started with ``env()``: real time plus an offset the
    test moves (``advance``); every process re-reads it on each call (FAKETIME_NO_CACHE).
    Monotonic time is left real, so timers, key timing and the idle lock behave as usual."""

    def __init__(self, directory: Path):
        self.lib = require_faketime()
        self.file = directory / "faketime.rc"
        self.offset_s = 0
        self.file.write_text("+0\n")

    def env(self) -> dict[str, str]:
        return {
            "LD_PRELOAD": self.lib,
            "FAKETIME_TIMESTAMP_FILE": str(self.file),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }

    def advance(self, seconds: int) -> None:
        self.offset_s += int(seconds)
        self.file.write_text(f"+{self.offset_s}\n")
