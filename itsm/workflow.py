"""The shape every domain's state machine takes: a table of transitions and one way to apply one.

A domain declares ``TRANSITIONS`` (name → from-states and to-state) in its ``workflows.py``; each
transition function calls ``transition`` to check the table and the policy, set the state, bump
the version and write the journal, all inside the caller's transaction on a locked row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from itsm import audit, policy
from itsm.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from itsm.models import TaskState
from itsm.services import apply_changes, lock, refusal, tell_watchers


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the state does not change (e.g. acknowledge while in progress)


@dataclass(frozen=True)
class Lifecycle:
    """What a kind of Work tells the shared services about its states, so that the SLA clocks,
    escalation and notifications never name a domain's states nor import a domain.

    A domain declares one per Work model in its ``workflows.py`` and registers it; the shared
    services look it up by the record's ``kind`` (``lifecycle_of``).
    """

    model: type  # the Work child (sets KIND)
    states: type  # its TextChoices: every state, in order
    initial: str
    transitions: Mapping[str, Transition]
    unanswered: frozenset[str] = frozenset()  # nobody has responded yet (response clocks count)
    paused: frozenset[str] = frozenset()  # SLA clocks and escalation timers stand still
    finished: frozenset[str] = frozenset()  # clocks stop, none starts, nothing escalates
    escalating: frozenset[str] = frozenset()  # escalation stages move on when they time out
    desk_page: str = ""  # URL name of the record's desk page (one argument: the pk)
    portal_page: str = ""  # URL name of its portal page, when customers have one

    @property
    def kind(self) -> str:
        return self.model.KIND


_LIFECYCLES: dict[str, Lifecycle] = {}


def register(lifecycle: Lifecycle) -> Lifecycle:
    """Make a kind of Work known to the shared services (called once, from its workflows)."""
    _LIFECYCLES[lifecycle.kind] = lifecycle
    return lifecycle


def unregister(kind: str) -> None:
    """Forget a kind (tests that register a lifecycle of their own)."""
    _LIFECYCLES.pop(kind, None)


def lifecycle_of(work_or_kind) -> Lifecycle | None:
    """The lifecycle of a record (or of a ``kind``); None for a kind no domain registered."""
    kind = work_or_kind if isinstance(work_or_kind, str) else getattr(work_or_kind, "kind", "")
    return _LIFECYCLES.get(kind)


def lifecycles() -> list[Lifecycle]:
    return list(_LIFECYCLES.values())


def allowed_from(table: Mapping[str, Transition], state: str) -> list[str]:
    return sorted(name for name, t in table.items() if state in t.sources)


def check(
    table: Mapping[str, Transition], obj, name: str, *, actor=None, policy_action: str | None = None
) -> Transition:
    """Refuse (400) a transition the record's current state does not allow. The refusal lists
    the transitions possible now that ``actor`` may take (all of them for the system): a
    customer never learns of the desk's actions (``policy_action``: the one policy action all
    of the table's transitions are checked against, e.g. tasks' ``update``)."""
    step = table[name]
    if obj.state not in step.sources:
        allowed = allowed_from(table, obj.state)
        if actor is not None:
            allowed = [n for n in allowed if policy.can(actor, policy_action or n, obj)]
        raise TransitionNotAllowed(action=name, state=obj.state, allowed=allowed)
    return step


def locked_for(obj, actor, action: str):
    """Lock the row and check the actor may take ``action`` on it (404 if it may not read it)."""
    obj = lock(obj)
    if not policy.is_readable(actor, obj):
        raise NotFound()
    if not policy.can(actor, action, obj):
        raise NotAllowed(refusal(actor, action, obj))
    return obj


def checked(
    table: Mapping[str, Transition],
    obj,
    actor,
    name: str,
    *,
    policy_action: str | None = None,
    refuse: Callable[[Any], str | None] | None = None,
    locked: bool = False,
):
    """The start of every checked transition, for a domain that looks at the record between the
    checks and the change (``transition`` calls it too): lock the row (unless ``locked``: the
    caller holds it); 404 if the actor may not read it; 400 if the state forbids ``name``;
    ``refuse(obj)`` — the domain's own refusal, said plainly before the policy's general one
    (e.g. "you raised this request") — a 403 with its message; 403 if the policy refuses.
    Returns the locked record."""
    obj = obj if locked else lock(obj)
    if not policy.is_readable(actor, obj):
        raise NotFound()
    # The state is checked before the policy: a transition the state forbids is a 400 naming
    # the current and allowed states, even where the policy also limits the action by state.
    check(table, obj, name, actor=actor, policy_action=policy_action)
    refusal = refuse(obj) if refuse is not None else None
    if refusal:
        raise NotAllowed(refusal)
    if not policy.can(actor, policy_action or name, obj):
        raise NotAllowed(f"You may not {(policy_action or name).replace('_', ' ')} this record.")
    return obj


def transition(
    table: Mapping[str, Transition],
    obj,
    actor,
    name: str,
    *,
    note: str = "",
    changes: Mapping[str, Any] | None = None,
    policy_action: str | None = None,
    skip_policy: bool = False,
    locked: bool = False,
):
    """Apply transition ``name`` to ``obj``: lock, check the policy and table (``checked``), set
    the state and ``changes``, save, journal. ``actor=None`` is the system (sweeps), which skips
    the policy; so does ``skip_policy`` (the caller checked it, with ``checked``). ``locked``: the
    caller already holds the row (from ``checked``, or a row its transaction just created)."""
    if skip_policy or actor is None:
        obj = obj if locked else lock(obj)
        check(table, obj, name, policy_action=policy_action)
    else:
        obj = checked(table, obj, actor, name, policy_action=policy_action, locked=locked)
    step = table[name]
    old_state = obj.state
    moved = step.target is not None and step.target != old_state
    state_fields = []
    if moved:
        obj.state = step.target
        state_fields.append("state")
        if step.target in ("closed", "cancelled") and hasattr(obj, "closed_at"):
            obj.closed_at = timezone.now()
            state_fields.append("closed_at")
    # Always saved (a new version, even when nothing but the time differs); the state's journal
    # entry comes first, then the fields the transition set.
    field_changes = apply_changes(
        obj, actor, changes or {}, extra_fields=[*state_fields, "updated_at"], journal=False
    )
    obj.refresh_from_db()
    if moved:
        audit.log_transition(obj, actor, transition=name, old_state=old_state, new_state=obj.state, note=note)
        tell_watchers(obj, [("state", old_state, obj.state)])
    if field_changes:
        audit.log_changes(obj, actor, field_changes)
    return obj


# --- Tasks: one state machine for every domain's tasks ---------------------------------------

T = TaskState
TASK_TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({T.OPEN}), T.IN_PROGRESS),
    "close": Transition(frozenset({T.OPEN, T.IN_PROGRESS}), T.CLOSED),
    "cancel": Transition(frozenset({T.OPEN, T.IN_PROGRESS}), T.CANCELLED),
}
TASK_DONE = {"start": "started", "close": "closed", "cancel": "cancelled"}


def task_lifecycle(model) -> Lifecycle:
    """Register a domain's task model (a ``WorkTask``) with the shared task states."""
    return register(
        Lifecycle(
            model=model,
            states=TaskState,
            initial=T.OPEN,
            transitions=TASK_TRANSITIONS,
            finished=frozenset({T.CLOSED, T.CANCELLED}),
        )
    )


@transaction.atomic
def task_transition(*, task, actor, name: str):
    """Start, close or cancel a task of any domain: whoever may update the task may, while it is
    open or in progress (SPEC §4: agents unless closed or cancelled, administrators always)."""
    if name not in TASK_TRANSITIONS:
        raise InvalidInput(
            "Unknown action.", fields={"action": [f"Choose one of: {', '.join(TASK_TRANSITIONS)}."]}
        )
    return transition(TASK_TRANSITIONS, task, actor, name, policy_action="update")
