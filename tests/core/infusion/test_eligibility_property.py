"""Issue 15: one answer on every path. Random sequences of events from every engine together
(schedule, pre-dose records, preparation steps, infusion, reactions and grade corrections), each
written through its own decision function: after every step the start gate never opens for a dose
that a recorded fact forbids, every refusal names a rule ID, and the timeline, the pre-dose verdict
and the start gate never disagree about whether a dose may be given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bedside.core import infusion as inf
from bedside.core import intake
from bedside.core import predose as pr
from bedside.core import preparation as prep
from bedside.core import schedule as sch
from bedside.core.clock import FakeClock, local_date
from bedside.core.demo import DEMO_KEY, seed
from bedside.core.eligibility import _RULE_ID, DISCONTINUE, may_give, severe_reactions
from bedside.core.events import Event, NewEvent, iso_utc
from bedside.core.infusion.gate import gate
from bedside.core.service import Ledger
from bedside.core.store import SqliteStore
from tests.core.preparation import builders as pb  # the old builders (test-only)

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
DOSES = ("c1d1", "c1d8", "c1d15", "c2d1")
LABS = {
    "alp": "96",
    "alp_uln": "120",
    "alt": "31",
    "alt_uln": "40",
    "anc": "1.8",
    "ast": "28",
    "ast_uln": "40",
    "bilirubin": "0.8",
    "bilirubin_uln": "1.2",
    "bilirubin_unit": "mg/dL",
    "platelet_transfusion": "no",
    "platelets": "112",
}
ROLES = {"nina": "nurse", "phil": "pharmacist", "priya": "prescriber"}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A demo patient's intake (measurements, labs, consent...) as the record starts."""
    path = tmp_path_factory.mktemp("prop") / "demo.db"
    store = SqliteStore(path)
    seed(store, FakeClock(T0))
    ledger = Ledger(store, FakeClock(T0), DEMO_KEY)
    p = ledger.patient(next(q.id for q in ledger.patients() if q.mrn == "MRN-100231"))
    events = ledger.stream_events(p.stream)
    roles = {**ledger.roles(), **ROLES}
    store.close()
    return p, events, roles


class Record:
    def __init__(self, p, events, roles):
        self.p, self.events, self.roles = p, list(events), roles
        self.now = T0

    @property
    def today(self):
        return local_date(self.now, UTC)

    def put(self, kind: str, data: dict, actor: str = "nina") -> None:
        n = self.events[-1].seq + 1
        v = self.events[-1].version + 1
        ev = Event(n, self.p.stream, v, kind, actor, self.now, data, "0" * 64, f"{n:064x}")
        self.events.append(ev)
        if kind.startswith("intake."):
            self.p = intake.apply(self.p, ev)

    def put_new(self, ev: NewEvent) -> None:
        self.put(ev.kind, ev.data, ev.actor)

    def tl(self):
        return sch.timeline(self.events, self.today, self.roles)

    def prep(self, dose_id):
        return prep.fold(self.events, dose_id)


