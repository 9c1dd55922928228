"""What is left to do before a dose (issue 17): every missing or stale finding becomes one item of
one kind, in the order the bedside does them; what no form clears is listed apart; a dose walked
through its items ends with nothing left but the verdict."""

from __future__ import annotations

from bedside.core import predose as pd
from bedside.core import preparation as prep
from bedside.core.predose import TodoKind as K

from .test_commands import HARTMAN, OSEI, identity, premed_time, started
from .test_premeds import ALL_THREE, NAKAMURA


def check(key: str, result: str, **kw) -> pd.Check:
    return pd.Check(key=key, name=kw.pop("name", key), result=result, **kw)


def kinds(todo: pd.Todo) -> list[str]:
    return [i.kind for i in todo.items]


def test_the_items_come_in_the_order_they_are_done_whatever_the_order_of_the_findings():
    found = (
        check("premed.antihistamine", "hold", rule_ids=("PRE-1",), overridable_by="prescriber"),
        check("emergency", "info", value="not answered", rule_ids=("PRE-10",)),
        check("weight.change", "missing", value="no calculated dose for this dose", rule_ids=("CONV-WT-1",)),
        check("gate.cd22", "needs_confirmation", name="CD22 positive", rule_ids=("IND-5",), overridable_by="prescriber"),
        check("gate.ecg", "hold", rule_ids=("PRE-6",), overridable_by="prescriber"),
        check("pre3.blasts", "missing", rule_ids=("PRE-3",)),
        check("lab.anc", "missing", value="none recorded", rule_ids=("PRE-4", "CONV-LAB-5")),
        check("gate.pregnancy", "missing", rule_ids=("PRE-7",), overridable_by="prescriber"),
        check("gate.consent", "missing", rule_ids=("PRE-8",)),
        check("identity", "missing"),
        check("lab.alp", "info", value="not recorded for this dose"),  # shown only: nothing to do
        check("lab.platelets", "pass", value="Platelets 110 × 10⁹/L"),
    )
    todo = pd.todo(pd.Verdict(pd.overall_of(found), found))
    assert kinds(todo) == [
        K.IDENTITY, K.CONSENT, K.REPRODUCTIVE, K.LABS, K.BLASTS, K.ECG, K.CONFIRM, K.PREPARATION, K.CHECKLIST, K.PREMED
    ]  # fmt: skip
    assert kinds(todo) == [k for k in pd.TASK_ORDER if k in kinds(todo)]
    assert todo.blocked == () and not todo.done
    by = {i.kind: i for i in todo.items}
    assert by[K.LABS].text == "labs for this dose: ANC" and by[K.LABS].rule_ids == ("PRE-4", "CONV-LAB-5")
    assert by[K.CONFIRM].text == "a prescriber confirms or overrides: CD22 positive" and by[K.CONFIRM].checks == ("gate.cd22",)
    assert by[K.PREMED].text == "premedication: antihistamine" and by[K.PREMED].rule_ids == ("PRE-1",)
    assert by[K.PREPARATION].text == "calculate the dose"


def test_a_weight_missing_after_the_calculation_is_weighed_and_a_change_is_recalculated():
    weigh = check("weight.change", "missing", value="no weight recorded for this dose (latest none)", rule_ids=("CONV-WT-1",))
    changed = check("weight.change", "hold", value="72 kg vs 60 kg used: 20.00%", rule_ids=("CONV-WT-1",))
    assert kinds(pd.todo(pd.Verdict("HOLD", (weigh,)))) == [K.WEIGHT]
    (item,) = pd.todo(pd.Verdict("HOLD", (changed,))).items
    assert item.kind == K.PREPARATION and item.text == "recalculate the dose and double-check it again"


def test_label_holds_the_schedule_and_a_discontinuation_are_blocked_not_to_do():
    label = check("table2.row1", "hold", name="Table 2 row 1: ANC", rule_ids=("MOD-HEM-1",), override_rule="MOD-HEM-1")
    schedule = check("eligibility.0", "hold", value="C1 D8 is not due before 2025-03-09", rule_ids=("SCHED-3",))
    todo = pd.todo(pd.Verdict("HOLD", (check("identity", "missing"), label, schedule)))
    assert kinds(todo) == [K.IDENTITY]
    assert [i.kind for i in todo.blocked] == [K.SCHEDULE, K.HELD]
    assert todo.blocked[0].text == "not today: C1 D8 is not due before 2025-03-09"
    assert todo.blocked[1].text == "held, no override: Table 2 row 1: ANC" and todo.blocked[1].rule_ids == ("MOD-HEM-1",)
    vod = check("vod", "discontinue", value="VOD G3", rule_ids=("MOD-NH-1",))
    stopped = pd.todo(pd.Verdict("DISCONTINUE", (check("identity", "missing"), label, vod)))
    assert stopped.items == () and [i.kind for i in stopped.blocked] == [K.STOP]  # nothing else is worth doing
    assert "cannot go ahead" in stopped.summary


