"""A demo's sample results file (issue 20): an HL7 v2 ORU^R01 for a demo patient, made from the
values the demo typed for them (core/demo.py), collected at the time given. The demo writes one
per patient beside its drop folder, so a demonstration can drop a results file in and watch it
reach the pre-dose check. Not for clinical use: the values are the demo's own, never the label's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

#: The labs record's field → (LOINC code, name, UCUM unit); bilirubin by the demo's unit.
_CODES = {
    "anc": ("751-8", "Neutrophils", "10*9/L"),
    "platelets": ("777-3", "Platelets", "10*9/L"),
    "ast": ("1920-8", "AST", "U/L"),
    "alt": ("1742-6", "ALT", "U/L"),
    "alp": ("6768-6", "ALP", "U/L"),
}
_BILIRUBIN = {"mg/dL": ("1975-2", "mg/dL"), "µmol/L": ("14631-6", "umol/L")}


def _esc(text: str) -> str:
    return text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\").replace("~", "\\R\\")


def _obx(labs: Mapping[str, str]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for field, (code, name, unit) in _CODES.items():
        if labs.get(field):
            uln = labs.get(f"{field}_uln")
            rows.append((code, name, labs[field], unit, f"0-{uln}" if uln else ""))
    bili = _BILIRUBIN.get(labs.get("bilirubin_unit") or "")
    if labs.get("bilirubin") and bili:
        uln = labs.get("bilirubin_uln")
        rows.append((bili[0], "Bilirubin total", labs["bilirubin"], bili[1], f"0-{uln}" if uln else ""))
    return rows


def sample_oru(identity: Mapping[str, str], labs: Mapping[str, str], collected: datetime, message_id: str) -> str:
    """The ORU^R01 text (segments ended by CR) for one patient's demo values."""
    family, _, given = (identity.get("name") or "").partition(",")
    at = collected.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "+0000"
    segs = [
        f"MSH|^~\\&|DEMO-LIS|DEMOLAB|BEDSIDE|WARD|{at}||ORU^R01^ORU_R01|{_esc(message_id)}|P|2.5.1",
        f"PID|1||{_esc(identity.get('mrn') or '')}^^^HOSP^MR||{_esc(family.strip())}^{_esc(given.strip())}"
        f"||{(identity.get('dob') or '').replace('-', '')}",
        f"OBR|1|||24323-8^Panel^LN|||{at}",
    ]
    for i, (code, name, value, unit, ref) in enumerate(_obx(labs), 1):
        segs.append(f"OBX|{i}|NM|{code}^{name}^LN||{_esc(value)}|{unit}|{ref}||||F")
    return "\r".join(segs) + "\r"
