"""Steps of the ward walk through the real terminal, shared by the e2e tests."""

from __future__ import annotations

import re

from .tty import Tty

ADMIN = ("root", "Site Admin", "246810")
BAG: dict[str, str] = {}  # the bag label's code, read from the preparation screen (walk_to_prepared)


def choose(t: Tty, index: int) -> None:
    """Pick option ``index`` (0-based, after the blank prompt) of the focused drop-down: space opens
    it, arrows, Enter chooses (a letter would choose it in one key: see :func:`section`)."""
    prompts = t.screen().count("choose…")
    for _attempt in range(3):
        t.settle(0.05)
        before = t.screen()
        t.send("space")
        t.wait_change(before)  # the overlay is open
        t.settle(0.05)
        t.send(*["down"] * (index + 1))
        t.settle(0.05)
        before = t.screen()
        t.send("enter")
        t.wait_change(before)  # closed, with the choice shown
        # A blank Select shows its prompt, a chosen one does not. Under load the blank was once
        # chosen (the Diluted step's "Vials kept": still "choose…" after the arrows): try again.
        t.settle(0.1)
        if not prompts or t.screen().count("choose…") < prompts:
            return


def create_first_admin(t: Tty) -> None:
    t.arrive(re.compile("first admin", re.I))
    user, name, pin = ADMIN
    t.send(user, "enter", name, "enter", pin, "enter", pin, "ctrl+s")
    t.arrive("0 of 0 patients")


def sign_in(t: Tty, user: str, pin: str, name: str) -> None:
    t.arrive(re.compile("Sign in", re.I))
    t.arrive("User name")
    t.send(user, "enter", pin, "enter")
    t.arrive(f"{name} (")


def sign_out(t: Tty) -> None:
    t.send("f5")
    t.arrive(re.compile("Sign in", re.I))
    t.arrive("User name")


ROLE_INDEX = {"nurse": 0, "pharmacist": 1, "prescriber": 2, "admin": 3}


def add_user(t: Tty, user: str, name: str, role: str, pin: str) -> None:
    """On the Users screen: n, the fields in order (Enter moves on), the role Select, ctrl+s."""
    t.send("n")
    t.arrive("Add a user")
    t.settle(0.15)
    t.send(user, "enter", name, "enter")
    choose(t, ROLE_INDEX[role])
    t.settle(0.15)
    t.send("tab", pin, "enter", pin, "ctrl+s")
    t.arrive(f"User {user} added")


def register_patient(t: Tty, name: str, dob: str, mrn: str, sex: str = "f", wristband: str = "") -> None:
    t.send("n")
    t.arrive("Register a patient")
    t.settle(0.15)
    t.send(name, "enter", dob, "enter", mrn, "enter")
    t.key(sex)  # type-to-select: f Female, m Male, o Other
    if wristband:  # issue 20: the wristband's own identifier, scanned into its field
        t.send("enter")
        t.settle(0.1)
        t.scan(wristband)
    t.send("ctrl+s")
    t.arrive(f"Registered {mrn}")
    t.arrive("Consent")


def section(t: Tty, title: str, steps: list) -> None:
    """On the patient screen, whose cursor is on the next missing section: Enter opens it, the
    ``steps``, ctrl+s. A step is a value typed and Enter (the field moves on); ("key", "r"), a
    drop-down's option chosen by its letter, then Enter; ("enter",), a field left as it is (a date
    that defaults to today, an optional one). The dates default to today, so none is typed."""
    t.send("enter")
    t.arrive(f"{title} — ")
    t.settle(0.15)
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(step, str):
            t.send(step, *([] if last else ["enter"]))
        elif step[0] == "key":
            t.key(step[1])
            if not last:
                t.send("enter")
        else:
            t.send("enter")
    if steps and isinstance(steps[-1], str):  # as in dialog(): the last value shown before ctrl+s
        t.arrive(steps[-1])
    t.settle(0.15)
    t.send("ctrl+s")
    t.arrive(f"{title} recorded")


