"""The label's numbers, as data: the one module that holds every clinical number.

Each constant cites the rule ID of ``shared/clinical-reference.md`` it comes from. Nothing else
in ``core/`` or ``tui/`` types a clinical number; they import it from here.
All quantities are exact :class:`~decimal.Decimal` values (CONV-CALC-1).
"""

from __future__ import annotations

from decimal import Decimal as D
from types import MappingProxyType

# --- Dose (label §2.1 Table 1) ---------------------------------------------------------------
# DOSE-1: mg/m² by cycle row and day.
DAYS = (1, 8, 15)  # SCHED-1
LEVELS_CYCLE1 = MappingProxyType({1: D("0.8"), 8: D("0.5"), 15: D("0.5")})  # DOSE-1 row 1
LEVELS_CR_CRI = MappingProxyType({1: D("0.5"), 8: D("0.5"), 15: D("0.5")})  # DOSE-1 row 2
LEVELS_NO_CR = MappingProxyType({1: D("0.8"), 8: D("0.5"), 15: D("0.5")})  # DOSE-1 row 3
# DOSE-6 / CONV-MOD-1: the only allowed levels (mg/m²).
ALLOWED_LEVELS = frozenset({D("0.8"), D("0.5"), D("0.6"), D("0.375")})
# CONV-MOD-1: a 25% cut of each dose.
REDUCTION_FACTOR = D("0.75")
REDUCED_LEVEL = MappingProxyType({D("0.8"): D("0.6"), D("0.5"): D("0.375")})

# --- Schedule (label §2.1 fn; SCHED-*, CONV-SCHED-*) -------------------------------------------
WINDOW_DAYS = 2  # SCHED-2: Day 8 and Day 15 ± 2 days; Day 1 has none (CONV-SCHED-1)
WINDOWED_DAYS = frozenset({8, 15})  # SCHED-2
MIN_DAYS_BETWEEN_DOSES = 6  # SCHED-3, CONV-SCHED-2
CYCLE1_DAYS = 21  # SCHED-4
CYCLE1_MAX_DAYS = 28  # SCHED-4
LATER_CYCLE_DAYS = 28  # SCHED-5

# --- Cycles (label §2.1; CYC-*) ----------------------------------------------------------------
HSCT_CYCLES = 2  # CYC-1
HSCT_MAX_CYCLES_WITH_THIRD = 3  # CYC-1 (a 3rd may be considered)
NON_HSCT_MAX_CYCLES = 6  # CYC-2
NO_RESPONSE_STOP_CYCLES = 3  # CYC-3

# --- Interruptions (Table 4, UNVERIFIED: MOD-INT-*; counting CONV-SCHED-5) ------------------
INTERRUPT_OMIT_DAYS = 7  # MOD-INT-2
INTERRUPT_REDUCE_DAYS = 14  # MOD-INT-3
INTERRUPT_DISCONTINUE_AFTER_DAYS = 28  # MOD-INT-6, MOD-HEM-4: "> 28" = 29 or more

# --- Hematologic (Table 2; MOD-HEM-*, counts × 10⁹/L) -------------------------------------------
ANC_THRESHOLD = D("1")  # MOD-HEM-1, MOD-HEM-3
PLATELET_THRESHOLD = D("50")  # MOD-HEM-2, MOD-HEM-3

# --- Hepatic (Table 3; MOD-NH-2, CONV-LAB-1/3/4) -------------------------------------------------
BILIRUBIN_ULN_FACTOR = D("1.5")  # MOD-NH-2: hold when > 1.5 × ULN
TRANSAMINASE_ULN_FACTOR = D("2.5")  # MOD-NH-2, CONV-LAB-3: hold when > 2.5 × ULN
NONHEME_HOLD_GRADE = 2  # MOD-NH-4: any non-hematologic toxicity ≥ Grade 2

