"""The printed medication administration record (MAR), as a package (issue 16).

``administration_record(patient, events, users, cycle=, tz=, now=)`` and ``record_for(view, ...)``
(the same, read from ``ledger.view(pid)``) are in :mod:`.record`; the page layout (80 columns, user
text literal) in :mod:`.page`; the words for stored codes in :mod:`.words`; one line per event in
:mod:`.lines`; a dose's block in :mod:`.dose`; what they read of a patient in :mod:`.source`
(shared with the FHIR export).
"""

from __future__ import annotations

from .page import WIDTH
from .record import administration_record, record_for
from .source import Source
from .words import MEDICATION

__all__ = ["MEDICATION", "WIDTH", "Source", "administration_record", "record_for"]
