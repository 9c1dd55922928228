"""A shift of screen changes does not keep closed screens alive (Textual keeps watcher pairs until
the watched value changes; the app drops those of closed widgets and collects closed screens)."""

from __future__ import annotations

import gc

from textual.widgets import Header

from bedside.tui import app as app_module
from bedside.tui.app import prune_watchers
from bedside.tui.screens.audit import AuditScreen

from .conftest import sign_in


def detached_headers() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Header) and not o.is_attached)


async def test_closed_screens_are_not_kept(app, monkeypatch):
    monkeypatch.setattr(app_module, "PRUNE_DELAY_SECONDS", 1000)  # prune by hand first
    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.pause(0.3)
        for _ in range(12):
            app.push_screen(AuditScreen())
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        title_watchers = getattr(app, "__watchers")["title"]
        assert len(title_watchers) >= 12  # what Textual alone would keep: one per Header ever mounted
        app.prune()
        live_headers = [s for s in app.screen_stack if s.query(Header)]
        assert len(title_watchers) <= len(live_headers) + 1  # + the sign-in screen's, kept by Textual
        assert detached_headers() <= 1
        # After a screen change the app prunes by itself.
        monkeypatch.setattr(app_module, "PRUNE_DELAY_SECONDS", 0.15)
        for _ in range(3):
            app.push_screen(AuditScreen())
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        await pilot.pause(0.5)
        assert len(title_watchers) <= len(live_headers) + 1
        assert detached_headers() <= 1


def test_prune_watchers_keeps_open_widgets():
    class Node:
        def __init__(self, closing):
            self._closing = closing

    class Watched:
        pass

    open_node, closed = Node(False), Node(True)
    w = Watched()
    setattr(w, "__watchers", {"title": [(open_node, print), (closed, print)], "compact": [(closed, len)]})
    assert prune_watchers([w, object()]) == 2
    assert getattr(w, "__watchers") == {"title": [(open_node, print)], "compact": []}


async def test_the_session_freeze_ends_with_the_app(app):
    async with app.run_test() as pilot:
        await sign_in(pilot)
        await pilot.pause(0.4)
        assert gc.get_freeze_count() > 0  # signed in, on the list: the session's objects frozen
    assert gc.get_freeze_count() == 0


def test_the_database_opens_even_if_a_key_needs_it_before_the_first_paint(demo_ledger):
    """Typed-ahead keys can reach the sign-in before the first paint starts the boot thread: the
    ledger starts it itself instead of waiting for ever."""
    from bedside.tui.app import BedsideApp

    app = BedsideApp(boot=lambda: demo_ledger)
    assert app.ledger is demo_ledger
