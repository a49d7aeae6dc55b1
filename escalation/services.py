"""Escalation: policies and stages applied to any kind of Work that escalates, SLA breaches,
manual escalation.

A kind of Work escalates when its model carries the ``Escalating`` columns (escalation/models.py:
``escalation_level``, ``escalation_policy``, ``escalation_stage`` — the order of the stage it is
at —, ``escalation_stage_started_at``, ``escalation_acknowledged_at``, ``escalation_next_at``,
``escalation_time_left``). Its lifecycle (``itsm.workflow``) says in which states stages move on
(``escalating``) and in which the timer stands still (``paused``); this module names no domain's
states and imports no domain. Rules (SPEC §5, issue #4):

* New work gets its organisation's default policy, else the account-wide default, and enters
  the first stage.
* Entering a stage notifies its targets (its users, its group's members, whoever is on call in
  its schedule) and assigns the work to its group and on-call person, if it names them.
* The sweep moves work whose stage timed out to the next stage — unless that stage requires
  acknowledgment and was acknowledged. Only work in an ``escalating`` state moves.
* Acknowledging (the domain's workflow) records the stage's acknowledgment.
* Manual escalation and each SLA breach raise ``escalation_level`` by one; manual escalation
  also moves to the next stage when there is one. Each is journaled and notified. SLA breaches
  arrive through ``sla.breaches`` (``breached`` listens, registered in ``EscalationConfig.ready``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from escalation.models import Escalating, EscalationPolicy, EscalationStage
from itsm import audit, services
from itsm.models import GroupMembership, Work
from itsm.workflow import Lifecycle, lifecycle_of, lifecycles
from notifications import services as notify
from notifications.models import Kind
from notifications.services import Message
from oncall.routing import on_call_assignee, schedule_assignee

BATCH = 500

ESCALATION_FIELDS = (
    "escalation_stage",
    "escalation_stage_started_at",
    "escalation_acknowledged_at",
    "escalation_next_at",
    "escalation_time_left",
)
# A stage move that changes these is an edit others must not overwrite: it bumps the version.
REASSIGNING = frozenset({"assignee", "assignment_group"})
# Timer bookkeeping, not journaled (the stage and its moves are).
TIMER_FIELDS = frozenset(
    {
        "escalation_stage_started_at",
        "escalation_next_at",
        "escalation_acknowledged_at",
        "escalation_time_left",
    }
)


def escalating_lifecycles() -> list[Lifecycle]:
    """The kinds of Work that escalate: their model has the ``Escalating`` columns and their
    lifecycle names the states in which stages move on."""
    return [lc for lc in lifecycles() if issubclass(lc.model, Escalating) and lc.escalating]


def _paused(work) -> bool:
    lifecycle = lifecycle_of(work)
    return lifecycle is not None and work.state in lifecycle.paused


def policy_for(work) -> EscalationPolicy | None:
    """The organisation's default policy, else the account-wide default (active ones only)."""
    defaults = EscalationPolicy.objects.filter(is_active=True, is_default=True)
    if work.organisation_id is not None:
        found = defaults.filter(organisation_id=work.organisation_id).first()
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
    A sweep moving thousands of records into the same stages asks the same questions (who
    is on call, who is in the group) once, and reuses the same user objects, whose roles are
    then read once."""
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _targets(work, stage: EscalationStage, person, memo: dict | None = None) -> list:
    people = list(stage.users.all())
    if person is not None:
        people.append(person)
    if stage.assignment_group_id is not None:
        group_id = stage.assignment_group_id
        people.extend(_memo(memo, ("members", group_id), lambda: notify.group_members(group_id)))
    return people


def _enter(
    work,
    policy,
    stages,
    stage: EscalationStage,
    at: datetime,
    *,
    assign: bool = True,
    memo: dict | None = None,
):
    """Move ``work`` (locked) to ``stage``: assign, set the state, journal, notify."""
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
        if group is not None and work.assignment_group_id != group.pk:
            changes["assignment_group"] = group
        if person is not None:
            changes["assignee"] = person
        elif (
            group is not None
            and work.assignee_id is not None
            and not GroupMembership.objects.filter(group=group, user_id=work.assignee_id).exists()
        ):
            changes["assignee"] = None
    following = _next(stages, stage.order)
    timeout = timedelta(minutes=stage.timeout_minutes) if following else None
    held = _paused(work) and timeout is not None  # the timer starts on resume
    changes.update(
        escalation_policy=policy,
        escalation_stage=stage.order,
        escalation_stage_started_at=at,
        escalation_acknowledged_at=None,
        escalation_next_at=None if held or timeout is None else at + timeout,
        escalation_time_left=timeout if held else None,
    )
    _apply(work, None, changes)
    notify.send(
        Message(
            person, Kind.STAGE, work,
            {"stage": stage.order, "policy": policy.name, "timeout_minutes": stage.timeout_minutes,
             "requires_acknowledgment": stage.requires_acknowledgment, "has_next": following is not None},
        )
        for person in _targets(work, stage, changes.get("assignee") or on_call, memo)
    )  # fmt: skip


def _enter_many(works, policy, stages, stage: EscalationStage, at: datetime, memo: dict) -> None:
    """``_enter`` for a batch of locked records moving into the same stage (the sweep): the
    same assignment rule, state, journal and messages, with a fixed number of queries per
    batch instead of per work."""

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
    entries, reassigned, told = [], {}, []
    for work in works:
        changes = []
        if group is not None and work.assignment_group_id != group.pk:
            changes.append(("assignment_group", work.assignment_group, group))
        if person is not None and work.assignee_id != person.pk:
            changes.append(("assignee", work.assignee, person))
        elif person is None and group is not None and work.assignee_id not in (None, *members):
            changes.append(("assignee", work.assignee, None))
        if work.escalation_policy_id != policy.pk:
            changes.append(("escalation_policy", work.escalation_policy, policy))
        changes.append(("escalation_stage", work.escalation_stage, stage.order))
        entries.extend(audit.change_entry(work, None, name, old, new) for name, old, new in changes)
        told.append((work, changes))
        assignee = next((new for name, _, new in changes if name == "assignee"), work.assignee)
        if any(name in REASSIGNING for name, _, _ in changes):
            key = (group.pk if group else work.assignment_group_id, assignee.pk if assignee else None)
            reassigned.setdefault(key, []).append(work.pk)
        work.assignee = assignee
    pks = [i.pk for i in works]
    # The model's own columns, then each work row once (its parent table: assignment,
    # version and updated_at together), rather than the ORM's two passes over a child model.
    type(works[0]).objects.filter(pk__in=pks).update(
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
    # As ``_enter``'s ``apply_changes`` tells them: a former assignee's "needs you" is withdrawn.
    services.tell_watchers_many(type(works[0]), told)
    extra = {
        "stage": stage.order, "policy": policy.name, "timeout_minutes": stage.timeout_minutes,
        "requires_acknowledgment": stage.requires_acknowledgment, "has_next": following is not None,
    }  # fmt: skip
    for work in works:
        work.escalation_policy, work.escalation_stage = policy, stage.order
    notify.send(
        (
            Message(target, Kind.STAGE, work, extra)
            for work in works
            for target in _targets(work, stage, work.assignee or on_call, memo)
        ),
        people=memo.setdefault("people", {}),
    )


def _apply(work, actor, changes: dict, *, bump: bool = False) -> None:
    """Set ``changes`` on the locked work and journal the ones that differ (not the timers).
    Escalation bookkeeping is not a user edit: it bumps the version only when it reassigns the
    work, or when ``bump`` says so."""
    services.apply_changes(
        work, actor, changes, bump=True if bump else REASSIGNING, quiet=TIMER_FIELDS
    )


# --- Called by the domains' services and workflows (work row locked) ------------------


def begin(work, *, at: datetime | None = None) -> None:
    """New work: give it its default policy and enter the first stage. The stage assigns
    only work that nobody assigned yet."""
    policy = policy_for(work)
    if policy is None:
        return
    at = at or timezone.now()
    stages = stages_of(policy)
    if not stages:
        _apply(work, None, {"escalation_policy": policy})
        return
    unassigned = work.assignee_id is None and work.assignment_group_id is None
    _enter(work, policy, stages, stages[0], at, assign=unassigned)


def acknowledged(work, *, at: datetime) -> None:
    """The current stage is acknowledged: a stage that requires it stops advancing."""
    if work.escalation_stage is None:
        return
    changes = {"escalation_acknowledged_at": at}
    stage = _stage(stages_of(work.escalation_policy), work.escalation_stage)
    if stage is not None and stage.requires_acknowledgment:
        changes["escalation_next_at"] = None
        changes["escalation_time_left"] = None  # on hold too: nothing to go on with on resume
    _apply(work, None, changes)


def halted(work) -> None:
    """Finished (resolved, cancelled…): nothing advances any more."""
    if work.escalation_next_at is not None or work.escalation_time_left is not None:
        _apply(work, None, {"escalation_next_at": None, "escalation_time_left": None})


def held(work, *, at: datetime) -> None:
    """On hold: the stage's timer stops (as the SLA clocks do); what it had left waits for
    the resume, so work does not escalate the minute it comes back."""
    if work.escalation_next_at is not None:
        left = max(work.escalation_next_at - at, timedelta(0))
        _apply(work, None, {"escalation_next_at": None, "escalation_time_left": left})


def resumed(work, *, at: datetime) -> None:
    """Back in progress: the stage's timer goes on with the time it had left."""
    if work.escalation_time_left is not None:
        changes = {"escalation_next_at": at + work.escalation_time_left, "escalation_time_left": None}
        _apply(work, None, changes)