# --- Pre-dose (PRE-*) ----------------------------------------------------------------------------
CYTOREDUCTION_MAX_BLASTS_PER_MM3 = D("10000")  # PRE-3: ≤ 10,000/mm³ before C1 D1
PER_MM3_PER_1E9_L = D("1000")  # CONV-CALC-7: 1 × 10⁹/L = 1,000/mm³
PREMED_CLASSES = ("corticosteroid", "antipyretic", "antihistamine")  # PRE-1
MIN_AGE_YEARS = 1  # IND-2: under 1 year not established

# --- Preparation (label §2.4; PREP-*, CONV-CALC-*) ---------------------------------------------
VIAL_DELIVERABLE_MG = D("0.9")  # PREP-1, CONV-PROD-1
NDC = "0008-0100-01"  # PREP-1, SUP-1: the product's NDC, 1 single-dose vial per carton
SWFI_PER_VIAL_ML = D("4")  # PREP-2
RECONSTITUTED_MG_PER_ML = D("0.25")  # PREP-2
VIAL_DELIVERABLE_ML = D("3.6")  # PREP-2
BAG_TOTAL_ML = D("50")  # PREP-7
BAG_RANGE_MG_PER_ML = (D("0.01"), D("0.1"))  # PREP-8 (UNVERIFIED, [SITE] default)
SYRINGE_RANGE_MG_PER_ML = (D("0.025"), D("0.1"))  # PREP-9 (UNVERIFIED, [SITE] default)
SYRINGE_PROPOSED_MG_PER_ML = D("0.1")  # PREP-9
INFUSION_MINUTES = 60  # ADM-1, MON-3
DOSE_QUANTUM_MG = D("0.01")  # CONV-CALC-3, CONV-ROUND-1
BSA_QUANTUM_M2 = D("0.01")  # CONV-CALC-2
VOLUME_QUANTUM_ML = D("0.01")  # CONV-CALC-4
CONCENTRATION_QUANTUM = D("0.0001")  # CONV-CALC-6

# --- Stability (Table 6; STAB-*, CONV-STAB-*), minutes ------------------------------------------
RECON_TO_DILUTION_MAX_MIN = 4 * 60  # STAB-1
RECON_TO_END_MAX_MIN = 8 * 60  # STAB-2
RECON_REFRIGERATED_MAX_MIN = 4 * 60  # STAB-3
DILUTED_ROOM_TEMP_MAX_MIN = 4 * 60  # STAB-4 (UNVERIFIED), CONV-STAB-1/2
DILUTED_REFRIGERATED_MAX_MIN = 3 * 60  # STAB-4 (UNVERIFIED), STAB-8
EQUILIBRATE_MIN = 60  # STAB-5

# --- Monitoring (MON-*) --------------------------------------------------------------------------
OBSERVATION_MIN_MINUTES = 60  # MON-1, MON-2
VOD_WATCH_DAYS_AFTER_LAST_DOSE = 56  # WARN-VOD-1
WEIGHT_GAIN_VOD_PROMPT_PCT = D("5")  # MON-8 [SITE]
# Added for core/infusion.py (issue 7: the infusion monitor).
# MON-4 [SITE]: default vital-signs schedule = before start, end of infusion, end of observation,
# and at any reaction. As (anchor, minutes after the anchor); anchors: before_start, start, end,
# observation_end. The label sets no frequency (MON-4).
VITALS_SCHEDULE_DEFAULT = (("before_start", 0), ("end", 0), ("observation_end", 0))  # MON-4 [SITE]
VITALS_AT_REACTIONS = True  # MON-4: "and at any reaction"
# MON-4 [SITE]: minutes after a vital-signs point's due time before it shows as overdue. No source
# gives one; 0 (overdue as soon as the due time passes) is the safest default.
VITALS_OVERDUE_GRACE_MINUTES = 0  # MON-4 [SITE]
# CONV-STAB-3 [SITE]: alert when the bag's stability deadline is this close (issue 7 default).
STABILITY_ALERT_LEAD_MINUTES = 30  # CONV-STAB-3 [SITE]
# CONV-IRR-1: Grade 3 or 4 (and CTCAE v5 "Anaphylaxis", grades 3-5) = severe or life-threatening.
IRR_DISCONTINUE_MIN_GRADE = 3  # CONV-IRR-1, MOD-NH-3
IRR_GRADES = (1, 2, 3, 4)  # CTCAE-1 (Grade 5 = death is not recorded as a reaction grade here)
IRR_ANAPHYLAXIS = "anaphylaxis"  # CTCAE-1, CONV-IRR-1
CTCAE_LIFE_THREATENING_GRADE = 4  # CTCAE-1: Grade 4 life-threatening consequences, Grade 5 death
CTCAE_VERSION = "5.0"  # CTCAE-5: grade with v5 and store the version with each grade
CTCAE_GRADES = (1, 2, 3, 4, 5)  # CTCAE-5 (NCI CTCAE v5 Grades 1 to 5): the grades a toxicity is recorded with (MOD-NH-6)

