"""Escalation: policies and stages applied to incidents, SLA breaches, manual escalation.

An incident's escalation state is five columns on the incident (``escalation_policy``,
``escalation_stage`` — the order of the stage it is at —, ``escalation_stage_started_at``,
``escalation_acknowledged_at``, ``escalation_next_at``). Rules (SPEC §5, issue #4):

* A new incident gets its organisation's default policy, else the account-wide default, and
  enters the first stage.
* Entering a stage notifies its targets (its users, its group's members, whoever is on call in
  its schedule) and assigns the incident to its group and on-call person, if it names them.
* The sweep moves an incident whose stage timed out to the next stage — unless that stage
  requires acknowledgment and was acknowledged. Only new and in-progress incidents move.
* Acknowledging (the incident workflow) records the stage's acknowledgment.
* Manual escalation and each SLA breach raise ``escalation_level`` by one; manual escalation
  also moves to the next stage when there is one. Each is journaled and notified.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from escalation.models import EscalationPolicy, EscalationStage
from itsm import audit
from itsm.models import GroupMembership, Work
from notifications import services as notify
from notifications.models import Kind
from notifications.services import Message
from oncall.routing import on_call_assignee, schedule_assignee

MOVING_STATES = ("new", "in_progress")
BATCH = 500

ESCALATION_FIELDS = (
    "escalation_stage",
    "escalation_stage_started_at",
    "escalation_acknowledged_at",
    "escalation_next_at",
    "escalation_time_left",
)
# Timer bookkeeping, not journaled (the stage and its moves are).
TIMER_FIELDS = frozenset(
    {
        "escalation_stage_started_at",
        "escalation_next_at",
        "escalation_acknowledged_at",
        "escalation_time_left",
    }
)


def policy_for(incident) -> EscalationPolicy | None:
    """The organisation's default policy, else the account-wide default (active ones only)."""
    defaults = EscalationPolicy.objects.filter(is_active=True, is_default=True)
    if incident.organisation_id is not None:
        found = defaults.filter(organisation_id=incident.organisation_id).first()
        if found is not None:
            return found
    return defaults.filter(organisation__isnull=True).first()


def stages_of(policy: EscalationPolicy | None) -> list[EscalationStage]:
    if policy is None:
        return []
    return list(
        policy.stages.order_by("order")
        .select_related("assignment_group", "schedule")
        .prefetch_related("users")
    )


def _next(stages, order: int | None) -> EscalationStage | None:
    if order is None:
        return stages[0] if stages else None
    return next((s for s in stages if s.order > order), None)


def _stage(stages, order: int | None) -> EscalationStage | None:
    return next((s for s in stages if s.order == order), None)


def _memo(memo: dict | None, key, compute):
    """``compute()``, remembered in ``memo`` for the rest of a sweep (None: not remembered).
    A sweep moving thousands of incidents into the same stages asks the same questions (who
    is on call, who is in the group) once, and reuses the same user objects, whose roles are
    then read once."""
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _targets(incident, stage: EscalationStage, person, memo: dict | None = None) -> list:
    people = list(stage.users.all())
    if person is not None:
        people.append(person)
    if stage.assignment_group_id is not None:
        group_id = stage.assignment_group_id
        people.extend(_memo(memo, ("members", group_id), lambda: notify.group_members(group_id)))
    return people


def _enter(
    incident,
    policy,
    stages,
    stage: EscalationStage,
    at: datetime,
    *,
    assign: bool = True,
    memo: dict | None = None,
):
    """Move ``incident`` (locked) to ``stage``: assign, set the state, journal, notify."""
    changes: dict = {}
    # Whoever is on call in the stage's schedule is one of its targets, assigned or not.
    on_call = (
        _memo(memo, ("schedule", stage.schedule_id), lambda: schedule_assignee(stage.schedule, at))
        if stage.schedule_id is not None
        else None
    )
    person = None
    if assign:
        person = on_call
        group = (
            stage.assignment_group if stage.assignment_group and stage.assignment_group.is_active else None
        )
        if person is None and group is not None:
            person = _memo(memo, ("group", group.pk), lambda: on_call_assignee(group, at))
        if group is not None and incident.assignment_group_id != group.pk:
            changes["assignment_group"] = group
        if person is not None:
            changes["assignee"] = person
        elif (
            group is not None
            and incident.assignee_id is not None
            and not GroupMembership.objects.filter(group=group, user_id=incident.assignee_id).exists()
        ):
            changes["assignee"] = None
    following = _next(stages, stage.order)
    timeout = timedelta(minutes=stage.timeout_minutes) if following else None
    held = incident.state == "on_hold" and timeout is not None  # the timer starts on resume
    changes.update(
        escalation_policy=policy,
        escalation_stage=stage.order,
        escalation_stage_started_at=at,
        escalation_acknowledged_at=None,
        escalation_next_at=None if held or timeout is None else at + timeout,
        escalation_time_left=timeout if held else None,
    )
    _apply(incident, None, changes)
    notify.send(
        Message(
            person, Kind.STAGE, incident,
            {"stage": stage.order, "policy": policy.name, "timeout_minutes": stage.timeout_minutes,
             "requires_acknowledgment": stage.requires_acknowledgment, "has_next": following is not None},
        )
        for person in _targets(incident, stage, changes.get("assignee") or on_call, memo)
    )  # fmt: skip


