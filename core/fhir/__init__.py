"""A FHIR R4 export of one patient's BESPONSA treatment, as plain dicts (JSON-ready).

:func:`bundle` folds the patient's events into a Bundle (:func:`bundle_for` reads the same from
the patient's projection, ``ledger.view(pid)``): the Patient, the diagnosis (a Condition), the
users involved (Practitioner and PractitionerRole), a MedicationRequest per dose on the timeline, a
MedicationAdministration per dose given, an Observation per lab value and per vital sign, and an
AdverseEvent per infusion reaction. :class:`FhirOptions` chooses the form: a ``transaction`` (what
``bedside export fhir`` writes: each entry a PUT of its own stable id, so a server stores it and a
second post updates rather than duplicates) or a ``collection`` (``--collection``: the same
resources, no requests), and carries the site's MRN identifier system and RxNorm code (site
settings; none is sent until an admin sets it). It is a pure function: no I/O, no clock (``now`` is
passed in), and it imports no FHIR library (the tests validate the output with ``fhir.resources``).

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
* LOINC codes only where they are certain (method-less codes for ANC and platelets). The drug: NDC
  (PREP-1), and RxNorm only as the site sets it. The CTCAE grade stays as text (``severity.text``)
  beside FHIR's adverse-event-severity code (:data:`.values.SEVERITY`: Grade 1 mild, 2 moderate,
  3 and above severe); seriousness only for Grade 4 or 5, which meet a seriousness criterion by
  themselves (:data:`.values.SERIOUS_GRADES`). The disease is text: no code is made up for it.

Modules: :mod:`.values` (codes, ids, instants, exact numbers), :mod:`.context` (the people),
:mod:`.requests` (Patient, MedicationRequest), :mod:`.condition` (the diagnosis),
:mod:`.administration` (MedicationAdministration, AdverseEvent), :mod:`.observations` (labs, vital
signs), :mod:`.bundle`.
"""

from __future__ import annotations

from .bundle import bundle, bundle_for
from .values import MEDICATION, NAMESPACE, NDC, PERFORM_FUNCTION, FhirOptions, instant, num, resource_id, to_json

__all__ = [
    "MEDICATION",
    "NAMESPACE",
    "NDC",
    "PERFORM_FUNCTION",
    "FhirOptions",
    "bundle",
    "bundle_for",
    "instant",
    "num",
    "resource_id",
    "to_json",
]
