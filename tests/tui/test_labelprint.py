"""The bag label for a printer (tui/labelprint.py, issue 20): the SVG is well-formed XML whose
barcode a real decoder (zbarimg, from the SVG drawn by rsvg-convert) reads back as the label's code;
the ZPL's barcode field is the code; stored text drives neither (no markup, no ZPL command, no
escape sequence), and is printed as stored."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedside.core.preparation.baglabel import CODE_RE, _with_check, shown
from bedside.core.text import printable
from bedside.tui import labelprint

SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "O'BRIEN </text><script>alert(1)</script> & ^XZ~JR^FDx \x1b[31m_5E"


def label(name: str, digits: str = "25582821443") -> tuple[list[str], str]:
    code = "B" + _with_check(digits)
    assert CODE_RE.match(code)
    return [name, "MRN MRN-1  DOB 1980-01-01", "BESPONSA (inotuzumab ozogamicin) C1 D1", shown(code)], code


TOOLS = "rsvg-convert and zbarimg are needed (.ci/run installs librsvg2-bin and zbar-tools)"


def scan_svg(svg_text: str, tmp_path) -> list[str] | None:
    """What a scanner reads from the printed SVG: drawn at 300 dpi by rsvg-convert, decoded by
    zbarimg. None if either is missing on a developer's machine; under CI (which installs both)
    their absence fails the test instead."""
    if not (shutil.which("rsvg-convert") and shutil.which("zbarimg")):
        if os.environ.get("CI") == "true":
            pytest.fail(TOOLS)
        return None
    src, png = tmp_path / "label.svg", tmp_path / "label.png"
    src.write_text(svg_text)
    subprocess.run(["rsvg-convert", "-d", "300", "-p", "300", str(src), "-o", str(png)], check=True)
    out = subprocess.run(["zbarimg", "-q", "--raw", "-Scode128.enable", str(png)], capture_output=True, text=True)
    return out.stdout.split()


def decode(svg_text: str, tmp_path) -> list[str]:
    read = scan_svg(svg_text, tmp_path)
    if read is None:
        pytest.skip(TOOLS)  # a developer's machine without them; CI fails in scan_svg instead
    return read


@pytest.mark.parametrize("digits", ["25582821443", "00000000000", "99999999999", "07973425733"])
def test_the_svg_barcode_scans_back_as_the_code(digits, tmp_path):
    lines, code = label("NAKAMURA, Ren", digits)
    assert decode(labelprint.svg(lines, code), tmp_path) == [code]


def test_the_svg_shows_stored_text_literally_and_nothing_drives_it(tmp_path):
    lines, code = label(HOSTILE)
    text = labelprint.svg(lines, code)
    assert "\x1b" not in text and "<script" not in text
    root = ET.fromstring(text)  # well-formed: the name cannot close an element
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert texts[0] == printable(HOSTILE), texts
    assert texts[-1] == shown(code)
    assert not list(root.iter(f"{SVG_NS}script"))
    assert decode(text, tmp_path) == [code]


def _fields(zpl: str) -> list[str]:
    return re.findall(r"\^FD(.*?)\^FS", zpl)


def _unhex(field: str) -> str:
    return re.sub(rb"_([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), field.encode()).decode()


def test_the_zpl_is_one_format_whose_barcode_field_is_the_code():
    lines, code = label("NAKAMURA, Ren")
    zpl = labelprint.zpl(lines, code)
    assert zpl.startswith("^XA\n^CI28\n") and zpl.rstrip().endswith("^XZ") and zpl.count("^XA") == 1
    barcode = [ln for ln in zpl.splitlines() if "^BC" in ln]
    assert len(barcode) == 1 and barcode[0].endswith(f"^FD{code}^FS"), barcode
    assert [_unhex(f) for f in _fields(zpl)[:-1]] == lines[:-1]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_no_stored_text_sends_the_printer_a_command(name):
    lines, code = label(name)
    zpl = labelprint.zpl(lines, code)
    fields = _fields(zpl)
    assert len(fields) == len(lines), zpl  # no ^FS or ^FD of the name's own: one field a line
    for field in fields:
        assert "^" not in field and "~" not in field and "\n" not in field
    assert _unhex(fields[0]) == printable(name)
    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1