def reopened(work, *, at: datetime) -> None:
    """Reopened: the current stage starts again (and needs acknowledging again)."""
    if work.escalation_stage is None:
        return
    stages = stages_of(work.escalation_policy)
    stage = _stage(stages, work.escalation_stage)
    following = _next(stages, work.escalation_stage)
    changes = {
        "escalation_stage_started_at": at,
        "escalation_acknowledged_at": None,
        "escalation_next_at": None,
        "escalation_time_left": None,
    }
    if stage is not None and following is not None:
        changes["escalation_next_at"] = at + timedelta(minutes=stage.timeout_minutes)
    _apply(work, None, changes)


def escalate(work, *, actor, reason: str = "", at: datetime | None = None) -> None:
    """Manual escalation: one level up; on to the policy's next stage when there is one; the
    group's leads are told either way."""
    at = at or timezone.now()
    _apply(work, actor, {"escalation_level": work.escalation_level + 1}, bump=True)
    stages = stages_of(work.escalation_policy)
    following = _next(stages, work.escalation_stage)
    if following is not None:
        _enter(work, work.escalation_policy, stages, following, at)
    leads = notify.group_leads([work.assignment_group_id]).get(work.assignment_group_id, [])
    by = actor.get_full_name() or actor.get_username()
    extra = {"escalation_level": work.escalation_level, "by": by, "reason": reason}
    notify.send(
        Message(person, Kind.ESCALATED, work, extra)
        for person in [work.assignee, *leads]
        if person is not None and person.pk != actor.pk
    )