def _enter_many(incidents, policy, stages, stage: EscalationStage, at: datetime, memo: dict) -> None:
    """``_enter`` for a batch of locked incidents moving into the same stage (the sweep): the
    same assignment rule, state, journal and messages, with a fixed number of queries per
    batch instead of per incident."""
    from incidents.models import Incident

    on_call = (
        _memo(memo, ("schedule", stage.schedule_id), lambda: schedule_assignee(stage.schedule, at))
        if stage.schedule_id is not None
        else None
    )
    group = stage.assignment_group if stage.assignment_group and stage.assignment_group.is_active else None
    person = on_call
    if person is None and group is not None:
        person = _memo(memo, ("group", group.pk), lambda: on_call_assignee(group, at))
    members = (
        {u.pk for u in _memo(memo, ("members", group.pk), lambda: notify.group_members(group.pk))}
        if group is not None
        else set()
    )
    following = _next(stages, stage.order)
    next_at = at + timedelta(minutes=stage.timeout_minutes) if following else None
    entries, reassigned = [], {}
    for incident in incidents:
        changes = []
        if group is not None and incident.assignment_group_id != group.pk:
            changes.append(("assignment_group", incident.assignment_group, group))
        if person is not None and incident.assignee_id != person.pk:
            changes.append(("assignee", incident.assignee, person))
        elif person is None and group is not None and incident.assignee_id not in (None, *members):
            changes.append(("assignee", incident.assignee, None))
        if incident.escalation_policy_id != policy.pk:
            changes.append(("escalation_policy", incident.escalation_policy, policy))
        changes.append(("escalation_stage", incident.escalation_stage, stage.order))
        entries.extend(audit.change_entry(incident, None, name, old, new) for name, old, new in changes)
        assignee = next((new for name, _, new in changes if name == "assignee"), incident.assignee)
        if any(name in ("assignee", "assignment_group") for name, _, _ in changes):
            key = (group.pk if group else incident.assignment_group_id, assignee.pk if assignee else None)
            reassigned.setdefault(key, []).append(incident.pk)
        incident.assignee = assignee
    pks = [i.pk for i in incidents]
    # The incident's own columns, then each work row once (its parent table: assignment,
    # version and updated_at together), rather than the ORM's two passes over a child model.
    Incident.objects.filter(pk__in=pks).update(
        escalation_policy=policy, escalation_stage=stage.order, escalation_stage_started_at=at,
        escalation_acknowledged_at=None, escalation_next_at=next_at, escalation_time_left=None,
    )  # fmt: skip
    for (group_id, assignee_id), ids in reassigned.items():  # a new assignment is a user-visible edit
        Work.objects.filter(pk__in=ids).update(
            assignment_group_id=group_id, assignee_id=assignee_id, version=F("version") + 1, updated_at=at
        )
    moved = {pk for ids in reassigned.values() for pk in ids}
    Work.objects.filter(pk__in=[pk for pk in pks if pk not in moved]).update(updated_at=at)
    audit.write(entries)
    extra = {
        "stage": stage.order, "policy": policy.name, "timeout_minutes": stage.timeout_minutes,
        "requires_acknowledgment": stage.requires_acknowledgment, "has_next": following is not None,
    }  # fmt: skip
    for incident in incidents:
        incident.escalation_policy, incident.escalation_stage = policy, stage.order
    notify.send(
        (
            Message(target, Kind.STAGE, incident, extra)
            for incident in incidents
            for target in _targets(incident, stage, incident.assignee or on_call, memo)
        ),
        people=memo.setdefault("people", {}),
    )


