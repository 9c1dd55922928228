"""What a keyboard-wedge scanner typed into an identifier field.

A plain barcode arrives as its text. A GS1 barcode (symbology prefix such as ``]C1``, or group
separators, ASCII 29, between its fields) is split with ``biip`` (a well-kept GS1 parser) and the
patient identifier is taken from AI 8018 (GSRN of the recipient of services: GS1's patient
wristband identifier). ``biip`` is imported only when a GS1 code is seen.
"""

from __future__ import annotations

from attrs import frozen

GS = "\x1d"  # GS1 group separator (Textual reports it as the key ctrl+right_square_bracket)
PATIENT_AI = "8018"  # GS1 GSRN - recipient of services (patient)


@frozen
class Scan:
    raw: str
    identifier: str
    gs1: bool
    fields: tuple[tuple[str, str], ...] = ()  # (AI, value)
    error: str | None = None


def looks_gs1(text: str) -> bool:
    return GS in text or text.startswith(("]C1", "]d2", "]Q3", "]e0"))


def read_identifier(text: str) -> Scan:
    """The identifier in a typed or scanned value: GS1 AI 8018 when present, else the text."""
    raw = text.strip("\r\n")
    if not looks_gs1(raw):
        return Scan(raw, raw.strip(), False)
    import biip

    result = biip.parse(raw)
    msg = result.gs1_message
    if msg is None:
        return Scan(raw, "", True, (), f"Not a readable GS1 code: {result.gs1_message_error}")
    fields = tuple((e.ai.ai, e.value) for e in msg.element_strings)
    patient = next((v for ai, v in fields if ai == PATIENT_AI), None)
    if patient is None:
        return Scan(raw, "", True, fields, "The GS1 code has no patient identifier (AI 8018): is it a drug or lot label?")
    return Scan(raw, patient, True, fields)
