"""The printed page (core/records/page.py): wrapping to columns, wide characters, literal text."""

from __future__ import annotations

from bedside.core.records.page import WIDTH, Page, clean, width, wrap


def test_wrap_keeps_spaces_inside_a_line_and_cuts_a_long_word():
    assert wrap("a  b", 10) == ["a  b"]
    assert wrap("aaaa bbbb cccc", 9) == ["aaaa bbbb", "cccc"]
    assert wrap("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert wrap("", 10) == [""]
    assert wrap("ab cdefghijkl", 4, 6) == ["ab", "cdefgh", "ijkl"]


def test_wide_characters_take_two_columns():
    assert width("漢字a") == 5
    assert all(width(line) <= 7 for line in wrap("漢字漢字漢字漢字", 7))


def test_control_characters_are_shown_never_sent():
    assert clean("a\tb\nc\rd") == "a b c d"
    assert "\x1b" not in clean("\x1b[31mred") and "\\x1b" in clean("\x1b[31mred")
    assert clean(None) == ""


def test_a_field_hangs_its_continuation_lines_under_its_text():
    page = Page()
    page.field("Reason", "word " * 30)
    lines = page.render().splitlines()
    assert lines[0].startswith("  Reason:       word")  # the label 14 columns wide
    assert all(line.startswith(" " * 16 + "word") for line in lines[1:])
    assert all(len(line) <= WIDTH for line in lines)