# --- Warnings (WARN-*) ---------------------------------------------------------------------------
CONTRACEPTION_MONTHS_FEMALE = 8  # WARN-EFT-1
CONTRACEPTION_MONTHS_MALE = 5  # WARN-EFT-1
NO_BREASTFEEDING_MONTHS = 2  # WARN-LACT-1
OLDER_AGE_VOD_YEARS = 65  # POP-GER-1 [SITE]
SUPPORT_LINE = "Pfizer Oncology Together: 1-877-744-5675, Monday–Friday 8 AM–8 PM ET"  # SUPPORT-1

# --- BSA and weight (CONV-BSA-*, CONV-WT-*) -----------------------------------------------------
BSA_DEFAULT_FORMULA = "mosteller"  # CONV-BSA-2
BSA_NOTE_ABOVE_M2 = D("2.2")  # CONV-BSA-4 [SITE]
LOW_WEIGHT_CONFIRM_KG = D("10")  # CONV-BSA-5 [SITE]
WEIGHT_CHANGE_PCT_ADULT = D("10")  # CONV-WT-1 [SITE]
WEIGHT_CHANGE_PCT_CHILD = D("5")  # CONV-WT-1 [SITE]
ADULT_AGE_YEARS = 18  # CONV-WT-1

# --- VOD risk factors (WARN-VOD-2 a–j) -----------------------------------------------------------
VOD_RISK_FACTORS = MappingProxyType(
    {
        "hsct_planned": "(a) HSCT planned after BESPONSA",
        "two_alkylator_conditioning": "(b) conditioning with 2 alkylating agents",
        "bilirubin_ge_uln_before_hsct": "(c) last bilirubin ≥ ULN before HSCT",
        "liver_disease": "(d) ongoing or prior liver disease",
        "prior_hsct": "(e) prior HSCT",
        "older_age": "(f) older age (POP-GER-1)",
        "later_salvage": "(g) later salvage line",
        "many_cycles": "(h) number of cycles",
        "prior_vod": "(i) prior VOD",
        "serious_liver_disease": "(j) serious ongoing liver disease (cirrhosis, NRH, active hepatitis)",
    }
)

