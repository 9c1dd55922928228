from __future__ import annotations

import pytest

from .tty import Tty, child_env


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def spawn(home):
    """spawn(args, env=None) → a Tty running the installed ``bedside``; every one is killed at the end
    and none may have shown a traceback."""
    ttys: list[Tty] = []

    def _spawn(args=(), env=None, **extra):
        t = Tty(list(args), env if env is not None else child_env(home, **extra))
        ttys.append(t)
        return t

    yield _spawn
    print(f"[e2e] keys sent to bedside: {sum(t.keys_sent for t in ttys)} over {len(ttys)} process(es)")
    for t in ttys:
        try:
            t.pump(0.05)
        finally:
            t.close()
    for t in ttys:
        t.assert_no_traceback()


def pytest_terminal_summary(terminalreporter):
    """The key budgets the walks measured (tests/e2e/budgets.py), printed with every run."""
    from .budgets import report

    lines = report()
    if lines:
        terminalreporter.section("key budgets (issue 17)")
        for line in lines:
            terminalreporter.write_line(line)