def breached(clocks, works) -> dict[int, dict]:
    """Listens to ``sla.breaches``: each clock just breached raises its work's escalation level
    by one, journaled; answers each work's new level for the breach message. Work without the
    ``Escalating`` columns is left alone. Set-based: per model, one UPDATE per distinct count
    (almost always one), one read of the levels, one journal write."""
    per_work = Counter(c.work_id for c in clocks)
    by_model: dict[type, list] = {}
    for pk in per_work:
        work = works.get(pk)
        if isinstance(work, Escalating):
            by_model.setdefault(type(work), []).append(work)
    entries, levels = [], {}
    for model, rows in by_model.items():
        by_count: dict[int, list[int]] = {}
        for work in rows:
            by_count.setdefault(per_work[work.pk], []).append(work.pk)
        for n, pks in by_count.items():
            model.objects.filter(pk__in=pks).update(escalation_level=F("escalation_level") + n)
        levels.update(model.objects.filter(pk__in=[w.pk for w in rows]).values_list("pk", "escalation_level"))
        for work in rows:
            entries.append(
                audit.change_entry(work, None, "escalation_level", work.escalation_level, levels[work.pk])
            )
            work.escalation_level = levels[work.pk]
    if entries:
        audit.write(entries)
    return {pk: {"escalation_level": level} for pk, level in levels.items()}


# --- The sweep -----------------------------------------------------------------------------


def sweep(*, now: datetime | None = None, batch: int = BATCH) -> dict:
    """Move all work whose stage timed out on to its next stage, kind by kind (each lifecycle
    whose model has the ``Escalating`` columns and whose ``escalating`` states are set).

    Reads only due rows (the partial index on ``escalation_next_at``), in batches of rows locked
    with SKIP LOCKED: two sweeps at once never move the same work twice, and work a transition
    holds is left for the next run. The due condition is checked again on the locked row."""
    now = now or timezone.now()
    advanced: list[int] = []
    stage_cache: dict[int, list[EscalationStage]] = {}
    memo: dict = {}
    for lifecycle in escalating_lifecycles():
        advanced.extend(_sweep(lifecycle, now, batch, stage_cache, memo))
    return {"advanced": advanced}


def _sweep(lifecycle: Lifecycle, now: datetime, batch: int, stage_cache: dict, memo: dict) -> list[int]:
    model = lifecycle.model
    # The work row (the parent table) is locked with the model's own, as transitions lock it.
    locked = ("self", *(link.name for link in model._meta.parents.values() if link is not None))
    due = model.objects.filter(escalation_next_at__lte=now, state__in=lifecycle.escalating)
    advanced: list[int] = []
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                due.filter(pk__gt=last_pk)
                .select_for_update(skip_locked=True, of=locked)
                # What the stage move journals and tells: no query per work.
                .select_related("escalation_policy", "assignee", "assignment_group")
                .order_by("pk")[:batch]
            )
            if not rows:
                return advanced
            last_pk = rows[-1].pk
            moving: dict[tuple[int, int], list] = {}
            stopped: list[int] = []  # nothing to move on to: no policy, acknowledged, last stage
            for work in rows:
                policy = work.escalation_policy
                if policy is None:
                    stopped.append(work.pk)
                    continue
                if policy.pk not in stage_cache:
                    stage_cache[policy.pk] = stages_of(policy)
                stages = stage_cache[policy.pk]
                current = _stage(stages, work.escalation_stage)
                following = _next(stages, work.escalation_stage)
                acknowledged = (
                    current is not None
                    and current.requires_acknowledgment
                    and work.escalation_acknowledged_at
                )
                if acknowledged or following is None:
                    stopped.append(work.pk)
                    continue
                moving.setdefault((policy.pk, following.order), []).append(work)
            # Timer bookkeeping (not journaled, not an edit): one UPDATE for the batch.
            model.objects.filter(pk__in=stopped).update(escalation_next_at=None)
            for (policy_pk, order), works in moving.items():
                stages = stage_cache[policy_pk]
                policy = works[0].escalation_policy
                _enter_many(works, policy, stages, _stage(stages, order), now, memo)
                advanced.extend(w.pk for w in works)
