"""Reading a laboratory file or stream into messages: HL7 v2 ORU^R01 with ``hl7`` (python-hl7, a
well-kept parser: segments, repetitions, components and the HL7 escapes such as ``\\S\\`` and
``\\T\\``), FHIR R4 Observations and Bundles in :mod:`.fhirin`.

Nothing here decides whether a result may be applied: that is :mod:`.check`. What cannot be read
as one message for one patient becomes an :class:`Unreadable` with the reason (it is quarantined).
"""

from __future__ import annotations

from typing import Any

from .model import LabMessage, LabResult, Unreadable, digest

BATCH_SEGMENTS = ("FHS", "BHS", "BTS", "FTS")  # a batch file's envelope around its messages
MAX_MESSAGE_CHARS = 1_000_000  # a software limit: a "message" larger than this is not a lab result


def parse_any(text: str) -> list[LabMessage | Unreadable]:
    """Every message in ``text``: a FHIR JSON document (starts with ``{``) or HL7 v2 messages."""
    body = text.lstrip("\ufeff \t\r\n\x0b")
    if not body.strip("\x1c\r\n \t"):
        return []
    if body.startswith("{"):
        from .fhirin import parse_fhir

        return parse_fhir(body)
    return [parse_hl7(part) for part in split_hl7(body)]


def split_hl7(text: str) -> list[str]:
    """The messages of an HL7 v2 file: each from its MSH segment to the next (line ends \\r, \\n or
    \\r\\n; MLLP framing bytes and a batch envelope dropped). Text before the first MSH is kept as
    a part of its own (it is unreadable, and quarantined as such)."""
    norm = text.replace("\r\n", "\r").replace("\n", "\r").replace("\x0b", "").replace("\x1c", "\r")
    parts: list[list[str]] = []
    for seg in norm.split("\r"):
        if not seg.strip() or seg[:3] in BATCH_SEGMENTS:
            continue
        if seg.startswith("MSH") or not parts:
            parts.append([])
        parts[-1].append(seg)
    return ["\r".join(p) for p in parts]


def _unreadable(raw: str, reason: str, message_id: str = "", sender: str = "") -> Unreadable:
    return Unreadable(raw, reason, digest(raw), message_id, sender)


class _Msg:
    """Field access on a parsed message: unescaped text, '' where a field is absent."""

    def __init__(self, m: Any):
        self.m = m

    def get(self, seg: str, n: int, field: int, rep: int = 1, comp: int = 1) -> str:
        try:
            return str(self.m.extract_field(seg, n, field, rep, comp)).strip()
        except (IndexError, KeyError, ValueError, TypeError):
            return ""

    def reps(self, seg: str, n: int, field: int) -> int:
        from hl7.containers import Repetition

        segs = self.m.segments(seg)
        if n > len(segs) or field >= len(segs[n - 1]):
            return 0
        f = segs[n - 1][field]
        return len(f) if len(f) and isinstance(f[0], Repetition) else 1

    def count(self, seg: str) -> int:
        try:
            return len(self.m.segments(seg))
        except KeyError:
            return 0


def parse_hl7(raw: str) -> LabMessage | Unreadable:
    """One ORU^R01 message; anything else (another type, no control ID, several patients, a
    message the parser cannot read) is an :class:`Unreadable` with the reason."""
    import hl7

    if len(raw) > MAX_MESSAGE_CHARS:
        return _unreadable(raw[:2000], f"larger than {MAX_MESSAGE_CHARS:,} characters: not a laboratory result message")
    if not raw.startswith("MSH") or len(raw) < 8:
        return _unreadable(raw, "not an HL7 v2 message (no MSH segment where it starts)")
    try:
        m = _Msg(hl7.parse(raw))
        message_id = m.get("MSH", 1, 10)
        sender = "^".join(x for x in (m.get("MSH", 1, 3), m.get("MSH", 1, 4)) if x)
        kind = (m.get("MSH", 1, 9, 1, 1), m.get("MSH", 1, 9, 1, 2))
        read = _read_oru(m, raw, message_id, sender, kind)
    except Exception as exc:  # noqa: BLE001 - python-hl7 raises many kinds on malformed text: quarantined
        return _unreadable(raw, f"the HL7 parser could not read it ({type(exc).__name__})")
    return read


def _read_oru(m: _Msg, raw: str, message_id: str, sender: str, kind: tuple[str, str]) -> LabMessage | Unreadable:
    if kind != ("ORU", "R01"):
        shown = "^".join(k for k in kind if k) or "none"
        return _unreadable(raw, f"message type {shown} (MSH-9): only ORU^R01 results are read", message_id, sender)
    if not message_id:
        return _unreadable(raw, "no message control ID (MSH-10): a result must be traceable", message_id, sender)
    pids = m.count("PID")
    if pids != 1:
        what = "no patient (PID)" if pids == 0 else f"{pids} patients (PID) in one message"
        return _unreadable(raw, f"{what}: one message must be for one patient", message_id, sender)
    mrns, others = [], []
    for rep in range(1, m.reps("PID", 1, 3) + 1):
        ident, kind_code = m.get("PID", 1, 3, rep, 1), m.get("PID", 1, 3, rep, 5)
        if ident:
            (mrns if kind_code.upper() == "MR" else others).append(ident)
    results = tuple(_obx(m, i) for i in range(1, m.count("OBX") + 1))
    if not results:
        return _unreadable(raw, "no results (OBX) in the message", message_id, sender)
    return LabMessage(
        kind="hl7v2",
        message_id=message_id,
        sender=sender,
        digest=digest(raw),
        raw=raw,
        mrns=tuple(mrns or others),
        dob=m.get("PID", 1, 7),
        family=m.get("PID", 1, 5, 1, 1),
        given=m.get("PID", 1, 5, 1, 2),
        collected=m.get("OBR", 1, 7) if m.count("OBR") else "",
        results=results,
    )


def _obx(m: _Msg, i: int) -> LabResult:
    value_type = m.get("OBX", i, 2).upper()
    code, system = m.get("OBX", i, 3, 1, 1), m.get("OBX", i, 3, 1, 3)
    if system.upper() not in ("LN", "LOINC") and m.get("OBX", i, 3, 1, 6).upper() in ("LN", "LOINC"):
        code, system = m.get("OBX", i, 3, 1, 4), m.get("OBX", i, 3, 1, 6)  # the LOINC code as the alternate
    comparator, value = "", m.get("OBX", i, 5)
    if value_type == "SN":  # structured numeric: comparator ^ number (^ separator ^ number for a range)
        comparator, value = m.get("OBX", i, 5, 1, 1), m.get("OBX", i, 5, 1, 2)
        if m.get("OBX", i, 5, 1, 3) or m.get("OBX", i, 5, 1, 4):
            value = value + m.get("OBX", i, 5, 1, 3) + m.get("OBX", i, 5, 1, 4)
    return LabResult(
        code=code,
        system=system,
        value=value,
        unit=m.get("OBX", i, 6, 1, 1),
        ref_range=m.get("OBX", i, 7),
        status=m.get("OBX", i, 11).upper(),
        observed=m.get("OBX", i, 14),
        value_type=value_type,
        comparator=comparator,
    )
