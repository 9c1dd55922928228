"""Which laboratory results Bedside reads from a laboratory system, as data (issue 20).

Beside :mod:`bedside.core.rules` (the label's numbers), this module says how a result that arrives
in an HL7 v2 ORU^R01 message or a FHIR Observation becomes a field of the labs record
(PRE-4, PRE-5, CONV-CALC-7): the LOINC codes of each analyte and the UCUM units accepted for it,
each with the exact factor to the app's unit.

Only unit identities are used, never a clinical number: for the counts 1 × 10⁹/L = 1 × 10³/µL =
1/nL (µL = mm³, so 10³/mm³ too) and 1/µL = 10⁻³ × 10⁹/L (UCUM's definitions of the prefixes; the
reference itself writes 1 × 10⁹/L = 1,000/mm³, CONV-CALC-7). Bilirubin and the enzymes are kept
**in the laboratory's own unit with the ULN in that unit** (CONV-CALC-7: "in the lab's unit with
the ULN in the same unit, stored with each result"): the rules read only the ratio to the ULN, so
a µmol/L bilirubin is stored as µmol/L, never converted to mg/dL. Converting would need the molar
mass of bilirubin, a number the reference does not give, and would add a rounding. A unit not
listed here is not guessed: the message goes to the quarantine with the reason.
"""

from __future__ import annotations

from decimal import Decimal as D
from types import MappingProxyType

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"

#: LOINC code → the labs record's field. Method-less and automated-count codes for the counts;
#: mass and molar codes for bilirubin (each kept in its own unit).
LOINC_FIELDS = MappingProxyType(
    {
        "26499-4": "anc",  # Neutrophils [#/volume] in Blood
        "751-8": "anc",  # Neutrophils [#/volume] in Blood by Automated count
        "26515-7": "platelets",  # Platelets [#/volume] in Blood
        "777-3": "platelets",  # Platelets [#/volume] in Blood by Automated count
        "1975-2": "bilirubin",  # Bilirubin.total [Mass/volume] in Serum or Plasma
        "14631-6": "bilirubin",  # Bilirubin.total [Moles/volume] in Serum or Plasma
        "1920-8": "ast",  # Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma
        "1742-6": "alt",  # Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma
        "6768-6": "alp",  # Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma
    }
)

_COUNT_UNITS = {  # UCUM code → factor to × 10⁹/L (exact unit identities)
    "10*9/L": D("1"),
    "10*3/uL": D("1"),
    "10*3/mm3": D("1"),
    "/nL": D("1"),
    "10*9/l": D("1"),  # a common lower-case spelling of the litre in HL7 feeds (UCUM accepts "l" and "L")
    "/uL": D("0.001"),
    "{cells}/uL": D("0.001"),
}
_ENZYME_UNITS = {"U/L": D("1"), "U/l": D("1")}

#: Field → {UCUM code: factor to the app's unit}. Bilirubin's units stay as they are (factor 1)
#: and name the record's ``bilirubin_unit``.
UNITS = MappingProxyType(
    {
        "anc": MappingProxyType(_COUNT_UNITS),
        "platelets": MappingProxyType(_COUNT_UNITS),
        "bilirubin": MappingProxyType({"mg/dL": D("1"), "umol/L": D("1"), "mg/dl": D("1"), "umol/l": D("1")}),
        "ast": MappingProxyType(_ENZYME_UNITS),
        "alt": MappingProxyType(_ENZYME_UNITS),
        "alp": MappingProxyType(_ENZYME_UNITS),
    }
)

#: A bilirubin's UCUM unit → the labs record's ``bilirubin_unit`` choice (core/intake/forms.py).
BILIRUBIN_UNIT = MappingProxyType({"mg/dL": "mg/dL", "mg/dl": "mg/dL", "umol/L": "µmol/L", "umol/l": "µmol/L"})

#: The fields whose ULN is taken from the message's reference range (CONV-CALC-7). Missing, the
#: result is stored without it and the pre-dose check holds until it is entered (CONV-LAB-5).
ULN_FIELDS = ("bilirubin", "ast", "alt", "alp")

#: Result statuses that may be applied: HL7 v2 OBX-11 F (final) and C (correction); FHIR
#: Observation.status final, amended, corrected. A preliminary result is never used for a dose.
HL7_FINAL = frozenset({"F", "C"})
FHIR_FINAL = frozenset({"final", "amended", "corrected"})

LABELS = MappingProxyType(
    {"anc": "ANC", "platelets": "Platelets", "bilirubin": "Total bilirubin", "ast": "AST", "alt": "ALT", "alp": "ALP"}
)
