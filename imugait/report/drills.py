"""Findings → drills → a weekly programme, and when to see a professional instead.

Everything clinical (which drill for which finding, doses, sessions per week, the emphasis on the
side with the finding, referral triggers) comes from drills.json and drill_rules.json; this module
only applies those rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from imugait.conventions import Side
from imugait.report.drill_data import Drill, DrillCatalogue, DrillRules
from imugait.report.findings import Finding
from imugait.report.thresholds import Severity


@dataclass(frozen=True)
class PlannedDrill:
    drill: Drill
    findings: tuple[str, ...]
    """Finding codes this drill was chosen for."""
    emphasis_side: Side | None
    """The side that starts and does the upper end of the set range (None: both alike)."""
    dose_text: str


@dataclass(frozen=True)
class Referral:
    trigger_id: str
    kind: str
    """``refer`` (see a professional before the drills) or ``consider``."""
    text: str
    findings: tuple[str, ...]
    holds_drills: bool = False


@dataclass(frozen=True)
class Programme:
    drills: tuple[PlannedDrill, ...]
    sessions_per_week: int
    sessions_per_week_range: tuple[int, int]
    schedule: dict[str, tuple[str, ...]]
    """Day → drill ids of that day's session, in the order to do them."""
    daily: tuple[str, ...]
    """Drill ids that apply every day (posture and habits)."""
    notes: tuple[str, ...]
    progression: tuple[str, ...]
    referrals: tuple[Referral, ...]
    always_see_a_professional_when: tuple[str, ...]
    on_hold: bool
    """True when a referral must come first (pain): the drills wait until a professional agrees."""
    unaddressed: tuple[str, ...] = ()
    """Finding codes with neither drills nor a referral (a data-file gap; tests keep it empty)."""

    @property
    def must_refer(self) -> bool:
        return any(r.kind == "refer" for r in self.referrals)


def referrals_for(findings: Iterable[Finding], rules: DrillRules) -> tuple[list[Referral], list[str]]:
    """Referrals the findings trigger, and the standing 'see a professional when …' list (every
    trigger except the 'consider' ones, whether it fired or not)."""
    findings = list(findings)
    out, standing = [], []
    for trigger in rules.triggers:
        if trigger.kind != "consider":
            standing.append(trigger.text)
        if trigger.kind == "always_listed":
            continue
        hits = [f for f in findings if f.code in trigger.findings
                and (trigger.min_severity is None or f.severity.rank >= trigger.min_severity.rank)]
        if hits:
            out.append(Referral(trigger.id, trigger.kind, trigger.text, tuple(sorted({f.code for f in hits})),
                                trigger.holds_drills))
    return out, standing


def _dose_text(drill: Drill, emphasis: Side | None) -> str:
    sets = drill.dose.get("sets")
    if emphasis is None or not drill.per_side or not sets or sets[0] == sets[1]:
        return drill.dose["text"]
    return (f"{drill.dose['text']}; {emphasis.value} side first with {sets[1]} sets, "
            f"{emphasis.other.value} side {sets[0]} sets")


def plan_programme(findings: Iterable[Finding], catalogue: DrillCatalogue, rules: DrillRules) -> Programme:
    """Choose drills for the findings and lay them out over a week."""
    findings = list(findings)
    referrals, standing = referrals_for(findings, rules)
    referred = {code for r in referrals for code in r.findings}
    chosen: dict[str, list[Finding]] = {}
    unaddressed = []
    for f in findings:
        rule = rules.rules.get(f.code)
        if rule is None:
            if f.code not in referred:
                unaddressed.append(f.code)
            continue
        if f.severity is Severity.REFER:  # a red flag is answered by a professional, not by drills
            continue
        for drill_id in rule.drills:
            chosen.setdefault(drill_id, []).append(f)
    planned = []
    for drill_id, why in chosen.items():
        sides = {f.side for f in why}
        drill = catalogue.drills[drill_id]
        one_side = len(sides) == 1 and None not in sides
        emphasis = next(iter(sides)) if one_side and drill.per_side else None
        planned.append(PlannedDrill(drill, tuple(dict.fromkeys(f.code for f in why)), emphasis, _dose_text(drill, emphasis)))
    p = rules.programme
    order = {c: i for i, c in enumerate(p["category_order"])}
    session = [d for d in planned if d.drill.category in order]
    session.sort(key=lambda d: order[d.drill.category])  # stable: keeps the rules' priority within a category
    per_week = int(p["start_sessions_per_week"])
    days = p["session_days"][str(per_week)]
    schedule = {day: tuple(d.drill.id for d in session) for day in days} if session else {}
    daily = tuple(d.drill.id for d in planned if d.drill.category in p["daily_categories"])
    notes = [p["start_note"], p["both_sides_note"]]
    if any(d.emphasis_side for d in planned):
        notes.append(p["emphasis"]["text"])
    if daily:
        notes.append(p["daily_note"])
    on_hold = any(r.holds_drills for r in referrals)
    return Programme(
        drills=tuple(session + [d for d in planned if d not in session]),
        sessions_per_week=per_week, sessions_per_week_range=tuple(p["sessions_per_week"]),
        schedule=schedule, daily=daily, notes=tuple(notes) if planned else (),
        progression=tuple(p["progression"]) if planned else (), referrals=tuple(referrals),
        always_see_a_professional_when=tuple(standing), on_hold=on_hold, unaddressed=tuple(unaddressed),
    )
