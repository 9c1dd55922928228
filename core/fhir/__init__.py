"""A FHIR R4 export of one patient's BESPONSA treatment, as plain dicts (JSON-ready).

:func:`bundle` folds the patient's events into a Bundle of type ``collection`` (:func:`bundle_for`
reads the same from the patient's projection, ``ledger.view(pid)``): the Patient, the users
involved (Practitioner and PractitionerRole), a MedicationRequest per dose on the timeline, a
MedicationAdministration per dose given, an Observation per lab value and per vital sign, and an
AdverseEvent per infusion reaction. It is a pure function: no I/O, no clock (``now`` is passed
in), and it imports no FHIR library (the tests validate the output with ``fhir.resources``).

Choices (each visible in the output):

* Every time of day is an instant in UTC (``...Z``). Calendar dates that have no time in the
  record stay FHIR dates (``YYYY-MM-DD``): the birth date, a lab's collection date, a dose's
  planned date, and the date of a dose documented as given without an infusion record (the site's
  local date, CONV-TIME-1; no time is invented).
* Amounts are JSON numbers made from the exact decimals (``Decimal("1.45")`` → ``1.45``; a value
  that a JSON number would not carry exactly is refused). UCUM units.
* Free text a user typed (name, reasons, symptoms, treatments, who was notified) travels as text,
  as typed; it is never parsed or coded (the patient's name is ``name.text`` only).
* Resource ids are uuid5 of the patient stream and the version of the event a resource comes from
  (or of the stream and a fixed tag, for a planned dose), so the same log exports the same bundle.
* LOINC codes only where they are certain (method-less codes for ANC and platelets); the CTCAE
  grade is text (``severity.text``), with no extension.

Modules: :mod:`.values` (codes, ids, instants, exact numbers), :mod:`.context` (the people),
:mod:`.requests` (Patient, MedicationRequest), :mod:`.administration` (MedicationAdministration,
AdverseEvent), :mod:`.observations` (labs, vital signs), :mod:`.bundle`.
"""

from __future__ import annotations

from .bundle import bundle, bundle_for
from .values import MEDICATION, NAMESPACE, NDC, PERFORM_FUNCTION, instant, num, resource_id, to_json

__all__ = [
    "MEDICATION",
    "NAMESPACE",
    "NDC",
    "PERFORM_FUNCTION",
    "bundle",
    "bundle_for",
    "instant",
    "num",
    "resource_id",
    "to_json",
]
