"""The pre-dose check's events (patient stream), one typed payload class per kind.

The fields are exactly the JSON keys stored since the first release (dates and instants as the
ISO strings the record holds), so no database is migrated. The old constant names stay as aliases
(``IDENTITY = IdentityConfirmed.KIND``...) for the modules and tests that import them.
"""

from __future__ import annotations

from attrs import field, frozen

from .. import rules
from ..events import Payload, event_type


@event_type("predose.identity")
@frozen(kw_only=True)
class IdentityConfirmed(Payload):
    """Identifiers confirmed at this dose, typed or scanned; the engine compares them with the
    stored ones (the patient's identity)."""

    cycle: int
    day: int
    name: str | None = None
    dob: str | None = None  # ISO date as typed
    mrn: str | None = None  # a plain code or typed text: the MRN, or the wristband's site identifier
    wristband: str | None = None  # the GSRN of a scanned GS1 wristband (AI 8018), issue 20
    method: str = "typed"  # "typed" | "scanned", then "+stated" or "+stated-mismatch" (STATED_METHODS)

    def to_data(self) -> dict:
        """As stored; ``wristband`` only when a GSRN was scanned (the form of before otherwise)."""
        data = super().to_data()
        if data.get("wristband") is None:
            data.pop("wristband", None)
        return data


#: ``IdentityConfirmed.method`` for name and date of birth stated by the patient and compared by the
#: user with the record (not typed): the typing method of the MRN, then this suffix.
STATED_METHODS = {"+stated": "match", "+stated-mismatch": "mismatch"}


def split_method(method: str) -> tuple[str, str | None]:
    """("typed"|"scanned", "match"|"mismatch"|None) from a stored identity method."""
    for suffix, stated in STATED_METHODS.items():
        if method.endswith(suffix):
            return method[: -len(suffix)], stated
    return method, None


@event_type("predose.premed")
@frozen(kw_only=True)
class PremedGiven(Payload):
    """A premedication given for this dose (PRE-1)."""

    cycle: int
    day: int
    drug_class: str  # one of rules.PREMED_CLASSES
    drug: str
    dose: str  # dose and route, as typed
    given_at: str  # ISO UTC


@event_type("predose.checklist")
@frozen(kw_only=True)
class ChecklistRecorded(Payload):
    """Emergency drugs and equipment available (PRE-10; never blocks)."""

    cycle: int
    day: int
    emergency_ready: bool


@event_type("predose.override")
@frozen(kw_only=True)
class OverrideRecorded(Payload):
    """An override or confirmation by the actor (CONV-OVR-1); the engine decides whether it applies."""

    cycle: int
    day: int
    rule_id: str
    check: str | None = None  # the check key it narrows to (None: every check under rule_id)
    reason: str = ""
    role: str | None = None  # the actor's role when recorded (the engine reads the users log)
    decision: str = "proceed"  # "proceed" | "discontinue" (CONV-HEM-4)


@event_type("predose.verdict")
@frozen(kw_only=True)
class VerdictRecorded(Payload):
    """The verdict as it stood when a user recorded it before the infusion."""

    cycle: int
    day: int
    overall: str
    deciding: list[str] = field(factory=list)  # check keys


@event_type("toxicity.recorded")
@frozen(kw_only=True)
class ToxicityRecorded(Payload):
    """A toxicity (MOD-NH-4, MOD-NH-6; CTCAE v5)."""

    term: str
    grade: int
    onset: str  # ISO date
    attribution: str = ""
    hematologic: bool = False
    ctcae_version: str = rules.CTCAE_VERSION  # CTCAE-5


@event_type("toxicity.resolved")
@frozen(kw_only=True)
class ToxicityResolved(Payload):
    """A recorded toxicity (named by its event version) recovered on ``resolved`` (MOD-NH-4)."""

    toxicity: int
    resolved: str  # ISO date


@event_type("test.ecg")
@frozen(kw_only=True)
class EcgRecorded(Payload):
    """An ECG taken on ``date`` (PRE-6)."""

    date: str  # ISO date


@event_type("test.electrolytes")
@frozen(kw_only=True)
class ElectrolytesRecorded(Payload):
    """Electrolytes taken on ``date`` (PRE-6)."""

    date: str  # ISO date


@event_type("qt_drug.recorded")
@frozen(kw_only=True)
class QtDrugRecorded(Payload):
    """A QT-prolonging drug started on ``started_on`` (PRE-6, WARN-QT-1)."""

    drug: str
    started_on: str  # ISO date


@event_type("bilirubin.cause")
@frozen(kw_only=True)
class BilirubinCauseRecorded(Payload):
    """The bilirubin rise is due to Gilbert's syndrome or hemolysis, by a prescriber (CONV-LAB-2)."""

    cause: str  # "gilbert" | "hemolysis"


IDENTITY = IdentityConfirmed.KIND
PREMED = PremedGiven.KIND
CHECKLIST = ChecklistRecorded.KIND
OVERRIDE = OverrideRecorded.KIND
VERDICT = VerdictRecorded.KIND
TOX_RECORDED = ToxicityRecorded.KIND
TOX_RESOLVED = ToxicityResolved.KIND
ECG = EcgRecorded.KIND
ELECTROLYTES = ElectrolytesRecorded.KIND
QT_DRUG = QtDrugRecorded.KIND
BILI_CAUSE = BilirubinCauseRecorded.KIND

PREDOSE_EVENTS: tuple[type[Payload], ...] = (
    IdentityConfirmed,
    PremedGiven,
    ChecklistRecorded,
    OverrideRecorded,
    VerdictRecorded,
    ToxicityRecorded,
    ToxicityResolved,
    EcgRecorded,
    ElectrolytesRecorded,
    QtDrugRecorded,
    BilirubinCauseRecorded,
)
DOSE_KINDS = frozenset({IDENTITY, PREMED, CHECKLIST, OVERRIDE, VERDICT})  # events of one dose (cycle, day)