def fill(t: Tty, steps: list) -> None:
    """("type", text): a text field, Enter moves on; ("choose", i): a Select, then Tab; ("skip",): Tab."""
    for step in steps:
        if step[0] == "type":
            t.send(step[1], "enter")
        elif step[0] == "choose":
            choose(t, step[1])
            t.settle(0.1)
            t.send("tab")
        else:
            t.send("tab")


def dialog(t: Tty, title: str, steps: list, done: str | None = None) -> None:
    """A FieldsDialog: wait for its title, fill ``steps``, ctrl+s, wait for ``done`` or the title to go."""
    t.arrive(title)
    t.settle(0.15)
    fill(t, steps)
    # Under load (2 cores, other suites running) a ctrl+s right behind the last typed value was once
    # handled before that value landed in its field ("required" under a field that showed it): let the
    # typed text show and the app go quiet before saving.
    if steps and steps[-1][0] == "type":
        t.arrive(steps[-1][1])
    t.settle(0.15)
    t.send("ctrl+s")
    if done:
        t.arrive(done)
    else:
        t.wait_gone(title)
        t.settle(0.15)  # the dialog's screen is gone: the one under it takes keys again


# -- the ward walk, through the real terminal ---------------------------------------------------
MRN = "MRN-7001"
WRISTBAND = "950123450000070011"  # a GS1 GSRN (AI 8018), its last digit the check digit
NAME = "OSEI, Ama"
DOB = "1980-05-17"
STAFF = (
    ("nina", "Nina Nurse", "nurse", "1111"),
    ("phil", "Phil Pharm", "pharmacist", "2222"),
    ("priya", "Priya Presc", "prescriber", "3333"),
)
PIN = {user: pin for user, _n, _r, pin in STAFF}
NAMES = {user: name for user, name, _r, _p in STAFF}


#: The intake after registration, section by section in the patient screen's order; each opens
#: where the cursor already is (the next missing section) and types no date (they default to today).
INTAKE_PLAN = [
    ("Diagnosis", [("key", "r"), ("key", "p"), "none known"]),  # relapsed, CD22 positive
    ("Height and weight", ["165", "62"]),
    ("Labs", ["1.5", "100", ("key", "n"), ("key", "m"), "0.8", "1.2", "30", "40", "30", "40"]),  # no transfusion, mg/dL
    ("Peripheral blasts", ["5", "10"]),
    ("VOD risk factors", []),
    ("HSCT plan", [("key", "n")]),  # not planned
    ("Reproductive status", [("key", "n"), ("enter",), ("enter",), ("key", "n")]),  # no potential, not breastfeeding
    ("Consent", [("key", "g")]),  # given, today
]


PROTOCOL = (("dexamethasone", "8 mg iv"), ("paracetamol", "1 g po"), ("cetirizine", "10 mg po"))
# The site's FHIR codes as an admin types them (test values: a made-up OID arc and RxCUI, not real ones)
FHIR_MRN_SYSTEM, FHIR_RXNORM = "urn:oid:2.999.20.1", "1234567"
FHIR_WRISTBAND_SYSTEM = "urn:oid:2.999.20.2"  # the site's system for wristband IDs (2.999: an example arc)


def set_premed_protocol(t: Tty) -> None:
    """The admin records the site's premedication protocol (Settings; PRE-1, PRE-2), offered to nurses,
    and the FHIR export's MRN system and RxNorm code (issue 20)."""
    t.send("s")
    t.arrive("Site settings")
    t.settle(0.15)
    t.send(*["tab"] * 5)  # past the formula, idle lock, site name, bell and time zone
    for drug, dose in PROTOCOL:
        t.send(drug, "enter", dose, "enter")
    t.arrive(PROTOCOL[-1][1])
    t.send(FHIR_MRN_SYSTEM, "enter", FHIR_RXNORM, "enter", FHIR_WRISTBAND_SYSTEM)
    t.arrive(FHIR_WRISTBAND_SYSTEM)
    t.settle(0.15)
    t.send("ctrl+s")
    t.arrive("saved")
    t.send("escape")
    t.arrive("patients")


