"""Steps of the ward walk through the real terminal, shared by the e2e tests."""

from __future__ import annotations

import re

from .tty import Tty

ADMIN = ("root", "Site Admin", "246810")


def choose(t: Tty, index: int) -> None:
    """Pick option ``index`` (0-based, after the blank prompt) of the focused Select."""
    prompts = t.screen().count("choose…")
    for _attempt in range(3):
        t.settle(0.05)
        before = t.screen()
        t.send("enter")
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
    t.wait_for(re.compile("first admin", re.I))
    user, name, pin = ADMIN
    t.send(user, "enter", name, "enter", pin, "enter", pin, "ctrl+s")
    t.wait_for("0 of 0 patients")


def sign_in(t: Tty, user: str, pin: str, name: str) -> None:
    t.wait_for(re.compile("Sign in", re.I))
    t.wait_for("User name")
    t.send(user, "enter", pin, "enter")
    t.wait_for(f"{name} (")


def sign_out(t: Tty) -> None:
    t.send("f5")
    t.wait_for(re.compile("Sign in", re.I))
    t.wait_for("User name")


ROLE_INDEX = {"nurse": 0, "pharmacist": 1, "prescriber": 2, "admin": 3}


def add_user(t: Tty, user: str, name: str, role: str, pin: str) -> None:
    """On the Users screen: n, the fields in order (Enter moves on), the role Select, ctrl+s."""
    t.send("n")
    t.wait_for("Add a user")
    t.settle(0.15)
    t.send(user, "enter", name, "enter")
    choose(t, ROLE_INDEX[role])
    t.settle(0.15)
    t.send("tab", pin, "enter", pin, "ctrl+s")
    t.wait_for(f"User {user} added")


def register_patient(t: Tty, name: str, dob: str, mrn: str, sex_index: int = 0) -> None:
    t.send("n")
    t.wait_for("Register a patient")
    t.settle(0.15)
    t.send(name, "enter", dob, "enter", mrn, "enter")
    choose(t, sex_index)
    t.send("ctrl+s")
    t.wait_for(f"Registered {mrn}")
    t.wait_for("Consent")


#: The patient screen's section rows, in order (tui/screens/patient.py: identity, then core.intake.INTAKE_ORDER).
SECTION_ROW = {
    "diagnosis": 1,
    "measurement": 2,
    "labs": 3,
    "blasts": 4,
    "vod_risk": 5,
    "hsct": 6,
    "reproductive": 7,
    "consent": 8,
}


def record_section(t: Tty, section: str, title: str, steps: list, current_row: int) -> int:
    """From the patient screen with the cursor on ``current_row``: go to the section, Enter, fill, ctrl+s.

    ``steps`` are ("type", text) — a text field, Enter moves on; ("choose", i) — a Select, then Tab;
    ("skip",) — Tab past an optional field. Returns the row the cursor is on afterwards."""
    row = SECTION_ROW[section]
    t.send(*(["down"] * (row - current_row) if row >= current_row else ["up"] * (current_row - row)))
    t.send("enter")
    t.wait_for(f"{title} — ")
    t.settle(0.15)
    for step in steps:
        if step[0] == "type":
            t.send(step[1], "enter")
        elif step[0] == "choose":
            choose(t, step[1])
            t.settle(0.1)
            t.send("tab")
        else:
            t.send("tab")
    if steps and steps[-1][0] == "type":  # as in dialog(): the last value shown before ctrl+s
        t.wait_for(steps[-1][1])
    t.settle(0.15)
    t.send("ctrl+s")
    t.wait_for(f"{title} recorded")
    return row


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
    t.wait_for(title)
    t.settle(0.15)
    fill(t, steps)
    # Under load (2 cores, other suites running) a ctrl+s right behind the last typed value was once
    # handled before that value landed in its field ("required" under a field that showed it): let the
    # typed text show and the app go quiet before saving.
    if steps and steps[-1][0] == "type":
        t.wait_for(steps[-1][1])
    t.settle(0.15)
    t.send("ctrl+s")
    if done:
        t.wait_for(done)
    else:
        t.wait_gone(title)


# -- the ward walk, through the real terminal ---------------------------------------------------
MRN = "MRN-7001"
NAME = "OSEI, Ama"
DOB = "1980-05-17"
STAFF = (
    ("nina", "Nina Nurse", "nurse", "1111"),
    ("phil", "Phil Pharm", "pharmacist", "2222"),
    ("priya", "Priya Presc", "prescriber", "3333"),
)
PIN = {user: pin for user, _n, _r, pin in STAFF}
NAMES = {user: name for user, name, _r, _p in STAFF}