def act(r: Record, action: tuple) -> None:
    """Apply one action through its decision function; a refusal (ValueError) records nothing."""
    name, dose_id, x = action
    c, d = int(dose_id[1]), int(dose_id[3:])
    try:
        if name == "wait":
            r.now += timedelta(hours=[1, 6, 24, 24 * 3, 24 * 7][x % 5])
        elif name == "start":
            r.put(sch.CYCLE_STARTED, sch.check_start(r.tl(), r.today))
        elif name == "premeds":  # for every dose at once: the verdict can then say PROCEED on any day
            for dc, dd in ((int(x[1]), int(x[3:])) for x in DOSES):
                for cls in ("corticosteroid", "antipyretic", "antihistamine"):
                    r.put(
                        pr.PREMED,
                        {
                            "cycle": dc,
                            "day": dd,
                            "drug_class": cls,
                            "drug": cls,
                            "dose": "std",
                            "given_at": iso_utc(r.now - timedelta(minutes=30)),
                        },
                    )
                r.put(
                    pr.IDENTITY,
                    {"cycle": dc, "day": dd, "method": "typed", "name": r.p.name, "dob": r.p.identity["dob"], "mrn": r.p.mrn},
                )
                r.put(pr.CHECKLIST, {"cycle": dc, "day": dd, "emergency_ready": True})
            r.put(pr.ECG, {"date": r.today.isoformat()})
            r.put(pr.ELECTROLYTES, {"date": r.today.isoformat()})
        elif name == "labs":  # a fresh panel after the previous dose (CONV-LAB-5)
            r.put("intake.labs", {**LABS, "collected_on": r.today.isoformat()})
            r.put(
                "intake.measurement",
                {
                    "bsa_formula": "mosteller",
                    "bsa_m2": "1.818118685772619068583692414562150312134",
                    "height_cm": "170",
                    "weight_kg": "70",
                    "measured_on": r.today.isoformat(),
                },
            )
        elif name == "prepare":
            dose = r.tl().dose(c, d)
            if dose is None or dose.level is None:
                return
            r.put_new(
                pb.calculation_event(
                    r.p.stream, "phil", r.now, dose_id, c, d, dose.level, "Table 1", r.p.current("measurement"), "mosteller"
                )
            )
            r.put_new(pb.step_event(r.prep(dose_id), r.p.stream, "phil", "pharmacist", r.now, "reconstituted", r.now))
            r.put_new(pb.step_event(r.prep(dose_id), r.p.stream, "phil", "pharmacist", r.now, "diluted", r.now, "refrigerated"))
            r.put_new(
                pb.verification_event(r.prep(dose_id), r.p.stream, "nina", "nurse", r.now, r.prep(dose_id).calculation.expected())
            )
        elif name == "fridge":
            r.put_new(
                pb.step_event(
                    r.prep(dose_id),
                    r.p.stream,
                    "phil",
                    "pharmacist",
                    r.now,
                    "bag_refrigerated" if x % 2 else "bag_removed",
                    r.now,
                )
            )
        elif name == "infuse":
            g = gate(r.p, r.events, dose_id, r.now, r.today, r.roles, "mosteller")
            if g.blockers:
                return
            r.put(
                inf.INFUSION_STARTED,
                inf.event_data(
                    inf.INFUSION_STARTED,
                    dose_id,
                    r.now,
                    route=g.route,
                    flush_min=g.flush_min,
                    stability_deadline=g.stability_deadline,
                    label_deadline=g.label_deadline,
                ),
            )
            r.put(sch.DOSE_GIVEN, g.given)
        elif name == "react":
            r.put(inf.REACTION_STARTED, inf.event_data(inf.REACTION_STARTED, dose_id, r.now, symptoms="rigors"))
            r.put(
                inf.REACTION_GRADED, inf.event_data(inf.REACTION_GRADED, dose_id, r.now, grade=[1, 2, 3, 4, "anaphylaxis"][x % 5])
            )
        elif name == "correct":
            mon = inf.monitor(r.events, dose_id, r.now)
            if not mon.reactions:
                return
            actor, role = ("priya", "prescriber") if x % 2 else ("nina", "nurse")
            r.put(
                inf.REACTION_GRADED,
                inf.grade_correction_data(mon, mon.reactions[-1].number, 1 + x % 2, "re-assessed", role, r.now),
                actor,
            )
        elif name == "hold":
            r.put(sch.DOSE_HELD, sch.check_hold(r.tl(), c, d, "Grade 2 rash", "non_hematologic"))
        elif name == "recover":
            r.put(sch.DOSE_RECOVERED, sch.check_recover(r.tl(), c, d, r.today))
        elif name == "decide":
            props = [p for p in r.tl().proposals if p.needs_role == "prescriber"]
            if props:
                p = props[x % len(props)]
                r.put(
                    sch.PROPOSAL_DECIDED,
                    sch.check_decide(r.tl(), p.id, "confirmed" if x % 3 else "declined", "judgement", "prescriber"),
                    "priya",
                )
        elif name == "discontinue":
            r.put(sch.TREATMENT_DISCONTINUED, sch.check_discontinue(r.tl(), "severe_infusion_reaction", "", r.today), "priya")
    except (ValueError, KeyError, AttributeError, TypeError):
        return  # refused by its decision function (or not applicable): nothing recorded


ACTIONS = st.tuples(
    st.sampled_from(
        [
            "wait",
            "start",
            "premeds",
            "prepare",
            "fridge",
            "infuse",
            "react",
            "correct",
            "hold",
            "recover",
            "decide",
            "discontinue",
            "infuse",
            "premeds",
            "prepare",
            "labs",
            "labs",
            "wait",
        ]
    ),
    st.sampled_from(DOSES),
    st.integers(0, 30),
)


