"""A laboratory message as read, before any check: its identifiers and results as text."""

from __future__ import annotations

import hashlib

from attrs import frozen


def digest(raw: str) -> str:
    """The message's content digest (line ends made one), which makes a re-import a no-op."""
    norm = raw.replace("\r\n", "\r").replace("\n", "\r").strip("\r \t\x0b\x1c")
    return hashlib.sha256(norm.encode("utf-8", "surrogatepass")).hexdigest()


@frozen
class LabResult:
    """One result (an OBX or an Observation): its code, value, unit and range as sent."""

    code: str  # the LOINC code ("" when the result is not LOINC-coded)
    system: str  # "LN" / http://loinc.org, or what the sender named
    value: str
    unit: str
    ref_range: str  # HL7 OBX-7 "0.2-1.2", "<40"; FHIR: "low-high" made from referenceRange
    status: str  # OBX-11 / Observation.status
    observed: str = ""  # OBX-14 / effectiveDateTime, as sent
    value_type: str = "NM"  # OBX-2 (FHIR: NM for a Quantity)
    comparator: str = ""  # FHIR Quantity.comparator / an HL7 SN comparator


@frozen
class LabMessage:
    """One message for one patient, as read from HL7 v2 (``hl7v2``) or FHIR (``fhir``)."""

    kind: str
    message_id: str
    sender: str
    digest: str
    raw: str
    mrns: tuple[str, ...]  # PID-3 identifiers typed MR (or every one when none is typed)
    dob: str  # as sent: HL7 YYYYMMDD, FHIR YYYY-MM-DD
    family: str
    given: str
    collected: str  # OBR-7 / effectiveDateTime, as sent
    results: tuple[LabResult, ...]


@frozen
class Unreadable:
    """A part of a file or a stream that is not a message Bedside can read, with the reason."""

    raw: str
    reason: str
    digest: str
    message_id: str = ""
    sender: str = ""
