"""Forms of the desk's change pages.

The action forms (below) only shape input: each one's cleaned data are its workflow's or
service's keyword arguments (``changes.actions``); every rule about them is the workflows' and
services'.
"""

from __future__ import annotations

from django import forms

from changes.models import Change, PirOutcome
from itsm.forms import ActionForm
from itsm.forms import AssignForm as BaseAssignForm

TEXT_MAX = 10_000


# --- Actions on the change (field names = the workflows' keyword arguments) ------------------


class NoInputForm(ActionForm):
    """Submit, rework, start, complete, analyse the impact: the button is the whole form."""


class ApproveForm(ActionForm):
    cab_notes = forms.CharField(
        label="CAB notes", required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Conditions or remarks the implementer reads (optional).",
    )  # fmt: skip


class RejectForm(ActionForm):
    cab_notes = forms.CharField(
        label="CAB notes", max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the CAB rejects the change: the requester reads this to rework it.",
    )  # fmt: skip
    resolve_linked_ticket = forms.BooleanField(
        label="Also resolve the linked incident", required=False,
        help_text="Resolves the open incident this change was raised for; reworking the change reopens it.",
    )  # fmt: skip

    def __init__(self, data=None, *, user=None, record: Change | None = None, **kwargs):
        super().__init__(data, user=user, record=record, **kwargs)
        if record is not None and record.incident_id is None:
            del self.fields["resolve_linked_ticket"]


class PirForm(ActionForm):
    pir_outcome = forms.ChoiceField(label="Outcome", choices=PirOutcome.choices)
    pir_lessons = forms.CharField(
        label="Lessons learnt", max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    pir_follow_ups = forms.CharField(
        label="Follow-ups", required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Actions still to take, one a line (optional).",
    )  # fmt: skip


class ReasonForm(ActionForm):
    """Cancel: an optional reason."""

    reason = forms.CharField(label="Reason", required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}))


class AssignForm(BaseAssignForm):
    """A user, a group, or both; leaving both empty unassigns."""


class CompleteGateForm(ActionForm):
    """One of the change's template's gates not completed yet, with a note."""

    gate = forms.ChoiceField(label="Gate", choices=())
    notes = forms.CharField(label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, data=None, *, user=None, record: Change | None = None, **kwargs):
        super().__init__(data, user=user, record=record, **kwargs)
        template = record.governance_template if record is not None else None
        done = (record.gate_status or {}) if record is not None else {}
        required = set(template.required_gates) if template else set()
        self.fields["gate"].choices = [
            (gate, f"{gate} (required)" if gate in required else gate)
            for gate in (template.gates if template else [])
            if gate not in done
        ]