def check_paths(r: Record) -> None:
    tl = r.tl()
    forbidden = tl.discontinued or bool(severe_reactions(r.events, r.roles))
    for dose_id in DOSES:
        c, d = int(dose_id[1]), int(dose_id[3:])
        el = may_give(r.events, dose_id, r.now, r.today, r.roles)
        g = gate(r.p, r.events, dose_id, r.now, r.today, r.roles, "mosteller")
        for reason in el.reasons:  # every refusal names a rule ID
            assert reason.rule_ids and all(_RULE_ID.fullmatch(i) for i in reason.rule_ids), reason
            assert reason.text and reason.next_step
        if forbidden:  # an event that forbids every later dose
            assert not el.allowed and el.verdict == DISCONTINUE and g.blockers
        dose = tl.dose(c, d)
        if g.blockers == ():  # the gate open ⇒ every path says yes
            assert el.allowed
            assert dose is not None and dose.state in (sch.DUE_TODAY, sch.IN_WINDOW, sch.DELAYED)
            assert pr.verdict(r.p, r.events, tl, c, d, r.today, r.roles).overall == "PROCEED"
        if dose is None or dose.state == sch.GIVEN:
            continue
        verdict = pr.verdict(r.p, r.events, tl, c, d, r.today, r.roles)
        try:
            sch.check_give(tl, c, d, r.today, dose.level if dose.level is not None else "0", "1")
            timeline_says = True
        except ValueError:
            timeline_says = False
        assert timeline_says is el.allowed  # the timeline and the one answer agree
        if not el.allowed:  # … and the verdict and the gate follow it
            assert verdict.overall != "PROCEED" and g.blockers
            if el.verdict == DISCONTINUE:
                assert verdict.overall == "DISCONTINUE"
        if dose.state in (sch.HELD, sch.BLOCKED):
            assert not el.allowed and g.blockers


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(ACTIONS, min_size=1, max_size=25))
@example(
    [
        ("premeds", "c1d1", 0),
        ("labs", "c1d1", 0),
        ("prepare", "c1d1", 0),
        ("infuse", "c1d1", 0),
        ("wait", "c1d1", 2),
        ("labs", "c1d1", 0),
        ("prepare", "c1d8", 0),
        ("premeds", "c1d8", 0),
        ("wait", "c1d1", 3),
        ("wait", "c1d1", 2),
        ("wait", "c1d1", 2),
        ("labs", "c1d1", 0),
        ("premeds", "c1d8", 0),
        ("react", "c1d1", 2),
        ("correct", "c1d1", 1),
        ("hold", "c1d8", 0),
        ("wait", "c1d1", 4),
        ("wait", "c1d1", 4),
        ("recover", "c1d8", 0),
        ("decide", "c1d1", 1),
        ("decide", "c1d1", 1),
    ]
)
def test_every_path_agrees_after_every_event(base, actions):
    r = Record(*base)
    act(r, ("start", "c1d1", 0))
    for a in actions:
        act(r, a)
        check_paths(r)


def test_the_property_sees_a_forbidding_reaction(base):
    """The generator can reach the case the property guards: a dose given, then a Grade 3 reaction."""
    r = Record(*base)
    for a in [("start", "c1d1", 0), ("premeds", "c1d1", 0), ("prepare", "c1d1", 0), ("infuse", "c1d1", 0)]:
        act(r, a)
    assert r.tl().dose(1, 1).state == sch.GIVEN
    act(r, ("react", "c1d1", 2))  # Grade 3
    r.now += timedelta(days=7)
    check_paths(r)
    assert may_give(r.events, "c1d8", r.now, r.today, r.roles).verdict == DISCONTINUE
    act(r, ("correct", "c1d1", 0))  # a nurse's lower grade: does not lift it
    assert may_give(r.events, "c1d8", r.now, r.today, r.roles).verdict == DISCONTINUE
    act(r, ("correct", "c1d1", 1))  # a prescriber's correction with a reason: lifts it
    assert may_give(r.events, "c1d8", r.now, r.today, r.roles).verdict != DISCONTINUE
    check_paths(r)
