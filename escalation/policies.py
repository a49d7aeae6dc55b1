"""Writing an escalation policy with its ordered stages, atomically and audited.

The stages are written whole: what is given replaces what was there. Incidents refer to a
stage by its ``order``, so an incident at an order the new stages no longer have waits there
until the sweep or a manual escalation moves it to the next higher one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from escalation.models import MAX_STAGES, EscalationPolicy, EscalationStage
from itsm import audit, policy, services
from itsm.errors import InvalidInput, NotAllowed
from itsm.workflow import locked_for

STAGES = "stages"
IS_DEFAULT = "is_default"
NOT_ALLOWED = "Managing escalation policies takes the itsm.configure permission."


def _describe(stage: Mapping[str, Any]) -> str:
    targets = sorted({u.get_username() for u in stage.get("users", [])})
    if stage.get("assignment_group") is not None:
        targets.append(f"group {stage['assignment_group']}")
    if stage.get("schedule") is not None:
        targets.append(f"on call in {stage['schedule']}")
    ack = ", needs acknowledgment" if stage.get("requires_acknowledgment") else ""
    return f"{stage['order']}: {stage['timeout_minutes']} min{ack} → {', '.join(targets) or 'nobody'}"


def summary(stages) -> str:
    return "; ".join(_describe(s) for s in sorted(stages, key=lambda s: s["order"]))


def _rows(policy_row: EscalationPolicy) -> list[dict]:
    return [
        {
            "order": s.order,
            "timeout_minutes": s.timeout_minutes,
            "requires_acknowledgment": s.requires_acknowledgment,
            "users": list(s.users.order_by("username")),
            "assignment_group": s.assignment_group,
            "schedule": s.schedule,
        }
        for s in policy_row.stages.order_by("order").select_related("assignment_group", "schedule")
    ]


def stage_errors(stages: list[Mapping[str, Any]]) -> list[str]:
    """At most ``MAX_STAGES`` stages, each with its own order."""
    errors = []
    if len(stages) > MAX_STAGES:
        errors.append(f"A policy has at most {MAX_STAGES} stages.")
    twice = sorted(order for order, n in Counter(s["order"] for s in stages).items() if n > 1)
    if twice:
        errors.append(f"Each stage needs its own order; given more than once: {', '.join(map(str, twice))}.")
    return errors


def _default_clash(candidate: EscalationPolicy) -> EscalationPolicy | None:
    if not candidate.is_default:
        return None
    others = EscalationPolicy.objects.filter(is_default=True, organisation_id=candidate.organisation_id)
    if candidate.pk is not None:
        others = others.exclude(pk=candidate.pk)
    return others.first()


def _default_message(clash: EscalationPolicy) -> str:
    scope = f"for {clash.organisation}" if clash.organisation_id else "account-wide"
    return f"“{clash}” is already the default policy {scope}; unset it there first."


def _check(actor, candidate: EscalationPolicy, stages: list | None) -> None:
    """Refuse (400, every field at fault at once) before anything is written."""
    errors: dict[str, list[str]] = {}
    try:
        candidate.full_clean(validate_unique=True, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if (clash := _default_clash(candidate)) is not None:
        errors.setdefault(IS_DEFAULT, []).append(_default_message(clash))
    if stages is not None and (problems := stage_errors(stages)):
        errors[STAGES] = problems
    if errors:
        raise InvalidInput("The escalation policy is not valid.", fields=errors)
    if stages is not None and not (
        policy.can(actor, "create", EscalationStage) and policy.can(actor, "delete", EscalationStage)
    ):
        raise NotAllowed(NOT_ALLOWED)


def _write(policy_row: EscalationPolicy, stages: list[Mapping[str, Any]]) -> None:
    policy_row.stages.all().delete()
    rows = EscalationStage.objects.bulk_create(
        [
            EscalationStage(
                policy=policy_row,
                order=s["order"],
                timeout_minutes=s["timeout_minutes"],
                requires_acknowledgment=s.get("requires_acknowledgment", False),
                assignment_group=s.get("assignment_group"),
                schedule=s.get("schedule"),
            )
            for s in stages
        ]
    )
    through = EscalationStage.users.through
    through.objects.bulk_create(
        [
            through(escalationstage_id=row.pk, user_id=user.pk)
            for row, s in zip(rows, stages, strict=True)
            for user in {u.pk: u for u in s.get("users", [])}.values()
        ]
    )


def _saving_default():
    """A concurrent save that made another default wins the race: a 400, not a crash."""
    return InvalidInput(
        "The escalation policy is not valid.",
        fields={IS_DEFAULT: ["Another default policy was saved meanwhile. Reload and try again."]},
    )


@transaction.atomic
def policy_create(*, actor, data: Mapping[str, Any], stages: list | None = None) -> EscalationPolicy:
    """A new escalation policy with its stages; at most one default per organisation and one
    account-wide."""
    if not policy.can(actor, "create", EscalationPolicy):
        raise NotAllowed(NOT_ALLOWED)
    services.check_fields(actor, EscalationPolicy, data)
    stages = list(stages or [])
    _check(actor, EscalationPolicy(**data), stages)
    try:
        with transaction.atomic():
            row = services.record_create(model=EscalationPolicy, actor=actor, data=data)
    except IntegrityError:
        raise _saving_default() from None
    _write(row, stages)
    if stages:
        audit.log_changes(row, actor, [(STAGES, "", summary(stages))])
    return row


@transaction.atomic
def policy_update(
    *, policy_row: EscalationPolicy, actor, data: Mapping[str, Any], stages: list | None = None
) -> EscalationPolicy:
    """Change a policy; ``stages``, when given, replaces all its stages."""
    locked = locked_for(policy_row, actor, "update")
    services.check_fields(actor, locked, data)
    for name, value in data.items():
        setattr(locked, name, value)
    stages = list(stages) if stages is not None else None
    _check(actor, locked, stages)
    try:
        with transaction.atomic():
            row = services.record_update(obj=locked, actor=actor, data=data)
    except IntegrityError:
        raise _saving_default() from None
    if stages is not None:
        old = _rows(row)
        if summary(old) != summary(stages):
            _write(row, stages)
            audit.log_changes(row, actor, [(STAGES, summary(old), summary(stages))])
    return row