# --- Software input limits (CONV-INPUT-1) --------------------------------------------------------
# Non-clinical: wide enough for every real patient ≥ 1 year; they only stop typing errors.
# Values outside the "usual" band need an explicit confirmation, never a silent accept.
INPUT_LIMITS = MappingProxyType(
    {
        # field: (hard_min, hard_max, usual_min, usual_max, unit)
        "height_cm": (D("40"), D("260"), D("70"), D("220"), "cm"),
        "weight_kg": (D("2"), D("400"), D("8"), D("200"), "kg"),
        "anc": (D("0"), D("200"), D("0"), D("50"), "× 10⁹/L"),
        "platelets": (D("0"), D("3000"), D("0"), D("1500"), "× 10⁹/L"),
        "wbc": (D("0"), D("2000"), D("0"), D("500"), "× 10⁹/L"),
        "blast_pct": (D("0"), D("100"), D("0"), D("100"), "%"),
        "bilirubin": (D("0"), D("100"), D("0"), D("30"), "lab unit"),
        "ast": (D("0"), D("50000"), D("0"), D("5000"), "lab unit"),
        "alt": (D("0"), D("50000"), D("0"), D("5000"), "lab unit"),
        "alp": (D("0"), D("50000"), D("0"), D("5000"), "lab unit"),
        "uln": (D("0.01"), D("10000"), D("0.01"), D("10000"), "lab unit"),
        "blasts_per_mm3": (D("0"), D("2000000"), D("0"), D("2000000"), "/mm³"),
        "flush_ml": (D("0.1"), D("100"), D("0.1"), D("100"), "mL"),  # PREP-9 flush, entered per dose
        "crcl": (D("0"), D("400"), D("5"), D("200"), "mL/min"),  # CONV-RENAL-1, optional at intake
        # Vital signs (issue 7, MON-4): non-clinical typing-error limits, CONV-INPUT-1. Hard limits
        # include values seen only in extremis (deep hypothermia, arrest, severe hypoxia); values
        # outside the usual band need confirmation.
        "temp_c": (D("10"), D("46"), D("35"), D("41"), "°C"),
        "heart_rate": (D("0"), D("300"), D("40"), D("180"), "/min"),
        "systolic_bp": (D("0"), D("300"), D("70"), D("200"), "mmHg"),
        "diastolic_bp": (D("0"), D("250"), D("30"), D("120"), "mmHg"),
        "resp_rate": (D("0"), D("120"), D("8"), D("60"), "/min"),
        "spo2": (D("0"), D("100"), D("85"), D("100"), "%"),
    }
)

# CONV-INPUT-1 / PRE-3: an absolute blast count below this (other than 0) is taken for a bare
# percentage or a ×10⁹/L value typed into the /mm³ field, and refused (software check).
BLAST_COUNT_MIN_PLAUSIBLE_PER_MM3 = D("100")
MAX_AGE_YEARS = 120  # CONV-INPUT-1: dates more than this many years ago are typing errors

# --- Rule texts for citations shown to users -----------------------------------------------------
RULE_TEXT = MappingProxyType(
    {
        "DOSE-1": "Table 1: C1 0.8/0.5/0.5 mg/m²; C≥2 CR/CRi 0.5/0.5/0.5; C≥2 no CR/CRi 0.8/0.5/0.5",
        "CONV-BSA-2": "BSA by the site formula (default Mosteller); formula stored with the value",
        "CONV-BSA-4": "No BSA cap; informational note above 2.2 m²",
        "CONV-BSA-5": "Under 10 kg: prescriber confirmation before BSA dosing",
        "CONV-CALC-2": "BSA full precision; shown half-up to 2 decimals",
        "CONV-CALC-7": "Liver result without its ULN counts as missing",
        "CONV-INPUT-1": "Software limits only stop typing errors; unusual values need confirmation",
        "PRE-3": "Cytoreduce to ≤ 10,000 blasts/mm³ before the first dose of cycle 1",
        "PRE-7": "Pregnancy status before starting (UNVERIFIED: first-dose gate)",
        "PRE-8": "Consent recorded before the first dose",
        "IND-1": "R/R CD22-positive B-cell precursor ALL, adults and children ≥ 1 year",
        "IND-2": "Under 1 year: not established; prescriber override only",
        "IND-5": "CD22 positivity documented before the first dose",
        "WARN-VOD-2": "VOD risk factors",
        "BOX-1": "Boxed warning: hepatotoxicity/VOD, post-HSCT non-relapse mortality",
    }
)

