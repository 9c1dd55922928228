"""The bag label for a label printer (issue 20): the label's lines (core/preparation/baglabel.py)
with its code as a Code 128 barcode, which the keyboard-wedge scanner at the bedside reads back into
the start's scan field (a text-only label could only be typed). Two forms:

- SVG, for any printer (through a browser, or ``rsvg-convert -f pdf label.svg | lp``), in
  millimetres: 100 x 80 mm, a module of 0.5 mm, 10 modules of quiet zone each side;
- ZPL II, for the Zebra label printers of most pharmacies (``... --format zpl | nc PRINTER 9100``),
  203 dpi, the same layout.

The code itself is made and checked by core (B and 12 digits, a GS1 check digit); python-barcode
only encodes it (code sets, the mod-103 check symbol). Stored text (the name) can never drive either
form: it is made printable (core/text.py), XML-escaped in SVG, and in ZPL every character but
letters, digits, space and a few marks is sent as ^FH hexadecimal, so a ^ or ~ in a name is printed,
never obeyed."""

from __future__ import annotations

import string
from html import escape  # &, < and > (xml.sax.saxutils would import urllib at start-up)

from bedside.core.text import printable

# SVG, millimetres
WIDTH_MM, HEIGHT_MM = 100, 80
MARGIN_MM = 4
LINE_MM = 4.4  # 12 lines of 3.4 mm monospace text
FONT_MM = 3.4
MODULE_MM = 0.5
QUIET_MODULES = 10
BAR_MM = 12
FONT = "DejaVu Sans Mono, monospace"

# ZPL, dots at 203 dpi (8 dots a millimetre)
DOTS_MM = 8
ZPL_SAFE = frozenset(string.ascii_letters + string.digits + " .,:;()/%+-*=#@'<>")


def modules(code: str) -> str:
    """The Code 128 symbol of ``code`` as modules, '1' a bar and '0' a space (start to stop)."""
    from barcode import Code128

    return Code128(code).build()[0]


def _bars(code: str, x0: float, y0: float) -> list[str]:
    """One <rect> per run of bars."""
    rects, run_start = [], None
    mods = modules(code) + "0"
    for i, m in enumerate(mods):
        if m == "1" and run_start is None:
            run_start = i
        elif m == "0" and run_start is not None:
            x = x0 + run_start * MODULE_MM
            rects.append(f'<rect x="{x:.2f}" y="{y0:.2f}" width="{(i - run_start) * MODULE_MM:.2f}" height="{BAR_MM}"/>')
            run_start = None
    return rects


def svg(lines: list[str], code: str) -> str:
    """The label as an SVG document: the text lines but the last (the code in words), then the
    barcode and the code in words under it."""
    from bedside.core.preparation.baglabel import shown  # not at import: the CLI's parser reads FORMATS

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_MM}mm" height="{HEIGHT_MM}mm" '
        f'viewBox="0 0 {WIDTH_MM} {HEIGHT_MM}">',
        f"<title>Bag label {shown(code)}</title>",
        f'<rect width="{WIDTH_MM}" height="{HEIGHT_MM}" fill="#fff"/>',
        f'<g font-family="{FONT}" font-size="{FONT_MM}" fill="#000">',
    ]
    y = MARGIN_MM + FONT_MM
    for line in lines[:-1]:
        out.append(f'<text x="{MARGIN_MM}" y="{y:.2f}" xml:space="preserve">{escape(printable(line))}</text>')
        y += LINE_MM
    out.append("</g>")
    x0 = MARGIN_MM + QUIET_MODULES * MODULE_MM
    y0 = HEIGHT_MM - MARGIN_MM - FONT_MM - 1 - BAR_MM
    out.append('<g fill="#000">')
    out.extend(_bars(code, x0, y0))
    out.append("</g>")
    out.append(f'<text x="{x0}" y="{HEIGHT_MM - MARGIN_MM:.2f}" font-family="{FONT}" font-size="{FONT_MM}">{shown(code)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def zpl_field(text: str) -> str:
    """``text`` as ZPL field data after ^FH_: anything but the safe characters as _XX (UTF-8 bytes)."""
    return "".join(ch if ch in ZPL_SAFE else "".join(f"_{b:02X}" for b in ch.encode()) for ch in printable(text))


def zpl(lines: list[str], code: str) -> str:
    """The label as one ZPL II format (^XA … ^XZ), UTF-8 (^CI28): the text lines but the last
    (the code in words, which ^BC prints under the barcode)."""
    out = ["^XA", "^CI28", f"^PW{WIDTH_MM * DOTS_MM}", f"^LL{HEIGHT_MM * DOTS_MM}"]
    y, dots = MARGIN_MM * DOTS_MM, round(FONT_MM * DOTS_MM)
    for line in lines[:-1]:
        out.append(f"^FO{MARGIN_MM * DOTS_MM},{y}^A0N,{dots},{dots}^FH_^FD{zpl_field(line)}^FS")
        y += round(LINE_MM * DOTS_MM)
    # ^BY3: a module of 3 dots (0.375 mm); ^BC: Code 128, its code in words below, mode A (auto)
    bar_y = (HEIGHT_MM - MARGIN_MM - BAR_MM) * DOTS_MM - dots
    out.append(f"^FO{(MARGIN_MM + 5) * DOTS_MM},{bar_y}^BY3^BCN,{BAR_MM * DOTS_MM},Y,N,N,A^FD{zpl_field(code)}^FS")
    out.append("^XZ")
    return "\n".join(out) + "\n"


#: --format of ``bedside print label``: text is the label's lines as they are (tui/cli.py).
RENDERERS = {"svg": svg, "zpl": zpl}
FORMATS = ("text", *RENDERERS)
