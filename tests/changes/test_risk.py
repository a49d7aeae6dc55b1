"""Risk scoring, SPEC §5 made exact: impact × likelihood, each 1–5.

The expected scores below are worked out by hand from the spec, not by the code under test:
impact = host points (0–1 → 1, 2–5 → 2, 6–20 → 3, 21–50 → 4, 51+ → 5) + the worst tier's bonus
(critical +2, else high +1) + 1 in business hours (Mon–Fri [08:00, 18:00) UTC at the planned
start), clamped to 5; likelihood = standard 1 / normal 2 / emergency 4, −1 when a change of the
same source_type and change_type was closed before, clamped to 1–5; level low 1–4, medium 5–9,
high 10–16, critical 17–25.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from changes import risk, services, workflows
from changes.models import Change
from incidents import services as incident_services
from itsm.models import Host
from tests.changes.factories import PLANS, in_progress_change, make_change, make_group, make_hosts, window
from tests.problems.factories import approved_problem

pytestmark = pytest.mark.django_db

SATURDAY = datetime(2027, 1, 9, 10, 0, tzinfo=UTC)
SUNDAY = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
MONDAY = datetime(2027, 1, 4, tzinfo=UTC)
FRIDAY = datetime(2027, 1, 8, tzinfo=UTC)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


# (id, direct hosts, groups as (tier, hosts in it), type, planned start, expected score, level)
CASES = [
    # Host counts at each boundary (normal: likelihood 2; a Saturday: no business hours).
    ("no-hosts", 0, [], "normal", SATURDAY, 2, "low"),
    ("1-host", 1, [], "normal", SATURDAY, 2, "low"),
    ("2-hosts", 2, [], "normal", SATURDAY, 4, "low"),
    ("5-hosts", 5, [], "normal", SATURDAY, 4, "low"),
    ("6-hosts", 6, [], "normal", SATURDAY, 6, "medium"),
    ("20-hosts", 20, [], "normal", SATURDAY, 6, "medium"),
    ("21-hosts", 21, [], "normal", SATURDAY, 8, "medium"),
    ("50-hosts", 50, [], "normal", SATURDAY, 8, "medium"),
    ("51-hosts", 51, [], "normal", SATURDAY, 10, "high"),
    # Hosts of host groups count, added to the named ones (medium tier: no bonus).
    ("3-named-plus-group-of-3", 3, [("medium", 3)], "normal", SATURDAY, 6, "medium"),
    ("group-of-51", 0, [("low", 51)], "standard", SATURDAY, 5, "medium"),
    # Tiers: the worst tier's bonus, never a sum.
    ("critical-group", 0, [("critical", 0)], "normal", SATURDAY, 6, "medium"),
    ("high-group", 0, [("high", 0)], "normal", SATURDAY, 4, "low"),
    ("critical-and-high-is-plus-2-not-3", 0, [("critical", 0), ("high", 0)], "normal", SATURDAY, 6, "medium"),
    ("two-high-groups-is-plus-1", 0, [("high", 0), ("high", 0)], "normal", SATURDAY, 4, "low"),
    ("low-and-medium-no-bonus", 0, [("low", 0), ("medium", 0)], "normal", SATURDAY, 2, "low"),
    # Business hours: [08:00, 18:00) UTC, Monday to Friday.
    ("monday-07-59", 0, [], "normal", at(MONDAY, 7, 59), 2, "low"),
    ("monday-08-00", 0, [], "normal", at(MONDAY, 8), 4, "low"),
    ("friday-17-59", 0, [], "normal", at(FRIDAY, 17, 59), 4, "low"),
    ("friday-18-00", 0, [], "normal", at(FRIDAY, 18), 2, "low"),
    ("saturday-noon", 0, [], "normal", at(SATURDAY, 12), 2, "low"),
    ("sunday-noon", 0, [], "normal", SUNDAY, 2, "low"),
    # Types.
    ("standard", 0, [], "standard", SATURDAY, 1, "low"),
    ("emergency", 0, [], "emergency", SATURDAY, 4, "low"),
    ("emergency-21-hosts", 21, [], "emergency", SATURDAY, 16, "high"),
    # Impact clamped to 5: 51 hosts (5) + critical (2) + business hours (1) = 8 → 5.
    ("impact-clamped", 51, [("critical", 0)], "emergency", at(MONDAY, 9), 20, "critical"),
    ("impact-clamped-normal", 51, [("critical", 0)], "normal", at(MONDAY, 9), 10, "high"),
    ("6-hosts-high-tier-business-hours", 6, [("high", 0)], "normal", at(MONDAY, 9), 10, "high"),
]


def _change(by, direct: int, groups, change_type: str, start: datetime, *, prefix: str = "") -> Change:
    hosts = make_hosts(direct, prefix=f"{prefix}named") if direct else []
    host_groups = [make_group(f"{prefix}G{n}", tier=tier, hosts=count) for n, (tier, count) in enumerate(groups)]
    return make_change(
        by=by, change_type=change_type, planned_start=start, planned_end=start + timedelta(hours=1),
        hosts=hosts, host_groups=host_groups,
    )  # fmt: skip


@pytest.mark.parametrize(("direct", "groups", "change_type", "start", "score", "level"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])  # fmt: skip
def test_risk_score_follows_the_spec_table(agent, direct, groups, change_type, start, score, level):
    change = _change(agent, direct, groups, change_type, start)
    assert (change.risk_score, change.risk_level) == (score, level)


def test_a_host_in_a_named_group_is_counted_once(agent):
    group = make_group("Web", hosts=3)
    change = make_change(
        by=agent, hosts=list(Host.objects.filter(host_group=group)[:2]), host_groups=[group],
        planned_start=SATURDAY, planned_end=SATURDAY + timedelta(hours=1),
    )  # fmt: skip
    # 3 distinct hosts → 2; normal → 2.
    assert change.risk_score == 4
    assert change.risk_factors[0] == {"factor": "affected_hosts", "value": 3, "contribution": 2}


def test_the_tier_of_a_named_hosts_group_counts(agent):
    critical = make_group("Payments", tier="critical", hosts=1)
    change = make_change(
        by=agent, hosts=list(critical.hosts.all()), planned_start=SATURDAY,
        planned_end=SATURDAY + timedelta(hours=1),
    )  # fmt: skip
    # 1 host → 1, critical → +2: impact 3; normal → 2.
    assert change.risk_score == 6


def test_without_a_planned_start_business_hours_are_judged_now(agent):
    change = make_change(by=agent)
    assert risk.score(change, now=at(MONDAY, 10)).score == 4  # (1 + 1) × 2
    assert risk.score(change, now=at(MONDAY, 19)).score == 2  # 1 × 2


def _closed(by, approver, **data) -> Change:
    change = in_progress_change(by=by, approver=approver, **data)
    return workflows.change_complete(change=change, actor=by)


def test_a_closed_change_of_the_same_source_and_type_lowers_the_likelihood(agent, manager):
    earlier = _closed(agent, manager)
    assert earlier.state == "closed"
    change = _change(agent, 6, [], "normal", SATURDAY)
    # 6 hosts → 3; normal 2 − 1 (repeat) = 1.
    assert (change.risk_score, change.risk_level) == (3, "low")
    assert {"factor": "repeat", "value": True, "contribution": -1} in change.risk_factors


def test_likelihood_never_falls_below_one(agent, manager):
    standard = make_change(by=agent, change_type="standard")
    workflows.change_complete(change=workflows.change_start(change=standard, actor=agent), actor=agent)
    change = _change(agent, 0, [], "standard", SATURDAY)
    # standard 1 − 1 = 0 → clamped to 1; impact 1.
    assert change.risk_score == 1
    assert {"factor": "likelihood", "value": 0, "contribution": 1} in change.risk_factors


def test_emergency_repeat_is_three(agent, manager):
    incident = incident_services.incident_create(actor=agent, data={"short_description": "Down"})
    earlier = services.change_from_incident(incident=incident, actor=agent, data={})
    earlier = workflows.change_complete(change=workflows.change_start(change=earlier, actor=agent), actor=agent)
    workflows.change_record_pir(change=earlier, actor=agent, pir_outcome="successful", pir_lessons="Fine.")
    other = incident_services.incident_create(actor=agent, data={"short_description": "Down again"})
    change = services.change_from_incident(incident=other, actor=agent, data={"planned_start": SATURDAY,
                                                                               "planned_end": SUNDAY})
    # impact 1 × (emergency 4 − 1) = 3.
    assert change.risk_score == 3


@pytest.mark.parametrize("what", ["other-source-type", "other-change-type", "not-closed"])
def test_only_a_closed_change_of_the_same_source_and_type_is_a_repeat(agent, manager, lead, what):
    if what == "other-change-type":
        standard = make_change(by=agent, change_type="standard")
        workflows.change_complete(change=workflows.change_start(change=standard, actor=agent), actor=agent)
    elif what == "not-closed":
        in_progress_change(by=agent, approver=manager)
    else:  # a problem's corrective change (source_type problem), normal and closed
        problem = approved_problem(by=agent, approver=manager)
        corrective = Change.objects.get(problem=problem)
        corrective = services.change_update(change=corrective, actor=agent, data={**window(), **PLANS})
        corrective = workflows.change_submit(change=corrective, actor=agent)
        corrective = workflows.change_approve(change=corrective, actor=lead)
        corrective = workflows.change_complete(change=workflows.change_start(change=corrective, actor=agent), actor=agent)
        assert (corrective.source_type, corrective.change_type, corrective.state) == ("problem", "normal", "closed")
    change = _change(agent, 0, [], "normal", SATURDAY)
    assert change.risk_score == 2  # 1 × 2: no repeat


def test_a_changes_own_closing_is_not_a_repeat(agent, manager):
    closed = _closed(agent, manager, planned_start=SATURDAY + timedelta(days=30),
                     planned_end=SATURDAY + timedelta(days=30, hours=1))  # fmt: skip
    assert risk.score(closed).factors[5] == {"factor": "repeat", "value": False, "contribution": 0}


def test_the_score_is_three_queries_whatever_the_number_of_hosts(agent, django_assert_num_queries):
    small = _change(agent, 1, [("high", 1)], "normal", SATURDAY, prefix="small")
    big = _change(agent, 0, [("high", 300), ("critical", 200)], "normal", SATURDAY, prefix="big")
    for change in (small, big):
        with django_assert_num_queries(3):
            risk.score(change)


def test_risk_is_scored_again_on_every_update(agent):
    change = _change(agent, 0, [], "normal", SATURDAY)
    assert change.risk_score == 2
    change = services.change_update(change=change, actor=agent, data={"hosts": make_hosts(6, prefix="more")})
    assert change.risk_score == 6
    change = services.change_update(change=change, actor=agent, data={"change_type": "emergency"})
    assert (change.risk_score, change.risk_level) == (12, "high")