# --- BSA formulas (CONV-BSA-1; H cm, W kg, BSA m²) ----------------------------------------------
# Added for core/calc.py. Coefficients exactly as printed in CONV-BSA-1.
BSA_MOSTELLER_DIVISOR = D("3600")  # CONV-BSA-1: Mosteller √(H × W / 3600)
# CONV-BSA-1: coefficient × H^a × W^b, as (coefficient, a, b).
BSA_POWER_FORMULAS = MappingProxyType(
    {
        "dubois": (D("0.007184"), D("0.725"), D("0.425")),  # CONV-BSA-1 DuBois & DuBois (1916)
        "haycock": (D("0.024265"), D("0.3964"), D("0.5378")),  # CONV-BSA-1 Haycock (1978)
        "gehan_george": (D("0.0235"), D("0.42246"), D("0.51456")),  # CONV-BSA-1 Gehan & George (1970)
    }
)
# CONV-BSA-1 / CONV-BSA-3: Boyd, gram form only: 0.0003207 × H^0.3 × Wg^(0.7285 − 0.0188 × log10 Wg).
BSA_BOYD_COEFFICIENT = D("0.0003207")  # CONV-BSA-1, CONV-BSA-3
BSA_BOYD_HEIGHT_EXPONENT = D("0.3")  # CONV-BSA-1, CONV-BSA-3
BSA_BOYD_WEIGHT_EXPONENT_BASE = D("0.7285")  # CONV-BSA-1, CONV-BSA-3
BSA_BOYD_WEIGHT_EXPONENT_LOG_SLOPE = D("0.0188")  # CONV-BSA-1, CONV-BSA-3
BSA_BOYD_GRAMS_PER_KG = D("1000")  # CONV-BSA-3: Wg = weight in grams

# --- BOX-1: the boxed warning (paraphrased, label Boxed Warning) --------------------------------
BOXED_WARNING = (
    "WARNING: HEPATOTOXICITY, INCLUDING HEPATIC VENO-OCCLUSIVE DISEASE (VOD, also called sinusoidal "
    "obstruction syndrome), AND INCREASED RISK OF POST-HSCT NON-RELAPSE MORTALITY",
    (
        "BESPONSA has caused liver toxicity, including fatal or life-threatening VOD.",
        "VOD was more frequent in patients who had HSCT after BESPONSA. Conditioning with two alkylating "
        "agents and a last total bilirubin ≥ ULN before HSCT were significantly associated with it.",
        "Other risk factors: ongoing or prior liver disease, prior HSCT, older age, later salvage lines, more BESPONSA cycles.",
        "Raised liver tests may need interruption, reduction or permanent discontinuation. Stop BESPONSA "
        "permanently if VOD occurs; treat severe VOD by standard practice.",
        "Post-HSCT non-relapse mortality was higher after BESPONSA, so Day-100 post-HSCT mortality was higher.",
    ),
)

# --- CTCAE grading (§15, P), added for core/predose.py ------------------------------------------
# CTCAE_VERSION ("5.0", CTCAE-5) is defined above, with the infusion constants.
CTCAE_V3_VERSION = "3.0"  # CTCAE-4, MOD-NH-5: AST/ALT v3.0 grade shown beside the v5 grade
# CTCAE-2 (same cut-offs in v3.0 and v5), × 10⁹/L: the lower bounds of Grades 1, 2 and 3
# (a value below a bound is at least the next grade; below the last → Grade 4). Grade 1 also
# needs the value below the lab's LLN.
CTCAE_ANC_GRADE_LOWER = (D("1.5"), D("1.0"), D("0.5"))  # CTCAE-2: G1 < LLN to 1.5; G2 < 1.5 to 1.0; G3 < 1.0 to 0.5; G4 < 0.5
CTCAE_PLATELET_GRADE_LOWER = (D("75.0"), D("50.0"), D("25.0"))  # CTCAE-2: G1 < LLN to 75; G2 < 75 to 50; G3 < 50 to 25; G4 < 25
# CTCAE-3 (v5): the upper bounds of Grades 1, 2 and 3 as multiples (× ULN with a normal baseline,
# × baseline with an abnormal one); above the last → Grade 4.
CTCAE_BILIRUBIN_GRADE_UPPER = (D("1.5"), D("3.0"), D("10.0"))  # CTCAE-3 blood bilirubin increased
CTCAE_BILIRUBIN_ABNORMAL_G1_ABOVE = D("1.0")  # CTCAE-3: baseline abnormal, Grade 1 is > 1.0 × baseline
CTCAE_TRANSAMINASE_GRADE_UPPER = (D("3.0"), D("5.0"), D("20.0"))  # CTCAE-3 AST/ALT increased (v5)
CTCAE_TRANSAMINASE_ABNORMAL_G1_FROM = D("1.5")  # CTCAE-3: baseline abnormal, Grade 1 is 1.5 (inclusive) to 3.0 × baseline
CTCAE_V3_TRANSAMINASE_GRADE_UPPER = (D("2.5"), D("5.0"), D("20.0"))  # CTCAE-4: v3.0 AST/ALT, × ULN
ULN_FACTOR_NORMAL = D("1")  # CTCAE-3: baseline abnormal = above ULN; Grade 1 starts above ULN

