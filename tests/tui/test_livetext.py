"""LiveText repaints only the cells that changed, and what is drawn is always the new text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from bedside.tui.widgets.countdown import LiveText, changed_cells


def styled(plain: str, bold: tuple[int, int] | None = None) -> Text:
    t = Text(plain)
    if bold:
        t.stylize("bold", *bold)
    return t


def test_one_digit_changed_gives_one_cell():
    old = styled("Elapsed 0:20:05   Left 0:39:54", (8, 15))
    new = styled("Elapsed 0:20:06   Left 0:39:53", (8, 15))
    assert changed_cells(old, new, 80) == [Region(14, 0, 16, 1)]


def test_each_changed_line_is_its_own_region():
    assert changed_cells(Text("a1\nbb\nc3"), Text("a2\nbb\nc4"), 80) == [Region(1, 0, 1, 1), Region(1, 2, 1, 1)]


def test_whole_repaint_when_unsafe():
    assert changed_cells(Text("0:59"), Text("10:00"), 80) is None  # length changed
    assert changed_cells(Text("ab"), Text("ab\ncd"), 80) is None  # lines changed
    assert changed_cells(styled("ab", (0, 1)), styled("ab", (0, 2)), 80) is None  # styles moved
    assert changed_cells(Text("漢a"), Text("漢b"), 80) is None  # wide characters
    assert changed_cells(Text("x" * 20), Text("y" * 20), 10) is None  # would wrap
    # an unchanged line above that wraps moves the changed line down a row
    assert changed_cells(Text("x" * 20 + "\n0:10"), Text("x" * 20 + "\n0:12"), 10) is None


@given(st.lists(st.text(alphabet="0123456789: ab", min_size=1, max_size=30), min_size=1, max_size=4), st.data())
def test_cells_outside_the_regions_are_unchanged(lines, data):
    new_lines = [data.draw(st.text(alphabet="0123456789: ab", min_size=len(line), max_size=len(line))) for line in lines]
    old, new = Text("\n".join(lines)), Text("\n".join(new_lines))
    regions = changed_cells(old, new, 80)
    assert regions is not None
    covered = {(x, r.y) for r in regions for x in range(r.x, r.right)}
    for y, (a, b) in enumerate(zip(lines, new_lines, strict=False)):
        for x, (ca, cb) in enumerate(zip(a, b, strict=False)):
            if ca != cb:
                assert (x, y) in covered


class Ticker(App):
    def __init__(self):
        super().__init__()
        self.value = "Elapsed 0:00:00   Left 1:00:00"

    def compose(self) -> ComposeResult:
        yield LiveText(lambda: self.value, id="live", interval=None)


async def test_partial_repaint_draws_the_new_text():
    app = Ticker()
    async with app.run_test(size=(40, 3)) as pilot:
        live = app.query_one(LiveText)
        for second in range(1, 13):
            app.value = f"Elapsed 0:00:{second:02d}   Left 0:59:{60 - second:02d}"
            live.tick()
            await pilot.pause()
            drawn = app.screen._compositor.render_strips()[0].text
            assert drawn.startswith(app.value), (drawn, app.value)
        app.value = "Observation complete"  # a different length: a whole repaint
        live.tick()
        await pilot.pause()
        assert app.screen._compositor.render_strips()[0].text.startswith("Observation complete ")