def intake_plan(today: str) -> list:
    return [
        ("diagnosis", "Diagnosis", [("choose", 0), ("choose", 0), ("type", "none known")]),  # relapsed, CD22 positive
        ("measurement", "Height and weight", [("type", "165"), ("type", "62"), ("type", today)]),
        (
            "labs",
            "Labs",
            [
                ("type", today),
                ("type", "1.5"),
                ("type", "100"),
                ("choose", 1),
                ("choose", 0),
                ("type", "0.8"),
                ("type", "1.2"),
                ("type", "30"),
                ("type", "40"),
                ("type", "30"),
                ("type", "40"),
            ],
        ),  # no transfusion, mg/dL
        ("blasts", "Peripheral blasts", [("type", today), ("type", "5"), ("type", "10")]),
        ("vod_risk", "VOD risk factors", []),
        ("hsct", "HSCT plan", [("choose", 1)]),  # not planned
        (
            "reproductive",
            "Reproductive status",
            [("choose", 1), ("skip",), ("skip",), ("choose", 1)],
        ),  # no potential, not breastfeeding
        ("consent", "Consent", [("choose", 0), ("type", today)]),
    ]


def walk_to_ready(t: Tty, today: str) -> None:
    """First admin → three staff → the nurse registers a patient with full intake, starts cycle 1,
    prepares the dose (calculate, reconstitute, dilute), the pharmacist double-checks it blind and
    the pre-dose check says PROCEED. Ends on the timeline with the dose DUE TODAY."""
    create_first_admin(t)
    t.send("u")
    t.wait_for("Users")
    for user, name, role, pin in STAFF:
        add_user(t, user, name, role, pin)
    for who in ("Nurse", "Pharmacist", "Prescriber"):
        assert who in t.screen(), t.dump()
    t.send("escape")
    sign_out(t)
    # each new user can sign in
    for user in ("priya", "phil"):
        sign_in(t, user, PIN[user], NAMES[user])
        sign_out(t)

    sign_in(t, "nina", PIN["nina"], NAMES["nina"])
    register_patient(t, NAME, DOB, MRN)
    row = 0
    for section, title, steps in intake_plan(today):
        row = record_section(t, section, title, steps, row)
    assert "✗ missing" not in t.screen(), t.dump()

    # Cycle 1 on today's date (the dialog is prefilled with today)
    t.send("t")
    t.wait_for("Cycle 1 not started")
    t.send("b")
    dialog(t, "Start cycle 1", [], done="DUE TODAY")

    # Preparation: calculate, reconstitute, dilute; the pharmacist double-checks blind
    t.send("p")
    t.wait_for("Calculate")
    t.send("c")
    t.wait_for("1.35")
    t.send("r")
    t.wait_for("Record: ")
    t.settle(0.15)
    t.send("ctrl+s")  # the time is prefilled with now
    t.wait_for(re.compile(r"Reconstitut\w* at \d\d:\d\d recorded"))
    t.send("d")
    t.wait_for("Record: Diluted")
    t.settle(0.15)
    fill(t, [("skip",), ("choose", 0)])  # vials kept refrigerated
    t.send("ctrl+s")
    t.wait_for(re.compile(r"Dilut\w* at \d\d:\d\d recorded"))
    t.send("v")
    t.wait_for("Independent double-check")
    t.settle(0.15)
    t.send("phil", "enter", PIN["phil"], "enter", "1.69", "enter", "0.8", "enter", "1.35", "enter", "5.4", "ctrl+s")
    t.wait_for("Verified: phil agrees with nina")
    t.send("escape")
    t.wait_for("DUE TODAY")

    # Pre-dose check to PROCEED
    t.send("c")
    t.wait_for("Pre-dose check C1 D1")
    t.send("n")
    dialog(t, "Confirm both identifiers", [("type", NAME), ("type", DOB), ("type", MRN), ("choose", 0)])
    for i, (drug, dose) in enumerate([("dexamethasone", "8 mg iv"), ("paracetamol", "1 g po"), ("cetirizine", "10 mg po")]):
        t.send("m")
        dialog(t, "Premedication given (PRE-1)", [("choose", i), ("type", drug), ("type", dose)])
    t.send("e")
    dialog(t, "Baseline ECG and electrolytes (PRE-6)", [("choose", 0)])
    t.send("e")
    dialog(t, "Baseline ECG and electrolytes (PRE-6)", [("choose", 1)])
    t.send("k")
    dialog(t, "equipment available?", [("choose", 0)])
    t.wait_for(re.compile(r"PROCEED\s+Pre-dose check"))
    t.send("v")
    t.wait_for(re.compile("Verdict PROCEED recorded", re.I))
    t.send("escape")
    t.wait_for("DUE TODAY")


def open_monitor(t: Tty, user: str = "nina") -> None:
    """Sign in, open the one patient, its timeline and the dose's infusion monitor."""
    sign_in(t, user, PIN[user], NAMES[user])
    t.wait_for(MRN)
    t.settle(0.2)
    t.send("enter")
    t.wait_for("Consent")
    t.send("t")
    t.wait_for("C1")
    t.settle(0.2)
    t.send("i")
    t.wait_for("Infusion monitor")
    t.settle(0.2)


VITALS = ("36.8", "78", "122", "76", "16", "98")


def record_vitals(t: Tty) -> None:
    t.send("v")
    dialog(t, "Vital signs", [("type", v) for v in VITALS])


def start_infusion(t: Tty) -> None:
    t.send("s")
    t.wait_for("INFUSING")