def test_an_empty_list_says_to_record_the_verdict():
    todo = pd.todo(pd.Verdict("PROCEED", (check("identity", "pass"), check("emergency", "info", value="yes"))))
    assert todo.done and todo.items == todo.blocked == ()
    assert todo.summary == "Nothing left to do: record the verdict (PROCEED)."


def test_stale_labs_say_so():
    stale = check("lab.bilirubin", "missing", value="latest 2025-02-20 is too old: must be after 2025-02-27")
    (item,) = pd.todo(pd.Verdict("HOLD", (stale,))).items
    assert item.text == "labs for this dose (the latest too old): total bilirubin"


def test_a_first_dose_walked_through_its_list_ends_with_the_verdict(demo):
    started(demo)
    view = lambda: demo.view(HARTMAN)  # noqa: E731
    todo = pd.dose_todo(view(), 1, 1)
    assert kinds(todo) == [K.IDENTITY, K.ECG, K.PREPARATION, K.CHECKLIST, K.PREMED]
    steps = [
        (K.IDENTITY, lambda: demo.execute(identity(), "nina")),
        (K.ECG, lambda: (demo.execute(pd.RecordEcg(HARTMAN, demo.today().isoformat()), "nina"),
                         demo.execute(pd.RecordElectrolytes(HARTMAN, demo.today().isoformat()), "nina"))),
        (K.PREPARATION, lambda: demo.execute(prep.CalculateDose(HARTMAN, 1, 1), "phil")),
        (K.CHECKLIST, lambda: demo.execute(pd.RecordChecklist(HARTMAN, 1, 1, True), "nina")),
        (K.PREMED, lambda: demo.execute(pd.RecordPremeds(HARTMAN, 1, 1, ALL_THREE, premed_time(demo)), "nina")),
    ]  # fmt: skip
    for kind, do in steps:
        assert kinds(pd.dose_todo(view(), 1, 1))[0] == kind
        do()
        assert kind not in kinds(pd.dose_todo(view(), 1, 1))
    todo = pd.dose_todo(view(), 1, 1)
    assert todo.done and todo.overall == "PROCEED" and todo.recorded == ""
    demo.execute(pd.RecordVerdict(HARTMAN, 1, 1), "nina")
    todo = pd.dose_todo(view(), 1, 1)
    assert todo.done and todo.recorded.startswith("PROCEED recorded at ") and todo.recorded.endswith(" by nina")
    assert todo.summary == f"Nothing left to do: verdict {todo.recorded}."


def test_a_prescribers_override_takes_the_item_off_the_list(demo):
    started(demo, OSEI)
    item = pd.dose_todo(demo.view(OSEI), 1, 1).item(K.CONFIRM)
    assert item is not None and "pre3.blasts" in item.checks and "PRE-3" in item.rule_ids
    demo.execute(pd.OverrideCheck(OSEI, 1, 1, "pre3.blasts", "hydroxyurea started; count falling"), "priya")
    item = pd.dose_todo(demo.view(OSEI), 1, 1).item(K.CONFIRM)
    assert item is None or "pre3.blasts" not in item.checks


def test_a_dose_given_has_nothing_left_to_do(demo):
    todo = pd.dose_todo(demo.view(NAKAMURA), 1, 8)
    assert todo.items == todo.blocked == () and todo.given.startswith("C1 D8 was given on ")
    assert "nothing is left to do" in todo.summary


def test_all_the_labs_missing_are_one_short_item_the_findings_name_each():
    found = tuple(check(f"lab.{k}", "missing", value="none recorded") for k in ("anc", "platelets", "bilirubin", "ast", "alt"))
    (item,) = pd.todo(pd.Verdict("HOLD", found)).items
    assert item.text == "labs for this dose" and item.checks == tuple(c.key for c in found)