# --- Pre-dose engine (core/predose.py) -----------------------------------------------------------
HELD_DAYS_PROMPT_AFTER = INTERRUPT_DISCONTINUE_AFTER_DAYS  # MOD-HEM-4, CONV-HEM-4: prompt when > 28 days (29 or more)
IRR_SEVERE_GRADE = IRR_DISCONTINUE_MIN_GRADE  # CONV-IRR-1: Grade 3 or 4 infusion reaction → permanent discontinuation (MOD-NH-3)
# MOD-NH-1 / WARN-VOD-4: a recorded toxicity whose CTCAE term contains one of these (case-insensitive)
# is VOD → permanent discontinuation, no override. Terms, not numbers.
VOD_TERM_MARKERS = ("veno-occlusive", "venoocclusive", "veno occlusive", "sinusoidal obstruction")
VOD_TERM_WORDS = ("vod", "sos")  # MOD-NH-1: whole-word abbreviations
IRR_TERM_MARKERS = ("infusion related reaction", "infusion-related reaction", "infusion reaction")  # CTCAE-1
ANAPHYLAXIS_TERM_MARKERS = (IRR_ANAPHYLAXIS,)  # CTCAE-1, CONV-IRR-1: grades 3–5 only, counts as severe
PREDOSE_RULE_TEXT = MappingProxyType(
    {
        "PRE-1": "Premedicate before every dose: corticosteroid + antipyretic + antihistamine",
        "PRE-4": "CBC before every dose",
        "PRE-5": "Liver tests (ALT, AST, total bilirubin, ALP) before each dose",
        "PRE-6": "ECG and electrolytes before starting and after starting a QT-prolonging drug",
        "PRE-10": "Emergency drugs and equipment available (recorded, never blocks)",
        "MOD-GEN-1": "Day 8/15 doses are not held for neutropenia or thrombocytopenia",
        "MOD-HEM-6": "Table 2 applies at Day 1 of cycle 2 onward, rows by pre-treatment counts",
        "MOD-NH-1": "VOD: permanently discontinue (no override)",
        "MOD-NH-2": "Bilirubin > 1.5 × ULN and AST/ALT > 2.5 × ULN: hold (label, no override)",
        "MOD-NH-4": "Non-hematologic toxicity ≥ Grade 2: hold until Grade 1 or pre-treatment grade (no override)",
        "CONV-LAB-1": "Either liver value alone over its limit: convention hold (prescriber override)",
        "CONV-LAB-5": "Labs count only if collected after the previous dose and not after this dose",
        "CONV-WT-1": "Weight change > 10% adults / > 5% under 18: recalculate and re-verify",
        "MON-2": "Observation incomplete at the previous dose: shown at this check",
    }
)

# --- Warnings: the label's facts (§11.1), shown with the reason they apply ---------------------
# CONV-RENAL-1 [SITE]: warn (never block) below 30 mL/min, strongly below 15 (POP-REN-1).
RENAL_WARN_CRCL_ML_MIN = D("30")
RENAL_WARN_STRONG_CRCL_ML_MIN = D("15")