def _apply(incident, actor, changes: dict, *, bump: bool = False) -> None:
    """Set ``changes`` on the locked incident and journal the ones that differ. Escalation
    bookkeeping is not a user edit: it does not bump the version unless ``bump``."""
    journal = []
    for name, value in changes.items():
        old = getattr(incident, name)
        if old != value:
            setattr(incident, name, value)
            if name not in TIMER_FIELDS:
                journal.append((name, old, value))
    fields = list(changes)
    if bump or any(name in ("assignee", "assignment_group") for name, _, _ in journal):
        incident.version = F("version") + 1
        fields.append("version")
    incident.save(update_fields=[*fields, "updated_at"])
    if "version" in fields:
        incident.refresh_from_db(fields=["version", "updated_at"])
    if journal:
        audit.log_changes(incident, actor, journal)


# --- Called by the incident services and workflows (incident row locked) ---------------------


def begin(incident, *, at: datetime | None = None) -> None:
    """A new incident: give it its default policy and enter the first stage. The stage assigns
    only an incident that nobody assigned yet."""
    policy = policy_for(incident)
    if policy is None:
        return
    at = at or timezone.now()
    stages = stages_of(policy)
    if not stages:
        _apply(incident, None, {"escalation_policy": policy})
        return
    unassigned = incident.assignee_id is None and incident.assignment_group_id is None
    _enter(incident, policy, stages, stages[0], at, assign=unassigned)


def acknowledged(incident, *, at: datetime) -> None:
    """The current stage is acknowledged: a stage that requires it stops advancing."""
    if incident.escalation_stage is None:
        return
    changes = {"escalation_acknowledged_at": at}
    stage = _stage(stages_of(incident.escalation_policy), incident.escalation_stage)
    if stage is not None and stage.requires_acknowledgment:
        changes["escalation_next_at"] = None
        changes["escalation_time_left"] = None  # on hold too: nothing to go on with on resume
    _apply(incident, None, changes)


def halted(incident) -> None:
    """Resolved or cancelled: nothing advances any more."""
    if incident.escalation_next_at is not None or incident.escalation_time_left is not None:
        _apply(incident, None, {"escalation_next_at": None, "escalation_time_left": None})


def held(incident, *, at: datetime) -> None:
    """On hold: the stage's timer stops (as the SLA clocks do); what it had left waits for
    the resume, so an incident does not escalate the minute it comes back."""
    if incident.escalation_next_at is not None:
        left = max(incident.escalation_next_at - at, timedelta(0))
        _apply(incident, None, {"escalation_next_at": None, "escalation_time_left": left})


def resumed(incident, *, at: datetime) -> None:
    """Back in progress: the stage's timer goes on with the time it had left."""
    if incident.escalation_time_left is not None:
        changes = {"escalation_next_at": at + incident.escalation_time_left, "escalation_time_left": None}
        _apply(incident, None, changes)


def reopened(incident, *, at: datetime) -> None:
    """Reopened: the current stage starts again (and needs acknowledging again)."""
    if incident.escalation_stage is None:
        return
    stages = stages_of(incident.escalation_policy)
    stage = _stage(stages, incident.escalation_stage)
    following = _next(stages, incident.escalation_stage)
    changes = {
        "escalation_stage_started_at": at,
        "escalation_acknowledged_at": None,
        "escalation_next_at": None,
        "escalation_time_left": None,
    }
    if stage is not None and following is not None:
        changes["escalation_next_at"] = at + timedelta(minutes=stage.timeout_minutes)
    _apply(incident, None, changes)


def escalate(incident, *, actor, reason: str = "", at: datetime | None = None) -> None:
    """Manual escalation: one level up; on to the policy's next stage when there is one; the
    group's leads are told either way."""
    at = at or timezone.now()
    _apply(incident, actor, {"escalation_level": incident.escalation_level + 1}, bump=True)
    stages = stages_of(incident.escalation_policy)
    following = _next(stages, incident.escalation_stage)
    if following is not None:
        _enter(incident, incident.escalation_policy, stages, following, at)
    leads = notify.group_leads([incident.assignment_group_id]).get(incident.assignment_group_id, [])
    by = actor.get_full_name() or actor.get_username()
    extra = {"escalation_level": incident.escalation_level, "by": by, "reason": reason}
    notify.send(
        Message(person, Kind.ESCALATED, incident, extra)
        for person in [incident.assignee, *leads]
        if person is not None and person.pk != actor.pk
    )