CARTON_LOTS = ("E2E-LOT-1", "E2E-LOT-2")
CARTON_EXPIRY = "17451231"  # AI 17: 31 December 2045 (GS1 reads YY within 50 years of today)


def walk_to_prepared(t: Tty, today: str) -> tuple[int, int]:
    """First admin → three staff → the nurse registers a patient with full intake, starts cycle 1,
    prepares the dose (calculate, reconstitute, dilute) and the pharmacist double-checks it blind.
    Ends on the timeline. Returns the (keys, value characters) of the registration and intake."""
    create_first_admin(t)
    t.send("u")
    t.arrive("Users")
    for user, name, role, pin in STAFF:
        add_user(t, user, name, role, pin)
    for who in ("Nurse", "Pharmacist", "Prescriber"):
        assert who in t.screen(), t.dump()
    t.send("escape")
    set_premed_protocol(t)
    sign_out(t)
    # each new user can sign in
    for user in ("priya", "phil"):
        sign_in(t, user, PIN[user], NAMES[user])
        sign_out(t)

    sign_in(t, "nina", PIN["nina"], NAMES["nina"])
    before = t.tally()
    register_patient(t, NAME, DOB, MRN, wristband="]d28018" + WRISTBAND)  # a GS1 DataMatrix wristband
    for title, steps in INTAKE_PLAN:
        section(t, title, steps)
    assert "✗ missing" not in t.screen(), t.dump()
    after = t.tally()
    intake = (after[0] - before[0], after[1] - before[1])

    # Cycle 1 on today's date (the dialog is prefilled with today)
    t.send("t")
    t.arrive("Cycle 1 not started")
    t.send("b")
    dialog(t, "Start cycle 1", [], done="DUE TODAY")

    # Preparation: calculate, reconstitute, dilute; the pharmacist double-checks blind
    t.send("p")
    t.arrive("Calculate")
    t.send("c")
    t.arrive("1.35")
    t.send("r")
    t.arrive("Record: ")
    t.settle(0.15)
    t.send("ctrl+s")  # the time is prefilled with now
    t.arrive(re.compile(r"Reconstitut\w* at \d\d:\d\d recorded"))
    t.send("d")
    t.arrive("Record: Diluted")
    t.settle(0.15)
    fill(t, [("skip",), ("choose", 0)])  # vials kept refrigerated
    t.send("ctrl+s")
    t.arrive(re.compile(r"Dilut\w* at \d\d:\d\d recorded"))
    # issue 20: the bag's label code, shown once the dilution is recorded; l shows the label
    BAG["code"] = t.arrive(re.compile(r"Bag label: (B-\d{4}-\d{4}-\d{4})")).group(1)
    t.send("l")
    t.arrive("CYTOTOXIC")
    assert BAG["code"] in t.screen() and NAME in t.screen(), t.dump()
    t.send("enter")
    t.wait_gone("CYTOTOXIC")
    # issue 20: each vial carton's GS1 DataMatrix, from a keyboard-wedge scanner with a symbology
    # prefix (GS as the scanner sends it); the second dialog follows the first by itself
    t.send("b")
    t.arrive("Scan vial carton 1 of 2")
    t.settle(0.15)
    t.scan(f"]d20100300080100011{CARTON_EXPIRY}10{CARTON_LOTS[0]}\x1d21S1")
    t.arrive("Scan vial carton 2 of 2")
    t.settle(0.15)
    t.scan(f"]d20100300080100011{CARTON_EXPIRY}10{CARTON_LOTS[1]}\x1d21S2")
    t.arrive("All 2 cartons are")
    t.send("v")
    t.arrive("Independent double-check")
    t.settle(0.15)
    t.send("phil", "enter", PIN["phil"], "enter", "1.69", "enter", "0.8", "enter", "1.35", "enter", "5.4", "ctrl+s")
    t.arrive("Verified: phil agrees with nina")
    t.send("escape")
    t.arrive("DUE TODAY")

    # The baseline ECG and electrolytes (PRE-6, before the first dose), from the pre-dose check
    t.send("c")
    t.arrive("Pre-dose check C1 D1")
    t.send("e")
    dialog(t, "Baseline ECG and electrolytes (PRE-6)", [("choose", 0)])
    t.send("e")
    dialog(t, "Baseline ECG and electrolytes (PRE-6)", [("choose", 1)])
    t.send("escape")
    t.arrive("DUE TODAY")
    return intake


