"""The change page's overview: the fields the user may read, the plans, the CAB panel (decision,
notes, who and when, and the approve / reject forms for approvers), the governance gates (each
with who completed it, when and the note, and a form to complete one), the other changes
planned on the same hosts at the same time, the post-implementation review, and a form for
each other action the user may take now."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst

from changes import schedule, services, workflows
from changes.models import Change, ChangeState
from changes.page_forms import EDIT_FIELDS, ChangeEditForm, NoteForm
from changes.views.desk.base import CAB_ACTIONS, GATE_ACTION, PIR_ACTION, PLACED, ChangeTabView
from itsm import policy
from itsm.forms import Unopened, opened
from itsm.models import User
from itsm.templatetags.itsm_ui import state_label
from itsm.views.conversation import composer, conversation

# What the details card lists, in order, of the fields the user may read.
OVERVIEW_FIELDS = (
    "state", "change_type", "risk_level", "risk_score", "source_type", "incident", "problem",
    "governance_template", "planned_start", "planned_end", "actual_start", "actual_end", "assignment_group",
    "assignee", "requester", "hosts", "host_groups", "opened_at", "updated_at",
)  # fmt: skip
OVERVIEW_M2M = frozenset({"hosts", "host_groups"})
# The long texts, each in its own card.
TEXT_FIELDS = ("description", "justification", "implementation_plan", "backout_plan", "test_plan")
CAB_FIELDS = ("cab_decision", "decided_by", "decided_at", "cab_notes", "routing_reason", "notice_override_reason")
CAB_LABELS = {
    "cab_decision": "Decision",
    "decided_by": "Decided by",
    "decided_at": "Decided",
    "cab_notes": "CAB notes",
    "routing_reason": "Why it went to the CAB",
    "notice_override_reason": "Notice override reason",
}
PIR_FIELDS = ("pir_due_at", "pir_outcome", "pir_lessons", "pir_follow_ups", "pir_recorded_at")
PIR_LABELS = {
    "pir_due_at": "Due",
    "pir_outcome": "Outcome",
    "pir_lessons": "Lessons learned",
    "pir_follow_ups": "Follow-ups",
    "pir_recorded_at": "Recorded",
}
LONG = frozenset({"cab_notes", "routing_reason", "notice_override_reason", "pir_lessons", "pir_follow_ups"})
LINKED = {"incident": "desk:incident-detail", "problem": "desk:problem-detail"}


def field_rows(change: Change, names, labels=None) -> list[dict]:
    """Label and value of each field, as the page shows them."""
    rows = []
    for name in names:
        field = Change._meta.get_field(name)
        value = getattr(change, name)
        kind, link = "text", None
        if field.many_to_many:
            value = ", ".join(str(item) for item in value.all())
        elif name == "state":
            value = state_label(value)
        elif getattr(field, "choices", None):
            value = getattr(change, f"get_{name}_display")() if value not in ("", None) else ""
        elif isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, datetime):
            kind = "datetime"
        elif field.is_relation and value is not None:
            link = (LINKED.get(name), value.pk) if name in LINKED else None
            value = str(value)
        label = (labels or {}).get(name) or capfirst(field.verbose_name)
        rows.append({"name": name, "label": label, "value": value, "kind": kind, "long": name in LONG, "link": link})
    return rows


def gate_rows(change: Change, user) -> list[dict]:
    """Each gate of the change's template, required ones first, with who completed it, when and
    the note (one query for the people, whatever the number of gates)."""
    template = change.governance_template
    if template is None:
        return []
    status = change.gate_status or {}
    ids = {entry.get("completed_by") for entry in status.values() if isinstance(entry, dict)}
    ids.discard(None)
    people = {person.pk: person for person in User.objects.filter(pk__in=ids)} if ids else {}
    rows = []
    for required, names in ((True, template.required_gates), (False, template.optional_gates)):
        for name in names:
            entry = status.get(name) if isinstance(status.get(name), dict) else None
            completed_at = parse_datetime(entry["completed_at"]) if entry and entry.get("completed_at") else None
            person = people.get(entry.get("completed_by")) if entry else None
            rows.append({
                "name": name,
                "required": required,
                "done": entry is not None,
                "completed_at": completed_at,
                "completed_by": policy.person_name(user, person, change) if person else "",
                "notes": entry.get("notes", "") if entry else "",
            })  # fmt: skip
    return rows


def conflict_rows(change: Change, user) -> list[Change]:
    """Other changes planned on the same hosts in an overlapping window, those the user may read."""
    found = schedule.conflicts(change)
    if not found:
        return []
    readable = policy.readable(user, Change).filter(pk__in=[other.pk for other in found])
    return list(readable.only("pk", "number", "short_description", "state", "planned_start", "planned_end")
                .order_by("planned_start", "pk"))  # fmt: skip


class OverviewView(ChangeTabView):
    tab = "overview"
    template_name = "changes/desk/overview.html"

    def prefetch(self, hidden):
        return tuple(sorted(OVERVIEW_M2M - hidden))

    def tab_context(self, change, forms):
        user = self.request.user
        readable = policy.readable_fields(user, change)
        edit_form = forms.get("edit_form")
        writable = policy.writable_fields(user, change)
        if edit_form is None and writable & set(EDIT_FIELDS):
            edit_form = (  # closed unless asked to open it (itsm.forms.Unopened)
                ChangeEditForm(change=change, writable=writable, user=user)
                if opened(self.request, "edit")
                else Unopened(ChangeEditForm)
            )
        # The CAB, gate and PIR forms are written out in their cards; the side panel's cards are
        # closed (itsm.forms.Unopened) unless asked to open one.
        written_out = (*CAB_ACTIONS, GATE_ACTION, PIR_ACTION)
        actions = {a["name"]: a for a in self.action_forms(change, forms, written_out)}
        gates = gate_rows(change, user) if "gate_status" in readable else []
        gate_action = actions.get(GATE_ACTION)
        # What the approval would refuse now (the workflow's own reading), for the CAB and the
        # requester alike: missing window, gates, notice.
        blockers = (
            [text for texts in workflows.approval_errors(change).values() for text in texts]
            if change.state == ChangeState.SUBMITTED else []
        )  # fmt: skip
        # The notes are work notes only: the composer is the internal-note composer.
        notes_url = reverse("desk:change-notes", args=[change.pk])
        return {
            "conversation": conversation(
                user, change, change.notes.all(), hidden=self.hidden, links=[("All work notes", notes_url)]
            ),
            "composer": composer(
                NoteForm() if policy.can(user, "note", change) else None,
                action=notes_url,
                back=self.tab_url("overview", change, "conversation"),
            ),
            "blockers": blockers,
            "edit_form": edit_form,
            "rows": field_rows(change, [name for name in OVERVIEW_FIELDS if name in readable]),
            "texts": field_rows(change, [name for name in TEXT_FIELDS if name in readable]),
            "cab_rows": field_rows(change, [n for n in CAB_FIELDS if n in readable and getattr(change, n) not in ("", None)], CAB_LABELS),
            "cab_actions": [actions[name] for name in CAB_ACTIONS if name in actions],
            "gates": gates,
            "gates_done": sum(1 for gate in gates if gate["done"] and gate["required"]),
            "gates_required": sum(1 for gate in gates if gate["required"]),
            "gate_action": gate_action,
            "gate_errors": gate_action["form"].errors if gate_action and gate_action["form"].is_bound else None,
            "conflicts": conflict_rows(change, user),
            "pir_shown": "pir_required" in readable and (change.pir_required or change.pir_recorded_at),
            "pir_rows": field_rows(change, [n for n in PIR_FIELDS if n in readable and getattr(change, n) not in ("", None)], PIR_LABELS),
            "pir_action": actions.get(PIR_ACTION),
            "actions": self.action_forms(change, forms, exclude=PLACED, lazy=True),
        }  # fmt: skip


class ChangeEditView(OverviewView):
    """Save the overview's edit form through ``services.change_update`` (plans, window, hosts…);
    a change someone made meanwhile is refused (409), not overwritten. Editing what an approval
    covered sends the change back to the CAB: the service does that and says so."""

    http_method_names = ["post"]

    def post(self, request, pk):
        change = self.load(pk)
        writable = policy.writable_fields(request.user, change)
        if not writable & set(EDIT_FIELDS):
            raise Http404("No such page.")
        form = ChangeEditForm(request.POST, change=change, writable=writable, user=request.user)

        def save(data) -> str:
            changes = form.changes()
            if not changes:
                return "You did not change anything."
            before = change.state
            updated = services.change_update(
                change=change, actor=request.user, data=changes, expected_version=form.expected_version()
            )
            if before == "approved" and updated.state == "submitted":
                return (f"Your changes to {change.number} have been saved. They change what the CAB approved, "
                        "so it is back with the CAB for a new decision.")  # fmt: skip
            return f"Your changes to {change.number} have been saved."

        return self.write(change, form, "edit_form", save)
