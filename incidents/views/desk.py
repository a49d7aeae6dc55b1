"""Desk pages for incidents: the queue, and the incident's page with its tabs (overview, SLA and
escalation, conversation, work journal, tasks, time, CSAT, timeline) and a form for each action.

Thin views: the policy says what the user may read and do, a form shapes the input, a workflow
or service does the write (and checks again), and a refusal (``ItsmError``) comes back on the
page with its message and field errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views import View

from escalation import services as escalation
from incidents import selectors, services, workflows
from incidents.forms import (
    EDIT_FIELDS,
    AcknowledgeForm,
    AssignForm,
    EscalateForm,
    IncidentEditForm,
    NoInputForm,
    NoteForm,
    QueueFilter,
    ReasonForm,
    ReopenForm,
    ResolveForm,
    TaskForm,
    TimeEntryForm,
)
from incidents.models import Incident, IncidentNote, IncidentTask
from itsm import policy
from itsm.api.serializers import is_possible_pk
from itsm.errors import ItsmError, NotFound
from itsm.pagination import paginate
from itsm.templatetags.itsm_ui import state_label
from itsm.views.base import DeskMixin
from itsm.workflow import allowed_from
from sla import explain
from sla.clocks import live_status
from sla.models import ClockEvent, ClockTarget, SlaStatus

PAGE_SIZE = 25
# The queue's columns, in order (name, heading, sort parameter); hidden fields are dropped.
QUEUE_COLUMNS = (
    ("number", "Number", "number"),
    ("short_description", "Short description", None),
    ("state", "State", "state"),
    ("priority", "Priority", "priority"),
    ("sla_status", "SLA", None),
    ("assignment_group", "Group", None),
    ("assignee", "Assignee", None),
    ("requester", "Requester", None),
    ("opened_at", "Opened", "opened_at"),
    ("updated_at", "Updated", "updated_at"),
)
QUEUE_RELATED = ("assignee", "assignment_group", "requester")
PAGE_RELATED = (
    "assignee", "assignment_group", "requester", "requested_for", "organisation", "major_incident_manager",
    "escalation_policy", "sla_definition",
)  # fmt: skip
# What the overview lists, in order, of the fields the user may read.
OVERVIEW_FIELDS = (
    "state", "priority", "impact", "urgency", "assignment_group", "assignee", "requester",
    "requested_for", "organisation", "source", "category", "subcategory", "classification", "service",
    "escalation_level", "opened_at", "acknowledged_at", "updated_at", "resolved_at", "closed_at",
    "resolution_code", "resolution_notes", "major_incident", "major_incident_manager",
    "major_incident_review", "collaborators", "hosts", "related_configuration_items",
    "related_incidents", "related_problems", "changes_required",
)  # fmt: skip
OVERVIEW_M2M = frozenset(f.name for f in Incident._meta.many_to_many) & frozenset(OVERVIEW_FIELDS)


def incident_or_404(user, pk, *, prefetch=()) -> Incident:
    """The incident if the user may read it; otherwise, as if it did not exist. (As
    ``readable_or_404``, with the page's related rows fetched in the same query.)"""
    if not is_possible_pk(Incident, pk):
        raise Http404("No such incident.")
    queryset = Incident.objects.select_related(*PAGE_RELATED).prefetch_related(*prefetch)
    try:
        return policy.readable(user, Incident, queryset).get(pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def duration(minutes: int) -> str:
    hours, rest = divmod(minutes or 0, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def sla_label(status: str) -> str:
    return SlaStatus(status).label if status in SlaStatus.values else ""


def sla_badge(user, incident, hidden, at=None) -> dict | None:
    """The incident's SLA status now (and its next due time) for those who may see it."""
    if "sla_status" in hidden or not policy.can(user, "view_sla", incident):
        return None
    status = live_status(incident, at)
    due = incident.sla_due_at if "sla_due_at" not in hidden else None
    return {"status": status, "label": sla_label(status), "due_at": due}


# --- The queue ------------------------------------------------------------------------------


class IncidentListView(DeskMixin, View):
    """Incidents the user may read, filtered, sorted and 25 to a page. The count stops at 1,000
    ("more than 1,000 incidents"), and past the counted pages "Next" follows a cursor
    (``itsm.pagination``), so a big queue is not counted in full and Next never pays a deep OFFSET."""

    def get(self, request):
        user = request.user
        hidden = policy.hidden_fields(user, Incident)
        queryset = (
            policy.readable(user, Incident)
            .select_related(*(name for name in QUEUE_RELATED if name not in hidden))
            .order_by("-opened_at", "-pk")
        )
        filterset = QueueFilter(request.GET or None, queryset=queryset, request=request)
        valid = filterset.is_valid() if filterset.is_bound else True
        page = paginate(request, filterset.qs, PAGE_SIZE)
        page.object_list = list(page.object_list)
        if "sla_status" not in hidden:
            # From the row's stored status and due time: no query per row.
            now = timezone.now()
            for incident in page.object_list:
                incident.sla_live = live_status(incident, now)
                incident.sla_live_label = sla_label(incident.sla_live)
        sort = filterset.current_sort()
        columns = []
        for name, label, param in QUEUE_COLUMNS:
            if name in hidden:
                continue
            column = {"name": name, "label": label, "sort": None, "direction": None}
            if param in filterset.sorts:
                direction = {param: "ascending", f"-{param}": "descending"}.get(sort)
                query = request.GET.copy()
                for position in ("page", "after", "before"):  # a new order starts at its first page
                    query.pop(position, None)
                query["sort"] = f"-{param}" if direction == "ascending" else param
                column.update(sort=f"?{query.urlencode()}", direction=direction)
            columns.append(column)
        context = {
            "view": self,
            "page": page,
            "filterset": filterset,
            "form": filterset.form,
            "columns": columns,
            "filtered": filterset.is_filtered(),
            "show_sla_due": "sla_due_at" not in hidden,
        }
        return render(request, "incidents/desk/list.html", context, status=200 if valid else 400)


# --- The incident page ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    name: str
    label: str
    url_name: str


TABS = (
    Tab("overview", "Overview", "desk:incident-detail"),
    Tab("sla", "SLA and escalation", "desk:incident-sla"),
    Tab("conversation", "Conversation", "desk:incident-conversation"),
    Tab("journal", "Work journal", "desk:incident-journal"),
    Tab("tasks", "Tasks", "desk:incident-tasks"),
    Tab("time", "Time", "desk:incident-time"),
    Tab("csat", "CSAT", "desk:incident-csat"),
    Tab("timeline", "Timeline", "desk:incident-timeline"),
)
TAB_URLS = {tab.name: tab.url_name for tab in TABS}


def tab_url(name: str, incident: Incident, anchor: str = "") -> str:
    url = reverse(TAB_URLS[name], args=[incident.pk])
    return f"{url}#{anchor}" if anchor else url


def tab_visible(user, incident: Incident, name: str, hidden) -> bool:
    """Tabs about things the policy hides from the user are not there at all."""
    if name == "sla":
        return policy.can(user, "view_sla", incident)
    if name == "journal":
        return "work_journal" not in hidden
    if name == "tasks":
        return "subtasks" not in hidden and policy.can(user, "read", IncidentTask)
    if name == "time":
        return policy.can(user, "read_time", incident)
    if name == "csat":
        return policy.can(user, "read_csat", incident)
    return True


class IncidentTabView(DeskMixin, View):
    """One tab of the incident page. ``write`` is the one way a tab's form reaches a service."""

    tab = "overview"
    template_name = ""

    def prefetch(self, hidden) -> tuple[str, ...]:
        return ()

    def load(self, pk) -> Incident:
        user = self.request.user
        self.hidden = policy.hidden_fields(user, Incident)
        incident = incident_or_404(user, pk, prefetch=self.prefetch(self.hidden))
        if not tab_visible(user, incident, self.tab, self.hidden):
            raise Http404("No such page.")
        return incident

    def get(self, request, pk):
        return self.page(self.load(pk))

    def tab_context(self, incident: Incident, forms: dict) -> dict:
        return {}

    def page(self, incident: Incident, *, status: int = 200, **forms):
        user = self.request.user
        tabs = [
            {"name": tab.name, "label": tab.label, "url": reverse(tab.url_name, args=[incident.pk])}
            for tab in TABS
            if tab_visible(user, incident, tab.name, self.hidden)
        ]
        context = {
            "view": self,
            "incident": incident,
            "tabs": tabs,
            "tab": self.tab,
            "hidden": self.hidden,
            "sla_badge": sla_badge(user, incident, self.hidden),
            **self.tab_context(incident, forms),
        }
        return render(self.request, self.template_name, context, status=status)

    def write(self, incident: Incident, form, form_name: str, call: Callable[[dict], str], *, anchor=""):
        """Validate, call the workflow or service, and go back to the tab with what happened;
        or show the tab again with the refusal (400 bad input, 403, 409) and the form's errors."""
        if not form.is_valid():
            messages.error(self.request, "Nothing was changed: please correct the form below.")
            return self.page(incident, status=400, **{form_name: form})
        try:
            done = call(form.cleaned_data)
        except NotFound:
            raise Http404("No such record.") from None
        except ItsmError as exc:
            form.add_service_error(exc)
            messages.error(self.request, exc.message)
            return self.page(incident, status=exc.status, **{form_name: form})
        messages.success(self.request, done)
        return redirect(tab_url(self.tab, incident, anchor))


# --- Overview: the fields, the edit form and the actions -----------------------------------


@dataclass(frozen=True)
class Action:
    label: str
    form_class: type
    run: Callable[[Incident, object, dict], Incident]
    done: Callable[[Incident], str]


def _assigned(incident: Incident) -> str:
    if incident.assignee is None and incident.assignment_group is None:
        return f"{incident.number} is unassigned."
    who = str(incident.assignee) if incident.assignee else "nobody in particular"
    group = f" in {incident.assignment_group}" if incident.assignment_group else ""
    return f"{incident.number} is assigned to {who}{group}."


w = workflows
ACTIONS: dict[str, Action] = {
    "start": Action(
        "Start work", NoInputForm, lambda i, u, d: w.incident_start(incident=i, actor=u),
        lambda i: f"{i.number} is now in progress.",
    ),
    "acknowledge": Action(
        "Acknowledge", AcknowledgeForm,
        lambda i, u, d: w.incident_acknowledge(incident=i, actor=u, comment=d["comment"]),
        lambda i: f"You acknowledged {i.number}: it is assigned to you.",
    ),
    "assign": Action(
        "Assign", AssignForm,
        lambda i, u, d: services.incident_assign(
            incident=i, actor=u, assignee=d["assignee"], assignment_group=d["assignment_group"]
        ),
        _assigned,
    ),
    "hold": Action(
        "Put on hold", ReasonForm, lambda i, u, d: w.incident_hold(incident=i, actor=u, reason=d["reason"]),
        lambda i: f"{i.number} is on hold.",
    ),
    "resume": Action(
        "Resume", NoInputForm, lambda i, u, d: w.incident_resume(incident=i, actor=u),
        lambda i: f"{i.number} is back in progress.",
    ),
    "resolve": Action(
        "Resolve", ResolveForm,
        lambda i, u, d: w.incident_resolve(
            incident=i, actor=u, resolution_code=d["resolution_code"], resolution_notes=d["resolution_notes"]
        ),
        lambda i: f"{i.number} is resolved.",
    ),
    "reopen": Action(
        "Reopen", ReopenForm, lambda i, u, d: w.incident_reopen(incident=i, actor=u, notes=d["notes"]),
        lambda i: f"{i.number} is reopened and back in progress.",
    ),
    "close": Action(
        "Close", NoInputForm, lambda i, u, d: w.incident_close(incident=i, actor=u),
        lambda i: f"{i.number} is closed.",
    ),
    "cancel": Action(
        "Cancel incident", ReasonForm, lambda i, u, d: w.incident_cancel(incident=i, actor=u, reason=d["reason"]),
        lambda i: f"{i.number} is cancelled.",
    ),
    "escalate": Action(
        "Escalate", EscalateForm, lambda i, u, d: w.incident_escalate(incident=i, actor=u, reason=d["reason"]),
        lambda i: f"{i.number} is escalated to level {i.escalation_level}; the assignee and group leads are told.",
    ),
}  # fmt: skip
# Actions that are transitions of workflows.TRANSITIONS (assign is not: it changes no state).
TRANSITION_ACTIONS = frozenset(workflows.TRANSITIONS) & frozenset(ACTIONS)


def available_actions(user, incident: Incident) -> list[str]:
    """The actions the user may take now: the policy allows it and the state allows it."""
    allowed = set(allowed_from(workflows.TRANSITIONS, incident.state))
    return [
        name
        for name in ACTIONS
        if (name not in TRANSITION_ACTIONS or name in allowed) and policy.can(user, name, incident)
    ]


def action_form(name: str, user, incident: Incident, data=None):
    form_class = ACTIONS[name].form_class
    extra = {"user": user, "incident": incident} if form_class is AssignForm else {}
    return form_class(data, prefix=name, **extra)


def field_rows(incident: Incident, names) -> list[dict]:
    """Label and value of each field, as the overview shows them."""
    rows = []
    for name in names:
        field = Incident._meta.get_field(name)
        value = getattr(incident, name)
        kind = "text"
        if field.many_to_many:
            value = ", ".join(str(item) for item in value.all())
        elif name == "state":
            value = state_label(value)
        elif getattr(field, "choices", None):
            value = getattr(incident, f"get_{name}_display")()
        elif isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, datetime):
            kind = "datetime"
        elif field.is_relation and value is not None:
            value = str(value)
        long = name in ("resolution_notes", "major_incident_review")
        rows.append(
            {"name": name, "label": capfirst(field.verbose_name), "value": value, "kind": kind, "long": long}
        )
    return rows


class OverviewView(IncidentTabView):
    tab = "overview"
    template_name = "incidents/desk/overview.html"

    def prefetch(self, hidden):
        return tuple(sorted(OVERVIEW_M2M - hidden))

    def tab_context(self, incident, forms):
        user = self.request.user
        readable = policy.readable_fields(user, incident)
        edit_form = forms.get("edit_form")
        writable = policy.writable_fields(user, incident)
        if edit_form is None and writable & set(EDIT_FIELDS):
            edit_form = IncidentEditForm(incident=incident, user=user, writable=writable)
        actions = []
        for name in available_actions(user, incident):
            form = forms.get(f"{name}_form") or action_form(name, user, incident)
            actions.append({"name": name, "label": ACTIONS[name].label, "form": form})
        return {
            "rows": field_rows(incident, [name for name in OVERVIEW_FIELDS if name in readable]),
            "edit_form": edit_form,
            "actions": actions,
        }


class IncidentEditView(OverviewView):
    """Save the overview's edit form through ``services.incident_update``."""

    http_method_names = ["post"]

    def post(self, request, pk):
        incident = self.load(pk)
        user = request.user
        writable = policy.writable_fields(user, incident)
        if not writable & set(EDIT_FIELDS):
            messages.error(request, f"You may not change {incident.number}.")
            return self.page(incident, status=403)
        form = IncidentEditForm(request.POST, incident=incident, user=user, writable=writable)

        def save(data) -> str:
            changes = form.changes()
            if not changes:
                return "You did not change anything."
            services.incident_update(
                incident=incident, actor=user, data=changes, expected_version=form.expected_version()
            )
            return f"Your changes to {incident.number} have been saved."

        return self.write(incident, form, "edit_form", save)


class IncidentActionView(OverviewView):
    """One action from the overview: start, acknowledge, assign, hold, resume, resolve, reopen,
    close or cancel. The workflow refuses what the state or the policy does not allow."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        if action not in ACTIONS:
            raise Http404("No such action.")
        incident = self.load(pk)
        spec = ACTIONS[action]
        form = action_form(action, request.user, incident, request.POST)
        return self.write(
            incident, form, f"{action}_form", lambda data: spec.done(spec.run(incident, request.user, data))
        )


# --- SLA and escalation ---------------------------------------------------------------------


def business_time(seconds: int | None) -> str:
    """Business time as hours and minutes (a business "day" depends on the calendar)."""
    return duration(int((seconds or 0) // 60))


def local_time(value: datetime | None, zone: str) -> datetime | None:
    return None if value is None else timezone.localtime(value, ZoneInfo(zone))


def clock_view(clock) -> dict:
    """One clock as the SLA tab shows it: ``sla.explain`` plus labels and local times."""
    why = explain.explain(clock)
    zone = why["calendar"]["time_zone"]
    used = why["elapsed"] or 0
    target = why["target_duration"] or 0
    return {
        **why,
        "target_label": ClockTarget(why["target"]).label,
        "status_label": sla_label(why["status"]),
        "elapsed_text": business_time(used),
        "target_text": business_time(target),
        "remaining_text": business_time(why["remaining"]),
        "percent": min(round(100 * used / target), 100) if target else 0,
        "due_local": local_time(why["due_at"], zone),
        "zone": zone,
        "events": [
            {
                **event,
                "label": ClockEvent(event["kind"]).label,
                "elapsed_text": business_time(event["elapsed"]),
            }
            for event in why["events"]
        ],
    }


def stage_targets(stage) -> str:
    people = [user.get_full_name() or user.get_username() for user in stage.users.all()]
    parts = []
    if stage.assignment_group is not None:
        parts.append(f"group {stage.assignment_group}")
    if people:
        parts.append(", ".join(people))
    if stage.schedule is not None:
        parts.append(f"whoever is on call in {stage.schedule}")
    return "; ".join(parts) or "nobody named"


def escalation_view(incident: Incident) -> dict:
    """The incident's escalation policy, where it stands in it, and what happens next."""
    stages = escalation.stages_of(incident.escalation_policy)
    current = next((s for s in stages if s.order == incident.escalation_stage), None)
    following = next((s for s in stages if s.order > current.order), None) if current else None
    rows = [
        {
            "stage": stage,
            "number": n,
            "targets": stage_targets(stage),
            "timeout": duration(stage.timeout_minutes),
            "current": stage is current,
        }
        for n, stage in enumerate(stages, start=1)
    ]
    return {
        "policy": incident.escalation_policy,
        "stages": rows,
        "current": next((row for row in rows if row["current"]), None),
        "following": next((row for row in rows if row["stage"] is following), None),
        "level": incident.escalation_level,
        "started_at": incident.escalation_stage_started_at,
        "acknowledged_at": incident.escalation_acknowledged_at,
        "next_at": incident.escalation_next_at,
        "time_left": (
            duration(int(incident.escalation_time_left.total_seconds() // 60))
            if incident.escalation_time_left is not None
            else None
        ),
    }


class SlaView(IncidentTabView):
    """Each SLA clock with its due time and why (calendar, holidays, pauses, history), and the
    escalation policy with the Acknowledge and Escalate forms. Agents only (``view_sla``)."""

    tab = "sla"
    template_name = "incidents/desk/sla.html"
    panel_actions = ("acknowledge", "escalate")

    def tab_context(self, incident, forms):
        user = self.request.user
        clocks = [clock_view(clock) for clock in explain.clocks_for(incident, history=True)]
        allowed = set(available_actions(user, incident))
        actions = {
            name: forms.get(f"{name}_form") or action_form(name, user, incident)
            for name in self.panel_actions
            if name in allowed
        }
        show_escalation = "escalation_policy" not in self.hidden
        return {
            "clocks": [c for c in clocks if c["is_current"]],
            "retired_clocks": [c for c in clocks if not c["is_current"]],
            "definition": incident.sla_definition if "sla_definition" not in self.hidden else None,
            "escalation": escalation_view(incident) if show_escalation else None,
            "acknowledge_form": actions.get("acknowledge"),
            "escalate_form": actions.get("escalate"),
        }

    def get(self, request, pk, action=None):
        if action is not None:
            return HttpResponseNotAllowed(["POST"])
        return super().get(request, pk)

    def post(self, request, pk, action=None):
        if action not in self.panel_actions:
            raise Http404("No such action.")
        incident = self.load(pk)
        spec = ACTIONS[action]
        form = action_form(action, request.user, incident, request.POST)
        return self.write(
            incident,
            form,
            f"{action}_form",
            lambda data: spec.done(spec.run(incident, request.user, data)),
            anchor="escalation",
        )


# --- Conversation and work journal -----------------------------------------------------------


class NotesView(IncidentTabView):
    """The conversation (comments, which the customer sees) or the work journal (agents)."""

    template_name = "incidents/desk/notes.html"
    kind = IncidentNote.Kind.COMMENT

    def tab_context(self, incident, forms):
        user = self.request.user
        may_write = policy.can(user, services.NOTE_ACTION[self.kind], incident)
        notes = [
            {
                "note": note,
                "can_edit": may_write and policy.can_edit_note(user, note),
                "edited": (note.updated_at - note.created_at).total_seconds() > 1,
            }
            for note in selectors.notes_for(user, incident, self.kind)
        ]
        note_form = forms.get("note_form") or (NoteForm() if may_write else None)
        return {"notes": notes, "note_form": note_form, "kind": self.kind}

    def post(self, request, pk):
        incident = self.load(pk)

        def add(data) -> str:
            services.note_add(incident=incident, actor=request.user, kind=self.kind, body=data["body"])
            if self.kind == IncidentNote.Kind.COMMENT:
                return "Your comment has been added; the customer can see it."
            return "Your work note has been added to the journal."

        return self.write(incident, NoteForm(request.POST), "note_form", add, anchor="add-note")


class ConversationView(NotesView):
    tab = "conversation"
    kind = IncidentNote.Kind.COMMENT


class JournalView(NotesView):
    tab = "journal"
    kind = IncidentNote.Kind.WORK_NOTE


NOTE_TABS = {IncidentNote.Kind.COMMENT: "conversation", IncidentNote.Kind.WORK_NOTE: "journal"}


class NoteMixin:
    """A note of the incident, if the user may read its kind (else 404)."""

    def load_note(self, incident: Incident, note_id) -> IncidentNote:
        if not is_possible_pk(IncidentNote, note_id):
            raise Http404("No such note.")
        note = incident.notes.select_related("author").filter(pk=note_id).first()
        if note is None or not tab_visible(self.request.user, incident, NOTE_TABS[note.kind], self.hidden):
            raise Http404("No such note.")
        self.tab = NOTE_TABS[note.kind]
        self.kind = note.kind
        return note


class NoteEditView(NoteMixin, IncidentTabView):
    """Edit a note: its author, or an ITSM administrator (``policy.can_edit_note``)."""

    template_name = "incidents/desk/note_edit.html"

    def tab_context(self, incident, forms):
        note = self.note
        may_edit = policy.can(self.request.user, services.NOTE_ACTION[note.kind], incident) and (
            policy.can_edit_note(self.request.user, note)
        )
        form = forms.get("note_form") or (NoteForm(initial={"body": note.body}) if may_edit else None)
        return {"note": note, "note_form": form, "may_edit": may_edit}

    def get(self, request, pk, note_id):
        incident = self.load(pk)
        self.note = self.load_note(incident, note_id)
        if not policy.can_edit_note(request.user, self.note):
            messages.error(request, "Only the note's author or an ITSM administrator can change it.")
            return self.page(incident, status=403)
        return self.page(incident)

    def post(self, request, pk, note_id):
        incident = self.load(pk)
        self.note = self.load_note(incident, note_id)

        def save(data) -> str:
            services.note_edit(note=self.note, actor=request.user, body=data["body"])
            return "The note has been changed."

        return self.write(incident, NoteForm(request.POST), "note_form", save, anchor=f"note-{self.note.pk}")


class NoteDeleteView(NoteMixin, NotesView):
    http_method_names = ["post"]

    def post(self, request, pk, note_id):
        incident = self.load(pk)
        note = self.load_note(incident, note_id)
        try:
            services.note_delete(note=note, actor=request.user)
        except NotFound:
            raise Http404("No such note.") from None
        except ItsmError as exc:
            messages.error(request, exc.message)
            return self.page(incident, status=exc.status)
        messages.success(request, "The note has been deleted.")
        return redirect(tab_url(self.tab, incident))


# --- Tasks --------------------------------------------------------------------------------


class TasksView(IncidentTabView):
    tab = "tasks"
    template_name = "incidents/desk/tasks.html"

    def tab_context(self, incident, forms):
        user = self.request.user
        tasks = (
            policy.readable(user, IncidentTask)
            .filter(incident=incident)
            .select_related("assignee", "assignment_group")
            .order_by("opened_at", "pk")
        )
        rows = []
        for task in tasks:
            may = policy.can(user, "update", task)
            allowed = allowed_from(workflows.TASK_TRANSITIONS, task.state) if may else []
            actions = [name for name in workflows.TASK_TRANSITIONS if name in allowed]
            rows.append({"task": task, "actions": actions})
        task_form = forms.get("task_form")
        if task_form is None and policy.can(user, "create", IncidentTask):
            task_form = TaskForm(user=user)
        return {"tasks": rows, "task_form": task_form}

    def post(self, request, pk):
        incident = self.load(pk)
        form = TaskForm(request.POST, user=request.user)

        def create(data) -> str:
            task = services.task_create(incident=incident, actor=request.user, data=form.service_data())
            return f"Task {task.number} has been added."

        return self.write(incident, form, "task_form", create)


TASK_DONE = {"start": "started", "close": "closed", "cancel": "cancelled"}


class TaskActionView(TasksView):
    """Start, close or cancel one of the incident's tasks."""

    http_method_names = ["post"]

    def post(self, request, pk, task_pk, action):
        if action not in workflows.TASK_TRANSITIONS:
            raise Http404("No such action.")
        incident = self.load(pk)
        task = None
        if is_possible_pk(IncidentTask, task_pk):
            task = policy.readable(request.user, IncidentTask).filter(incident=incident, pk=task_pk).first()
        if task is None:
            raise Http404("No such task.")
        try:
            task = workflows.task_transition(task=task, actor=request.user, name=action)
        except NotFound:
            raise Http404("No such task.") from None
        except ItsmError as exc:
            messages.error(request, f"{task.number}: {exc.message}")
            return self.page(incident, status=exc.status)
        messages.success(request, f"Task {task.number} is {TASK_DONE[action]}.")
        return redirect(tab_url(self.tab, incident))


# --- Time, CSAT, timeline -------------------------------------------------------------------


class TimeView(IncidentTabView):
    """Totals and entries for those who may read them; the log form for those who may log."""

    tab = "time"
    template_name = "incidents/desk/time.html"

    def tab_context(self, incident, forms):
        user = self.request.user
        totals = selectors.time_totals(incident)
        entries = [
            {"entry": entry, "duration": duration(entry.minutes)}
            for entry in incident.time_entries.select_related("author")
        ]
        time_form = forms.get("time_form")
        if time_form is None and policy.can(user, "log_time", incident):
            time_form = TimeEntryForm()
        return {
            "totals": {key: duration(totals[key]) for key in ("total", "billable", "non_billable")},
            "entry_count": totals["entries"],
            "entries": entries,
            "time_form": time_form,
        }

    def post(self, request, pk):
        incident = self.load(pk)

        def log(data) -> str:
            entry = services.time_entry_add(
                incident=incident, actor=request.user, minutes=data["minutes"], billable=data["billable"],
                on=data["date"], note=data["note"],
            )  # fmt: skip
            kind = "billable" if entry.billable else "non-billable"
            return f"{duration(entry.minutes)} of {kind} time logged on {incident.number}."

        return self.write(incident, TimeEntryForm(request.POST), "time_form", log)


class CsatView(IncidentTabView):
    tab = "csat"
    template_name = "incidents/desk/csat.html"

    def tab_context(self, incident, forms):
        responses = incident.csat_responses.select_related("actor")
        summary = selectors.csat_summary(responses)
        count = summary["count"]
        breakdown = [
            {"rating": rating, "count": summary["breakdown"][str(rating)], "total": count}
            for rating in range(5, 0, -1)
        ]
        return {"summary": summary, "breakdown": breakdown, "responses": list(responses)}


class TimelineView(IncidentTabView):
    tab = "timeline"
    template_name = "incidents/desk/timeline.html"

    def tab_context(self, incident, forms):
        return {"items": selectors.timeline(self.request.user, incident)}
