"""The problem page's overview: the fields the user may read, the symptoms, root cause and
workaround, the RCA panel, and a form for each action the user may take now."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404
from django.urls import reverse
from django.utils.text import capfirst

from itsm import policy
from itsm.forms import Unopened, opened
from itsm.templatetags.itsm_ui import state_label
from itsm.views.conversation import composer, conversation
from problems import services
from problems.forms import PROBLEM_EDIT_FIELDS, NoteForm, ProblemEditForm
from problems.models import Problem
from problems.views.desk.base import LINK_ACTIONS, ProblemTabView

# What the details card lists, in order, of the fields the user may read.
OVERVIEW_FIELDS = (
    "state", "priority", "impact", "urgency", "category", "assignment_group", "assignee", "requester",
    "organisation", "is_known_error", "incident_count", "affected_host_count", "hosts", "host_groups",
    "opened_at", "updated_at", "closed_at",
)  # fmt: skip
OVERVIEW_M2M = frozenset({"hosts", "host_groups"})
# The long texts, each in its own card.
TEXT_FIELDS = ("description", "symptoms", "root_cause", "workaround")
# The RCA panel: what was submitted, and who reviewed and verified it.
RCA_FIELDS = (
    "rca_summary", "rca_confidence", "corrective_plan", "rca_submitted_by", "rca_submitted_at",
    "review_notes", "rca_reviewed_by", "rca_reviewed_at", "verification_notes", "verified_at",
)  # fmt: skip
RCA_LABELS = {
    "rca_summary": "Summary",
    "rca_confidence": "Confidence",
    "corrective_plan": "Corrective plan",
    "rca_submitted_by": "Submitted by",
    "rca_submitted_at": "Submitted",
    "review_notes": "Review notes",
    "rca_reviewed_by": "Reviewed by",
    "rca_reviewed_at": "Reviewed",
    "verification_notes": "Verification notes",
    "verified_at": "Verified",
}
LONG = frozenset({"rca_summary", "review_notes", "verification_notes"})


def field_rows(problem: Problem, names, labels=None) -> list[dict]:
    """Label and value of each field, as the page shows them."""
    rows = []
    for name in names:
        field = Problem._meta.get_field(name)
        value = getattr(problem, name)
        kind = "text"
        if field.many_to_many:
            value = ", ".join(str(item) for item in value.all())
        elif name == "state":
            value = state_label(value)
        elif name == "corrective_plan":
            kind = "plan"
        elif getattr(field, "choices", None):
            value = getattr(problem, f"get_{name}_display")()
        elif isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, datetime):
            kind = "datetime"
        elif field.is_relation and value is not None:
            value = str(value)
        label = (labels or {}).get(name) or capfirst(field.verbose_name)
        rows.append({"name": name, "label": label, "value": value, "kind": kind, "long": name in LONG})
    return rows


class OverviewView(ProblemTabView):
    tab = "overview"
    template_name = "problems/desk/overview.html"

    def prefetch(self, hidden):
        return tuple(sorted(OVERVIEW_M2M - hidden))

    def tab_context(self, problem, forms):
        user = self.request.user
        readable = policy.readable_fields(user, problem)
        rca = [name for name in RCA_FIELDS if name in readable]
        edit_form = forms.get("edit_form")
        writable = policy.writable_fields(user, problem)
        if edit_form is None and writable & set(PROBLEM_EDIT_FIELDS):
            edit_form = (  # closed unless asked to open it (itsm.forms.Unopened)
                ProblemEditForm(problem=problem, writable=writable)
                if opened(self.request, "edit")
                else Unopened(ProblemEditForm)
            )
        # The notes are work notes only: the composer is the internal-note composer.
        notes_url = reverse("desk:problem-notes", args=[problem.pk])
        return {
            "conversation": conversation(
                user, problem, problem.notes.all(), hidden=self.hidden, links=[("All work notes", notes_url)]
            ),
            "composer": composer(
                NoteForm() if policy.can(user, "note", problem) else None,
                action=notes_url,
                back=self.tab_url("overview", problem, "conversation"),
            ),
            "edit_form": edit_form,
            "rows": field_rows(problem, [name for name in OVERVIEW_FIELDS if name in readable]),
            "texts": field_rows(problem, [name for name in TEXT_FIELDS if name in readable]),
            "rca_rows": field_rows(problem, rca, RCA_LABELS),
            "rca_started": bool(problem.rca_submitted_at) if "rca_submitted_at" in readable else False,
            "actions": self.action_forms(problem, forms, exclude=LINK_ACTIONS, lazy=True),
        }


class ProblemEditView(OverviewView):
    """Save the overview's edit form through ``services.problem_update`` (symptoms, root cause,
    workaround, …); a change someone made meanwhile is refused (409), not overwritten."""

    http_method_names = ["post"]

    def post(self, request, pk):
        problem = self.load(pk)
        writable = policy.writable_fields(request.user, problem)
        if not writable & set(PROBLEM_EDIT_FIELDS):
            raise Http404("No such page.")
        form = ProblemEditForm(request.POST, problem=problem, writable=writable)

        def save(data) -> str:
            changes = form.changes()
            if not changes:
                return "You did not change anything."
            services.problem_update(
                problem=problem, actor=request.user, data=changes, expected_version=form.expected_version()
            )
            return f"Your changes to {problem.number} have been saved."

        return self.write(problem, form, "edit_form", save)
