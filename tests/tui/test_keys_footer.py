"""The footer (tui/widgets/keys.py): at 80 columns the screen's own keys have the room; the
command palette's key shows from 100 columns (F1 names ctrl+p at any width)."""

from __future__ import annotations

import pytest

from bedside.tui.widgets.keys import Keys

from .conftest import sign_in


@pytest.mark.parametrize(("width", "shown"), [(80, False), (120, True)])
async def test_the_palette_key_shows_only_where_there_is_room(app, width, shown):
    async with app.run_test(size=(width, 24)) as pilot:
        await sign_in(pilot)
        footer = app.screen.query_one(Keys)
        assert footer.show_command_palette is shown
        texts = " ".join(str(k.render()) for k in footer.children)
        assert ("Palette" in texts) is shown, texts
        assert "Quit" in texts, texts  # the last of the patient list's own keys is not squeezed out


async def test_a_resize_refits_the_footer(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        footer = app.screen.query_one(Keys)
        assert not footer.show_command_palette
        await pilot.resize_terminal(130, 30)
        await pilot.pause()
        assert app.screen.query_one(Keys).show_command_palette
