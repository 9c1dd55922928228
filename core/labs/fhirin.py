"""FHIR R4 laboratory results: an Observation, or a Bundle of Observations with their Patients.

Each resource is first validated with ``fhir.resources`` (its R4B models, which R4 data fits): a
document that does not validate is unreadable as a whole. The Observations are then grouped by
their subject; each group is one message for one patient, its identifiers read from the Patient
resource the subject refers to (in the Bundle), never from a name alone.
"""

from __future__ import annotations

import json
from typing import Any

from ..labcodes import LOINC_SYSTEM
from .model import LabMessage, LabResult, Unreadable, digest

MR_CODES = {"MR"}  # identifier.type of a medical record number (v2-0203)


def _unreadable(raw: str, reason: str, message_id: str = "") -> Unreadable:
    return Unreadable(raw, reason, digest(raw), message_id, "FHIR")


def _validated(doc: dict[str, Any]) -> str | None:
    """None when the document is a valid R4 Observation or Bundle, else the reason."""
    rtype = doc.get("resourceType")
    if rtype not in ("Observation", "Bundle"):
        return f"a FHIR {rtype or 'document'} without results: only an Observation or a Bundle is read"
    try:
        if rtype == "Bundle":
            from fhir.resources.R4B.bundle import Bundle

            Bundle.model_validate(doc)
        else:
            from fhir.resources.R4B.observation import Observation

            Observation.model_validate(doc)
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError and others: the document is refused
        first = str(exc).strip().splitlines()
        return f"not valid FHIR R4 ({type(exc).__name__}: {first[1].strip() if len(first) > 1 else ''})".replace(" ()", "")
    return None


def parse_fhir(text: str) -> list[LabMessage | Unreadable]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [_unreadable(text, f"not JSON ({type(exc).__name__})")]
    if not isinstance(doc, dict):
        return [_unreadable(text, "not a FHIR resource (a JSON object)")]
    problem = _validated(doc)
    if problem:
        return [_unreadable(text, problem)]
    if doc["resourceType"] == "Observation":
        oid = doc.get("id") or _identifier(doc)
        if not oid:
            return [_unreadable(text, "an Observation without an id or identifier: a result must be traceable")]
        return [
            _unreadable(
                text,
                "an Observation on its own names no patient's two identifiers: send it in a Bundle with its Patient",
                f"Observation/{oid}",
            )
        ]
    return _from_bundle(doc, text)


def _identifier(res: dict[str, Any]) -> str:
    ident = res.get("identifier")
    if isinstance(ident, list):
        ident = ident[0] if ident else None
    return str(ident.get("value", "")) if isinstance(ident, dict) else ""


def _from_bundle(doc: dict[str, Any], text: str) -> list[LabMessage | Unreadable]:
    bid = _identifier(doc) or doc.get("id") or ""
    if not bid:
        return [_unreadable(text, "a Bundle without an id or identifier: results must be traceable")]
    patients: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in doc.get("entry") or []:
        res = entry.get("resource") or {}
        if res.get("resourceType") == "Patient":
            for key in (entry.get("fullUrl"), f"Patient/{res.get('id')}" if res.get("id") else None):
                if key:
                    patients[key] = res
        elif res.get("resourceType") == "Observation":
            ref = ((res.get("subject") or {}).get("reference")) or ""
            groups.setdefault(ref, []).append(res)
    if not groups:
        return [_unreadable(text, "a Bundle without Observations", bid)]
    sender = str((doc.get("meta") or {}).get("source") or "FHIR")
    out: list[LabMessage | Unreadable] = []
    for ref, observations in groups.items():
        mid = bid if len(groups) == 1 else f"{bid}/{ref}"
        part = json.dumps({"bundle": bid, "patient": patients.get(ref), "observations": observations}, sort_keys=True)
        patient = patients.get(ref)
        if patient is None:
            out.append(
                _unreadable(part, f"the subject {ref or '(none)'} is not a Patient in the Bundle: no identifiers to match", mid)
            )
            continue
        out.append(_message(patient, observations, mid, sender, part))
    return out


def _mrns(patient: dict[str, Any]) -> tuple[str, ...]:
    typed, other = [], []
    for ident in patient.get("identifier") or []:
        value = str(ident.get("value") or "").strip()
        codes = {c.get("code") for c in ((ident.get("type") or {}).get("coding") or [])}
        if value:
            (typed if codes & MR_CODES else other).append(value)
    return tuple(typed or other)


def _result(obs: dict[str, Any]) -> LabResult:
    codings = (obs.get("code") or {}).get("coding") or []
    loinc = next((c for c in codings if c.get("system") == LOINC_SYSTEM), codings[0] if codings else {})
    q = obs.get("valueQuantity") or {}
    rng = (obs.get("referenceRange") or [{}])[0]
    low, high = (rng.get("low") or {}).get("value"), (rng.get("high") or {}).get("value")
    ref = f"{low}-{high}" if low is not None and high is not None else (f"<{high}" if high is not None else "")
    return LabResult(
        code=str(loinc.get("code") or ""),
        system="LN" if loinc.get("system") == LOINC_SYSTEM else str(loinc.get("system") or ""),
        value="" if q.get("value") is None else str(q["value"]),
        unit=str(q.get("code") or q.get("unit") or ""),
        ref_range=ref,
        status=str(obs.get("status") or ""),
        observed=str(obs.get("effectiveDateTime") or ""),
        value_type="NM" if q else "",
        comparator=str(q.get("comparator") or ""),
    )


def _message(patient: dict[str, Any], observations: list[dict[str, Any]], mid: str, sender: str, part: str) -> LabMessage:
    name = (patient.get("name") or [{}])[0]
    results = tuple(_result(o) for o in observations)
    return LabMessage(
        kind="fhir",
        message_id=mid,
        sender=sender,
        digest=digest(part),
        raw=part,
        mrns=_mrns(patient),
        dob=str(patient.get("birthDate") or ""),
        family=str(name.get("family") or ""),
        given=" ".join(str(g) for g in name.get("given") or []),
        collected=results[0].observed if results else "",
        results=results,
    )
