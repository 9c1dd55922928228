"""core/text.py: the one sanitiser for display and the one check for input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bedside.core.text import BIDI, is_unsafe, printable, unsafe_message

# Text with plenty of the dangerous characters mixed in (plain st.text() rarely draws them).
DANGEROUS = st.sampled_from(["\x1b", "\x07", "\x00", "\n", "\r", "\t", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", *sorted(BIDI)])
TEXT = st.lists(st.one_of(st.characters(), DANGEROUS, st.just("]0;pwned"), st.just("[2J")), max_size=40).map("".join)


def _forbidden(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or ch in BIDI


@given(TEXT)
def test_printable_never_holds_a_control_or_bidi_character(s):
    out = printable(s)
    assert not any(_forbidden(ch) for ch in out)
    assert len(out) == len(s)  # one visible stand-in per character: styles over it stay put


@given(TEXT)
def test_printable_is_idempotent_in_every_mode(s):
    for kw in ({}, {"multiline": True}, {"escapes": True}):
        once = printable(s, **kw)
        assert printable(once, **kw) == once


@given(TEXT)
def test_multiline_keeps_only_newlines(s):
    out = printable(s, multiline=True)
    assert out.count("\n") == s.count("\n")
    assert not any(_forbidden(ch) for ch in out.replace("\n", ""))


@given(TEXT)
def test_escapes_mode_is_plain_printable_text(s):
    out = printable(s, escapes=True)
    assert all(ch == " " or ch.isprintable() for ch in out)


@given(TEXT)
def test_input_check_agrees_with_the_display_rule(s):
    msg = unsafe_message("Reason", s)
    assert (msg is None) == (not any(is_unsafe(ch) for ch in s))
    if msg:
        assert msg.startswith("Reason: control characters are not allowed")


def test_visible_stand_ins():
    assert printable("a\x1b[2Jb") == "a␛[2Jb"
    assert printable("\x00\x7f") == "␀␡"
    assert printable("x\u202ey\x9b") == "x\ufffdy\ufffd"
    assert printable("[red]x[/]") == "[red]x[/]"  # markup is not this module's business: kept as typed
    assert printable(None) == "" and printable(12) == "12"
    assert printable("a\x1bb", escapes=True) == "a\\x1bb"
    assert printable("DOE, Jane 漢字 é") == "DOE, Jane 漢字 é"


def test_allowed_controls_for_a_scanner():
    assert unsafe_message("Scan", "(01)123\x1d(10)AB", allow="\x1d") is None
    assert unsafe_message("Scan", "(01)123\x1d(10)AB") is not None
    assert unsafe_message("Name", "tab\there") == "Name: control characters are not allowed (found \\x09)."


def test_core_validators_refuse_controls_naming_the_field():
    """Free text that reaches the log through core (reasons, notes) is refused, not silently
    cleaned, when it holds a control or bidi character (issue 14)."""
    from datetime import UTC, datetime

    import pytest

    from bedside.core import infusion
    from bedside.core import schedule as sch

    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"^Reason: control characters are not allowed"):
        infusion.event_data(infusion.INFUSION_PAUSED, "c1d1", at, reason="line \x1b[2J blocked")
    assert infusion.event_data(infusion.INFUSION_PAUSED, "c1d1", at, reason="line blocked")["reason"] == "line blocked"
    with pytest.raises(ValueError, match="control characters are not allowed"):
        sch._text("omit\u202e", "An omission reason")
    assert sch._text("  patient asked  ", "An omission reason") == "patient asked"


@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), TEXT),
        lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(TEXT, c, max_size=3)),
        max_leaves=8,
    )
)
def test_json_inert_is_the_same_json_and_holds_no_unsafe_character(value):
    import json

    from bedside.core.text import json_inert

    for indent in (None, 2):
        text = json.dumps(value, ensure_ascii=False, indent=indent)
        out = json_inert(text)
        assert json.loads(out) == value
        assert not any(_forbidden(ch) for ch in out.replace("\n", ""))