def record_breaches(clocks, *, people: dict | None = None) -> None:
    """Clocks just recorded as breached: each raises its incident's escalation level by one,
    is journaled, and is told to the assignee and the group's leads. Set-based: a fixed number
    of queries per batch."""
    from incidents.models import Incident

    per_work = Counter(c.work_id for c in clocks)
    incidents = {
        i.pk: i
        for i in Incident.objects.filter(pk__in=per_work).select_related("assignee", "assignment_group")
    }
    if not incidents:
        return
    by_count: dict[int, list[int]] = {}
    for pk, n in per_work.items():
        if pk in incidents:
            by_count.setdefault(n, []).append(pk)
    for n, pks in by_count.items():  # one UPDATE per distinct count (almost always one)
        Incident.objects.filter(pk__in=pks).update(escalation_level=F("escalation_level") + n)
    entries, messages = [], []
    leads = notify.group_leads(i.assignment_group_id for i in incidents.values() if i.assignment_group_id)
    levels = dict(Incident.objects.filter(pk__in=incidents).values_list("pk", "escalation_level"))
    for clock in clocks:
        incident = incidents.get(clock.work_id)
        if incident is None:
            continue
        entries.append(
            audit.change_entry(
                incident, None, "sla_status", "", "breached",
                note=f"The {clock.target} target ({clock.priority}) was breached.",
            )
        )  # fmt: skip
        extra = {
            "target": clock.target,
            "breached_at": clock.breached_at,
            "escalation_level": levels[incident.pk],
        }
        for person in [incident.assignee, *leads.get(incident.assignment_group_id, [])]:
            messages.append(Message(person, Kind.SLA_BREACHED, incident, extra))
    for incident in incidents.values():
        entries.append(
            audit.change_entry(
                incident, None, "escalation_level", incident.escalation_level, levels[incident.pk]
            )
        )
        incident.escalation_level = levels[incident.pk]
    audit.write(entries)
    notify.send(messages, people=people)


# --- The sweep -----------------------------------------------------------------------------


def sweep(*, now: datetime | None = None, batch: int = BATCH) -> dict:
    """Move every incident whose stage timed out on to its next stage.

    Reads only due rows (the partial index on ``escalation_next_at``), in batches of rows locked
    with SKIP LOCKED: two sweeps at once never move the same incident twice, and an incident a
    transition holds is left for the next run. The due condition is checked again on the locked
    row."""
    from incidents.models import Incident

    now = now or timezone.now()
    advanced: list[int] = []
    last_pk = 0
    due = Incident.objects.filter(escalation_next_at__lte=now, state__in=MOVING_STATES)
    stage_cache: dict[int, list[EscalationStage]] = {}
    memo: dict = {}
    while True:
        with transaction.atomic():
            rows = list(
                due.filter(pk__gt=last_pk)
                .select_for_update(skip_locked=True, of=("self", "work_ptr"))
                # What the stage move journals and tells: no query per incident.
                .select_related("escalation_policy", "assignee", "assignment_group")
                .order_by("pk")[:batch]
            )
            if not rows:
                break
            last_pk = rows[-1].pk
            moving: dict[tuple[int, int], list] = {}
            stopped: list[int] = []  # nothing to move on to: no policy, acknowledged, last stage
            for incident in rows:
                policy = incident.escalation_policy
                if policy is None:
                    stopped.append(incident.pk)
                    continue
                if policy.pk not in stage_cache:
                    stage_cache[policy.pk] = stages_of(policy)
                stages = stage_cache[policy.pk]
                current = _stage(stages, incident.escalation_stage)
                following = _next(stages, incident.escalation_stage)
                acknowledged = (
                    current is not None
                    and current.requires_acknowledgment
                    and incident.escalation_acknowledged_at
                )
                if acknowledged or following is None:
                    stopped.append(incident.pk)
                    continue
                moving.setdefault((policy.pk, following.order), []).append(incident)
            # Timer bookkeeping (not journaled, not an edit): one UPDATE for the batch.
            Incident.objects.filter(pk__in=stopped).update(escalation_next_at=None)
            for (policy_pk, order), incidents in moving.items():
                stages = stage_cache[policy_pk]
                policy = incidents[0].escalation_policy
                _enter_many(incidents, policy, stages, _stage(stages, order), now, memo)
                advanced.extend(i.pk for i in incidents)
    return {"advanced": advanced}