def nurse_to_proceed(t: Tty) -> tuple[tuple[int, int], tuple[int, int]]:
    """The nurse at the bedside on the prepared dose: sign in, open the patient, the pre-dose
    check to PROCEED (wristband, premedication, checklist, verdict). Ends on the timeline.
    Returns the tallies before and after the premedication."""
    sign_in(t, "nina", PIN["nina"], NAMES["nina"])
    t.arrive(MRN)
    t.send("enter")
    t.arrive("Consent")
    t.send("t")
    t.arrive("DUE TODAY")
    t.send("c")
    t.arrive("Pre-dose check C1 D1")
    t.send("n")  # the wristband scanned; the name and DOB the patient states match the record
    t.arrive("Confirm both identifiers")
    t.settle(0.15)
    t.scan("]d28018" + WRISTBAND)  # the GS1 wristband, the scanner adding its AIM prefix: matched with its GSRN (issue 20)
    t.send("m")  # type-to-select: "match the record"
    t.arrive("match the record")
    t.send("ctrl+s")
    t.wait_gone("Confirm both identifiers")
    t.settle(0.15)
    premed_start = t.tally()
    t.send("m")  # the site's protocol is offered (PRE-2: taken only with ctrl+o)
    t.arrive("Premedication given (PRE-1)")
    t.settle(0.15)
    t.send("ctrl+o")
    t.arrive("dexamethasone")
    t.send("ctrl+s")
    t.arrive("Premedication recorded")
    premed_end = t.tally()
    t.send("k")
    t.arrive("equipment available?")
    t.settle(0.15)
    t.send("y")  # type-to-select: Yes
    t.arrive("Yes")
    t.send("ctrl+s")
    t.wait_gone("equipment available?")
    t.settle(0.15)
    t.arrive(re.compile(r"PROCEED\s+Pre-dose check"))
    t.send("v")
    t.arrive(re.compile("Verdict PROCEED recorded", re.I))
    t.send("escape")
    t.arrive("DUE TODAY")
    return premed_start, premed_end


def open_monitor(t: Tty, user: str = "nina") -> None:
    """Sign in, open the one patient, its timeline and the dose's infusion monitor."""
    sign_in(t, user, PIN[user], NAMES[user])
    t.arrive(MRN)
    t.settle(0.2)
    t.send("enter")
    t.arrive("Consent")
    t.send("t")
    t.arrive("C1")
    t.settle(0.2)
    t.send("i")
    t.arrive("Infusion monitor")
    t.settle(0.2)


VITALS = ("36.8", "78", "122", "76", "16", "98")


def record_vitals(t: Tty) -> None:
    t.send("v")
    dialog(t, "Vital signs", [("type", v) for v in VITALS])


def start_infusion(t: Tty, wrong: str = "") -> None:
    """s, then the bag label scanned (issue 20); ``wrong``: first a label that is refused."""
    t.settle(0.15)
    t.send("s")
    t.arrive("Scan the bag label")
    t.settle(0.15)
    if wrong:
        t.scan(wrong)
        t.arrive(re.compile("Wrong bag|not a Bedside bag code"))
        assert "INFUSING" not in t.screen(), t.dump()  # the refused code stays, selected: the next scan replaces it
    t.scan("]C0" + BAG["code"].replace("-", ""))  # a Code 128 label, the scanner adding its AIM prefix
    t.arrive("INFUSING")
