"""Site settings ([SITE] in the reference): recorded as events by an admin, folded here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from attrs import evolve, field, frozen

from . import rules
from .clock import zone
from .commands import Actor, Command, Decision, State, decider, refuse, require_role
from .events import Event, Payload, decode, event_type
from .text import unsafe_message

SITE_STREAM = "site"
DEFAULT_LOCK_MINUTES = 15


@frozen
class PremedTemplate:
    """One class of the site's premedication protocol: the drug and its dose and route, as an admin
    typed them. PRE-2: a site template, offered in the nurse's premedication form (PRE-1) and
    recorded only when the nurse saves it; the reference itself names no drug or dose."""

    drug_class: str  # one of rules.PREMED_CLASSES
    drug: str
    dose: str  # dose and route, as typed


def _template(item: object) -> PremedTemplate | None:
    """One stored row of the protocol (an object with the template's fields), None if it is not one."""
    if isinstance(item, PremedTemplate):
        return item
    if not isinstance(item, dict) or set(item) != {"drug_class", "drug", "dose"}:
        return None
    if not all(isinstance(v, str) for v in item.values()):
        return None
    return PremedTemplate(**item)


def _templates(value: object) -> tuple[PremedTemplate, ...]:
    """The protocol as stored (a list of rows) or already read; a row that is not one is left out."""
    rows = value if isinstance(value, list | tuple) else ()
    return tuple(t for t in map(_template, rows) if t is not None)


@frozen
class SiteSettings:
    bsa_formula: str = rules.BSA_DEFAULT_FORMULA  # CONV-BSA-2
    lock_minutes: int = DEFAULT_LOCK_MINUTES
    site_name: str = ""
    bell: bool = True  # ring the terminal bell on a new alert (issue 7: a site can switch it off)
    # CONV-TIME-1: the IANA zone of the site's local time and dose days; "" = $BEDSIDE_TZ, else the system's
    time_zone: str = ""
    # PRE-1, PRE-2: the site's premedication protocol, offered in the premedication form (issue 17)
    premed_protocol: tuple[PremedTemplate, ...] = field(default=(), converter=_templates)
    # Issue 20, the FHIR export: the site's identifier system for MRNs (an absolute URI) and the
    # drug's RxNorm code (RxCUI) from the site's drug dictionary. The reference gives neither: until
    # an admin sets them, the export carries no system and no RxNorm code (never a made-up one).
    fhir_mrn_system: str = ""
    fhir_rxnorm_code: str = ""
    # Issue 20, wristbands: what a patient's stored wristband identifier is: a GS1 GSRN (AI 8018,
    # 18 digits with its check digit) or the site's own scheme (any printed code); its FHIR system
    wristband_scheme: str = "gsrn"
    fhir_wristband_system: str = ""
    # Issue 20, carton scans: the lots the site's pharmacy has recalled (a scanned carton of one is refused)
    recalled_lots: tuple[str, ...] = field(
        default=(), converter=lambda v: tuple(x for x in v if isinstance(x, str)) if isinstance(v, list | tuple) else ()
    )


SETTING_NAMES = (
    "bsa_formula",
    "lock_minutes",
    "site_name",
    "bell",
    "time_zone",
    "premed_protocol",
    "fhir_mrn_system",
    "fhir_rxnorm_code",
    "recalled_lots",
    "wristband_scheme",
    "fhir_wristband_system",
)
WRISTBAND_SCHEMES = {"gsrn": "GS1 GSRN (AI 8018)", "site": "the site's own"}
URI_RE = re.compile(
    r"^(urn:(oid:[0-2](\.[0-9]+)+|uuid:[0-9a-fA-F-]{36})|https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/+-]*)?)$"
)
RXCUI_RE = re.compile(r"^[0-9]{1,10}$")


def _fhir_value(name: str, value: object) -> str:
    """A FHIR setting as recorded: empty (not set), or checked; ValueError names the field and the form."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return ""
    if name in ("fhir_mrn_system", "fhir_wristband_system") and (len(text) > 200 or not URI_RE.match(text)):
        what = "MRN" if name == "fhir_mrn_system" else "wristband"
        raise ValueError(
            f"FHIR {what} system: an absolute URI of at most 200 characters: http://… or https://… (no spaces), "
            "urn:oid:2.16.840… or urn:uuid:…; empty for none."
        )
    if name == "fhir_rxnorm_code" and not RXCUI_RE.match(text):
        raise ValueError("RxNorm code: the RxCUI, 1 to 10 digits, from the site's drug dictionary; empty for none.")
    return text


def _protocol_value(value: object) -> list[dict[str, str]]:
    """The premedication protocol to record: at most one row per class (PRE-1), each with both the
    drug and its dose and route; empty rows are dropped. ValueError names the class and the field."""
    if not isinstance(value, list | tuple):
        raise ValueError("Premedication protocol: a row per class.")
    rows: dict[str, dict[str, str]] = {}
    for item in value:
        t = _template(item)
        if t is None or t.drug_class not in rules.PREMED_CLASSES:
            raise ValueError(f"Premedication protocol: the classes are {', '.join(rules.PREMED_CLASSES)} (PRE-1).")
        label = t.drug_class.capitalize()
        if t.drug_class in rows:
            raise ValueError(f"{label}: one row per class.")
        drug, dose = t.drug.strip(), t.dose.strip()
        for what, text in (("drug", drug), ("dose and route", dose)):
            refused = unsafe_message(f"{label}, {what}", text)
            if refused:
                raise ValueError(refused)
        if bool(drug) != bool(dose):
            raise ValueError(f"{label}: both the drug and its dose and route, or neither.")
        rows[t.drug_class] = {"drug_class": t.drug_class, "drug": drug, "dose": dose}
    return [rows[c] for c in rules.PREMED_CLASSES if c in rows and rows[c]["drug"]]


MAX_RECALLED_LOTS = 500  # a software limit on the recall list


def _lots_value(value: object) -> list[str]:
    """The recall list to record: lots separated by commas, semicolons or line breaks (or a list),
    each as printed on the carton (AI 10: 1 to 20 characters), in the order given, once each."""
    items = value if isinstance(value, list | tuple) else re.split(r"[,;\n]", value if isinstance(value, str) else "")
    out: list[str] = []
    for item in items:
        lot = item.strip() if isinstance(item, str) else ""
        if not lot:
            continue
        refused = unsafe_message("Recalled lots", lot)
        if refused:
            raise ValueError(refused)
        if len(lot) > 20:
            raise ValueError(f"Recalled lots: a lot has 1 to 20 characters (GS1 AI 10); {lot[:24]!r} is longer.")
        if lot not in out:
            out.append(lot)
    if len(out) > MAX_RECALLED_LOTS:
        raise ValueError(f"Recalled lots: at most {MAX_RECALLED_LOTS}.")
    return out


def check_setting(name: str, value: object) -> object:
    """The value to record for a setting; a bad one raises ValueError naming the field."""
    if name == "recalled_lots":
        return _lots_value(value)
    if name == "time_zone":
        text = value.strip() if isinstance(value, str) else ""
        return zone(text, "Time zone").key if text else ""
    if name == "premed_protocol":
        return _protocol_value(value)
    if name in ("fhir_mrn_system", "fhir_rxnorm_code", "fhir_wristband_system"):
        return _fhir_value(name, value)
    if name == "wristband_scheme":
        if value not in WRISTBAND_SCHEMES:
            raise ValueError(f"Wristband IDs: one of {', '.join(WRISTBAND_SCHEMES)}.")
        return value
    if name == "site_name" and isinstance(value, str):
        refused = unsafe_message("Site name", value)  # shown on screens and print-outs (core/text.py)
        if refused:
            raise ValueError(refused)
        return value.strip()
    return value


@event_type("site.setting")
@frozen
class SettingRecorded(Payload):
    """An admin set one site setting (the latest of each name stands)."""

    name: str
    value: Any


@frozen
class SetSiteSetting(Command):
    """Settings screen, ctrl+s: set one site setting (admins only)."""

    name: str
    value: Any
    stream: ClassVar[str] = SITE_STREAM
    emits = (SettingRecorded,)


@decider(SetSiteSetting)
def decide_setting(state: State, cmd: SetSiteSetting, now: datetime, actor: Actor) -> Decision:
    refused = require_role(actor, ("admin",), "Site settings")
    if refused:
        return refused
    if cmd.name not in SETTING_NAMES:
        return refuse(f"Site settings: no setting named {cmd.name!r}.")
    try:
        value = check_setting(cmd.name, cmd.value)  # a bad value (an unknown time zone) is refused, naming the field
    except ValueError as exc:
        return refuse(str(exc))
    return [SettingRecorded(cmd.name, value)]


def fold_site(events: Iterable[Event]) -> SiteSettings:
    s = SiteSettings()
    for ev in events:
        if ev.stream == SITE_STREAM and ev.kind == SettingRecorded.KIND:
            p = decode(ev)
            if p.name in SETTING_NAMES:
                s = evolve(s, **{p.name: p.value})
    return s
