"""Laboratory results from the laboratory system (issue 20): HL7 v2 ORU^R01 and FHIR R4
Observations read into :class:`LabMessage`, checked (:mod:`.check`), then applied to the patient's
labs record or kept in the quarantine (:mod:`.commands`, :mod:`.inbox`).

The patient is matched on two identifiers (MRN and date of birth), never on a name; a message that
cannot be applied (unmatched, ambiguous, duplicate, out of range, malformed) is never applied: it
is quarantined with the reason, shown to an admin, and assigned or rejected there. Importing the
same message twice changes nothing (its digest is kept with what it became).
"""

from .commands import AnswerTransfusion, AssignQuarantined, ImportLabs, QuarantineLabs, ResolveQuarantine
from .events import LABS_STREAM
from .inbox import Held, fold_inbox
from .model import LabMessage, LabResult, Unreadable
from .parse import parse_any

__all__ = [
    "LABS_STREAM",
    "AnswerTransfusion",
    "AssignQuarantined",
    "Held",
    "ImportLabs",
    "LabMessage",
    "LabResult",
    "QuarantineLabs",
    "ResolveQuarantine",
    "Unreadable",
    "fold_inbox",
    "parse_any",
]
