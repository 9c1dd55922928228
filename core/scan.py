"""What a keyboard-wedge scanner typed into an identifier field.

A plain barcode arrives as its text. A GS1 barcode (symbology prefix such as ``]C1``, or group
separators, ASCII 29, between its fields) is split with ``biip`` (a well-kept GS1 parser) and the
patient identifier is taken from AI 8018 (GSRN of the recipient of services: GS1's patient
wristband identifier), whose 18 digits must pass the GS1 check digit (``biip`` does not check it
for AI 8018). A scanner that adds an AIM symbology identifier to a plain code (``]C0`` Code 128,
``]d1`` Data Matrix, ``]Q1`` QR …) still matches: the prefix is dropped. ``biip`` is imported only
when a GS1 code is seen.
"""

from __future__ import annotations

import re

from attrs import frozen

GS = "\x1d"  # GS1 group separator (Textual reports it as the key ctrl+right_square_bracket)
PATIENT_AI = "8018"  # GS1 GSRN - recipient of services (patient)
GS1_AIM = ("]C1", "]d2", "]Q3", "]e0")  # AIM symbology identifiers of GS1 element strings
AIM_RE = re.compile(r"^\][A-Za-z][0-9A-Za-z]")  # ] + symbology + modifier (ISO/IEC 15424)
GSRN_RE = re.compile(r"^[0-9]{18}$")


def gs1_check_digit_ok(digits: str) -> bool:
    """The GS1 mod-10 check digit (the last digit) of a GTIN, GLN, SSCC or GSRN: from the right,
    the other digits weighted 3, 1, 3 …; the check digit makes the sum a multiple of 10."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    body = digits[:-1]
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == int(digits[-1])


@frozen
class Scan:
    raw: str
    identifier: str
    gs1: bool
    fields: tuple[tuple[str, str], ...] = ()  # (AI, value)
    error: str | None = None


def without_aim(raw: str) -> str:
    """``raw`` without the AIM symbology identifier a scanner put before it (``]C0`` …), if any."""
    return raw[3:] if AIM_RE.match(raw) else raw


def looks_gs1(text: str) -> bool:
    return GS in text or text.startswith(GS1_AIM)


def read_identifier(text: str) -> Scan:
    """The identifier in a typed or scanned value: GS1 AI 8018 when present, else the text."""
    raw = text.strip("\r\n")
    if not looks_gs1(raw):
        return Scan(raw, without_aim(raw).strip(), False)  # a plain symbology's AIM prefix (]C0 …): dropped
    import biip

    try:
        result = biip.parse(raw)
    except Exception as exc:  # noqa: BLE001 - biip raises IndexError and others on some malformed codes: a refused scan
        return Scan(raw, "", True, (), f"Not a readable GS1 code ({type(exc).__name__}): scan it again, or type the MRN.")
    msg = result.gs1_message
    if msg is None:
        return Scan(raw, "", True, (), f"Not a readable GS1 code: {result.gs1_message_error}")
    fields = tuple((e.ai.ai, e.value) for e in msg.element_strings)
    patient = next((v for ai, v in fields if ai == PATIENT_AI), None)
    if patient is None:
        return Scan(raw, "", True, fields, "The GS1 code has no patient identifier (AI 8018): is it a drug or lot label?")
    if not GSRN_RE.match(patient) or not gs1_check_digit_ok(patient):
        return Scan(
            raw,
            "",
            True,
            fields,
            f"The wristband's GSRN (AI 8018) {patient} fails its check digit: scan it again, or type the MRN.",
        )
    return Scan(raw, patient, True, fields)