WARN_FACTS = MappingProxyType(
    {
        "POP-REN-1": "No dose change for CrCl 60–89 (mild), 30–59 (moderate), 15–29 mL/min (severe); no data below 15 "
        '(ESRD). A drug reference says "not established" below 30.',
        "MON-6": "VOD signs: rising total bilirubin, hepatomegaly (may be painful), rapid weight gain, ascites.",
        "MON-8": "EBMT VOD criteria: bilirubin ≥ 2 mg/dL plus two of painful hepatomegaly, weight gain > 5%, ascites, "
        "≤ 21 days after HSCT.",
        "WARN-VOD-1": "VOD in 23/164 (14%) during/after treatment or after later HSCT; 18/79 (23%) after later HSCT; "
        "5/164 (3%) without HSCT, up to 56 days after the last dose. HSCT → VOD median 15 days (3–57). "
        "Children 8/53 (15%); 5/26 (19%) of those with HSCT. Grade 3/4 AST 4%, ALT 4%, bilirubin 5%.",
        "WARN-VOD-2": "Risk factors: HSCT after BESPONSA; two-alkylator conditioning; last bilirubin ≥ ULN before HSCT; "
        "liver disease; prior HSCT; older age; later salvage line; number of cycles; prior VOD or serious ongoing "
        "liver disease raise the risk of worsening, including VOD.",
        "WARN-VOD-3": "Two-alkylator conditioning and a last bilirubin ≥ ULN before HSCT were associated with VOD "
        "(advice to avoid: wording UNVERIFIED).",
        "WARN-NRM-1": "Post-HSCT non-relapse mortality 31/79 (39%) vs 8/35 (23%) with chemotherapy → higher Day-100 "
        "mortality; main causes VOD and infection. Pediatric figures: see label.",
        "WARN-MYELO-1": "Myelosuppression with severe, life-threatening and fatal complications: thrombocytopenia 83/164 "
        "(51%), neutropenia 81/164 (49%), febrile neutropenia 43/164 (26%). CBC before each dose.",
        "WARN-IRR-1": "Infusion reactions in 4/164 (2%), all Grade 2, mostly in cycle 1 shortly after the infusion ended "
        "(IRR-2): fever, chills, rash, dyspnea (MON-1). Premedicate before every dose (PRE-1).",
        "WARN-QT-1": "QTcF rise ≥ 60 ms in 4/162 (3%); no QTcF > 500 ms. Caution with QTc prolongation history, "
        "QT-prolonging drugs or electrolyte disturbance; ECG and electrolytes (PRE-6).",
        "WARN-EFT-1": "Can cause embryo-fetal harm. Females of reproductive potential: effective contraception during "
        "treatment and ≥ 8 months after the last dose; males with female partners of reproductive potential: ≥ 5 months. "
        "Report a pregnancy. May impair fertility.",
        "WARN-LACT-1": "No breastfeeding during treatment and for at least 2 months after the last dose.",
    }
)

# --- Cycle timeline (core/schedule.py; SCHED-*, CYC-*, MOD-INT-*, CONV-*) ---------------------
CYCLE1_MIN_EXTENDED_DAYS = 22  # SCHED-4: an extended cycle 1 is 22–28 days
EXTENDABLE_CYCLE = 1  # SCHED-4: only cycle 1 may be extended; later cycles are 28 days (SCHED-5)
OMITTABLE_DAYS = frozenset({8, 15})  # MOD-INT-2, SCHED-6: a Day 1 is delayed, never omitted
HEMATOLOGIC_HOLD_DAYS = frozenset({1})  # MOD-GEN-1, MOD-HEM-6: Table 2 holds only at Day 1
TWO_DOSES_DROPPED_DAY = 15  # CONV-MOD-2: 2 doses per cycle drops Day 15 by default
TWO_DOSES_MAX_DOSES = 2  # MOD-INT-4, CONV-MOD-5: at most 2 doses per cycle
HSCT_DECISION_AFTER_CYCLES = 2  # CONV-CYC-1: ask for the HSCT decision after cycle 2
