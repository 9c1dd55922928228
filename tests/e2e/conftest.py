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


@pytest.fixture(autouse=True)
def _budget_lines(request):
    """Each test's key budget lines go with its report (``user_properties``), so the summary has
    them when the tests ran in other processes (pytest-xdist) as well as in this one."""
    from .budgets import RESULTS, report

    before = set(RESULTS)
    yield
    for name, line in zip(RESULTS, report(), strict=True):
        if name not in before:
            request.node.user_properties.append(("key budget", line))
