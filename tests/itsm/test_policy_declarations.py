"""The policy is one declaration per app (``<app>/rules.py``), kept in step with the state machines:
the states a record's rules name are its model's states, and an action the policy allows in some
states is a transition possible in exactly those states. Only workflow modules assign ``state``."""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps

from itsm import policy
from itsm.models import TaskState, Work, WorkTask
from itsm.policy.rules import ALL_RULES
from itsm.workflow import lifecycles

ROOT = Path(__file__).resolve().parents[2]
LIFECYCLES = {lc.model._meta.label_lower: lc for lc in lifecycles()}
WORK_MODELS = [m for m in apps.get_models() if issubclass(m, Work) and m is not Work]


@pytest.mark.parametrize("model", WORK_MODELS, ids=lambda m: m._meta.label_lower)
def test_every_kind_of_work_has_declared_rules_with_its_models_states(model):
    rules = policy.rules_for(model)
    if issubclass(model, WorkTask):
        choices = TaskState
    else:  # the domain's TextChoices named after the model (IncidentState, ChangeState, …)
        choices = getattr(import_module(model.__module__), f"{model.__name__}State")
    assert rules.states == tuple(choices.values)
    assert rules.initial_state in rules.states


@pytest.mark.parametrize("label", sorted(LIFECYCLES), ids=str)
def test_rules_agree_with_the_registered_state_machine(label):
    lifecycle, rules = LIFECYCLES[label], ALL_RULES[label]
    assert rules.states == tuple(lifecycle.states.values)
    assert rules.initial_state == lifecycle.initial
    for name, transition in lifecycle.transitions.items():
        assert transition.sources <= set(rules.states), name
        assert transition.target is None or transition.target in rules.states, name
    for name, acts in rules.actions.items():
        if name not in lifecycle.transitions:
            continue
        for act in acts:
            # A state-limited grant of a transition is limited to where the transition can run.
            assert act.states is None or act.states == lifecycle.transitions[name].sources, (name, act)


def test_incident_cancel_and_acknowledge_states_come_from_the_transition_table():
    from incidents.workflows import TRANSITIONS

    actions = ALL_RULES["incidents.incident"].actions
    assert {act.states for act in actions["cancel"]} == {TRANSITIONS["cancel"].sources}
    assert {act.states for act in actions["acknowledge"]} == {TRANSITIONS["acknowledge"].sources}


def test_each_app_declares_its_own_records_rules():
    """A record type's rules live in its own app's rules.py, not in the core."""
    for label in ALL_RULES:
        app_label = label.split(".", 1)[0]
        source = (ROOT / app_label / "rules.py") if app_label != "itsm" else (ROOT / "itsm/policy/rules.py")
        assert f'"{label}"' in source.read_text(), label


# --- Only workflows assign ``state`` ---------------------------------------------------------

# Where ``state`` may be written outside a workflow module, and why.
STATE_WRITERS_ALLOWED = {
    "itsm/services.py": "record_create gives a new record its initial state from the rules",
    "sla/clocks.py": "an SLA clock's own state (running, paused, …), not a record's",
    "config/management/commands/seed_demo.py": "demo records are created in the states they show",
}
WRITING_CALLS = {"update", "create", "bulk_create", "update_or_create", "get_or_create", "record_create"}


def _state_writes(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lines += [node.lineno for t in targets if isinstance(t, ast.Attribute) and t.attr == "state"]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in WRITING_CALLS and any(kw.arg == "state" for kw in node.keywords):
                lines.append(node.lineno)
            if name == "setattr" and len(node.args) > 1 and getattr(node.args[1], "value", None) == "state":
                lines.append(node.lineno)
    return lines


def _app_modules():
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", "tests", "bench", "var", "build") or "migrations" in relative.parts:
            continue
        yield relative


def test_state_is_assigned_only_in_workflow_modules():
    offenders = {
        str(relative): lines
        for relative in _app_modules()
        if relative.name not in ("workflows.py", "workflow.py")
        and str(relative) not in STATE_WRITERS_ALLOWED
        and (lines := _state_writes(ROOT / relative))
    }
    assert offenders == {}, f"state written outside a workflow module: {offenders}"


def test_the_state_write_finder_sees_assignments_and_updates(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "incident.state = 'closed'\nWork.objects.filter(pk=1).update(state='closed')\n"
        "setattr(incident, 'state', 'new')\nincident.priority = 'P1'\n"
    )
    assert _state_writes(sample) == [1, 2, 3]
