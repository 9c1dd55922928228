"""Stored text made safe to show, and typed text checked before it is stored.

Everything that reaches the event log is data, never an instruction to a terminal or printer: a
name that arrived by another path (another host, an import, an older version) must not clear the
screen, set the terminal title or reverse the order of what follows it. So:

- :func:`printable` is the one place where a stored string becomes display text. It replaces
  every C0 and C1 control character, DEL, and the bidirectional overrides, embeddings, isolates
  and marks (U+202A–202E, U+2066–2069, U+200E/200F, U+061C), plus the Unicode line and paragraph
  separators, with a visible stand-in: a control picture for C0 and DEL (ESC shows as ``␛``),
  U+FFFD for the others. Newlines survive only where a multi-line field is shown on purpose.
- :func:`unsafe_message` is the one check every input uses: such characters are refused, with a
  message naming the field ("Reason: control characters are not allowed.").

Pure functions: no I/O, no Textual, no Rich.
"""

from __future__ import annotations

__all__ = ["BIDI", "REPLACEMENT", "first_unsafe", "is_unsafe", "json_inert", "printable", "unsafe_message"]

#: Bidirectional formatting characters: embeddings/overrides, isolates, marks, the Arabic mark.
BIDI = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)] + ["\u200e", "\u200f", "\u061c"]
)
#: Line and paragraph separators: split lines in Python and in some terminals.
_SEPARATORS = frozenset(["\u2028", "\u2029"])
REPLACEMENT = "\ufffd"


def is_unsafe(ch: str) -> bool:
    """A character a terminal or printer could act on, or that reorders or splits the display."""
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or ch in BIDI or ch in _SEPARATORS


def _picture(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (ESC is ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    return REPLACEMENT


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def with_article(noun: str) -> str:
    """``noun`` with "a" or "an" as it is said ("an antipyretic", "a corticosteroid")."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def printable(value: object, *, multiline: bool = False, escapes: bool = False) -> str:
    """``value`` as text that is safe to put on a terminal, a printer or a title bar.

    ``multiline``: keep ``\\n`` (a field rendered over several lines on purpose; a ``\\r`` still
    shows as ``␍``). Without ``escapes`` each character becomes exactly one character, so the
    result has the length of the input (styled spans over it stay where they were). ``escapes``:
    show each unsafe character (and any other non-printable one but the space) as a backslash
    escape (``\\x1b``), for plain-text print-outs,
    instead of a control picture. ``None`` is shown as the empty string. Idempotent: printing
    the result again changes nothing.
    """
    text = "" if value is None else str(value)
    if not any(is_unsafe(ch) or (escapes and ch != " " and not ch.isprintable()) for ch in text):
        return text
    out: list[str] = []
    for ch in text:
        if multiline and ch == "\n":
            out.append(ch)
        elif escapes and (is_unsafe(ch) or (ch != " " and not ch.isprintable())):
            out.append(_escape(ch))
        elif is_unsafe(ch):
            out.append(_picture(ch))
        else:
            out.append(ch)
    return "".join(out)


def first_unsafe(text: str, *, allow: str = "") -> str | None:
    """The first character of ``text`` that an input must refuse (``allow``: ones it may keep)."""
    return next((ch for ch in text if is_unsafe(ch) and ch not in allow), None)


def unsafe_message(label: str, text: object, *, allow: str = "") -> str | None:
    """``"<label>: control characters are not allowed."`` if ``text`` holds one, else None.

    A tab or a newline pasted into a one-line field is refused like any other control character
    (the form says so; nothing is silently changed). ``allow``: characters a field needs, such as
    the GS1 group separator (``\\x1d``) in a scanned wristband.
    """
    if text is None:
        return None
    ch = first_unsafe(str(text), allow=allow)
    if ch is None:
        return None
    return f"{label}: control characters are not allowed (found {_escape(ch)})."


def json_inert(json_text: str) -> str:
    """JSON text with every unsafe character but its own line breaks written as a ``\\uXXXX``
    escape: the same JSON value (such characters only occur inside strings, where an escape
    means the same), but nothing a terminal would act on when the export is shown on one."""
    if not any(is_unsafe(ch) and ch != "\n" for ch in json_text):
        return json_text
    return "".join(f"\\u{ord(ch):04x}" if is_unsafe(ch) and ch != "\n" else ch for ch in json_text)
