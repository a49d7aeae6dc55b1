"""What may be done to an incident beyond a plain edit: the one table the API's actions, the
desk's action forms and the admin's bulk actions are made from (``itsm.actions``)."""

from __future__ import annotations

from incidents import forms, services, workflows
from incidents.api import serializers as s
from itsm.actions import Action, ActionTable


def _assigned(incident) -> str:
    if incident.assignee is None and incident.assignment_group is None:
        return f"{incident.number} is unassigned."
    who = str(incident.assignee) if incident.assignee else "nobody in particular"
    group = f" in {incident.assignment_group}" if incident.assignment_group else ""
    return f"{incident.number} is assigned to {who}{group}."


w = workflows
ACTIONS = ActionTable(
    record="incident",
    transitions=workflows.TRANSITIONS,
    actions=[
        Action("start", w.incident_start, label="Start work", done="{number} is now in progress.",
               form=forms.NoInputForm),
        Action("acknowledge", w.incident_acknowledge, label="Acknowledge",
               done="You acknowledged {number}: it is assigned to you.",
               input=s.CommentInput, form=forms.AcknowledgeForm,
               admin="Acknowledge selected incidents (assign them to me)", past="Acknowledged"),
        Action("assign", services.incident_assign, label="Assign", done=_assigned,
               input=s.AssignInput, form=forms.AssignForm),
        Action("hold", w.incident_hold, label="Put on hold", done="{number} is on hold.",
               input=s.ReasonInput, form=forms.ReasonForm),
        Action("resume", w.incident_resume, label="Resume", done="{number} is back in progress.",
               form=forms.NoInputForm),
        Action("resolve", w.incident_resolve, label="Resolve", done="{number} is resolved.",
               input=s.ResolveInput, form=forms.ResolveForm),
        Action("reopen", w.incident_reopen, label="Reopen", done="{number} is reopened and back in progress.",
               input=s.ReopenInput, form=forms.ReopenForm),
        Action("close", w.incident_close, label="Close", done="{number} is closed.", form=forms.NoInputForm,
               admin="Close selected resolved incidents", past="Closed"),
        Action("cancel", w.incident_cancel, label="Cancel incident", done="{number} is cancelled.",
               input=s.ReasonInput, form=forms.ReasonForm, danger=True),
        Action("escalate", w.incident_escalate, label="Escalate",
               done=lambda i: f"{i.number} is escalated to level {i.escalation_level}; "
                              "the assignee and group leads are told.",
               input=s.ReasonInput, form=forms.EscalateForm,
               doc="Escalate by hand: one level up, on to the escalation policy's next stage."),
    ],
)  # fmt: skip
