"""A record's action table: the one list of what may be done to a record beyond a plain edit.

Each domain declares one ``ActionTable`` per record type (``incidents/actions.py``): the action's
name, the workflow or service function that performs it, its API input serializer and desk form,
and the policy action that says who may. The API's actions (``itsm.api.actions``), the desk's
action list and forms, and the admin's bulk actions are all made from it, so the three doors
cannot drift apart. Whether an action is offered now is the policy's ``can`` and, for a
transition, the transition table's answer for the record's current state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from itsm import policy
from itsm.workflow import TASK_DONE, TASK_TRANSITIONS, Transition, allowed_from, task_transition


@dataclass(frozen=True)
class Action:
    name: str  # the API's URL segment (``/resolve/``) and the desk's action slug
    run: Callable[..., Any]  # the workflow/service: run(<record>=obj, actor=user, **inputs)
    label: str  # the button
    done: str | Callable[[Any], str]  # what the desk says afterwards: "{number} is resolved."
    input: type | None = None  # DRF serializer of the API body (None: no body)
    form: type | None = None  # desk form (None: a plain button)
    permission: str = ""  # the policy action (default: ``name``)
    admin: str = ""  # offered as an admin bulk action with this description (no-input actions only)
    past: str = ""  # the admin's report: "Closed 3 incident(s)."
    doc: str = ""  # the API's description of the operation
    danger: bool = False  # the desk shows its button as a warning (cancel, reject)

    @property
    def policy_action(self) -> str:
        return self.permission or self.name

    def message(self, obj) -> str:
        return self.done(obj) if callable(self.done) else self.done.format(number=obj.number, obj=obj)


class ActionTable(Mapping[str, Action]):
    """The actions of one record type. ``record`` is the keyword its functions take the record
    by (``incident=``); ``transitions`` is its state machine, which says in which states each
    transition action is possible."""

    def __init__(self, *, record: str, transitions: Mapping[str, Transition], actions: list[Action]):
        self.record = record
        self.transitions = transitions
        self._actions = {a.name: a for a in actions}

    def __getitem__(self, name: str) -> Action:
        return self._actions[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)

    def run(self, name: str, obj, actor, **inputs):
        """Take action ``name`` on ``obj``: the function checks the policy and the state itself."""
        return self[name].run(**{self.record: obj}, actor=actor, **inputs)

    def allows(self, user, obj, name: str) -> bool:
        """Whether ``user`` may take action ``name`` on ``obj`` now (as ``available`` says)."""
        if name not in self._actions:
            return False
        if name in self.transitions and name not in allowed_from(self.transitions, obj.state):
            return False
        return policy.can(user, self[name].policy_action, obj)

    def available(self, user, obj) -> list[Action]:
        """The actions ``user`` may take on ``obj`` now: the policy and the state allow them."""
        allowed = set(allowed_from(self.transitions, obj.state))
        return [
            a
            for a in self._actions.values()
            if (a.name not in self.transitions or a.name in allowed) and policy.can(user, a.policy_action, obj)
        ]


def _task_action(name: str) -> Action:
    def run(*, task, actor):
        return task_transition(task=task, actor=actor, name=name)

    return Action(
        name, run, label=name.capitalize(), done=f"Task {{number}} is {TASK_DONE[name]}.", permission="update",
        doc=f"{name.capitalize()} the task (whoever may update it, while it is open or in progress).",
    )  # fmt: skip


# Every domain's tasks: start, close, cancel (itsm.workflow.TASK_TRANSITIONS).
TASK_ACTIONS = ActionTable(
    record="task", transitions=TASK_TRANSITIONS, actions=[_task_action(name) for name in TASK_TRANSITIONS]
)
