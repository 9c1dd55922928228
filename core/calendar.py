"""The treatment calendar as plain text (80 columns): what the timeline shows, for printing."""

from __future__ import annotations

from . import schedule as sch
from .intake import Patient

WORDS = {
    sch.PLANNED: "planned",
    sch.DUE_TODAY: "due today",
    sch.IN_WINDOW: "in window",
    sch.GIVEN: "given",
    sch.HELD: "held",
    sch.OMITTED: "omitted",
    sch.DELAYED: "delayed",
    sch.NOT_APPLICABLE: "n/a",
    sch.OVERDUE: "overdue",
}


def calendar_lines(p: Patient, tl: sch.Timeline) -> list[str]:
    out = [
        f"BESPONSA calendar — {p.name} · MRN {p.mrn} · DOB {p.identity.get('dob', '?')}"[:80],
        f"As of {tl.today} · {tl.status}"[:80],
        "",
        f"{'Dose':8}{'Date':12}{'Window':25}{'Level':10}{'State':10}{'Given by':15}",
        "-" * 80,
    ]
    for c in tl.cycles:
        for d in c.doses:
            window = (
                "—"
                if d.day == 1
                else f"{d.window.start:%m-%d}..{d.window.end:%m-%d}"
                if d.window.end
                else f"from {d.window.start:%m-%d}"
            )
            if d.effective is not None and d.effective != d.window and d.day != 1:
                end = f"{d.effective.end:%m-%d}" if d.effective.end else ""
                window += f" (eff {d.effective.start:%m-%d}..{end})"
            level = f"{d.level}" if d.level is not None else "?"
            given = f"{d.given_by} {d.dose_mg} mg" if d.given_on else ""
            date = d.given_on or d.planned
            out.append(f"{d.label:8}{date!s:12}{window:25}{level:10}{WORDS.get(d.state, d.state):10}{given:15}"[:80])
        ext = f", extended to {c.length_days} days ({c.extension_reason})" if c.extended_length else ""
        out.append(f"  cycle {c.number} ends {c.end}{ext}"[:80])
    out.append("-" * 80)
    out.append(f"Cycles given {tl.cycles_given}; remaining {tl.cycles_remaining} of {tl.cycles_allowed}"[:80])
    for lim in tl.limits:
        out.append(f"  {lim.rule}: {lim.text}"[:80])
    if tl.discontinued:
        out.append(f"DISCONTINUED {tl.discontinued_on}: {tl.discontinued_reason}"[:80])
    return out
